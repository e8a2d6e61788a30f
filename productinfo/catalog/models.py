"""Tables of the catalogue: categories and companies (manufacturers)."""

from sqlalchemy import Column, Integer, String, Table, Text

from productinfo.db import UTCDateTime, metadata

NAME_MAX = 200


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
        sqlite_autoincrement=True,
    )


categories = _named_table("categories")
companies = _named_table("companies")
