"""The admin console: merged companies and products, a product's events, indexes for the numbers.

- companies get `deleted_at` and, like products, `merged_into_id`: a merged record
  stays as a tombstone that names the record it became;
- activity gets `product_id`, copied from the details of the events that name a
  product, so that a product's history is found by an index, not a scan;
- indexes: companies' names by trigram on Postgres (likely twins), the ledger by
  server id (redirecting a merged record's mappings), live products and photos by
  time and by maker (the numbers of the dashboard, the date filters), and the few
  removed products by id (left out of the photo counts without a scan).

Every column is added with ALTER TABLE (never by copying the table on SQLite, which
would drop the change_seq triggers), and the rows there already keep their data.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from productinfo.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
PRODUCT_IN_DETAILS = {
    "postgresql": "(details->>'product_id')::integer",
    "sqlite": "json_extract(details, '$.product_id')",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("companies", sa.Column("deleted_at", UTCDateTime(), nullable=True))
    op.add_column("companies", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.add_column("products", sa.Column("merged_into_id", sa.Integer(), nullable=True))

    op.add_column("activity", sa.Column("product_id", sa.Integer(), nullable=True))
    found = PRODUCT_IN_DETAILS[dialect]
    op.execute(f"UPDATE activity SET product_id = {found} WHERE {found} IS NOT NULL")
    op.create_index("ix_activity_product_id_id", "activity", ["product_id", "id"])

    op.create_index(
        "ix_sync_mappings_kind_server_id", "sync_mappings", ["kind", "server_id"], unique=False
    )
    op.create_index(
        "ix_products_live_created_at",
        "products",
        ["created_at", "created_by"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_index(
        "ix_products_live_company_id",
        "products",
        ["company_id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    removed = sa.text("deleted_at IS NOT NULL")
    op.create_index(
        "ix_products_removed_id",
        "products",
        ["id"],
        sqlite_where=removed,
        postgresql_where=removed,
    )
    op.create_index("ix_photos_created_at", "photos", ["created_at", "created_by"])
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_companies_name_key_trgm",
            "companies",
            ["name_key"],
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_companies_name_key_trgm", "companies")
    op.drop_index("ix_photos_created_at", "photos")
    op.drop_index("ix_products_removed_id", "products")
    op.drop_index("ix_products_live_company_id", "products")
    op.drop_index("ix_products_live_created_at", "products")
    op.drop_index("ix_sync_mappings_kind_server_id", "sync_mappings")
    op.drop_index("ix_activity_product_id_id", "activity")
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+): no copy of the table.
    for table, column in (
        ("activity", "product_id"),
        ("products", "merged_into_id"),
        ("companies", "merged_into_id"),
        ("companies", "deleted_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
