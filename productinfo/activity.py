"""The activity log: one row per state change, in the history of the user it concerns.

Every feature records its events here (sign-ups, products added, photos
uploaded, roles changed...); `/users.history` and `/users.me` read them back. An
event about a product (its details name a `product_id`) also carries that id in a
column of its own, indexed, so that a product's history is found without a scan.
"""

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
    insert,
    or_,
    select,
)

from productinfo.db import UTCDateTime, metadata, utcnow
from productinfo.pagination import keyset, split_page

activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True),
    # Whose history this event belongs to, and who caused it when that was someone else.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("kind", String(40), nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # No foreign key: a product's events outlive nothing, and the column was added in place.
    Column("product_id", Integer),
    Index("ix_activity_user_id_id", "user_id", "id"),
    Index("ix_activity_product_id_id", "product_id", "id"),
    Index("ix_activity_user_id_kind", "user_id", "kind"),
    Index("ix_activity_actor_id_id", "actor_id", "id"),
    sqlite_autoincrement=True,
)


def record(
    conn: Connection, user_id: int, kind: str, *, actor_id: int | None = None, **details
) -> None:
    """Add an event to a user's history; `actor_id` names an admin acting on the user."""
    conn.execute(
        insert(activity).values(
            user_id=user_id,
            actor_id=actor_id,
            kind=kind,
            details=details,
            created_at=utcnow(),
            product_id=details.get("product_id"),
        )
    )


def record_many(conn: Connection, user_id: int, kind: str, details: list[dict]) -> None:
    """Add one event per entry of `details` to a user's history, in one statement."""
    if details:
        now = utcnow()
        rows = [
            {
                "user_id": user_id,
                "actor_id": None,
                "kind": kind,
                "details": d,
                "created_at": now,
                "product_id": d.get("product_id"),
            }
            for d in details
        ]
        conn.execute(insert(activity), rows)


def history(conn: Connection, user_id: int, *, kind: str | None = None, cursor=None, limit: int):
    """Return a page of the events of a user, or caused by them, newest first."""
    query = select(activity).where(
        or_(activity.c.user_id == user_id, activity.c.actor_id == user_id)
    )
    if kind:
        query = query.where(activity.c.kind == kind)
    rows = (
        conn.execute(keyset(query, (activity.c.id,), cursor, limit, descending=True))
        .mappings()
        .all()
    )
    return split_page(rows, ("id",), limit)


def last_activity(user_id):
    """Select when a user last did something themselves (an admin's action on them aside).

    `user_id` may be a column, to ask it of each row of a list: the newest event is
    found by the (user_id, id) index, without reading the user's whole history.
    """
    return (
        select(activity.c.created_at)
        .where(activity.c.user_id == user_id, activity.c.actor_id.is_(None))
        .order_by(activity.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def stats(conn: Connection, user_id: int) -> dict:
    """Count what a user has contributed and find their last activity."""
    counts = dict(
        conn.execute(
            select(activity.c.kind, func.count())
            .where(
                activity.c.user_id == user_id,
                activity.c.kind.in_(["product_added", "photo_uploaded"]),
            )
            .group_by(activity.c.kind)
        ).all()
    )
    last = conn.execute(select(last_activity(user_id))).scalar()
    return {
        "products_added": counts.get("product_added", 0),
        "photos_uploaded": counts.get("photo_uploaded", 0),
        "last_activity_at": last,
    }
