"""HTTP endpoints of photos."""

from functools import partial

from flask import current_app, request

from productinfo.auth.guard import current_user
from productinfo.db import after_commit, connection
from productinfo.envelope import ok
from productinfo.errors import ValidationFailed
from productinfo.http import ApiBlueprint
from productinfo.photos import service
from productinfo.photos.schemas import (
    Photo,
    PhotoPushAnswer,
    PhotoRef,
    PhotoToUpload,
    SyncPhotoUpload,
)
from productinfo.storage import get_storage

bp = ApiBlueprint("photos", __name__)


@bp.write("/photo.upload", body=PhotoToUpload, files=["file"], response=Photo | PhotoPushAnswer)
def upload_photo(body):
    """Add a photo to a product: multipart, the image in `file`.

    JPEG, PNG, WebP or HEIC, judged by content (415 otherwise); over the size limit
    413; too many pixels or a corrupt file 422. The photo is turned upright, stripped
    of metadata (GPS included) and re-encoded, with a WebP thumbnail. The same bytes
    sent again for the same product give the same photo. 503 `storage_unavailable`
    when photo storage is down: nothing is kept, retry. With `device_id`: the sync
    push, naming the photo by `local_id` and its product by `product_local_id`.
    """
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed.field("file", "is required: send the image as multipart form data")
    data = upload.read()
    conn, storage, limits = connection(), get_storage(), current_app.extensions["photo_limits"]
    user_id = current_user().id
    if isinstance(body, SyncPhotoUpload):
        answer = service.push(conn, storage, limits, user_id=user_id, item=body, data=data)
        return ok(PhotoPushAnswer.model_validate(answer))
    photo, created = service.upload(
        conn, storage, limits, product_id=body.product_id, data=data, user_id=user_id
    )
    return ok(
        Photo.model_validate(photo), message="" if created else "This photo was stored already."
    )


@bp.write("/photo.delete", body=PhotoRef)
def delete_photo(body: PhotoRef):
    """Delete a photo and its stored files (the person who uploaded it, or an admin)."""
    user = current_user()
    keys = service.delete(connection(), body.id, user_id=user.id, is_admin=user.role == "admin")
    after_commit(partial(service.remove_objects, get_storage(), keys))
    return ok(message="Deleted.")
