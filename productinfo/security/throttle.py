"""Counters of sensitive events (sign-in attempts, mails sent) kept in the database.

They live in the database rather than in memory so that a limit holds across
every serverless instance at once. An event is counted by `take`, which checks
the limits and records the event under a lock on each key: requests sent at the
same moment, to any number of processes, cannot all pass the check before one
of them is counted.
"""

import datetime as dt
import hashlib
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


def take(conn: Connection, counters, *, now: dt.datetime) -> list[int]:
    """Count one event for each (limit, key) pair of `counters`; return the events' ids.

    Raise TooManyRequests, with the wait in Retry-After, if a key has reached its
    limit; then nothing is counted. The locks last until the transaction ends.
    """
    t = throttle_events.c
    if conn.dialect.name == "postgresql":
        _lock(conn, counters)
    # Forget events too old to matter. On SQLite this write comes first on purpose: the
    # first write of a transaction waits for the database's one write lock and keeps it to
    # the end, which serialises the counting as the locks above do on Postgres.
    conn.execute(delete(throttle_events).where(t.created_at < now - KEEP))
    for limit, key in counters:
        count, oldest = conn.execute(
            select(func.count(), func.min(t.created_at)).where(
                t.bucket == limit.bucket, t.key == key, t.created_at > now - limit.window
            )
        ).one()
        if count >= limit.count:
            retry_after = math.ceil((oldest + limit.window - now).total_seconds())
            raise TooManyRequests(limit.message, retry_after=retry_after)
    rows = [{"bucket": limit.bucket, "key": key, "created_at": now} for limit, key in counters]
    return list(conn.execute(insert(throttle_events).returning(t.id), rows).scalars())


def _lock(conn: Connection, counters) -> None:
    """Hold each key of `counters` until the transaction ends (Postgres advisory locks)."""
    names = {f"throttle {limit.bucket} {key}" for limit, key in counters}
    # Always in the same order, so that two requests never wait for each other's keys.
    for lock_id in sorted(_lock_id(name) for name in names):
        conn.execute(select(func.pg_advisory_xact_lock(lock_id)))


def _lock_id(name: str) -> int:
    """Map a name to the 64-bit key of a Postgres advisory lock, the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def forget(conn: Connection, ids: list[int]) -> None:
    """Remove events counted by `take`, e.g. a sign-in attempt that turned out right."""
    if ids:
        conn.execute(delete(throttle_events).where(throttle_events.c.id.in_(ids)))


def clear(conn: Connection, limit: Limit, key: str) -> None:
    """Forget the events of `key`, e.g. failed sign-ins after a successful one."""
    t = throttle_events.c
    conn.execute(delete(throttle_events).where(t.bucket == limit.bucket, t.key == key))
