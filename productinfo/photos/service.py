"""Photos of products: store an upload (from the app, or a device's push), delete one.

A photo is two stored objects (the image and its thumbnail) and one row. They
stand or fall together. Each object gets a key of its own, never used before,
and the key is recorded as loose (committed) before the object is stored; the
row that names it, written last, removes the record. Whatever fails in between,
the objects are removed at once if storage allows, and otherwise by `photos
sweep`, which deletes the objects of old loose records. A deleted row's objects
are recorded as loose in the same transaction and removed once it is committed.

No transaction stays open through the slow part (decoding, storing): the checks
are read and their transaction ended first, then the photo is processed and
stored, then its row is written by the request's unit of work.
"""

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass, replace

from sqlalchemy import Connection, select, update
from sqlalchemy import delete as sql_delete

from productinfo import activity, ledger, merging
from productinfo.db import end_transaction, insert_ignoring_conflicts, persist_now, utcnow
from productinfo.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from productinfo.photos import images, queries
from productinfo.photos.models import loose_objects, photos
from productinfo.products.models import products
from productinfo.storage import Storage, make_key

log = logging.getLogger(__name__)
# A 48 MP photo takes some 150 MB to decode: only a few at a time, however many threads.
PIPELINES = threading.BoundedSemaphore(2)
STORED_ALREADY = "This photo was stored already."


@dataclass(frozen=True)
class Limits:
    """The largest photo accepted, in bytes (in one request, or in two steps) and in pixels."""

    max_bytes: int
    max_pixels: int
    max_upload_bytes: int

    @classmethod
    def from_config(cls, config) -> "Limits":
        """Read the limits from the app's configuration."""
        return cls(
            max_bytes=config["MAX_PHOTO_BYTES"],
            max_pixels=config["MAX_PHOTO_PIXELS"],
            max_upload_bytes=config["MAX_UPLOAD_BYTES"],
        )

    def two_step(self) -> "Limits":
        """Return the limits of a photo sent in two steps, which never passes through a request."""
        return replace(self, max_bytes=self.max_upload_bytes)

    def too_large(self, size: int | None) -> PayloadTooLarge:
        """Return the error for a photo over `max_bytes`, saying how to send a larger one."""
        what = f"The photo is {size:,} bytes" if size is not None else "The photo is too large"
        message = f"{what}; the limit is {self.max_bytes:,} bytes."
        if self.max_upload_bytes > self.max_bytes:
            message += (
                f" Send photos of up to {self.max_upload_bytes:,} bytes in two steps, "
                "starting with /photo.startUpload."
            )
        return PayloadTooLarge(message, code="photo_too_large")


def _existing(conn: Connection, product_id: int, sha256: str) -> int | None:
    return conn.execute(
        select(photos.c.id).where(photos.c.product_id == product_id, photos.c.sha256 == sha256)
    ).scalar()


def require_live(conn: Connection, product_id: int) -> None:
    """Raise NotFound unless the product exists and is not deleted."""
    live = conn.execute(
        select(products.c.id).where(products.c.id == product_id, products.c.deleted_at.is_(None))
    ).scalar()
    if live is None:
        raise NotFound(f"There is no product {product_id}.", code="product_not_found")


def upload(
    conn: Connection, storage: Storage, limits: Limits, *, product_id: int, data: bytes, user_id
) -> tuple[dict, bool]:
    """Check, clean and store a photo of a live product; return (photo, created).

    The same bytes sent again for the same product give back the same photo. A
    product merged into another (by an admin, since the app last pulled) is that other.
    """
    if len(data) > limits.max_bytes:
        raise limits.too_large(len(data))
    product_id = merging.kept(conn, products, [product_id]).get(product_id, product_id)
    require_live(conn, product_id)
    # A retry after a lost answer is recognised before the costly decoding.
    existing = _existing(conn, product_id, hashlib.sha256(data).hexdigest())
    if existing is not None:
        return queries.get(conn, storage, existing), False
    end_transaction(conn)
    with PIPELINES:
        photo = images.process(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)

    # A key of its own for each object: removing one never touches another photo's.
    digest = secrets.token_hex(32)
    key = make_key(digest, photo.original.content_type)
    thumbnail_key = make_key(digest, photo.thumbnail.content_type, variant="thumb")
    keys = [key, thumbnail_key]
    loosen(conn, keys)
    persist_now(conn)  # the record stands, whatever becomes of the objects and the request
    try:
        for object_key, image in zip(keys, (photo.original, photo.thumbnail), strict=True):
            storage.put(object_key, image.data, image.content_type)
        now = utcnow()
        insert_photo = insert_ignoring_conflicts(conn, photos, "product_id", "sha256").values(
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
        photo_id = conn.execute(insert_photo.returning(photos.c.id)).scalar()
        if photo_id is not None:
            conn.execute(sql_delete(loose_objects).where(loose_objects.c.key.in_(keys)))
            conn.execute(update(products).where(products.c.id == product_id).values(updated_at=now))
            activity.record(
                conn, user_id, "photo_uploaded", photo_id=photo_id, product_id=product_id
            )
    except BaseException:
        remove_objects(storage, keys)
        raise
    if photo_id is None:
        # The same upload, stored by a concurrent request first: ours are not needed.
        remove_objects(storage, keys)
        return queries.get(conn, storage, _existing(conn, product_id, photo.sha256)), False
    return queries.get(conn, storage, photo_id), True


def product_of(conn: Connection, scope: dict, item) -> int:
    """Return the server id of a pushed photo's product, named by id or by its local id."""
    if item.product_id is not None:
        return item.product_id
    product_id = ledger.mapped(conn, scope, "product", [item.product_local_id]).get(
        item.product_local_id
    )
    if product_id is None:
        raise ValidationFailed.field(
            "product_local_id",
            "no product with this local id was pushed from this device",
            code="unknown_product",
        )
    return product_id


def push(
    conn: Connection, storage: Storage, limits: Limits, *, user_id: int, item, data: bytes
) -> dict:
    """Store a device's photo, named by its local id and its product's; return the push answer."""
    scope = {"user_id": user_id, "device_id": item.device_id}
    # A photo is the same record when it is the same bytes, whatever its product is called.
    content = ledger.fingerprint(hashlib.sha256(data).hexdigest())
    known = ledger.recorded(conn, scope, "photo", [item.local_id]).get(item.local_id)
    if known is not None:
        photo_id, stored = known
        if stored not in (None, content):
            raise Conflict(
                f"This local_id {ledger.REUSED}.",
                code="local_id_reused",
                errors={"local_id": ledger.REUSED},
            )
        try:
            answer = push_answer(item.local_id, queries.get(conn, storage, photo_id), "existing")
            ledger.learn(conn, scope, "photo", {item.local_id: content})
            return answer
        except NotFound:
            ledger.forget(conn, scope, "photo", item.local_id)  # deleted since: store it again
    product_id = product_of(conn, scope, item)
    photo, created = upload(
        conn, storage, limits, product_id=product_id, data=data, user_id=user_id
    )
    ledger.remember(conn, scope, "photo", {item.local_id: (photo["id"], content)})
    return push_answer(item.local_id, photo, "created" if created else "merged")


def push_answer(local_id: str, photo: dict, status: str) -> dict:
    """Build a device's answer for one photo: its mapping, its result, the photo."""
    result = ledger.result(0, local_id, status, photo["id"])
    if status == "merged":
        result.update(
            code="photo_exists", message="The same photo of this product was stored already."
        )
    return {"mapping": {local_id: photo["id"]}, "results": [result], "photo": photo}


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
    keys = [row["key"], row["thumbnail_key"]]
    loosen(conn, keys)
    now = utcnow()
    conn.execute(update(products).where(products.c.id == row["product_id"]).values(updated_at=now))
    activity.record(conn, user_id, "photo_deleted", photo_id=photo_id, product_id=row["product_id"])
    return keys


def loosen(conn: Connection, keys: list[str]) -> None:
    """Record objects that no row names (yet, or any more), for the sweep to find."""
    if keys:
        now = utcnow()
        rows = [{"key": key, "created_at": now} for key in keys]
        conn.execute(insert_ignoring_conflicts(conn, loose_objects, "key"), rows)


def remove_objects(storage: Storage, keys: list[str]) -> None:
    """Remove stored objects that no row names; on failure they stay recorded for the sweep."""
    if not keys:
        return
    try:
        storage.delete(keys)
    except Exception:
        log.exception("could not remove the objects %s; the sweep will", keys)
