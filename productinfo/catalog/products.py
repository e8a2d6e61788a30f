"""Rules and queries of products: add, look up by barcode, browse, search, correct, delete."""

from flask import current_app
from sqlalchemy import Connection, bindparam, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import RowMapping

from productinfo.auth import activity
from productinfo.auth.models import users
from productinfo.catalog import barcodes
from productinfo.catalog.models import categories, companies, products
from productinfo.catalog.service import clean_name, name_key
from productinfo.db import insert_ignoring_conflicts, one_of, utcnow
from productinfo.errors import Conflict, Forbidden, NotFound, ValidationFailed
from productinfo.pagination import keyset, split_page
from productinfo.photos import service as photos
from productinfo.photos.models import photos as photo_table

LIVE = products.c.deleted_at.is_(None)


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


def _one(conn: Connection, query, params: dict) -> dict | None:
    """Return the product a query finds, with its photos, or None."""
    rows = conn.execute(query, params).mappings().all()
    if not rows:
        return None
    return {**shape(rows[0]), "photos": photos.from_joined(rows)}


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


def with_photos(conn: Connection, rows) -> list[dict]:
    """Shape product rows, each with its photos."""
    found = photos.of_products(conn, [row["id"] for row in rows])
    return [{**shape(row), "photos": found.get(row["id"], [])} for row in rows]


def get(conn: Connection, product_id: int) -> dict:
    """Return a live product, with its photos, or raise NotFound."""
    product = _one(conn, _BY_ID, {"product_id": product_id})
    if product is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    return product


def get_many(conn: Connection, product_ids: list[int]) -> list[dict]:
    """Return the live products among these ids, with their photos, in id order."""
    if not product_ids:
        return []
    query = _query().where(one_of(conn, products.c.id, product_ids)).order_by(products.c.id)
    return with_photos(conn, conn.execute(query).mappings().all())


def read_barcode(raw: str, *, field: str = "barcode") -> tuple[str, str | None]:
    """Clean a barcode and check its check digit; return (code, warning or None).

    With BARCODE_CHECKSUM=strict (the default) a wrong check digit is a 422
    `invalid_check_digit`; with `warn` it comes back as a warning; `off` skips it.
    """
    code = barcodes.clean(raw)
    if not code:
        raise ValidationFailed.field(field, "must contain more than spaces and dashes")
    problem = barcodes.check(code, current_app.config["BARCODE_CHECKSUM"])
    if problem and current_app.config["BARCODE_CHECKSUM"] == barcodes.STRICT:
        raise ValidationFailed.field(field, problem, code="invalid_check_digit")
    return code, problem


def get_by_barcode(conn: Connection, raw: str) -> dict:
    """Return the live product of a barcode, in any printed form of the same GTIN."""
    code, _ = read_barcode(raw)
    product = _one(conn, _BY_BARCODE, {"barcode_key": barcodes.key(code)})
    if product is None:
        raise NotFound(f"No product has the barcode {code} yet.", code="product_not_found")
    return product


def missing_references(conn: Connection, refs: dict) -> dict:
    """Find categories and companies that do not exist.

    `refs` maps a key to (category id, company id), either None to skip it; the
    answer maps each key with a missing one to (column, value), the category first.
    """
    found = {}
    for position, (column, table) in enumerate(
        (("category_id", categories), ("company_id", companies))
    ):
        wanted = {ids[position] for ids in refs.values() if ids[position] is not None}
        found[column] = set()
        if wanted:
            query = select(table.c.id).where(one_of(conn, table.c.id, wanted))
            found[column] = set(conn.execute(query).scalars())
    missing = {}
    for key, ids in refs.items():
        for column, value in zip(("category_id", "company_id"), ids, strict=True):
            if value is not None and value not in found[column]:
                missing[key] = (column, value)
                break
    return missing


def unknown_reference(column: str, value: int, *, field: str) -> ValidationFailed:
    """Build the error for a category or company that does not exist."""
    noun = column.removesuffix("_id")
    return ValidationFailed.field(field, f"there is no {noun} {value}", code=f"unknown_{noun}")


def _check_references(conn: Connection, items, prefix: str = "") -> None:
    """Raise a 422 naming the first item whose category or company does not exist."""
    refs = {index: (item.category_id, item.company_id) for index, item in enumerate(items)}
    missing = missing_references(conn, refs)
    if missing:
        index = min(missing)
        column, value = missing[index]
        raise unknown_reference(
            column, value, field=f"{prefix}[{index}].{column}" if prefix else column
        )


def new_row(*, name: str, code: str, category_id: int, company_id: int, user_id: int, now) -> dict:
    """Build the row of a new product from its cleaned barcode."""
    return {
        "name": clean_name(name),
        "name_key": name_key(name),
        "barcode": code,
        "barcode_key": barcodes.key(code),
        "category_id": category_id,
        "company_id": company_id,
        "created_by": user_id,
        "created_at": now,
        "updated_at": now,
    }


def _taken(conn: Connection, key: str, *, field: str = "barcode") -> Conflict:
    existing = _one(conn, _BY_BARCODE, {"barcode_key": key})
    who = existing["created_by"]["name"] or existing["created_by"]["email"]
    return Conflict(
        f"A product with this barcode was added already, by {who}.",
        code="barcode_taken",
        errors={field: f"is taken by product {existing['id']}"},
        data=existing,
    )


def add(conn: Connection, item, *, user_id: int) -> tuple[dict, str | None]:
    """Store one product; return (product, warning). A barcode already in use is a 409."""
    [(product, warning)] = add_many(conn, [item], user_id=user_id, prefix="")
    return product, warning


def add_many(conn: Connection, items, *, user_id: int, prefix: str = "products") -> list:
    """Store products, all or none; return [(product, warning)] in the order given."""

    def field(index: int, name: str) -> str:
        return f"{prefix}[{index}].{name}" if prefix else name

    codes, seen = [], {}
    for index, item in enumerate(items):
        code, warning = read_barcode(item.barcode, field=field(index, "barcode"))
        key = barcodes.key(code)
        if key in seen:
            raise ValidationFailed.field(
                field(index, "barcode"),
                f"is the barcode of {field(seen[key], 'barcode')} too",
                code="duplicate_barcode",
            )
        seen[key] = index
        codes.append((code, key, warning))
    _check_references(conn, items, prefix)

    now = utcnow()
    rows = [
        new_row(
            name=item.name,
            code=code,
            category_id=item.category_id,
            company_id=item.company_id,
            user_id=user_id,
            now=now,
        )
        for item, (code, _, _) in zip(items, codes, strict=True)
    ]
    # The whole batch at once (SQLAlchemy sends it in a few multi-row statements); a
    # barcode some live product has already is skipped, then refused below, which
    # rolls back the request.
    statement = insert_ignoring_conflicts(conn, products, "barcode_key", where=LIVE)
    inserted = dict(
        conn.execute(statement.returning(products.c.barcode_key, products.c.id), rows).all()
    )
    for index, (_, key, _) in enumerate(codes):
        if key not in inserted:
            raise _taken(conn, key, field=field(index, "barcode"))
    ids = [inserted[key] for _, key, _ in codes]
    activity.record_many(conn, user_id, "product_added", [{"product_id": i} for i in ids])
    found = {product["id"]: product for product in get_many(conn, ids)}
    return [(found[i], warning) for i, (_, _, warning) in zip(ids, codes, strict=True)]


def _editable(conn: Connection, product_id: int, *, user_id: int, is_admin: bool) -> None:
    """Raise unless the product is live and the user added it or is an admin."""
    owner = conn.execute(
        select(products.c.created_by).where(products.c.id == product_id, LIVE)
    ).scalar()
    if owner is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    if owner != user_id and not is_admin:
        raise Forbidden(
            "Only the person who added this product, or an admin, can change it.",
            code="not_your_product",
        )


def update(conn: Connection, changes, *, user_id: int, is_admin: bool) -> tuple[dict, str | None]:
    """Correct a product's name, barcode, category or company; return (product, warning)."""
    _editable(conn, changes.id, user_id=user_id, is_admin=is_admin)
    fields = changes.model_fields_set - {"id"}
    if not fields:
        raise ValidationFailed(
            "Send at least one of name, barcode, category_id or company_id.",
            code="nothing_to_update",
        )
    values, warning = {}, None
    for column in ("name", "barcode", "category_id", "company_id"):
        if column in fields and getattr(changes, column) is None:
            raise ValidationFailed.field(column, "cannot be null")
    if "name" in fields:
        values.update(name=clean_name(changes.name), name_key=name_key(changes.name))
    if "barcode" in fields:
        code, warning = read_barcode(changes.barcode)
        values.update(barcode=code, barcode_key=barcodes.key(code))
        clash = conn.execute(
            select(products.c.id).where(
                products.c.barcode_key == values["barcode_key"], products.c.id != changes.id, LIVE
            )
        ).scalar()
        if clash is not None:
            raise _taken(conn, values["barcode_key"])
    _check_references(conn, [changes])
    values.update(
        {
            column: getattr(changes, column)
            for column in ("category_id", "company_id")
            if column in fields
        }
    )
    conn.execute(
        sql_update(products)
        .where(products.c.id == changes.id)
        .values(**values, updated_at=utcnow())
    )
    activity.record(conn, user_id, "product_updated", product_id=changes.id, fields=sorted(fields))
    return get(conn, changes.id), warning


def delete(conn: Connection, product_id: int, *, user_id: int, is_admin: bool) -> None:
    """Delete a product softly: it stays as a tombstone and its barcode is free again."""
    _editable(conn, product_id, user_id=user_id, is_admin=is_admin)
    now = utcnow()
    conn.execute(
        sql_update(products)
        .where(products.c.id == product_id)
        .values(deleted_at=now, updated_at=now)
    )
    activity.record(conn, user_id, "product_deleted", product_id=product_id)


def history(
    conn: Connection, *, user_id=None, category_id=None, company_id=None, cursor=None, limit: int
):
    """Return a page of live products, newest first, optionally filtered."""
    query = _query()
    if user_id is not None:
        query = query.where(products.c.created_by == user_id)
    if category_id is not None:
        query = query.where(products.c.category_id == category_id)
    if company_id is not None:
        query = query.where(products.c.company_id == company_id)
    return _page(conn, query, cursor=cursor, limit=limit)


def search(conn: Connection, *, q: str, cursor=None, limit: int):
    """Return a page of products whose name or manufacturer's name contains `q`, newest first."""
    folded = name_key(q)
    makers = select(companies.c.id).where(companies.c.name_key.contains(folded, autoescape=True))
    query = _query().where(
        or_(
            products.c.name_key.contains(folded, autoescape=True), products.c.company_id.in_(makers)
        )
    )
    return _page(conn, query, cursor=cursor, limit=limit)


def _page(conn: Connection, query, *, cursor, limit: int):
    rows = (
        conn.execute(keyset(query, (products.c.id,), cursor, limit, descending=True))
        .mappings()
        .all()
    )
    rows, next_cursor = split_page(rows, ("id",), limit)
    return with_photos(conn, rows), next_cursor


def all_live(conn: Connection, *, batch: int = 1000):
    """Yield every live product with its photos, oldest first, a batch of rows at a time."""
    after = 0
    while True:
        rows = (
            conn.execute(_query().where(products.c.id > after).order_by(products.c.id).limit(batch))
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from with_photos(conn, rows)
        after = rows[-1]["id"]
