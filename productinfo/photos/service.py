"""Photos of products: store an upload (from the app, or a device's push), delete one.

A photo is two stored objects (the image and its thumbnail) and one row. They
stand or fall together: the objects are stored first and removed again if the
row cannot be written; a deleted row's objects are removed once the deletion
is committed.
"""

import hashlib
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy import delete as sql_delete

from productinfo import activity, ledger, merging
from productinfo.db import insert_ignoring_conflicts, utcnow
from productinfo.errors import Forbidden, NotFound, ValidationFailed
from productinfo.photos import images, queries
from productinfo.photos.models import photos
from productinfo.products.models import products
from productinfo.storage import Storage, make_key

log = logging.getLogger(__name__)
# A 48 MP photo takes some 150 MB to decode: only a few at a time, however many threads.
PIPELINES = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class Limits:
    """The largest upload accepted, in bytes and in pixels."""

    max_bytes: int
    max_pixels: int

    @classmethod
    def from_config(cls, config) -> "Limits":
        """Read the limits from the app's configuration."""
        return cls(max_bytes=config["MAX_PHOTO_BYTES"], max_pixels=config["MAX_PHOTO_PIXELS"])


def _existing(conn: Connection, product_id: int, sha256: str) -> int | None:
    return conn.execute(
        select(photos.c.id).where(photos.c.product_id == product_id, photos.c.sha256 == sha256)
    ).scalar()


def upload(
    conn: Connection, storage: Storage, limits: Limits, *, product_id: int, data: bytes, user_id
) -> tuple[dict, bool]:
    """Check, clean and store a photo of a live product; return (photo, created).

    The same bytes sent again for the same product give back the same photo. A
    product merged into another (by an admin, since the app last pulled) is that other.
    """
    product_id = merging.kept(conn, products, [product_id]).get(product_id, product_id)
    live = conn.execute(
        select(products.c.id).where(products.c.id == product_id, products.c.deleted_at.is_(None))
    ).scalar()
    if live is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")
    # A retry after a lost answer is recognised before the costly decoding.
    existing = _existing(conn, product_id, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return queries.get(conn, storage, existing), False
    with PIPELINES:
        photo = images.process(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)

    # Objects are named by product and content: another product's copy of the same
    # picture has objects of its own, and deleting one photo never touches another.
    digest = hashlib.sha256(f"{product_id}:{photo.sha256}".encode()).hexdigest()
    key = make_key(digest, photo.original.content_type)
    thumbnail_key = make_key(digest, photo.thumbnail.content_type, variant="thumb")
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
            existing = _existing(conn, product_id, photo.sha256)
            return queries.get(conn, storage, existing), False
        conn.execute(update(products).where(products.c.id == product_id).values(updated_at=now))
        activity.record(conn, user_id, "photo_uploaded", photo_id=photo_id, product_id=product_id)
    except BaseException:
        remove_objects(storage, stored)
        raise
    return queries.get(conn, storage, photo_id), True


def push(
    conn: Connection, storage: Storage, limits: Limits, *, user_id: int, item, data: bytes
) -> dict:
    """Store a device's photo, named by its local id and its product's; return the push answer."""
    scope = {"user_id": user_id, "device_id": item.device_id}
    known = ledger.mapped(conn, scope, "photo", [item.local_id]).get(item.local_id)
    if known is not None:
        try:
            return _push_answer(item.local_id, queries.get(conn, storage, known), "existing")
        except NotFound:
            ledger.forget(conn, scope, "photo", item.local_id)  # deleted since: store it again
    product_id = item.product_id
    if product_id is None:
        local = item.product_local_id
        product_id = ledger.mapped(conn, scope, "product", [local]).get(local)
        if product_id is None:
            raise ValidationFailed.field(
                "product_local_id",
                "no product with this local id was pushed from this device",
                code="unknown_product",
            )
    photo, created = upload(
        conn, storage, limits, product_id=product_id, data=data, user_id=user_id
    )
    ledger.remember(conn, scope, "photo", {item.local_id: photo["id"]})
    return _push_answer(item.local_id, photo, "created" if created else "merged")


def _push_answer(local_id: str, photo: dict, status: str) -> dict:
    result = ledger.result(0, local_id, status, photo["id"])
    if status == "merged":
        result.update(
            code="photo_exists", message="The same photo of this product was stored already."
        )
    return {"mapping": {"photos": {local_id: photo["id"]}}, "results": [result], "photo": photo}


def delete(conn: Connection, photo_id: int, *, user_id: int, is_admin: bool) -> list[str]:
    """Delete a photo (the uploader or an admin); return the keys of its objects to remove."""
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
    return [row["key"], row["thumbnail_key"]]


def remove_objects(storage: Storage, keys: list[str]) -> None:
    """Remove stored objects that no row names; a failure leaves unreachable bytes, logged."""
    if not keys:
        return
    try:
        storage.delete(keys)
    except Exception:
        log.exception("could not remove the objects %s", keys)
