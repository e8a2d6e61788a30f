"""Tables of the catalogue: categories, companies (manufacturers) and products.

Each has a `change_seq`, set by a database trigger on every insert and update:
on Postgres the id of the writing transaction, on SQLite (one writer at a time)
a counter. The offline apps pull changes in that order (see productinfo.sync).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from productinfo.db import UTCDateTime, metadata
from productinfo.fields import NAME_MAX

BARCODE_MAX = 64


def _named_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(NAME_MAX), nullable=False),
        # The name folded for comparison: "  IFRI " and "Ifri" are the same company.
        Column("name_key", Text, nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        _change_seq(),
        Index(f"ix_{name}_change_seq_id", "change_seq", "id"),
        sqlite_autoincrement=True,
    )


def _change_seq() -> Column:
    return Column("change_seq", BigInteger, nullable=False, server_default="0")


categories = _named_table("categories")
companies = _named_table("companies")


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
    # Deleted products stay as tombstones for the apps that synced them.
    Column("deleted_at", UTCDateTime),
    _change_seq(),
    Index("ix_products_change_seq_id", "change_seq", "id"),
    sqlite_autoincrement=True,
)
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
# Search anywhere in a name on Postgres; SQLite scans, which suits a local catalogue.
Index(
    "ix_products_name_key_trgm",
    products.c.name_key,
    postgresql_using="gin",
    postgresql_ops={"name_key": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
