"""Photo objects that no row names yet or any more.

Revision ID: 0008
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from productinfo.db import UTCDateTime

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Keys were always made from the product and the upload, so no two photos share one.
    op.create_index("uq_photos_key", "photos", ["key"], unique=True)
    op.create_index("uq_photos_thumbnail_key", "photos", ["thumbnail_key"], unique=True)
    op.create_table(
        "loose_objects",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_loose_objects")),
    )
    op.create_index("ix_loose_objects_created_at", "loose_objects", ["created_at"])


def downgrade():
    op.drop_table("loose_objects")
    op.drop_index("uq_photos_thumbnail_key", "photos")
    op.drop_index("uq_photos_key", "photos")
