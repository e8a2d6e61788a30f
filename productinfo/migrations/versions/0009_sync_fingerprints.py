"""Sync and keys as people read them: fingerprints of pushed records, wider device ids, and
every name and barcode key recomputed by the new rules.

- `sync_mappings.fingerprint`: what the device sent, to tell a retry from a reused
  local id. Companies get theirs from their name (a push maps a company by its name
  key, so the server's name is the one sent, as the app reads it); photos from the
  SHA-256 of their bytes, kept with each photo. Products stay NULL, "unknown": the
  product a record maps to may be a colleague's (merged by barcode) or corrected
  since, so its row does not tell what the device sent. The next push naming such a
  local id gives it its fingerprint.
- `sync_mappings.device_id` takes any device token of up to 64 characters.
- Name keys become NFKC + case folding (`ＩＦＲＩ` is `ifri`, "Trèfle" composed or
  not is one name); barcodes read digits of any script and every dash, and a UPC-E
  is keyed by its UPC-A.

Records that the new keys make twins (two companies, two categories, or two live
products with one barcode) are never merged here: the oldest keeps the key, each
other one keeps a key of its own, marked `<key>\\x1f<id>` (a control character no
name or barcode can hold), and a warning names them, for an admin to merge or
correct. The log of `flask db upgrade` shows it.

Revision ID: 0009
Revises: 0008
"""

import logging

import sqlalchemy as sa
from alembic import op

from productinfo.catalog.service import name_key
from productinfo.ledger import fingerprint
from productinfo.products import barcodes

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("productinfo.migrations")
MARK = "\x1f"
BARCODE_MAX = 64


def upgrade():
    with op.batch_alter_table("sync_mappings") as batch:
        batch.alter_column("device_id", type_=sa.String(64), existing_nullable=False)
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
    bind = op.get_bind()
    _fingerprints(bind)
    for table in ("categories", "companies"):
        rows = bind.execute(sa.text(f"SELECT id, name, name_key FROM {table} ORDER BY id"))
        keys = {row.id: (row.name_key, name_key(row.name)) for row in rows}
        _rekey(bind, table, "name_key", keys, unique_among=set(keys), noun=table)
    products = bind.execute(
        sa.text(
            "SELECT id, name, name_key, barcode, barcode_key, deleted_at IS NULL AS live "
            "FROM products ORDER BY id"
        )
    ).all()
    _rekey(
        bind,
        "products",
        "name_key",
        {p.id: (p.name_key, name_key(p.name)) for p in products},
        unique_among=set(),
        noun="products",
    )
    codes = {p.id: barcodes.clean(p.barcode) or p.barcode for p in products}
    for product in products:
        if codes[product.id] != product.barcode:
            bind.execute(
                sa.text("UPDATE products SET barcode = :code WHERE id = :id"),
                {"code": codes[product.id], "id": product.id},
            )
    _rekey(
        bind,
        "products",
        "barcode_key",
        {p.id: (p.barcode_key, barcodes.key(codes[p.id])) for p in products},
        unique_among={p.id for p in products if p.live},
        noun="live products",
        limit=BARCODE_MAX,
    )


def _fingerprints(bind) -> None:
    """Fingerprint the mappings of companies (by name) and photos (by their bytes)."""
    sources = {
        "company": "SELECT m.id, c.name FROM sync_mappings m "
        "JOIN companies c ON c.id = m.server_id WHERE m.kind = 'company'",
        "photo": "SELECT m.id, p.sha256 FROM sync_mappings m "
        "JOIN photos p ON p.id = m.server_id WHERE m.kind = 'photo'",
    }
    for kind, query in sources.items():
        for mapping_id, value in bind.execute(sa.text(query)).all():
            content = fingerprint(name_key(value)) if kind == "company" else fingerprint(value)
            bind.execute(
                sa.text("UPDATE sync_mappings SET fingerprint = :content WHERE id = :id"),
                {"content": content, "id": mapping_id},
            )


def _rekey(
    bind, table: str, column: str, keys: dict, *, unique_among: set, noun: str, limit=None
) -> None:
    """Set each row's new key ({id: (old, new)}); among `unique_among`, twins keep the
    oldest on the key and mark the others, with a warning. `limit`: the column's length."""
    owners: dict[str, list[int]] = {}
    for row_id in sorted(unique_among):
        owners.setdefault(keys[row_id][1], []).append(row_id)
    final = {row_id: new for row_id, (_, new) in keys.items()}
    for key, ids in owners.items():
        if len(ids) > 1:
            log.warning(
                "%s %s now read as one (%r): %s keeps it, the others keep keys of their own "
                "until an admin merges or corrects them",
                noun.capitalize(),
                ", ".join(map(str, ids)),
                key,
                ids[0],
            )
            for row_id in ids[1:]:
                suffix = f"{MARK}{row_id}"
                final[row_id] = (key[: limit - len(suffix)] if limit else key) + suffix
    changed = {row_id: new for row_id, new in final.items() if new != keys[row_id][0]}
    update = sa.text(f"UPDATE {table} SET {column} = :key WHERE id = :id")
    # Through a key no row has, so that no unique index sees two rows on one key meanwhile.
    for row_id in changed:
        bind.execute(update, {"key": f"{MARK}{row_id}", "id": row_id})
    for row_id, new in changed.items():
        bind.execute(update, {"key": new, "id": row_id})


def downgrade():
    # The keys stay as they are: the older rules would find the same records by them.
    with op.batch_alter_table("sync_mappings") as batch:
        batch.drop_column("fingerprint")
