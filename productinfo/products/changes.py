"""A product's history: who added it, who changed what and when, its photos, merges.

Every event about a product is in the activity log with the product's id in a
column of its own (see productinfo.activity), so a product's events are read by an
index. A correction records each changed field with its value before and after,
and for the category and the manufacturer their names at that moment:

    {"name": {"from": "Ifri 1.5L", "to": "Ifri 1.5 L"},
     "company": {"from": {"id": 3, "name": "Ifri"}, "to": {"id": 5, "name": "Cevital"}}}
"""

from sqlalchemy import Connection, func, select

from productinfo.activity import activity
from productinfo.auth.models import users
from productinfo.catalog.models import categories, companies
from productinfo.errors import NotFound
from productinfo.pagination import keyset, split_page
from productinfo.products.models import products

FIELDS = ("name", "barcode", "category", "company")


def snapshot(conn: Connection, product_id: int) -> dict:
    """Return the fields a correction may change, with the category's and maker's names."""
    row = conn.execute(
        select(
            products.c.name,
            products.c.barcode,
            categories.c.id.label("category_id"),
            categories.c.name.label("category_name"),
            companies.c.id.label("company_id"),
            companies.c.name.label("company_name"),
        )
        .select_from(
            products.join(categories, categories.c.id == products.c.category_id).join(
                companies, companies.c.id == products.c.company_id
            )
        )
        .where(products.c.id == product_id)
    ).one()
    return {
        "name": row.name,
        "barcode": row.barcode,
        "category": {"id": row.category_id, "name": row.category_name},
        "company": {"id": row.company_id, "name": row.company_name},
    }


def differences(before: dict, after: dict) -> dict:
    """Return {field: {"from", "to"}} for each field whose value changed."""
    return {
        field: {"from": before[field], "to": after[field]}
        for field in FIELDS
        if before[field] != after[field]
    }


def events(conn: Connection, product_id: int, *, cursor=None, limit: int):
    """Return a page of a product's events, newest first, each with who caused it.

    A deleted or merged product keeps its history; an id never used is NotFound.
    """
    exists = conn.execute(select(products.c.id).where(products.c.id == product_id)).first()
    if exists is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    # Who caused the event: the admin acting on someone's behalf, else whose event it is.
    actor = users.alias()
    query = (
        select(
            activity.c.id,
            activity.c.kind,
            activity.c.details,
            activity.c.created_at,
            actor.c.id.label("by_id"),
            actor.c.name.label("by_name"),
            actor.c.email.label("by_email"),
        )
        .select_from(
            activity.outerjoin(
                actor, actor.c.id == func.coalesce(activity.c.actor_id, activity.c.user_id)
            )
        )
        .where(activity.c.product_id == product_id)
    )
    rows = (
        conn.execute(keyset(query, (activity.c.id,), cursor, limit, descending=True))
        .mappings()
        .all()
    )
    rows, next_cursor = split_page(rows, ("id",), limit)
    return [_shape(row) for row in rows], next_cursor


def _shape(row) -> dict:
    by = None
    if row["by_id"] is not None:
        by = {"id": row["by_id"], "name": row["by_name"], "email": row["by_email"]}
    return {
        "id": row["id"],
        "kind": row["kind"],
        "by": by,
        "created_at": row["created_at"],
        "details": row["details"],
    }
