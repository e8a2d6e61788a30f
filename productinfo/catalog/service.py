"""Rules and queries of the catalogue: categories and companies (manufacturers).

Companies arrive from the apps in batches: all or nothing without a `device_id`,
or as a device's push, with a result per record (see `productinfo.ledger`). A
company merged into another is a tombstone: listed nowhere, but its name still
maps to the company it was merged into.
"""

import unicodedata

from sqlalchemy import Connection, Table, select, update

from productinfo import activity, merging
from productinfo.catalog.models import categories, companies
from productinfo.catalog.schemas import SyncCompany
from productinfo.db import any_of, insert_ignoring_conflicts, utcnow
from productinfo.errors import Conflict, NotFound, ValidationFailed
from productinfo.ledger import Push, fingerprint
from productinfo.pagination import keyset, split_page

NAME_ORDER = ("name_key", "id")


HIDDEN = ("name_key", "change_seq", "deleted_at", "merged_into_id")


def _public(table: Table) -> list:
    """Return the columns a client sees: not the folded name, the change sequence, tombstones'."""
    return [column for column in table.c if column.name not in HIDDEN]


def clean_name(name: str) -> str:
    """Trim a name and collapse its inner runs of spaces."""
    return " ".join(name.split())


# Invisible in a name, and kept in one only for how it displays: joiners, direction marks,
# the combining grapheme joiner and variation selectors.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u034f\u061c\u200c\u200d\u200e\u200f" + "".join(map(chr, range(0xFE00, 0xFE10))))
)


def name_key(name: str) -> str:
    """Fold a name as people read it: "Trèfle" typed composed or not, `ＩＦＲＩ` and "ifri "
    compare equal (NFKC, case folding, spacing)."""
    # NFKC again after folding: folding can undo a composition (as Unicode's NFKC_Casefold).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return clean_name(folded.translate(_INVISIBLE))


def _page(conn: Connection, table: Table, query, *, cursor, limit) -> tuple[list, str | None]:
    key = (table.c.name_key, table.c.id)
    query = query.add_columns(table.c.name_key)
    rows = conn.execute(keyset(query, key, cursor, limit)).mappings().all()
    return split_page(rows, NAME_ORDER, limit)


def get_categories(conn: Connection, *, cursor=None, limit: int) -> tuple[list, str | None]:
    """Return a page of categories in name order, and the cursor of the next page."""
    return _page(conn, categories, select(*_public(categories)), cursor=cursor, limit=limit)


def get_category(conn: Connection, category_id: int):
    """Return one category or raise NotFound."""
    row = (
        conn.execute(select(*_public(categories)).where(categories.c.id == category_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"There is no category {category_id}.", code="category_not_found")
    return row


def create_category(conn: Connection, *, name: str, user_id: int | None = None):
    """Create a category; a name already taken (in any case) is a conflict."""
    key = name_key(name)
    now = utcnow()
    values = {"name": clean_name(name), "name_key": key, "created_at": now, "updated_at": now}
    insert = insert_ignoring_conflicts(conn, categories, "name_key").values(values)
    new_id = conn.execute(insert.returning(categories.c.id)).scalar()
    if new_id is None:
        query = select(*_public(categories)).where(categories.c.name_key == key)
        raise _category_exists(conn.execute(query).mappings().one())
    if user_id is not None:
        activity.record(conn, user_id, "category_added", category_id=new_id)
    return get_category(conn, new_id)


def rename_category(conn: Connection, *, category_id: int, name: str, user_id: int):
    """Rename a category; a name another category has (in any case) is a conflict."""
    get_category(conn, category_id)
    key = name_key(name)
    query = select(*_public(categories)).where(
        categories.c.name_key == key, categories.c.id != category_id
    )
    existing = conn.execute(query).mappings().first()
    if existing is not None:
        raise _category_exists(existing)
    conn.execute(
        update(categories)
        .where(categories.c.id == category_id)
        .values(name=clean_name(name), name_key=key, updated_at=utcnow())
    )
    activity.record(conn, user_id, "category_updated", category_id=category_id)
    return get_category(conn, category_id)


def _category_exists(existing) -> Conflict:
    return Conflict(
        f"A category named {existing['name']!r} already exists.",
        code="category_exists",
        data=dict(existing),
    )


def get_companies(conn: Connection, *, q: str | None = None, cursor=None, limit: int):
    """Return a page of companies in name order, optionally those whose name contains `q`."""
    query = select(*_public(companies)).where(companies.c.deleted_at.is_(None))
    if q and q.strip():
        query = query.where(companies.c.name_key.contains(name_key(q), autoescape=True))
    return _page(conn, companies, query, cursor=cursor, limit=limit)


def add_companies(conn: Connection, items, *, user_id: int | None = None) -> dict[str, int]:
    """Store new companies and map each local id to a server id.

    A name that exists already, in any case or spacing, maps to the existing
    company instead of creating a twin.
    """
    seen: dict[int, int] = {}
    for index, item in enumerate(items):
        if item.id in seen and name_key(items[seen[item.id]].name) != name_key(item.name):
            raise ValidationFailed.field(
                f"companies[{index}].id",
                f"is also the id of companies[{seen[item.id]}], with another name",
                code="duplicate_local_id",
            )
        seen.setdefault(item.id, index)
    if not items:
        return {}

    ids, _ = _store_companies(conn, [item.name for item in items], user_id=user_id)
    return {str(item.id): ids[name_key(item.name)] for item in items}


def push_companies(conn: Connection, *, user_id: int, device_id: str, items: list) -> dict:
    """Store a device's companies; return the mapping and a result per record."""
    push = Push(
        conn,
        user_id=user_id,
        device_id=device_id,
        kind="company",
        model=SyncCompany,
        items=items,
        id_field="id",
        merged=(
            "company_exists",
            "A company with this name exists (on the server or earlier in this batch); "
            "this record maps to it.",
        ),
        fingerprint=company_fingerprint,
    )
    first = {}  # name key -> index of the first record with that name
    for index, item in push.todo.items():
        first.setdefault(name_key(item.name), index)
    ids, created_keys = {}, set()
    if first:
        names = [push.todo[index].name for index in first.values()]
        ids, created_keys = _store_companies(conn, names, user_id=user_id)
    push.map(
        {index: ids[name_key(item.name)] for index, item in push.todo.items()},
        created={index for key, index in first.items() if key in created_keys},
    )
    return push.answer()


def company_fingerprint(item) -> str:
    """Fingerprint a pushed company as the app sees it: by its name, as people read it."""
    return fingerprint(name_key(item.name))


def _store_companies(
    conn: Connection, names, *, user_id: int | None
) -> tuple[dict[str, int], set[str]]:
    """Insert the names not stored yet; return the id of each name's key, and the keys
    this call created.

    The user's history records only the companies this call created.
    """
    now = utcnow()
    first: dict[str, str] = {}  # name key -> the first spelling of that name
    for name in names:
        first.setdefault(name_key(name), clean_name(name))
    rows = [
        {"name": name, "name_key": key, "created_at": now, "updated_at": now}
        for key, name in first.items()
    ]
    statement = insert_ignoring_conflicts(conn, companies, "name_key")
    created = set(conn.execute(statement.returning(companies.c.name_key), rows).scalars())
    rows = conn.execute(
        select(companies.c.name_key, companies.c.id, companies.c.merged_into_id).where(
            any_of(conn, companies.c.name_key, first)
        )
    ).all()
    ids = {key: company_id for key, company_id, _ in rows}
    # The name of a merged company leads to the company it was merged into.
    merged = [company_id for _, company_id, merged_into in rows if merged_into is not None]
    if merged:
        kept = merging.kept(conn, companies, merged)
        ids = {key: kept.get(company_id, company_id) for key, company_id in ids.items()}
    if created and user_id is not None:
        activity.record(
            conn, user_id, "companies_added", company_ids=sorted(ids[key] for key in created)
        )
    return ids, created
