"""Categories and companies.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from productinfo.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _named_table(name: str):
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.UniqueConstraint("name_key", name=f"uq_{name}_name_key"),
        sqlite_autoincrement=True,
    )


def upgrade():
    _named_table("categories")
    _named_table("companies")


def downgrade():
    op.drop_table("companies")
    op.drop_table("categories")
