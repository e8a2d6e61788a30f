"""The device ledger: which server record each local id of an offline device became.

The app creates records offline with ids of its own. When it pushes them (the
write endpoints given a `device_id`), the ledger keeps (user, device, kind,
local id) -> server id, so a record sent again maps to the same row and creates
nothing. The catalogue, product and photo services use it; it knows nothing of
what the records are.

A local id means one record. Each mapping keeps the fingerprint of what the
device sent (not of the server record, which a merge or a correction may
change): the same local id sent again with the same content is a retry, with
other content (a reinstalled app, a reset database) an error, `local_id_reused`,
and nothing is stored for it. A fingerprint that is unknown (NULL: mappings made
before fingerprints were kept, when the content sent could not be recovered) is
taken from the first push that names the local id again.

`Push` runs one batch: it checks each record alone, so that a bad one gets an
error result and the others go on, and builds the answer with a result per
record:

    created    stored by this push
    existing   pushed before (a retry), or by a concurrent push of the same record
    merged     the same record was on the server already (a company name, a barcode)
    error      with a code, the field at fault and a message
"""

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, String, Table, select, update

from productinfo.db import UTCDateTime, any_of, insert_ignoring_conflicts, metadata, utcnow
from productinfo.errors import Conflict, field_path, problem
from productinfo.fields import LOCAL_ID_MAX, Model

sync_mappings = Table(
    "sync_mappings",
    metadata,
    Column("id", Integer, primary_key=True),
    # A phone shared by several staff keeps one namespace per user.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("local_id", String(LOCAL_ID_MAX), nullable=False),
    Column("server_id", Integer, nullable=False),
    # SHA-256 of the content the device sent (see `fingerprint`); NULL: not known.
    Column("fingerprint", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
Index(
    "uq_sync_mappings_user_device_kind_local",
    sync_mappings.c.user_id,
    sync_mappings.c.device_id,
    sync_mappings.c.kind,
    sync_mappings.c.local_id,
    unique=True,
)
# Redirecting the mappings of a merged record finds them by server id.
Index("ix_sync_mappings_kind_server_id", sync_mappings.c.kind, sync_mappings.c.server_id)

PLURAL = {"company": "companies", "product": "products", "photo": "photos"}
REUSED = (
    "was pushed from this device before, with other content; give this record a local id of its own"
)
RACE = "This conflicts with a change saved at the same moment. Retry."


class RecordResult(Model):
    """What became of one pushed record."""

    index: int = Field(description="Its position in the batch.")
    local_id: str | None
    status: Literal["created", "existing", "merged", "error"] = Field(
        description="created; existing: pushed before (a retry); merged: the same company "
        "name or barcode was on the server already, and the record maps to it; error."
    )
    id: int | None = Field(None, description="The server id, unless an error.")
    code: str | None = Field(
        None,
        description="For an error, or a merge: a stable code (`local_id_reused`: this local "
        "id was pushed before with other content).",
    )
    field: str | None = Field(None, description="For an error: the field at fault.")
    message: str | None = None


class PushAnswer(Model):
    mapping: dict[str, int] = Field(
        description="Server id of each local id sent (its records that were not refused), "
        "the same shape with or without `device_id`.",
        examples=[{"3": 41}],
    )
    results: list[RecordResult] = Field(description="One per record, in the order sent.")


def fingerprint(*parts) -> str:
    """Return the fingerprint of a record's content: SHA-256 of its parts as JSON."""
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _where(scope: dict, kind: str) -> list:
    m = sync_mappings.c
    return [m.user_id == scope["user_id"], m.device_id == scope["device_id"], m.kind == kind]


def recorded(conn: Connection, scope: dict, kind: str, local_ids) -> dict[str, tuple]:
    """Return {local id: (server id, fingerprint or None)} of these local ids in a scope."""
    local_ids = list(set(local_ids))
    if not local_ids:
        return {}
    m = sync_mappings.c
    query = select(m.local_id, m.server_id, m.fingerprint).where(
        *_where(scope, kind), any_of(conn, m.local_id, local_ids)
    )
    return {local: (server, known) for local, server, known in conn.execute(query).all()}


def mapped(conn: Connection, scope: dict, kind: str, local_ids) -> dict[str, int]:
    """Return the server ids mapped to these local ids in a (user, device) scope."""
    return {local: pair[0] for local, pair in recorded(conn, scope, kind, local_ids).items()}


def remember(conn: Connection, scope: dict, kind: str, records: dict[str, tuple]) -> set:
    """Store {local id: (server id, fingerprint)}; return the local ids stored now.

    A concurrent push of the same records may have stored some first: those are kept,
    and one stored with other content is a conflict, the whole request to be retried.
    """
    if not records:
        return set()
    now = utcnow()
    rows = [
        dict(
            scope, kind=kind, local_id=local, server_id=server, fingerprint=content, created_at=now
        )
        for local, (server, content) in records.items()
    ]
    statement = insert_ignoring_conflicts(
        conn, sync_mappings, "user_id", "device_id", "kind", "local_id"
    )
    stored_now = set(conn.execute(statement.returning(sync_mappings.c.local_id), rows).scalars())
    if len(stored_now) < len(records):
        others = recorded(conn, scope, kind, set(records) - stored_now)
        if any(_differs(others[local], records[local]) for local in others):
            raise Conflict(RACE, code="conflict")
    return stored_now


def _differs(stored: tuple, sent: tuple) -> bool:
    """Tell whether a mapping was stored for another record than the one sent."""
    return stored[0] != sent[0] or stored[1] not in (None, sent[1])


def learn(conn: Connection, scope: dict, kind: str, prints: dict[str, str]) -> None:
    """Give the mappings whose fingerprint is unknown the one of the content sent now."""
    m = sync_mappings.c
    for local, content in prints.items():
        conn.execute(
            update(sync_mappings)
            .where(*_where(scope, kind), m.local_id == local, m.fingerprint.is_(None))
            .values(fingerprint=content)
        )


def forget(conn: Connection, scope: dict, kind: str, local_id: str) -> None:
    """Drop the mapping of a local id, whose server record is gone."""
    m = sync_mappings.c
    conn.execute(sync_mappings.delete().where(*_where(scope, kind), m.local_id == local_id))


def redirect(conn: Connection, kind: str, from_id: int, into_id: int) -> None:
    """Make every local id mapped to a merged record map to the record it was merged into."""
    m = sync_mappings.c
    mappings = sync_mappings.update().where(m.kind == kind, m.server_id == from_id)
    conn.execute(mappings.values(server_id=into_id))


def result(index: int, local_id, status: str, server_id=None, **extra) -> dict:
    """Describe what became of one pushed record."""
    return {"index": index, "local_id": local_id, "status": status, "id": server_id, **extra}


def error(index: int, local_id, *, field: str, message: str, code: str) -> dict:
    """Describe a pushed record that was refused."""
    return result(index, local_id, "error", code=code, field=field, message=message)


class Push:
    """One batch of records a device pushed: each checked alone, mapped once, answered each.

    A feature service drives it: it stores the records of `todo` (calling `fail`
    for those it refuses), then hands the server ids to `map`, and answers
    `answer()`. `fingerprint(item)` gives the fingerprint of a valid record's content,
    as the app sees it: two records with the same one are the same record.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        user_id: int,
        device_id: str,
        kind: str,
        model: type[BaseModel],
        items: list,
        id_field: str,
        merged: tuple[str, str],
        fingerprint,
    ):
        self.conn, self.kind, self.id_field, self.merged = conn, kind, id_field, merged
        self.prefix = PLURAL[kind]
        self.scope = {"user_id": user_id, "device_id": device_id}
        self.count = len(items)
        self.prints: dict[int, str] = {}
        self.valid, self.results, self.repeats = self._validate_each(items, model, fingerprint)
        self.known = self._pushed_before()
        # The records to store: valid, and not pushed before.
        self.todo = {
            i: item
            for i, item in self.valid.items()
            if i not in self.results and self.local_id(item) not in self.known
        }

    def local_id(self, item) -> str:
        """Return a record's local id."""
        return getattr(item, self.id_field)

    def field(self, index: int, name: str) -> str:
        """Name a field of a record as the answer does: `products[2].barcode`."""
        return f"{self.prefix}[{index}].{name}"

    def fail(self, index: int, *, field: str, message: str, code: str) -> None:
        """Refuse a record of `todo`; `field` is its path, as `field` names it."""
        item = self.todo.pop(index)
        self.results[index] = error(
            index, self.local_id(item), field=field, message=message, code=code
        )

    def map(self, server_ids: dict[int, int], *, created: set[int]) -> None:
        """Remember the server id of each stored record of `todo` (by index), and give each
        valid record its result; `created` holds the indexes this push inserted."""
        records = {
            self.local_id(self.todo[index]): (sid, self.prints[index])
            for index, sid in server_ids.items()
        }
        stored_now = remember(self.conn, self.scope, self.kind, records)
        for index, item in self.valid.items():
            if index in self.results:
                continue
            local_id = self.local_id(item)
            server_id = self.known.get(local_id) or records[local_id][0]
            if local_id in self.known or local_id not in stored_now:
                # Pushed before, or by a concurrent push of the same record.
                self.results[index] = result(index, local_id, "existing", server_id)
            elif index in created:
                self.results[index] = result(index, local_id, "created", server_id)
            else:
                code, message = self.merged
                self.results[index] = result(
                    index, local_id, "merged", server_id, code=code, message=message
                )

    def answer(self) -> dict:
        """Return the mapping and the result of every record, in the order sent."""
        for index, first in self.repeats.items():
            original = self.results[first]
            self.results[index] = (
                {**original, "index": index}
                if original["status"] == "error"
                else result(index, original["local_id"], "existing", original["id"])
            )
        ordered = [self.results[index] for index in range(self.count)]
        mapping = {r["local_id"]: r["id"] for r in ordered if r["status"] != "error"}
        return {"mapping": mapping, "results": ordered}

    def _pushed_before(self) -> dict[str, int]:
        """Return {local id: server id} of the valid records pushed before with the same
        content; refuse those pushed before with other content."""
        locals_ = {self.local_id(item): index for index, item in self.valid.items()}
        before = recorded(self.conn, self.scope, self.kind, locals_)
        known, unknown_prints = {}, {}
        for local_id, (server_id, stored) in before.items():
            index = locals_[local_id]
            if stored is not None and stored != self.prints[index]:
                self.results[index] = error(
                    index,
                    local_id,
                    field=self.field(index, self.id_field),
                    message=REUSED,
                    code="local_id_reused",
                )
                continue
            known[local_id] = server_id
            if stored is None:
                unknown_prints[local_id] = self.prints[index]
        learn(self.conn, self.scope, self.kind, unknown_prints)
        return known

    def _validate_each(self, items: list, model, fingerprint) -> tuple[dict, dict, dict]:
        """Check each raw item; return ({index: item}, {index: error}, {index: first index}).

        The third names the records sent twice in the batch: they share the first's fate.
        """
        valid, errors, first, repeats = {}, {}, {}, {}
        for index, raw in enumerate(items):
            raw_id = raw.get(self.id_field) if isinstance(raw, dict) else None
            try:
                item = model.model_validate(raw)
            except ValidationError as invalid:
                first_error = invalid.errors(include_url=False, include_input=False)[0]
                errors[index] = error(
                    index,
                    str(raw_id) if isinstance(raw_id, int | str) else None,
                    field=field_path((self.prefix, index, *first_error["loc"])),
                    message=problem(first_error),
                    code="validation_failed",
                )
                continue
            local_id, content = self.local_id(item), fingerprint(item)
            if local_id not in first:
                first[local_id] = index
                valid[index] = item
                self.prints[index] = content
            elif content == self.prints[first[local_id]]:
                repeats[index] = first[local_id]
            else:
                errors[index] = error(
                    index,
                    local_id,
                    field=self.field(index, self.id_field),
                    message=f"is also the local id of {self.prefix}[{first[local_id]}], "
                    "with other values",
                    code="duplicate_local_id",
                )
        return valid, errors, repeats
