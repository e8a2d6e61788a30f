"""Photos in two steps, for any size up to MAX_UPLOAD_BYTES: start, send the bytes, finish.

1. `start` records the upload and answers where the app sends the bytes: a
   signed upload URL of the Supabase bucket, or, on the local backend, the
   API's own `PUT /uploads/<secret>` (`receive`).
2. The app sends the bytes there, never through a function limited to 4.5 MB.
3. `finish` reads the staged bytes and goes through the very same code as
   `/photo.upload` (checks, pipeline, dedupe, ledger), then the staged object
   is removed once that is committed. A retry after a lost answer gets the
   same answer.

The staged object is the app's bytes as sent, GPS and all: it is never served,
and an upload never finished is removed by `photos sweep` once it has expired.
"""

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Connection, insert, select, update

from productinfo.db import end_transaction, utcnow
from productinfo.errors import Conflict, NotFound
from productinfo.photos import queries, service
from productinfo.photos.models import photo_uploads
from productinfo.photos.service import Limits
from productinfo.storage import (
    STAGED_TYPE,
    PhotoNotFound,
    Storage,
    UploadTarget,
    make_staging_key,
)

# Supabase Storage signs upload URLs for two hours, a lifetime its client cannot choose:
# an upload lasts as long, so that its URL never outlives it.
UPLOAD_SECONDS = 2 * 3600
RECEIVE_PATH = "/uploads/"


def start(
    conn: Connection, storage: Storage, limits: Limits, *, user_id: int, item, now=None
) -> dict:
    """Record an upload of a photo of a live product; return where and how to send its bytes."""
    if item.size > limits.max_upload_bytes:
        raise limits.two_step().too_large(item.size)
    device_id = getattr(item, "device_id", None)
    if device_id is None:
        product_id = item.product_id
    else:
        product_id = service.product_of(conn, {"user_id": user_id, "device_id": device_id}, item)
    service.require_live(conn, product_id)
    end_transaction(conn)  # signing an upload URL is a call to storage

    staging_key = make_staging_key()
    content_type = item.content_type or STAGED_TYPE
    target = storage.upload_target(staging_key, content_type=content_type)
    secret = None
    if target is None:
        # The API takes the bytes itself: the secret in the path is what authorises them.
        secret = secrets.token_urlsafe(32)
        target = UploadTarget(RECEIVE_PATH + secret, "PUT", {"Content-Type": content_type})
    now = now or utcnow()
    values = {
        "user_id": user_id,
        "product_id": product_id,
        "device_id": device_id,
        "local_id": getattr(item, "local_id", None),
        "size": item.size,
        "staging_key": staging_key,
        "secret_hash": _hash(secret) if secret else None,
        "created_at": now,
        "expires_at": now + dt.timedelta(seconds=UPLOAD_SECONDS),
    }
    upload_id = conn.execute(insert(photo_uploads).values(values).returning(photo_uploads.c.id))
    return {
        "upload_id": upload_id.scalar_one(),
        "upload_url": target.url,
        "method": target.method,
        "headers": target.headers,
        "expires_at": values["expires_at"],
        "max_bytes": limits.max_upload_bytes,
    }


def receive(conn: Connection, storage: Storage, *, secret: str, read) -> int:
    """Store the bytes of an upload the API takes itself; `read()` returns them. Return the size.

    Sent again before the upload is finished, they replace the first ones (a retry).
    """
    row = (
        conn.execute(select(photo_uploads).where(photo_uploads.c.secret_hash == _hash(secret)))
        .mappings()
        .first()
    )
    _check_open(row, utcnow())
    end_transaction(conn)  # the bytes may take long to come: no transaction waits for them
    data = read()
    storage.put(row["staging_key"], data, STAGED_TYPE)
    return len(data)


def finish(
    conn: Connection, storage: Storage, limits: Limits, *, user_id: int, upload_id: int
) -> tuple[dict, str]:
    """Store the photo of an upload as `/photo.upload` does; return (answer, staged key).

    The answer is `(photo, created)` as `service.upload` gives it, or a device's
    push answer; the staged object is to be removed once this is committed.
    """
    row = _get(conn, user_id, upload_id)
    if row["photo_id"] is not None:
        return _answer(conn, storage, row, row["photo_id"], row["outcome"]), row["staging_key"]
    if row["expires_at"] <= utcnow():
        raise _expired()
    end_transaction(conn)  # the staged bytes come from storage
    try:
        data = storage.get(row["staging_key"])
    except PhotoNotFound:
        raise Conflict(
            "The photo has not arrived: send its bytes to the upload_url first.",
            code="upload_not_received",
        ) from None
    two_step = limits.two_step()
    if row["device_id"] is None:
        photo, created = service.upload(
            conn, storage, two_step, product_id=row["product_id"], data=data, user_id=user_id
        )
        photo_id, outcome = photo["id"], "created" if created else "existing"
    else:
        answer = service.push(
            conn, storage, two_step, user_id=user_id, item=_PushedPhoto(row), data=data
        )
        [result] = answer["results"]
        photo_id, outcome = result["id"], result["status"]
    finished = conn.execute(
        update(photo_uploads)
        .where(photo_uploads.c.id == upload_id, photo_uploads.c.photo_id.is_(None))
        .values(photo_id=photo_id, outcome=outcome)
    )
    if finished.rowcount == 0:
        # Finished by a concurrent retry meanwhile: answer what it answered.
        row = _get(conn, user_id, upload_id)
        photo_id, outcome = row["photo_id"], row["outcome"]
    return _answer(conn, storage, row, photo_id, outcome), row["staging_key"]


class _PushedPhoto:
    """A device's photo as `service.push` reads it, from the upload that carried it."""

    def __init__(self, row):
        self.device_id, self.local_id = row["device_id"], row["local_id"]
        self.product_id, self.product_local_id = row["product_id"], None


def _answer(conn: Connection, storage: Storage, row, photo_id: int, outcome: str):
    photo = queries.get(conn, storage, photo_id)
    if row["device_id"] is None:
        return photo, outcome == "created"
    return service.push_answer(row["local_id"], photo, outcome)


def _get(conn: Connection, user_id: int, upload_id: int):
    row = (
        conn.execute(
            select(photo_uploads).where(
                photo_uploads.c.id == upload_id, photo_uploads.c.user_id == user_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise _not_found()
    return row


def _check_open(row, now: dt.datetime) -> None:
    """Raise unless an upload exists and may still receive its bytes."""
    if row is None or row["photo_id"] is not None:
        raise _not_found()
    if row["expires_at"] <= now:
        raise _expired()


def _not_found() -> NotFound:
    return NotFound(
        "There is no such upload. Start again with /photo.startUpload.", code="upload_not_found"
    )


def _expired() -> NotFound:
    return NotFound(
        "This upload has expired. Start again with /photo.startUpload.", code="upload_expired"
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
