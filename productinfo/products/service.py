"""Writing products: add one or a batch (all or none), a device's push, correct, delete.

Both ways in, the plain add and a device's push, store their rows through one
insert path (`_insert`): a barcode some live product has already is never
stored twice. The plain add then refuses the whole batch (409 `barcode_taken`);
a push maps the record to that product instead (`merged`).
"""

from sqlalchemy import Connection, select
from sqlalchemy import update as sql_update

from productinfo import activity, ledger, merging
from productinfo.catalog.models import categories, companies
from productinfo.catalog.service import clean_name, name_key
from productinfo.db import any_of, insert_ignoring_conflicts, utcnow
from productinfo.errors import ApiError, Conflict, Forbidden, NotFound, ValidationFailed
from productinfo.products import barcodes, queries
from productinfo.products import changes as history
from productinfo.products.models import products
from productinfo.products.queries import LIVE
from productinfo.products.schemas import SyncProduct
from productinfo.storage import Storage

MERGED = (
    "barcode_taken",
    "A product with this barcode exists (on the server or earlier in this batch); "
    "this record maps to it, and its photos attach to that product.",
)


def add_many(
    conn: Connection, storage: Storage, items, *, user_id: int, checksum: str, prefix="products"
) -> list:
    """Store products, all or none; return [(product, warning)] in the order given.

    With `prefix=""` the fields of a single product are named without an index.
    """

    def field(index: int, name: str) -> str:
        return f"{prefix}[{index}].{name}" if prefix else name

    codes, seen = [], {}
    for index, item in enumerate(items):
        code, warning = barcodes.read(item.barcode, checksum, field=field(index, "barcode"))
        key = barcodes.key(code)
        if key in seen:
            raise ValidationFailed.field(
                field(index, "barcode"),
                f"is the barcode of {field(seen[key], 'barcode')} too",
                code="duplicate_barcode",
            )
        seen[key] = index
        codes.append((code, key, warning))
    refs = {index: (item.category_id, item.company_id) for index, item in enumerate(items)}
    missing = missing_references(conn, refs)
    if missing:
        index = min(missing)
        column, value = missing[index]
        raise unknown_reference(column, value, field=field(index, column))

    now = utcnow()
    rows = [
        new_row(item, code=code, company_id=item.company_id, user_id=user_id, now=now)
        for item, (code, _, _) in zip(items, codes, strict=True)
    ]
    inserted = _insert(conn, rows, user_id=user_id)
    for index, (_, key, _) in enumerate(codes):
        if key not in inserted:  # a live product has this barcode already
            raise _taken(conn, storage, key, field=field(index, "barcode"))
    ids = [inserted[key] for _, key, _ in codes]
    found = {product["id"]: product for product in queries.get_many(conn, storage, ids)}
    return [(found[i], warning) for i, (_, _, warning) in zip(ids, codes, strict=True)]


def push(
    conn: Connection, *, user_id: int, device_id: str, items: list, checksum: str
) -> tuple[dict, str]:
    """Store a device's products; return (the mapping and a result per record, warnings)."""
    batch = ledger.Push(
        conn,
        user_id=user_id,
        device_id=device_id,
        kind="product",
        model=SyncProduct,
        items=items,
        id_field="local_id",
        merged=MERGED,
        fingerprint=product_fingerprint,
    )
    local_companies = ledger.mapped(
        conn,
        batch.scope,
        "company",
        [item.company_local_id for item in batch.todo.values() if item.company_local_id],
    )
    rows, warnings, now = {}, [], utcnow()
    for index, item in list(batch.todo.items()):
        company_id = item.company_id or local_companies.get(item.company_local_id)
        if company_id is None:
            batch.fail(
                index,
                field=batch.field(index, "company_local_id"),
                message="no company with this local id was pushed from this device",
                code="unknown_company",
            )
            continue
        try:
            code, warning = barcodes.read(
                item.barcode, checksum, field=batch.field(index, "barcode")
            )
        except ApiError as error:
            [(field, message)] = error.errors.items()
            batch.fail(index, field=field, message=message, code=error.code)
            continue
        if warning:
            warnings.append(warning)
        rows[index] = new_row(item, code=code, company_id=company_id, user_id=user_id, now=now)
    refs = {index: (row["category_id"], row["company_id"]) for index, row in rows.items()}
    for index, (column, value) in missing_references(conn, refs).items():
        error = unknown_reference(column, value, field=batch.field(index, column))
        [(field, message)] = error.errors.items()
        batch.fail(index, field=field, message=message, code=error.code)
        del rows[index]

    first = {}  # barcode key -> index of the first record with that barcode
    for index, row in rows.items():
        first.setdefault(row["barcode_key"], index)
    ids = _live(conn, first)
    inserted = _insert(
        conn, [rows[i] for key, i in first.items() if key not in ids], user_id=user_id
    )
    ids.update(inserted)
    ids.update(_live(conn, set(first) - set(ids)))  # inserted by a concurrent push
    batch.map(
        {index: ids[row["barcode_key"]] for index, row in rows.items()},
        created={first[key] for key in inserted},
    )
    return batch.answer(), " ".join(warnings)


def product_fingerprint(item) -> str:
    """Fingerprint a pushed product by the fields the app sent: its name and barcode as they
    compare, its category and its company as named (by server id or by local id)."""
    company = ["id", item.company_id] if item.company_id else ["local", item.company_local_id]
    code = barcodes.key(barcodes.clean(item.barcode))
    return ledger.fingerprint(name_key(item.name), code, item.category_id, *company)


def _insert(conn: Connection, rows: list[dict], *, user_id: int) -> dict[str, int]:
    """Insert the products whose barcode no live product has; return {barcode key: id} of
    those inserted, each recorded in the user's history.

    The whole batch at once: SQLAlchemy sends it in a few multi-row statements.
    """
    if not rows:
        return {}
    kept = merging.kept(conn, companies, {row["company_id"] for row in rows})
    for row in rows:
        # A product naming a merged company goes to the company it was merged into.
        row["company_id"] = kept.get(row["company_id"], row["company_id"])
    statement = insert_ignoring_conflicts(conn, products, "barcode_key", where=LIVE)
    inserted = dict(
        conn.execute(statement.returning(products.c.barcode_key, products.c.id), rows).all()
    )
    details = [{"product_id": product_id} for product_id in sorted(inserted.values())]
    activity.record_many(conn, user_id, "product_added", details)
    return inserted


def _live(conn: Connection, keys) -> dict[str, int]:
    """Return {barcode key: id} of the live products with these keys."""
    keys = list(keys)
    if not keys:
        return {}
    query = select(products.c.barcode_key, products.c.id).where(
        any_of(conn, products.c.barcode_key, keys), LIVE
    )
    return dict(conn.execute(query).all())


def new_row(item, *, code: str, company_id: int, user_id: int, now) -> dict:
    """Build the row of a new product from its cleaned barcode."""
    return {
        "name": clean_name(item.name),
        "name_key": name_key(item.name),
        "barcode": code,
        "barcode_key": barcodes.key(code),
        "category_id": item.category_id,
        "company_id": company_id,
        "created_by": user_id,
        "created_at": now,
        "updated_at": now,
    }


def missing_references(conn: Connection, refs: dict) -> dict:
    """Find categories and companies that do not exist.

    `refs` maps a key to (category id, company id), either None to skip it; the
    answer maps each key with a missing one to (column, value), the category first.
    """
    found = {}
    for position, (column, table) in enumerate(
        (("category_id", categories), ("company_id", companies))
    ):
        wanted = {ids[position] for ids in refs.values() if ids[position] is not None}
        found[column] = set()
        if wanted:
            query = select(table.c.id).where(any_of(conn, table.c.id, wanted))
            found[column] = set(conn.execute(query).scalars())
    missing = {}
    for key, ids in refs.items():
        for column, value in zip(("category_id", "company_id"), ids, strict=True):
            if value is not None and value not in found[column]:
                missing[key] = (column, value)
                break
    return missing


def unknown_reference(column: str, value: int, *, field: str) -> ValidationFailed:
    """Build the error for a category or company that does not exist."""
    noun = column.removesuffix("_id")
    return ValidationFailed.field(field, f"there is no {noun} {value}", code=f"unknown_{noun}")


def _taken(conn: Connection, storage: Storage, key: str, *, field: str = "barcode") -> Conflict:
    existing = queries.find_by_barcode_key(conn, storage, key)
    who = existing["created_by"]["name"] or existing["created_by"]["email"]
    return Conflict(
        f"A product with this barcode was added already, by {who}.",
        code="barcode_taken",
        errors={field: f"is taken by product {existing['id']}"},
        data=existing,
    )


def _editable(conn: Connection, product_id: int, *, user_id: int, is_admin: bool) -> None:
    """Raise unless the product is live and the user added it or is an admin."""
    owner = conn.execute(
        select(products.c.created_by).where(products.c.id == product_id, LIVE)
    ).scalar()
    if owner is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    if owner != user_id and not is_admin:
        raise Forbidden(
            "Only the person who added this product, or an admin, can change it.",
            code="not_your_product",
        )


def update(
    conn: Connection, storage: Storage, changes, *, user_id: int, is_admin: bool, checksum: str
) -> tuple[dict, str | None]:
    """Correct a product's name, barcode, category or company; return (product, warning)."""
    _editable(conn, changes.id, user_id=user_id, is_admin=is_admin)
    before = history.snapshot(conn, changes.id)
    fields = changes.model_fields_set - {"id"}
    if not fields:
        raise ValidationFailed(
            "Send at least one of name, barcode, category_id or company_id.",
            code="nothing_to_update",
        )
    values, warning = {}, None
    for column in ("name", "barcode", "category_id", "company_id"):
        if column in fields and getattr(changes, column) is None:
            raise ValidationFailed.field(column, "cannot be null")
    if "name" in fields:
        values.update(name=clean_name(changes.name), name_key=name_key(changes.name))
    if "barcode" in fields:
        code, warning = barcodes.read(changes.barcode, checksum)
        values.update(barcode=code, barcode_key=barcodes.key(code))
        clash = conn.execute(
            select(products.c.id).where(
                products.c.barcode_key == values["barcode_key"], products.c.id != changes.id, LIVE
            )
        ).scalar()
        if clash is not None:
            raise _taken(conn, storage, values["barcode_key"])
    refs = {0: (changes.category_id, changes.company_id)}
    for column, value in missing_references(conn, refs).values():
        raise unknown_reference(column, value, field=column)
    values.update(
        {
            column: getattr(changes, column)
            for column in ("category_id", "company_id")
            if column in fields
        }
    )
    if "company_id" in values:
        values["company_id"] = merging.kept(conn, companies, [changes.company_id])[
            changes.company_id
        ]
    conn.execute(
        sql_update(products)
        .where(products.c.id == changes.id)
        .values(**values, updated_at=utcnow())
    )
    activity.record(
        conn,
        user_id,
        "product_updated",
        product_id=changes.id,
        fields=sorted(fields),
        changes=history.differences(before, history.snapshot(conn, changes.id)),
    )
    return queries.get(conn, storage, changes.id), warning


def delete(conn: Connection, product_id: int, *, user_id: int, is_admin: bool) -> None:
    """Delete a product softly: it stays as a tombstone and its barcode is free again."""
    _editable(conn, product_id, user_id=user_id, is_admin=is_admin)
    now = utcnow()
    conn.execute(
        sql_update(products)
        .where(products.c.id == product_id)
        .values(deleted_at=now, updated_at=now)
    )
    activity.record(conn, user_id, "product_deleted", product_id=product_id)
