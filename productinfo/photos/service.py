"""Photos of products: store an upload, list a product's photos, delete one.

A photo is two stored objects (the image and its thumbnail) and one row. They
stand or fall together: objects are stored first, and removed again if the row
cannot be written; the row is deleted first, then the objects. So `upload` and
`delete` commit their own transaction.
"""

import hashlib
import logging
import threading

from flask import current_app
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.engine import RowMapping

from productinfo.auth import activity
from productinfo.catalog.models import products
from productinfo.db import insert_ignoring_conflicts, utcnow
from productinfo.errors import Forbidden, NotFound
from productinfo.photos import images
from productinfo.photos.models import photos
from productinfo.storage import get_storage, make_key

log = logging.getLogger(__name__)
PIPELINES = threading.BoundedSemaphore(2)


def _shape(row: RowMapping, urls: dict[str, str]) -> dict:
    return {
        "id": row["id"],
        "product_id": row["product_id"],
        "url": urls.get(row["key"]),
        "thumbnail_url": urls.get(row["thumbnail_key"]),
        "width": row["width"],
        "height": row["height"],
        "size": row["size"],
        "content_type": row["content_type"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }


# Built once, so that SQLAlchemy reuses its cache key; the list is expanded on each call.
_OF_PRODUCTS = (
    select(photos)
    .where(photos.c.product_id.in_(bindparam("product_ids", expanding=True)))
    .order_by(photos.c.id)
)


PREFIX = "photo_"


def joined_columns() -> list:
    """Return the columns a query joining photos selects, named `photo_<column>`."""
    return [column.label(PREFIX + column.name) for column in photos.c if column.name != "sha256"]


def from_joined(rows) -> list[dict]:
    """Shape the photos of rows selected with `joined_columns`, URLs signed in one batch."""
    return _shaped(
        [
            {k.removeprefix(PREFIX): value for k, value in row.items() if k.startswith(PREFIX)}
            for row in rows
            if row[PREFIX + "id"] is not None
        ]
    )


def of_products(conn: Connection, product_ids: list[int]) -> dict[int, list[dict]]:
    """Return the photos of each product, oldest first, with URLs signed in one batch."""
    if not product_ids:
        return {}
    rows = conn.execute(_OF_PRODUCTS, {"product_ids": product_ids}).mappings().all()
    found: dict[int, list[dict]] = {}
    for photo in _shaped(rows):
        found.setdefault(photo["product_id"], []).append(photo)
    return found


def _shaped(rows) -> list[dict]:
    """Shape photo rows, their URLs signed in one batch."""
    if not rows:
        return []
    urls = get_storage().urls([key for row in rows for key in (row["key"], row["thumbnail_key"])])
    return [_shape(row, urls) for row in rows]


def get(conn: Connection, photo_id: int) -> dict:
    """Return a photo with its URLs, or raise NotFound."""
    row = conn.execute(select(photos).where(photos.c.id == photo_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no photo {photo_id}.", code="photo_not_found")
    return _shape(row, get_storage().urls([row["key"], row["thumbnail_key"]]))


def _existing(conn: Connection, product_id: int, sha256: str) -> int | None:
    return conn.execute(
        select(photos.c.id).where(photos.c.product_id == product_id, photos.c.sha256 == sha256)
    ).scalar()


def upload(conn: Connection, *, product_id: int, data: bytes, user_id: int) -> tuple[dict, bool]:
    """Check, clean and store a photo of a live product; return (photo, created).

    The same bytes sent again for the same product give back the same photo.
    """
    live = conn.execute(
        select(products.c.id).where(products.c.id == product_id, products.c.deleted_at.is_(None))
    ).scalar()
    if live is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    # A retry after a lost answer is recognised before the costly decoding.
    existing = _existing(conn, product_id, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return get(conn, existing), False
    config = current_app.config
    # A 48 MP photo takes some 150 MB to decode: only a few at a time, however many threads.
    with PIPELINES:
        photo = images.process(
            data, max_bytes=config["MAX_PHOTO_BYTES"], max_pixels=config["MAX_PHOTO_PIXELS"]
        )

    # Objects are named by product and content: another product's copy of the same
    # picture has objects of its own, and deleting one photo never touches another.
    digest = hashlib.sha256(f"{product_id}:{photo.sha256}".encode()).hexdigest()
    key = make_key(digest, photo.original.content_type)
    thumbnail_key = make_key(digest, photo.thumbnail.content_type, variant="thumb")
    storage = get_storage()
    stored = []
    try:
        for object_key, image in ((key, photo.original), (thumbnail_key, photo.thumbnail)):
            storage.put(object_key, image.data, image.content_type)
            stored.append(object_key)
        now = utcnow()
        insert = insert_ignoring_conflicts(conn, photos, "product_id", "sha256").values(
            product_id=product_id,
            sha256=photo.sha256,
            key=key,
            thumbnail_key=thumbnail_key,
            content_type=photo.original.content_type,
            width=photo.original.width,
            height=photo.original.height,
            size=photo.original.size,
            created_by=user_id,
            created_at=now,
        )
        photo_id = conn.execute(insert.returning(photos.c.id)).scalar()
        if photo_id is None:
            # The same upload, stored by a concurrent request under the very same keys.
            stored = []
            return get(conn, _existing(conn, product_id, photo.sha256)), False
        conn.execute(update(products).where(products.c.id == product_id).values(updated_at=now))
        activity.record(conn, user_id, "photo_uploaded", photo_id=photo_id, product_id=product_id)
        conn.commit()
    except BaseException:
        conn.rollback()
        _discard(stored)
        raise
    return get(conn, photo_id), True


def _discard(keys: list[str]) -> None:
    """Remove objects stored for a photo that was not saved."""
    if not keys:
        return
    try:
        get_storage().delete(keys)
    except Exception:
        log.exception("could not remove the orphaned objects %s", keys)


def delete(conn: Connection, photo_id: int, *, user_id: int, is_admin: bool) -> None:
    """Delete a photo (the uploader or an admin), then its stored objects."""
    row = conn.execute(select(photos).where(photos.c.id == photo_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no photo {photo_id}.", code="photo_not_found")
    if row["created_by"] != user_id and not is_admin:
        raise Forbidden(
            "Only the person who took this photo, or an admin, can delete it.",
            code="not_your_photo",
        )
    conn.execute(sql_delete(photos).where(photos.c.id == photo_id))
    now = utcnow()
    conn.execute(update(products).where(products.c.id == row["product_id"]).values(updated_at=now))
    activity.record(conn, user_id, "photo_deleted", photo_id=photo_id, product_id=row["product_id"])
    conn.commit()
    try:
        get_storage().delete([row["key"], row["thumbnail_key"]])
    except Exception:
        # The photo is gone for every client; only unreachable bytes remain.
        log.exception("photo %s deleted, but its objects could not be removed", photo_id)
