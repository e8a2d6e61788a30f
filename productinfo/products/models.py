"""The products table: what staff capture, keyed by barcode, kept as a tombstone once deleted."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from productinfo.catalog.models import change_seq
from productinfo.db import UTCDateTime, metadata
from productinfo.fields import NAME_MAX

BARCODE_MAX = 64

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("name_key", Text, nullable=False),
    # As typed, without spaces or dashes; and the form it is found by (GTINs as 14 digits).
    Column("barcode", String(BARCODE_MAX), nullable=False),
    Column("barcode_key", String(BARCODE_MAX), nullable=False),
    Column("category_id", ForeignKey("categories.id"), nullable=False),
    Column("company_id", ForeignKey("companies.id"), nullable=False),
    Column("created_by", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Deleted products stay as tombstones for the apps that synced them; a product merged
    # into another names it (no foreign key: added in place, without copying the table).
    Column("deleted_at", UTCDateTime),
    Column("merged_into_id", Integer),
    change_seq(),
    Index("ix_products_change_seq_id", "change_seq", "id"),
    sqlite_autoincrement=True,
)
# A product not deleted (merged products are deleted too).
LIVE = products.c.deleted_at.is_(None)
# One live product per barcode; a deleted one frees its barcode.
Index(
    "uq_products_barcode_key",
    products.c.barcode_key,
    unique=True,
    sqlite_where=products.c.deleted_at.is_(None),
    postgresql_where=products.c.deleted_at.is_(None),
)
# History pages: newest first, by uploader, category or company.
Index("ix_products_created_by_id", products.c.created_by, products.c.id)
Index("ix_products_category_id_id", products.c.category_id, products.c.id)
Index("ix_products_company_id_id", products.c.company_id, products.c.id)
# The dashboard's numbers and the date filters: live products by time, by maker.
Index(
    "ix_products_live_created_at",
    products.c.created_at,
    products.c.created_by,
    sqlite_where=products.c.deleted_at.is_(None),
    postgresql_where=products.c.deleted_at.is_(None),
)
Index(
    "ix_products_live_company_id",
    products.c.company_id,
    sqlite_where=products.c.deleted_at.is_(None),
    postgresql_where=products.c.deleted_at.is_(None),
)
# The few tombstones, found without a scan (photos of removed products, left out of counts).
Index(
    "ix_products_removed_id",
    products.c.id,
    sqlite_where=products.c.deleted_at.is_not(None),
    postgresql_where=products.c.deleted_at.is_not(None),
)
# Search anywhere in a name on Postgres; on SQLite, the FTS5 trigram index of migration 0010
# (see productinfo/products/search.py).
Index(
    "ix_products_name_key_trgm",
    products.c.name_key,
    postgresql_using="gin",
    postgresql_ops={"name_key": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
