"""What `photos sweep` removes: loose objects, uploads never finished, photos kept past retention.

Each function does one step of the sweep on the connection it is given; the
command (`productinfo.photos.cli`) commits each step and calls storage between
them, so that no transaction waits on storage.

- **Loose objects**: recorded before they were stored, or when their row was
  deleted, and named by no photo row. Only those recorded before a grace period
  are removed, so an upload still under way keeps its objects.
- **Uploads in two steps** that expired: their staged object, then their record.
- **Photos of products deleted** more than PHOTO_RETENTION_DAYS ago: their rows
  go, and their objects become loose and are removed.
"""

import datetime as dt

from sqlalchemy import Connection, delete, exists, or_, select

from productinfo.photos.models import loose_objects, photo_uploads, photos
from productinfo.photos.service import loosen
from productinfo.products.models import products

BATCH = 500


def release_photos_of_deleted_products(
    conn: Connection, *, deleted_before: dt.datetime, limit: int = BATCH
) -> list[str]:
    """Delete the photos of products deleted before a time; return their keys, now loose."""
    rows = conn.execute(
        select(photos.c.id, photos.c.key, photos.c.thumbnail_key)
        .join(products, products.c.id == photos.c.product_id)
        .where(products.c.deleted_at < deleted_before)
        .order_by(photos.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    keys = [key for row in rows for key in (row.key, row.thumbnail_key)]
    loosen(conn, keys)
    conn.execute(delete(photos).where(photos.c.id.in_([row.id for row in rows])))
    return keys


def expired_uploads(
    conn: Connection, *, before: dt.datetime, limit: int = BATCH
) -> list[tuple[int, str]]:
    """Return (id, staged key) of uploads that expired before a time, finished or not."""
    query = (
        select(photo_uploads.c.id, photo_uploads.c.staging_key)
        .where(photo_uploads.c.expires_at < before)
        .order_by(photo_uploads.c.id)
        .limit(limit)
    )
    return [tuple(row) for row in conn.execute(query)]


def forget_uploads(conn: Connection, upload_ids: list[int]) -> None:
    """Delete the records of uploads whose staged objects are gone."""
    if upload_ids:
        conn.execute(delete(photo_uploads).where(photo_uploads.c.id.in_(upload_ids)))


def loose(conn: Connection, *, before: dt.datetime, limit: int = BATCH) -> list[str]:
    """Return keys recorded as loose before a time that no photo row names."""
    named = exists().where(
        or_(photos.c.key == loose_objects.c.key, photos.c.thumbnail_key == loose_objects.c.key)
    )
    query = (
        select(loose_objects.c.key)
        .where(loose_objects.c.created_at < before, ~named)
        .order_by(loose_objects.c.created_at, loose_objects.c.key)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def forget_loose(conn: Connection, keys: list[str]) -> None:
    """Delete the records of loose objects that are gone from storage."""
    if keys:
        conn.execute(delete(loose_objects).where(loose_objects.c.key.in_(keys)))
