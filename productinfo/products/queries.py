"""Reading products: one by id or barcode, pages of history and search, the whole catalogue.

Every product comes with its category, company, uploader and photos, with their
stable URLs; the whole catalogue's come from the storage backend passed in, for
a spreadsheet that has no token.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.engine import RowMapping

from productinfo.auth.models import users
from productinfo.catalog.models import categories, companies
from productinfo.catalog.service import name_key
from productinfo.db import any_of
from productinfo.errors import NotFound
from productinfo.pagination import keyset, split_page
from productinfo.photos import queries as photos
from productinfo.photos.models import photos as photo_table
from productinfo.products import barcodes
from productinfo.products import search as search_index
from productinfo.products.models import LIVE, products
from productinfo.storage import Storage


@dataclass(frozen=True)
class Filters:
    """Which products a list keeps: by who added them, category, maker, and when added."""

    created_by: int | None = None
    category_id: int | None = None
    company_id: int | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive

    def apply(self, query):
        """Return `query` keeping only the products these filters allow."""
        for column, value in (
            (products.c.created_by, self.created_by),
            (products.c.category_id, self.category_id),
            (products.c.company_id, self.company_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(products.c.created_at >= self.since)
        if self.until is not None:
            query = query.where(products.c.created_at < self.until)
        return query


EVERY = Filters()


def _query():
    """Select live products with their category, company and uploader."""
    return (
        select(
            products.c.id,
            products.c.name,
            products.c.barcode,
            products.c.created_at,
            products.c.updated_at,
            categories.c.id.label("category_id"),
            categories.c.name.label("category_name"),
            companies.c.id.label("company_id"),
            companies.c.name.label("company_name"),
            users.c.id.label("user_id"),
            users.c.name.label("user_name"),
            users.c.email.label("user_email"),
        )
        .select_from(
            products.join(categories, categories.c.id == products.c.category_id)
            .join(companies, companies.c.id == products.c.company_id)
            .join(users, users.c.id == products.c.created_by)
        )
        .where(LIVE)
    )


# One product with its photos, one row per photo, in one round trip. Built once, so that
# SQLAlchemy reuses its cache key instead of hashing a new join each call.
_ONE = (
    _query()
    .add_columns(*photos.joined_columns())
    .outerjoin(photo_table, photo_table.c.product_id == products.c.id)
    .order_by(photo_table.c.id)
)
_BY_ID = _ONE.where(products.c.id == bindparam("product_id"))
_BY_BARCODE = _ONE.where(products.c.barcode_key == bindparam("barcode_key"))


def _one(conn: Connection, storage: Storage, query, params: dict, run=None) -> dict | None:
    """Return the product a query finds, with its photos, or None.

    `run(conn, query, params, order_by=...)` runs the query instead of `conn.execute`:
    the guard's `checked`, which reads the caller's session in the same round trip.
    """
    if run is None:
        rows = conn.execute(query, params).mappings().all()
    else:
        rows = run(conn, query, params, order_by=(photos.PREFIX + "id",))
    if not rows:
        return None
    return {**shape(rows[0]), "photos": photos.from_joined(rows, storage)}


def shape(row: RowMapping) -> dict:
    """Nest a product row's category, company and uploader."""
    return {
        "id": row["id"],
        "name": row["name"],
        "barcode": row["barcode"],
        "category": {"id": row["category_id"], "name": row["category_name"]},
        "company": {"id": row["company_id"], "name": row["company_name"]},
        "created_by": {"id": row["user_id"], "name": row["user_name"], "email": row["user_email"]},
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def with_photos(conn: Connection, storage: Storage, rows, *, signed: bool = False) -> list[dict]:
    """Shape product rows, each with its photos (with URLs that need no token if `signed`)."""
    found = photos.of_products(conn, storage, [row["id"] for row in rows], signed=signed)
    return [{**shape(row), "photos": found.get(row["id"], [])} for row in rows]


def get(conn: Connection, storage: Storage, product_id: int) -> dict:
    """Return a live product, with its photos, or raise NotFound."""
    product = _one(conn, storage, _BY_ID, {"product_id": product_id})
    if product is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    return product


def find_by_barcode_key(conn: Connection, storage: Storage, key: str, run=None) -> dict | None:
    """Return the live product stored under a barcode key, with its photos, or None
    (`run`: see `_one`)."""
    return _one(conn, storage, _BY_BARCODE, {"barcode_key": key}, run)


def get_by_barcode(
    conn: Connection, storage: Storage, raw: str, *, checksum: str, run=None
) -> dict:
    """Return the live product of a barcode, in any printed form of the same GTIN."""
    code, _ = barcodes.read(raw, checksum)
    product = find_by_barcode_key(conn, storage, barcodes.key(code), run)
    if product is None:
        raise NotFound(f"No product has the barcode {code} yet.", code="product_not_found")
    return product


def get_many(conn: Connection, storage: Storage, product_ids: list[int]) -> list[dict]:
    """Return the live products among these ids, with their photos, in id order."""
    if not product_ids:
        return []
    query = _query().where(any_of(conn, products.c.id, product_ids)).order_by(products.c.id)
    return with_photos(conn, storage, conn.execute(query).mappings().all())


def history(conn: Connection, storage: Storage, *, filters=EVERY, cursor=None, limit: int):
    """Return a page of live products, newest first, optionally filtered."""
    return _page(conn, storage, filters.apply(_query()), cursor=cursor, limit=limit)


def search(
    conn: Connection,
    storage: Storage,
    *,
    q: str,
    filters=EVERY,
    cursor=None,
    limit: int,
    signed: bool = False,
):
    """Return a page of products whose name or manufacturer's name contains `q`, newest first
    (their photo URLs signed if `signed`)."""
    ids = search_index.found_ids(conn, name_key(q), filters=filters, cursor=cursor, limit=limit)
    query = _query().where(products.c.id.in_(ids))
    return _page(conn, storage, query, cursor=cursor, limit=limit, signed=signed)


def _page(conn: Connection, storage: Storage, query, *, cursor, limit: int, signed=False):
    rows = (
        conn.execute(keyset(query, (products.c.id,), cursor, limit, descending=True))
        .mappings()
        .all()
    )
    rows, next_cursor = split_page(rows, ("id",), limit)
    return with_photos(conn, storage, rows, signed=signed), next_cursor


def all_live(conn: Connection, storage: Storage, *, filters=EVERY, batch: int = 1000):
    """Yield every live product (that the filters keep), oldest first, a batch at a time, its
    photo URLs signed."""
    after = 0
    query = filters.apply(_query())
    while True:
        rows = (
            conn.execute(query.where(products.c.id > after).order_by(products.c.id).limit(batch))
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from with_photos(conn, storage, rows, signed=True)
        after = rows[-1]["id"]


def all_found(conn: Connection, storage: Storage, *, q: str, filters=EVERY, batch: int = 500):
    """Yield every product a search finds (that the filters keep), newest first."""
    cursor = None
    while True:
        found, next_cursor = search(
            conn, storage, q=q, filters=filters, cursor=cursor, limit=batch, signed=True
        )
        yield from found
        if next_cursor is None:
            return
        cursor = (found[-1]["id"],)
