"""Offline sync: idempotent pushes that map the apps' local ids, and an incremental pull.

**Push.** Each record a device sends carries the app's `local_id`. The server
keeps (user, device, kind, local id) -> server id, so sending a record again
maps it to the same row and creates nothing ("existing"). Companies match by
name and products by barcode, so a record that is on the server already maps
to that row ("merged"). Records are checked one by one: a bad one gets an error
result and the others are stored. Every write is an insert-or-ignore on a
natural key (company name, barcode, photo content, mapping), so concurrent
pushes of the same batch make one set of rows.

**Pull.** Every insert or update stamps the row's `change_seq` (a trigger; on
Postgres the writing transaction's id). A pull reads rows in (change_seq, id)
order below a *horizon*: on Postgres the oldest transaction still running
(everything below it has finished), on SQLite the counter's next value. The
cursor only moves past rows below the horizon, so a transaction that commits
late is still returned. Rows committed above the horizon are sent too, and sent
again by a later pull: the app applies changes as upserts.
"""

from pydantic import ValidationError
from sqlalchemy import Connection, func, select, text, tuple_, union_all

from productinfo.auth import activity
from productinfo.catalog import products as product_service
from productinfo.catalog.models import categories, companies, products
from productinfo.catalog.service import name_key, store_companies
from productinfo.db import insert_ignoring_conflicts, one_of, utcnow
from productinfo.errors import ApiError, NotFound, ValidationFailed, field_path, problem
from productinfo.fields import MAX_ID
from productinfo.pagination import pack, unpack
from productinfo.photos import service as photo_service
from productinfo.sync.models import sync_mappings
from productinfo.sync.schemas import SyncCompany, SyncProduct

PLURAL = {"company": "companies", "product": "products", "photo": "photos"}


# Mappings


def mapped(conn: Connection, scope: dict, kind: str, local_ids) -> dict[str, int]:
    """Return the server ids mapped to these local ids in a (user, device) scope."""
    local_ids = list(set(local_ids))
    if not local_ids:
        return {}
    m = sync_mappings.c
    query = select(m.local_id, m.server_id).where(
        m.user_id == scope["user_id"],
        m.device_id == scope["device_id"],
        m.kind == kind,
        one_of(conn, m.local_id, local_ids),
    )
    return dict(conn.execute(query).all())


def remember(conn: Connection, scope: dict, kind: str, pairs: dict[str, int]) -> tuple[dict, set]:
    """Store local id -> server id pairs; return (the mapping as stored, local ids stored now).

    A pair that a concurrent push of the same record stored first is kept.
    """
    if not pairs:
        return {}, set()
    now = utcnow()
    rows = [
        {**scope, "kind": kind, "local_id": local, "server_id": server, "created_at": now}
        for local, server in pairs.items()
    ]
    statement = insert_ignoring_conflicts(
        conn, sync_mappings, "user_id", "device_id", "kind", "local_id"
    )
    stored_now = set(conn.execute(statement.returning(sync_mappings.c.local_id), rows).scalars())
    if len(stored_now) == len(pairs):
        return dict(pairs), stored_now
    return mapped(conn, scope, kind, pairs), stored_now


# Results


def _result(index: int, local_id, status: str, server_id=None, **extra) -> dict:
    return {"index": index, "local_id": local_id, "status": status, "id": server_id, **extra}


def _error(index: int, local_id, *, field: str, message: str, code: str) -> dict:
    return _result(index, local_id, "error", code=code, field=field, message=message)


def _validate_each(items: list, model, prefix: str, id_field: str) -> tuple[dict, dict, dict]:
    """Check each raw item; return ({index: item}, {index: error result}, {index: first index}).

    The third names the records sent twice in the batch: they share the first's fate.
    """
    valid, errors, first, repeats = {}, {}, {}, {}
    for index, raw in enumerate(items):
        raw_id = raw.get(id_field) if isinstance(raw, dict) else None
        try:
            item = model.model_validate(raw)
        except ValidationError as error:
            first_error = error.errors(include_url=False, include_input=False)[0]
            errors[index] = _error(
                index,
                str(raw_id) if isinstance(raw_id, int | str) else None,
                field=field_path((prefix, index, *first_error["loc"])),
                message=problem(first_error),
                code="validation_failed",
            )
            continue
        local_id = getattr(item, id_field)
        if local_id not in first:
            first[local_id] = index
            valid[index] = item
        elif item == valid[first[local_id]]:
            repeats[index] = first[local_id]
        else:
            errors[index] = _error(
                index,
                local_id,
                field=f"{prefix}[{index}].{id_field}",
                message=f"is also the local id of {prefix}[{first[local_id]}], with other values",
                code="duplicate_local_id",
            )
    return valid, errors, repeats


def _status(local_id, *, known, stored_now, created: bool) -> str:
    if local_id in known or local_id not in stored_now:
        return "existing"  # pushed before, or by a concurrent push of the same record
    return "created" if created else "merged"


def _answer(kind: str, results: dict[int, dict], repeats: dict[int, int], count: int) -> dict:
    for index, first in repeats.items():
        original = results[first]
        results[index] = (
            {**original, "index": index}
            if original["status"] == "error"
            else _result(index, original["local_id"], "existing", original["id"])
        )
    ordered = [results[index] for index in range(count)]
    mapping = {r["local_id"]: r["id"] for r in ordered if r["status"] != "error"}
    return {"mapping": {PLURAL[kind]: mapping}, "results": ordered}


MERGED = {
    "company": (
        "company_exists",
        "A company with this name exists (on the server or earlier in this batch); "
        "this record maps to it.",
    ),
    "product": (
        "barcode_taken",
        "A product with this barcode exists (on the server or earlier in this batch); "
        "this record maps to it, and its photos attach to that product.",
    ),
}


def _finish(
    kind: str, valid: dict, results: dict, id_field: str, *, known, stored, stored_now, created
) -> None:
    """Fill in the result of each valid record that has no error."""
    for index, item in valid.items():
        if index in results:
            continue
        local_id = getattr(item, id_field)
        server_id = known.get(local_id, stored.get(local_id))
        status = _status(local_id, known=known, stored_now=stored_now, created=index in created)
        extra = {}
        if status == "merged":
            extra = dict(zip(("code", "message"), MERGED[kind], strict=True))
        results[index] = _result(index, local_id, status, server_id, **extra)


# Push


def push_companies(conn: Connection, *, user_id: int, device_id: str, items: list) -> dict:
    """Store a device's companies; return the mapping and a result per record."""
    scope = {"user_id": user_id, "device_id": device_id}
    valid, results, repeats = _validate_each(items, SyncCompany, "companies", "id")
    known = mapped(conn, scope, "company", [item.id for item in valid.values()])
    todo = {index: item for index, item in valid.items() if item.id not in known}

    first = {}  # name key -> index of the first record with that name
    for index, item in todo.items():
        first.setdefault(name_key(item.name), index)
    ids, created_keys = {}, set()
    if first:
        names = [todo[index].name for index in first.values()]
        ids, created_keys = store_companies(conn, names, user_id=user_id)
    stored, stored_now = remember(
        conn, scope, "company", {item.id: ids[name_key(item.name)] for item in todo.values()}
    )

    created = {index for key, index in first.items() if key in created_keys}
    _finish(
        "company",
        valid,
        results,
        "id",
        known=known,
        stored=stored,
        stored_now=stored_now,
        created=created,
    )
    return _answer("company", results, repeats, len(items))


def push_products(
    conn: Connection, *, user_id: int, device_id: str, items: list
) -> tuple[dict, str]:
    """Store a device's products; return (the mapping and a result per record, warnings)."""
    scope = {"user_id": user_id, "device_id": device_id}
    valid, results, repeats = _validate_each(items, SyncProduct, "products", "local_id")
    known = mapped(conn, scope, "product", [item.local_id for item in valid.values()])
    todo = {index: item for index, item in valid.items() if item.local_id not in known}

    local_companies = mapped(
        conn, scope, "company", [i.company_local_id for i in todo.values() if i.company_local_id]
    )
    rows, warnings = {}, []
    for index, item in todo.items():
        row, error = _product_row(index, item, local_companies, user_id, warnings)
        if error:
            results[index] = error
        else:
            rows[index] = row
    refs = {index: (row["category_id"], row["company_id"]) for index, row in rows.items()}
    for index, (column, value) in product_service.missing_references(conn, refs).items():
        error = product_service.unknown_reference(
            column, value, field=f"products[{index}].{column}"
        )
        [(field, message)] = error.errors.items()
        results[index] = _error(
            index, todo[index].local_id, field=field, message=message, code=error.code
        )
        del rows[index]

    first = {}  # barcode key -> index of the first record with that barcode
    for index, row in rows.items():
        first.setdefault(row["barcode_key"], index)
    ids = _live_products(conn, first)
    created_ids = {}
    new = [rows[index] for key, index in first.items() if key not in ids]
    if new:
        statement = insert_ignoring_conflicts(
            conn, products, "barcode_key", where=product_service.LIVE
        )
        inserted = conn.execute(
            statement.returning(products.c.id, products.c.barcode_key), new
        ).all()
        created_ids = {product_id: first[key] for product_id, key in inserted}
        ids.update({key: product_id for product_id, key in inserted})
        ids.update(_live_products(conn, set(first) - set(ids)))  # inserted by a concurrent push
    stored, stored_now = remember(
        conn,
        scope,
        "product",
        {todo[index].local_id: ids[row["barcode_key"]] for index, row in rows.items()},
    )

    created = set(created_ids.values())
    _finish(
        "product",
        valid,
        results,
        "local_id",
        known=known,
        stored=stored,
        stored_now=stored_now,
        created=created,
    )
    activity.record_many(
        conn, user_id, "product_added", [{"product_id": pid} for pid in sorted(created_ids)]
    )
    return _answer("product", results, repeats, len(items)), " ".join(warnings)


def _product_row(
    index: int, item, local_companies: dict, user_id: int, warnings: list
) -> tuple[dict | None, dict | None]:
    """Build (the row of a product to insert, None), or (None, its error result)."""
    if item.company_local_id is not None and item.company_local_id not in local_companies:
        return None, _error(
            index,
            item.local_id,
            field=f"products[{index}].company_local_id",
            message="no company with this local id was pushed from this device",
            code="unknown_company",
        )
    try:
        code, warning = product_service.read_barcode(
            item.barcode, field=f"products[{index}].barcode"
        )
    except ApiError as error:
        [(field, message)] = error.errors.items()
        return None, _error(index, item.local_id, field=field, message=message, code=error.code)
    if warning:
        warnings.append(warning)
    company_id = item.company_id
    if company_id is None:
        company_id = local_companies[item.company_local_id]
    row = product_service.new_row(
        name=item.name,
        code=code,
        category_id=item.category_id,
        company_id=company_id,
        user_id=user_id,
        now=utcnow(),
    )
    return row, None


def _live_products(conn: Connection, keys) -> dict[str, int]:
    keys = list(keys)
    if not keys:
        return {}
    query = select(products.c.barcode_key, products.c.id).where(
        one_of(conn, products.c.barcode_key, keys), product_service.LIVE
    )
    return dict(conn.execute(query).all())


def push_photo(conn: Connection, *, user_id: int, upload, data: bytes) -> dict:
    """Store a device's photo, named by its local id and its product's; return the sync answer."""
    scope = {"user_id": user_id, "device_id": upload.device_id}
    known = mapped(conn, scope, "photo", [upload.local_id]).get(upload.local_id)
    if known is not None:
        try:
            return _photo_answer(upload.local_id, photo_service.get(conn, known), "existing")
        except NotFound:
            _forget(conn, scope, "photo", upload.local_id)  # deleted since: store it again
    product_id = upload.product_id
    if product_id is None:
        product_id = mapped(conn, scope, "product", [upload.product_local_id]).get(
            upload.product_local_id
        )
        if product_id is None:
            raise ValidationFailed.field(
                "product_local_id",
                "no product with this local id was pushed from this device",
                code="unknown_product",
            )
    photo, created = photo_service.upload(conn, product_id=product_id, data=data, user_id=user_id)
    # The photo is committed; its mapping follows. Should that fail, sending the photo
    # again finds the same photo by its content and maps it then.
    remember(conn, scope, "photo", {upload.local_id: photo["id"]})
    conn.commit()
    return _photo_answer(upload.local_id, photo, "created" if created else "merged")


def _forget(conn: Connection, scope: dict, kind: str, local_id: str) -> None:
    m = sync_mappings.c
    conn.execute(
        sync_mappings.delete().where(
            m.user_id == scope["user_id"],
            m.device_id == scope["device_id"],
            m.kind == kind,
            m.local_id == local_id,
        )
    )


def _photo_answer(local_id: str, photo: dict, status: str) -> dict:
    result = _result(0, local_id, status, photo["id"])
    if status == "merged":
        result.update(
            code="photo_exists", message="The same photo of this product was stored already."
        )
    return {"mapping": {"photos": {local_id: photo["id"]}}, "results": [result], "photo": photo}


# Pull

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


def encode_cursor(state: dict) -> str:
    """Encode, per kind, the positions reached and the transactions still awaited."""
    return pack({kind: {key: list(v) for key, v in marks.items()} for kind, marks in state.items()})


def decode_cursor(cursor: str | None) -> dict:
    """Decode a pull cursor; none means from the beginning."""
    if not cursor:
        return {kind: START for kind in PULLED}
    try:
        state = unpack(cursor)
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


def pull(conn: Connection, *, cursor: str | None, limit: int) -> tuple[dict, str, bool]:
    """Return (changes per kind, next cursor, whether more is waiting).

    Per kind, the cursor holds:
    - `below`: how far the rows under the horizon were delivered. It never passes
      the horizon, so whatever commits late is found by a later pull.
    - `above`: how far the rows that committed above the horizon were paged. They
      come again once under it.
    - `waiting`: the transactions that were running behind `above`. When one has
      finished by the next pull, `above` steps back to it, so its rows come at once.
    """
    state = decode_cursor(cursor)
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
        changes[kind] = _load(conn, kind, [position[1] for position in (*below, *above)])
    return changes, encode_cursor(reached), more


def _positions(conn: Connection, table, after, before, limit: int) -> list[tuple[int, int]]:
    """Return up to limit + 1 (change_seq, id) of rows after a position, in order."""
    query = select(table.c.change_seq, table.c.id).where(after)
    if before is not None:
        query = query.where(before)
    query = query.order_by(table.c.change_seq, table.c.id).limit(limit + 1)
    return [tuple(row) for row in conn.execute(query)]


def _load(conn: Connection, kind: str, ids: list[int]) -> dict:
    """Return {changed: [records], deleted: [ids]} for these ids, in their order."""
    if kind == "products":
        found = {p["id"]: p for p in product_service.get_many(conn, ids)}
        return {
            "changed": [found[i] for i in ids if i in found],
            "deleted": [i for i in ids if i not in found],
        }
    table = PULLED[kind]
    by_id = {
        row["id"]: row
        for row in conn.execute(select(table).where(one_of(conn, table.c.id, ids))).mappings()
    }
    return {"changed": [by_id[i] for i in ids], "deleted": []}
