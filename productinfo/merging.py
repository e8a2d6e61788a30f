"""Merged records: a company or product merged into another stays as a tombstone that names it.

Both tables have `deleted_at` and `merged_into_id`. A merge keeps `into` and turns
`from` into a tombstone whose `merged_into_id` is `into`, so that whatever still
names `from` (an offline app's record, a name, a retry) can be led to the record
it became: `kept` follows the chain of merges. The feature services (catalog,
products) use `kept`; the merges themselves (productinfo.merges) use `check` and
`tombstone`.
"""

from sqlalchemy import Connection, Table, select, update

from productinfo.db import any_of
from productinfo.errors import Conflict, NotFound, ValidationFailed

# A chain longer than this would be a bug: each merge ends a chain at a live record.
MAX_HOPS = 32


def kept(conn: Connection, table: Table, ids) -> dict[int, int]:
    """Map each id to the record it was merged into, following merges; live ids map to
    themselves, and unknown ids are left out."""
    ids = set(ids)
    read: dict[int, int | None] = {}  # every id found, and what it was merged into
    asked: set[int] = set()
    todo = ids
    for _ in range(MAX_HOPS):
        todo = todo - asked
        if not todo:
            break
        asked |= todo
        rows = conn.execute(
            select(table.c.id, table.c.merged_into_id).where(any_of(conn, table.c.id, todo))
        ).all()
        read.update(dict(rows))
        todo = {target for _, target in rows if target is not None}

    def end(record_id: int) -> int:
        for _ in range(MAX_HOPS):
            target = read.get(record_id)
            if target is None:
                return record_id
            record_id = target
        return record_id

    return {record_id: end(record_id) for record_id in ids if record_id in read}


def check(conn: Connection, table: Table, *, from_id: int, into_id: int, noun: str) -> bool:
    """Lock both records and check that `from` can be merged into `into`.

    Return False when `from` was merged into `into` already: a retry, which changes
    nothing. Raise 422 `merge_into_itself`, 404 `<noun>_not_found` or 409
    `<noun>_removed` (deleted, or merged into another), naming the field at fault.
    """
    if from_id == into_id:
        raise ValidationFailed.field(
            "into_id", f"must differ from from_id, the {noun} to remove", code="merge_into_itself"
        )
    # Locked in id order, so that two merges of the same pair wait for each other
    # instead of deadlocking; and a merge the other way round then finds a tombstone.
    query = (
        select(table.c.id, table.c.deleted_at, table.c.merged_into_id)
        .where(table.c.id.in_([from_id, into_id]))
        .order_by(table.c.id)
        .with_for_update()
    )
    rows = {row.id: row for row in conn.execute(query)}
    fields = (("from_id", from_id), ("into_id", into_id))
    for field, record_id in fields:
        if record_id not in rows:
            raise NotFound(
                f"There is no {noun} {record_id}.",
                code=f"{noun}_not_found",
                errors={field: f"there is no {noun} {record_id}"},
            )
    if rows[from_id].merged_into_id == into_id:
        return False
    for field, record_id in fields:
        row = rows[record_id]
        if row.deleted_at is not None:
            merged = row.merged_into_id
            why = f"was merged into {noun} {merged}" if merged else "was deleted"
            raise Conflict(
                f"The {noun} {record_id} {why}.",
                code=f"{noun}_removed",
                errors={field: why},
                data={"id": record_id, "merged_into_id": merged},
            )
    return True


def tombstone(conn: Connection, table: Table, *, from_id: int, into_id: int, now) -> None:
    """Turn `from` into a tombstone that names `into`."""
    conn.execute(
        update(table)
        .where(table.c.id == from_id)
        .values(deleted_at=now, updated_at=now, merged_into_id=into_id)
    )
