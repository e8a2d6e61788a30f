"""Counters of sensitive events (failed logins, mails sent) kept in the database.

They live in the database rather than in memory so that a limit holds across
every serverless instance at once.
"""

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)

from productinfo.db import UTCDateTime, metadata
from productinfo.errors import TooManyRequests

throttle_events = Table(
    "throttle_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bucket", String(40), nullable=False),
    Column("key", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Index("ix_throttle_events_bucket_key_created_at", "bucket", "key", "created_at"),
    sqlite_autoincrement=True,
)

# Events older than this are of no use to any limit and are purged as new ones arrive.
KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most `count` events per key in `window`; past it, `message` and a 429."""

    bucket: str
    count: int
    window: dt.timedelta
    message: str


def check(conn: Connection, counters, *, now: dt.datetime) -> None:
    """Raise TooManyRequests, with the wait in Retry-After, if a key of the (limit, key)
    pairs of `counters` has reached its limit."""
    t = throttle_events.c
    for limit, key in counters:
        count, oldest = conn.execute(
            select(func.count(), func.min(t.created_at)).where(
                t.bucket == limit.bucket, t.key == key, t.created_at > now - limit.window
            )
        ).one()
        if count >= limit.count:
            retry_after = math.ceil((oldest + limit.window - now).total_seconds())
            raise TooManyRequests(limit.message, retry_after=retry_after)


def record(conn: Connection, counters, *, now: dt.datetime) -> None:
    """Count one event for each (limit, key) pair, and forget events too old to matter."""
    rows = [{"bucket": limit.bucket, "key": key, "created_at": now} for limit, key in counters]
    conn.execute(insert(throttle_events), rows)
    conn.execute(delete(throttle_events).where(throttle_events.c.created_at < now - KEEP))


def clear(conn: Connection, limit: Limit, key: str) -> None:
    """Forget the events of `key`, e.g. failed sign-ins after a successful one."""
    t = throttle_events.c
    conn.execute(delete(throttle_events).where(t.bucket == limit.bucket, t.key == key))
