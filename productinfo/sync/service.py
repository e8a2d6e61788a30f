"""The sync pull: what changed since a device's cursor, never skipping a late commit.

Every insert or update stamps the row's `change_seq` (a trigger; on Postgres the
writing transaction's id). A pull reads rows in (change_seq, id) order below a
*horizon*: on Postgres the oldest transaction still running (everything below it
has finished), on SQLite the counter's next value. The cursor only moves past
rows below the horizon, so a transaction that commits late is still returned.
Rows committed above the horizon are sent too, and sent again by a later pull:
the app applies changes as upserts. Deleted products, and companies merged into
another, come as tombstones: their ids in `deleted`.

The pushes are the write endpoints given a `device_id`; see `productinfo.ledger`.
"""

from sqlalchemy import Connection, func, select, text, tuple_, union_all

from productinfo.catalog.models import categories, companies
from productinfo.db import any_of
from productinfo.errors import ValidationFailed
from productinfo.fields import MAX_ID
from productinfo.pagination import decode_cursor, encode_cursor
from productinfo.products import queries as products_queries
from productinfo.products.models import products
from productinfo.storage import Storage

PULLED = {"categories": categories, "companies": companies, "products": products}


def _horizon(conn: Connection) -> tuple[int, list[int]]:
    """Return the change_seq below which every change has committed or never will, and
    the transactions still running above it (change_seqs that may yet appear)."""
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT pg_snapshot_xmin(s)::text::bigint,"
            " ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x ORDER BY 1)"
            " FROM (SELECT pg_current_snapshot() AS s) AS snapshot"
        )
        horizon, running = conn.execute(query).one()
        return horizon, running
    highest = union_all(*(select(func.max(t.c.change_seq).label("m")) for t in PULLED.values()))
    return (conn.execute(select(func.max(highest.subquery().c.m))).scalar() or 0) + 1, []


START = {"below": (0, 0), "above": (0, 0), "waiting": ()}


def _encode(state: dict) -> str:
    """Encode, per kind, the positions reached and the transactions still awaited."""
    return encode_cursor(
        {kind: {key: list(v) for key, v in marks.items()} for kind, marks in state.items()}
    )


def _decode(cursor: str | None) -> dict:
    """Decode a pull cursor; none means from the beginning."""
    if not cursor:
        return {kind: START for kind in PULLED}
    try:
        state = decode_cursor(cursor)
        if set(state) == set(PULLED) and all(_is_marks(marks) for marks in state.values()):
            return {
                kind: {key: tuple(value) for key, value in m.items()} for kind, m in state.items()
            }
    except (ValueError, TypeError, AttributeError):
        pass
    raise ValidationFailed.field("cursor", "is not a cursor of /sync.pull", code="invalid_cursor")


def _is_marks(marks) -> bool:
    def seq(value):  # a 64-bit change_seq (or transaction id)
        return type(value) is int and 0 <= value < 2**63

    def position(value):
        return (
            isinstance(value, list)
            and len(value) == 2
            and seq(value[0])
            and 0 <= value[1] <= MAX_ID
        )

    return (
        set(marks) == set(START)
        and position(marks["below"])
        and position(marks["above"])
        and isinstance(marks["waiting"], list)
        and all(seq(xid) for xid in marks["waiting"])
    )


def pull(
    conn: Connection, storage: Storage, *, cursor: str | None, limit: int
) -> tuple[dict, str, bool]:
    """Return (changes per kind, next cursor, whether more is waiting).

    Per kind, the cursor holds:
    - `below`: how far the rows under the horizon were delivered. It never passes
      the horizon, so whatever commits late is found by a later pull.
    - `above`: how far the rows that committed above the horizon were paged. They
      come again once under it.
    - `waiting`: the transactions that were running behind `above`. When one has
      finished by the next pull, `above` steps back to it, so its rows come at once.
    """
    state = _decode(cursor)
    # The horizon first: the rows are read in the same snapshot or a later one.
    seq, running = _horizon(conn)
    horizon = (seq, 0)
    changes, more, reached = {}, False, {}
    for kind, table in PULLED.items():
        marks = state[kind]
        order = tuple_(table.c.change_seq, table.c.id)
        below = _positions(
            conn, table, order > tuple_(*marks["below"]), order < tuple_(*horizon), limit
        )
        above = []
        if len(below) > limit:
            below, more = below[:limit], True
            marks = {**marks, "below": below[-1]}
        else:
            start = max(marks["above"], horizon)
            finished = [
                (xid, 0) for xid in marks["waiting"] if xid not in running and (xid, 0) >= horizon
            ]
            start = min([start, *finished])
            room = limit - len(below)
            above = _positions(conn, table, order > tuple_(*start), None, room)
            if len(above) > room:
                above, more = above[:room], True
            end = above[-1] if above else start
            waiting = tuple(xid for xid in running if (xid, 0) < end)
            marks = {"below": max(marks["below"], horizon), "above": end, "waiting": waiting}
        reached[kind] = marks
        changes[kind] = _load(conn, storage, kind, [position[1] for position in (*below, *above)])
    return changes, _encode(reached), more


def _positions(conn: Connection, table, after, before, limit: int) -> list[tuple[int, int]]:
    """Return up to limit + 1 (change_seq, id) of rows after a position, in order."""
    query = select(table.c.change_seq, table.c.id).where(after)
    if before is not None:
        query = query.where(before)
    query = query.order_by(table.c.change_seq, table.c.id).limit(limit + 1)
    return [tuple(row) for row in conn.execute(query)]


def _load(conn: Connection, storage: Storage, kind: str, ids: list[int]) -> dict:
    """Return {changed: [records], deleted: [ids]} for these ids, in their order."""
    if kind == "products":
        found = {p["id"]: p for p in products_queries.get_many(conn, storage, ids)}
        return {
            "changed": [found[i] for i in ids if i in found],
            "deleted": [i for i in ids if i not in found],
        }
    table = PULLED[kind]
    by_id = {
        row["id"]: row
        for row in conn.execute(select(table).where(any_of(conn, table.c.id, ids))).mappings()
    }
    # A company merged into another is a tombstone: deleted, as products are.
    gone = {i for i in ids if by_id[i].get("deleted_at") is not None}
    return {
        "changed": [by_id[i] for i in ids if i not in gone],
        "deleted": [i for i in ids if i in gone],
    }
