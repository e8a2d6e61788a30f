"""The photo tables: photos, the objects not (or no longer) named by one, uploads in two steps."""

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
# Each object belongs to one photo; the sweep looks keys up to be sure none is named.
Index("uq_photos_key", photos.c.key, unique=True)
Index("uq_photos_thumbnail_key", photos.c.thumbnail_key, unique=True)
# The dashboard's photos per person this week.
Index("ix_photos_created_at", photos.c.created_at, photos.c.created_by)

# Objects that may be in storage without a photo row naming them: recorded (and committed)
# before they are stored, and again when their row is deleted. Once their row exists the
# record goes. `photos sweep` deletes the objects of records older than its grace period.
loose_objects = Table(
    "loose_objects",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_loose_objects_created_at", loose_objects.c.created_at)

# Photos sent in two steps: started, sent to `staging_key` by the app, then finished.
photo_uploads = Table(
    "photo_uploads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    # A device's push: the photo's local id, mapped in the ledger when it is finished.
    Column("device_id", String(64)),
    Column("local_id", String(64)),
    Column("size", Integer, nullable=False),  # as declared
    Column("staging_key", String(100), nullable=False),
    # The local backend's upload URL carries a secret; only its hash is kept.
    Column("secret_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # Once finished: the photo and how it came (created, existing, merged), to answer a retry.
    Column("photo_id", Integer),
    Column("outcome", String(10)),
    sqlite_autoincrement=True,
)
Index("uq_photo_uploads_secret_hash", photo_uploads.c.secret_hash, unique=True)
Index("ix_photo_uploads_expires_at", photo_uploads.c.expires_at)
