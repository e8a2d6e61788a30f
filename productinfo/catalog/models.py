"""Tables of the catalogue: categories and companies (manufacturers).

Each has a `change_seq`, as products do, set by a database trigger on every
insert and update: on Postgres the id of the writing transaction, on SQLite
(one writer at a time) a counter. The offline apps pull changes in that order
(see productinfo.sync).

A company merged into another stays as a tombstone (`deleted_at`) that names the
company it became (`merged_into_id`): pulls send it as deleted, and its name still
leads to the kept company.
"""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from productinfo.db import UTCDateTime, metadata
from productinfo.fields import NAME_MAX


def _named_table(name: str, *extra) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(NAME_MAX), nullable=False),
        # The name folded for comparison: "  IFRI " and "Ifri" are the same company.
        Column("name_key", Text, nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        change_seq(),
        Index(f"ix_{name}_change_seq_id", "change_seq", "id"),
        *extra,
        sqlite_autoincrement=True,
    )


def change_seq() -> Column:
    """Return the column a trigger stamps on every insert and update, for the sync pull."""
    return Column("change_seq", BigInteger, nullable=False, server_default="0")


categories = _named_table("categories")
companies = _named_table(
    "companies",
    Column("deleted_at", UTCDateTime),
    # No foreign key: added to the table in place, without copying it on SQLite.
    Column("merged_into_id", Integer),
)
# Likely twins by trigram similarity on Postgres (see productinfo.catalog.duplicates).
Index(
    "ix_companies_name_key_trgm",
    companies.c.name_key,
    postgresql_using="gin",
    postgresql_ops={"name_key": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")
