"""The dashboard's numbers, each one SQL aggregate (GROUP BY, COUNT): no rows are loaded.

Days are UTC days. A capture is a live product (not deleted, not merged away), on
the day it was added. The window is `days` days ending with `until` (included);
"this week" is the 7 days ending with `until`. The queries are served by indexes
made for them (see productinfo/migrations/versions/0009_console.py): live products
by time and by maker (partial indexes), photos by time and by product.
"""

import datetime as dt

from sqlalchemy import Connection, Date, case, cast, func, select

from productinfo.auth.models import users
from productinfo.catalog.models import companies
from productinfo.photos.models import photos
from productinfo.products.models import LIVE, products

TOP = 10
# Products with this many photos or more share the last bar of the distribution.
MOST_PHOTOS = 5
WEEK = 7


def _day(conn: Connection, column):
    """Return the UTC day of a timestamp column, as SQL."""
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    # SQLite stores UTC as text, "2026-11-22 10:00:00.000000": its first ten characters.
    return func.substr(column, 1, 10)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def summary(conn: Connection, *, days: int, until: dt.date) -> dict:
    """Return every number of the dashboard for the `days` days ending with `until`."""
    first = until - dt.timedelta(days=days - 1)
    dates = [first + dt.timedelta(days=n) for n in range(days)]
    per_person = _captures_per_day(conn, _midnight(first), _midnight(until) + dt.timedelta(days=1))
    totals = [sum(per_person.get(who, {}).get(day, 0) for who in per_person) for day in dates]
    named = _people(conn, per_person)
    people = [
        {
            **named[who],
            "captures": sum(counts.values()),
            "per_day": [counts.get(day, 0) for day in dates],
        }
        for who, counts in per_person.items()
    ]
    people.sort(key=lambda person: (-person["captures"], person["id"]))
    live = conn.execute(select(func.count()).select_from(products).where(LIVE)).scalar()
    spread = _photos_per_product(conn)
    with_photos = sum(spread.values())
    return {
        "days": days,
        "from": first,
        "to": until,
        "dates": dates,
        "captures_per_day": totals,
        "people": people,
        "products": live,
        "products_with_photos": with_photos,
        "products_without_photos": live - with_photos,
        "photos_per_product": [
            {"photos": 0, "products": live - with_photos},
            *({"photos": n, "products": spread.get(n, 0)} for n in range(1, MOST_PHOTOS + 1)),
        ],
        "top_companies": _top_companies(conn),
        "week": _week(conn, until),
    }


def _captures_per_day(conn: Connection, start: dt.datetime, end: dt.datetime) -> dict:
    """Return {user id: {day: captures}} for live products added in [start, end)."""
    day = _day(conn, products.c.created_at).label("day")
    query = (
        select(products.c.created_by, day, func.count())
        .where(LIVE, products.c.created_at >= start, products.c.created_at < end)
        .group_by(products.c.created_by, day)
    )
    found: dict[int, dict] = {}
    for who, when, count in conn.execute(query):
        when = dt.date.fromisoformat(when) if isinstance(when, str) else when
        found.setdefault(who, {})[when] = count
    return found


def _people(conn: Connection, ids) -> dict[int, dict]:
    ids = list(ids)
    if not ids:
        return {}
    rows = conn.execute(select(users.c.id, users.c.name, users.c.email).where(users.c.id.in_(ids)))
    return {row.id: {"id": row.id, "name": row.name, "email": row.email} for row in rows}


def _removed():
    """Select the removed products' ids, to leave their photos out.

    Tombstones are few and found by their own index, where joining every photo to its
    live product would read the whole products table.
    """
    return select(products.c.id).where(products.c.deleted_at.is_not(None))


def _photos_per_product(conn: Connection) -> dict[int, int]:
    """Return {photos: products} for live products with photos; the last bar is "or more"."""
    per_product = (
        select(func.count().label("n"))
        .where(photos.c.product_id.not_in(_removed()))
        .group_by(photos.c.product_id)
        .subquery()
    )
    bar = case((per_product.c.n >= MOST_PHOTOS, MOST_PHOTOS), else_=per_product.c.n).label("bar")
    return dict(conn.execute(select(bar, func.count()).group_by(bar)).all())


def _top_companies(conn: Connection) -> list[dict]:
    """Return the manufacturers with the most live products, the most first."""
    counts = (
        select(products.c.company_id, func.count().label("products"))
        .where(LIVE)
        .group_by(products.c.company_id)
        .order_by(func.count().desc(), products.c.company_id)
        .limit(TOP)
        .subquery()
    )
    query = (
        select(companies.c.id, companies.c.name, counts.c.products)
        .join(counts, counts.c.company_id == companies.c.id)
        .order_by(counts.c.products.desc(), companies.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _week(conn: Connection, until: dt.date) -> dict:
    """Return who captured and photographed the most in the 7 days ending with `until`."""
    first = until - dt.timedelta(days=WEEK - 1)
    start, end = _midnight(first), _midnight(until) + dt.timedelta(days=1)
    captures = dict(
        conn.execute(
            select(products.c.created_by, func.count())
            .where(LIVE, products.c.created_at >= start, products.c.created_at < end)
            .group_by(products.c.created_by)
        ).all()
    )
    shots = dict(
        conn.execute(
            select(photos.c.created_by, func.count())
            .where(photos.c.created_at >= start, photos.c.created_at < end)
            .where(photos.c.product_id.not_in(_removed()))
            .group_by(photos.c.created_by)
        ).all()
    )
    named = _people(conn, set(captures) | set(shots))
    people = [
        {**person, "captures": captures.get(who, 0), "photos": shots.get(who, 0)}
        for who, person in named.items()
    ]
    people.sort(key=lambda p: (-(p["captures"] + p["photos"]), -p["captures"], p["id"]))
    return {"from": first, "to": until, "people": people[:TOP]}
