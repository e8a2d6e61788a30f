"""Tables of the catalogue: categories and companies (manufacturers).

Each has a `change_seq`, as products do, set by a database trigger on every
insert and update: on Postgres the id of the writing transaction, on SQLite
(one writer at a time) a counter. The offline apps pull changes in that order
(see productinfo.sync).
"""

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from productinfo.db import UTCDateTime, metadata
from productinfo.fields import NAME_MAX


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
        change_seq(),
        Index(f"ix_{name}_change_seq_id", "change_seq", "id"),
        sqlite_autoincrement=True,
    )


def change_seq() -> Column:
    """Return the column a trigger stamps on every insert and update, for the sync pull."""
    return Column("change_seq", BigInteger, nullable=False, server_default="0")


categories = _named_table("categories")
companies = _named_table("companies")
