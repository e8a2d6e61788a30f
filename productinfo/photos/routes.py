"""HTTP endpoints of photos: in one request, in two steps, and deleting one."""

from functools import partial

from flask import Blueprint, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from productinfo.auth.guard import current_user
from productinfo.db import after_commit, connection
from productinfo.envelope import error_response, ok
from productinfo.errors import ValidationFailed
from productinfo.http import ApiBlueprint
from productinfo.photos import service, uploads
from productinfo.photos.schemas import (
    Photo,
    PhotoPushAnswer,
    PhotoRef,
    PhotoToUpload,
    SyncPhotoUpload,
    UploadRef,
    UploadTicket,
    UploadToStart,
)
from productinfo.storage import get_storage

bp = ApiBlueprint("photos", __name__)
# The local backend's upload URLs: a PUT of raw bytes, as to a Supabase signed upload URL.
receiving = Blueprint("photo_uploads", __name__)


def _limits() -> service.Limits:
    return current_app.extensions["photo_limits"]


def _answer(answer):
    """Shape a photo as `/photo.upload` answers it: the photo, or a device's push answer."""
    if isinstance(answer, dict):
        return ok(PhotoPushAnswer.model_validate(answer))
    photo, created = answer
    return ok(Photo.model_validate(photo), message="" if created else service.STORED_ALREADY)


@bp.write("/photo.upload", body=PhotoToUpload, files=["file"], response=Photo | PhotoPushAnswer)
def upload_photo(body):
    """Add a photo to a product: multipart, the image in `file`.

    JPEG, PNG, WebP or HEIC, judged by content (415 otherwise); over MAX_PHOTO_BYTES
    413 `photo_too_large` (larger photos go in two steps: /photo.startUpload); too
    many pixels or a corrupt file 422. The photo is turned upright, stripped of
    metadata (GPS included) and re-encoded, with a WebP thumbnail. The same bytes
    sent again for the same product give the same photo. 503 `storage_unavailable`
    when photo storage is down: nothing is kept, retry. With `device_id`: the sync
    push, naming the photo by `local_id` and its product by `product_local_id`.
    """
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed.field("file", "is required: send the image as multipart form data")
    data = upload.read()
    conn, storage, user_id = connection(), get_storage(), current_user().id
    if isinstance(body, SyncPhotoUpload):
        return _answer(
            service.push(conn, storage, _limits(), user_id=user_id, item=body, data=data)
        )
    return _answer(
        service.upload(
            conn, storage, _limits(), product_id=body.product_id, data=data, user_id=user_id
        )
    )


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(error):
    # A request over MAX_REQUEST_BYTES never reaches the view: say what to do instead.
    if request.url_rule is not None and request.url_rule.rule == "/photo.upload":
        return error_response(413, "photo_too_large", _limits().too_large(None).message)
    return error_response(413, "payload_too_large", "The request body is too large.")


@bp.write("/photo.startUpload", body=UploadToStart, response=UploadTicket)
def start_upload(body):
    """Start sending a photo of any size up to MAX_UPLOAD_BYTES, in two steps.

    Then send the bytes as the request body with `method` and `headers` to
    `upload_url` (no token: the URL is the authorisation), and call
    /photo.finishUpload with `upload_id` before `expires_at`. 413
    `photo_too_large` when `size` is over the limit. With `device_id`: the sync
    push, as for /photo.upload.
    """
    ticket = uploads.start(
        connection(), get_storage(), _limits(), user_id=current_user().id, item=body
    )
    return ok(UploadTicket.model_validate(ticket))


@bp.write("/photo.finishUpload", body=UploadRef, response=Photo | PhotoPushAnswer)
def finish_upload(body: UploadRef):
    """Check, clean and store a photo sent in two steps; the answer is that of /photo.upload.

    The same checks, dedupe and sync mapping as /photo.upload; 413
    `photo_too_large` over MAX_UPLOAD_BYTES. Called again (a retry after a lost
    answer), it answers the same. 409 `upload_not_received` when the bytes have not
    arrived; 404 `upload_not_found` or `upload_expired`: start again.
    """
    storage = get_storage()
    answer, staged = uploads.finish(
        connection(), storage, _limits(), user_id=current_user().id, upload_id=body.upload_id
    )
    after_commit(partial(service.remove_objects, storage, [staged]))
    return _answer(answer)


@receiving.put(uploads.RECEIVE_PATH + "<secret>")
def receive_upload(secret: str):
    """Take the bytes of a photo sent in two steps to the local backend: the request body."""
    limits = _limits().two_step()
    # This endpoint admits more than MAX_REQUEST_BYTES: up to MAX_UPLOAD_BYTES.
    request.max_content_length = limits.max_bytes
    if request.content_length is not None and request.content_length > limits.max_bytes:
        raise limits.too_large(request.content_length)

    def read() -> bytes:
        try:
            return request.stream.read()
        except RequestEntityTooLarge:  # sent in chunks, without a length
            raise limits.too_large(None) from None

    size = uploads.receive(connection(), get_storage(), secret=secret, read=read)
    return ok({"size": size})


@bp.write("/photo.delete", body=PhotoRef)
def delete_photo(body: PhotoRef):
    """Delete a photo and its stored files (the person who uploaded it, or an admin)."""
    user = current_user()
    keys = service.delete(connection(), body.id, user_id=user.id, is_admin=user.role == "admin")
    after_commit(partial(service.remove_objects, get_storage(), keys))
    return ok(message="Deleted.")
