"""The activity history: one row per state change, in the history of the user it concerns."""

from sqlalchemy import Connection, func, insert, or_, select

from productinfo.auth.models import activity
from productinfo.db import utcnow
from productinfo.pagination import keyset, split_page


def record(
    conn: Connection, user_id: int, kind: str, *, actor_id: int | None = None, **details
) -> None:
    """Add an event to a user's history; `actor_id` names an admin acting on the user."""
    conn.execute(
        insert(activity).values(
            user_id=user_id, actor_id=actor_id, kind=kind, details=details, created_at=utcnow()
        )
    )


def record_many(conn: Connection, user_id: int, kind: str, details: list[dict]) -> None:
    """Add one event of `kind` per item of `details` to a user's history, in one statement."""
    if not details:
        return
    now = utcnow()
    conn.execute(
        insert(activity),
        [
            {"user_id": user_id, "actor_id": None, "kind": kind, "details": item, "created_at": now}
            for item in details
        ],
    )


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
    last = conn.execute(
        select(func.max(activity.c.created_at)).where(activity.c.user_id == user_id)
    ).scalar()
    return {
        "products_added": counts.get("product_added", 0),
        "photos_uploaded": counts.get("photo_uploaded", 0),
        "last_activity_at": last,
    }
