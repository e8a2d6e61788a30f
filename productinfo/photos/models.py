"""The photos table: each row names the stored original and thumbnail of one product photo."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from productinfo.db import UTCDateTime, metadata

photos = Table(
    "photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    # Of the bytes as uploaded: the same upload for the same product is the same photo.
    Column("sha256", String(64), nullable=False),
    Column("key", String(100), nullable=False),
    Column("thumbnail_key", String(100), nullable=False),
    Column("content_type", String(20), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_by", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
Index("uq_photos_product_id_sha256", photos.c.product_id, photos.c.sha256, unique=True)
# The dashboard's photos per person this week.
Index("ix_photos_created_at", photos.c.created_at, photos.c.created_by)
