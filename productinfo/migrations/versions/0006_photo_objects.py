"""Photo objects that no row names yet or any more, and photos sent in two steps.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from productinfo.db import UTCDateTime

revision = "0006"
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
    op.create_table(
        "photo_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("local_id", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("staging_key", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_photo_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_photo_uploads_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_uploads")),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_photo_uploads_secret_hash", "photo_uploads", ["secret_hash"], unique=True)
    op.create_index("ix_photo_uploads_expires_at", "photo_uploads", ["expires_at"])


def downgrade():
    op.drop_table("photo_uploads")
    op.drop_table("loose_objects")
    op.drop_index("uq_photos_thumbnail_key", "photos")
    op.drop_index("uq_photos_key", "photos")
