"""Merging twins: two companies that are one manufacturer, two products that are one product.

A merge keeps `into` and removes `from`, which stays as a tombstone naming `into`
(see productinfo.merging), so that everything that still names `from` is led to
`into`:

- its products (a company's) or photos (a product's) move to `into`, and both
  changes reach the offline apps at their next pull: the rows moved are stamped by
  the change_seq triggers, `from` is listed as deleted;
- the device ledger's mappings of `from` now map to `into`: a later push that names
  the old local id lands on the kept record;
- a company's name, or a product id sent by an app that has not pulled yet, lead
  to `into` too.

Merging the same pair again (a retry after a lost answer) changes nothing.
"""

from sqlalchemy import Connection, select, update
from sqlalchemy import delete as sql_delete

from productinfo import activity, ledger, merging
from productinfo.catalog.models import companies
from productinfo.db import utcnow
from productinfo.photos.models import photos
from productinfo.photos.service import loosen
from productinfo.products import queries as products_queries
from productinfo.products.models import LIVE, products
from productinfo.storage import Storage


def _company(conn: Connection, company_id: int) -> dict:
    columns = (companies.c.id, companies.c.name, companies.c.created_at, companies.c.updated_at)
    return dict(conn.execute(select(*columns).where(companies.c.id == company_id)).mappings().one())


def merge_companies(conn: Connection, *, from_id: int, into_id: int, user_id: int) -> dict:
    """Merge one manufacturer into another; return the kept, the removed, the products moved."""
    moved = 0
    if merging.check(conn, companies, from_id=from_id, into_id=into_id, noun="company"):
        now = utcnow()
        moved = conn.execute(
            update(products)
            .where(products.c.company_id == from_id, LIVE)
            .values(company_id=into_id, updated_at=now)
        ).rowcount
        merging.tombstone(conn, companies, from_id=from_id, into_id=into_id, now=now)
        ledger.redirect(conn, "company", from_id, into_id)
        activity.record(
            conn,
            user_id,
            "companies_merged",
            from_company_id=from_id,
            into_company_id=into_id,
            products_moved=moved,
        )
    return {
        "kept": _company(conn, into_id),
        "removed": _company(conn, from_id),
        "products_moved": moved,
    }


def merge_products(
    conn: Connection, storage: Storage, *, from_id: int, into_id: int, user_id: int
) -> tuple[dict, list[str]]:
    """Merge one product into another; return (the answer, stored objects to remove).

    The photos move to the kept product, except those it has already (the same
    upload): those are kept once, and their objects are to be removed once the
    merge is committed.
    """
    moved, twins, keys = 0, 0, []
    if merging.check(conn, products, from_id=from_id, into_id=into_id, noun="product"):
        now = utcnow()
        theirs = dict(
            conn.execute(
                select(photos.c.sha256, photos.c.id).where(photos.c.product_id == into_id)
            ).all()
        )
        for photo in conn.execute(select(photos).where(photos.c.product_id == from_id)).mappings():
            kept_photo = theirs.get(photo["sha256"])
            if kept_photo is None:
                continue
            # The same upload on both: one photo stays, and the other's mappings lead to it.
            conn.execute(sql_delete(photos).where(photos.c.id == photo["id"]))
            ledger.redirect(conn, "photo", photo["id"], kept_photo)
            keys += [photo["key"], photo["thumbnail_key"]]
            twins += 1
        loosen(conn, keys)  # recorded for the sweep, should their removal after the commit fail
        moved = conn.execute(
            update(photos).where(photos.c.product_id == from_id).values(product_id=into_id)
        ).rowcount
        merging.tombstone(conn, products, from_id=from_id, into_id=into_id, now=now)
        # Stamped, so that pulls send the kept product again, with its new photos.
        conn.execute(update(products).where(products.c.id == into_id).values(updated_at=now))
        ledger.redirect(conn, "product", from_id, into_id)
        activity.record(
            conn,
            user_id,
            "products_merged",
            product_id=into_id,
            from_product_id=from_id,
            photos_moved=moved,
            photos_already_there=twins,
        )
    answer = {
        "kept": products_queries.get(conn, storage, into_id),
        "removed_id": from_id,
        "photos_moved": moved,
        "photos_already_there": twins,
    }
    return answer, keys
