"""Request and response models of the photo endpoints."""

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from productinfo.fields import MAX_ID, DeviceId, Id, LocalId, Model, exactly_one_of, without
from productinfo.http import choice_of
from productinfo.ledger import PushAnswer


class PhotoUpload(Model):
    model_config = ConfigDict(json_schema_extra=without("device_id"))

    product_id: Id = Field(description="The product the photo shows.")


class SyncPhotoUpload(Model):
    model_config = ConfigDict(json_schema_extra=exactly_one_of("product_id", "product_local_id"))

    device_id: DeviceId
    local_id: LocalId
    product_id: Id | None = Field(None, description="A server id; or give `product_local_id`.")
    product_local_id: LocalId | None = None

    @model_validator(mode="after")
    def _one_product(self):
        if (self.product_id is None) == (self.product_local_id is None):
            raise ValueError("give exactly one of product_id and product_local_id")
        return self


def _pick(data) -> str:
    return "sync" if isinstance(data, dict) and "device_id" in data else "plain"


# The plain body, or a device's push when a `device_id` comes.
PhotoToUpload = choice_of(_pick, plain=PhotoUpload, sync=SyncPhotoUpload)


class _Declared(Model):
    size: int = Field(ge=1, le=MAX_ID, description="Of the photo as it will be sent, in bytes.")
    content_type: (
        Literal["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"] | None
    ) = Field(
        None,
        description="The type the app believes it is; the server judges by content. The "
        "upload's `headers` repeat it (else application/octet-stream).",
    )


class UploadStart(PhotoUpload, _Declared):
    pass


class SyncUploadStart(SyncPhotoUpload, _Declared):
    pass


# As for /photo.upload: a device's push when a `device_id` comes.
UploadToStart = choice_of(_pick, plain=UploadStart, sync=SyncUploadStart)


class UploadTicket(Model):
    """Where and how to send the photo's bytes, then finish with `upload_id`."""

    upload_id: int
    upload_url: str = Field(
        description="Absolute (Supabase Storage), or relative to the API's base URL (the "
        "local backend). It is the authorisation: send no token with it, and share it with no one."
    )
    method: Literal["PUT"]
    headers: dict[str, str] = Field(description="To send with the bytes, as the request body.")
    expires_at: dt.datetime = Field(description="Finish before then; after, start again.")
    max_bytes: int


class UploadRef(Model):
    upload_id: Id


class PhotoRef(Model):
    id: Id


class Photo(Model):
    """A stored photo: the cleaned full-size image and its thumbnail."""

    id: int
    product_id: int
    url: str | None = Field(
        description="The photo's stable URL: fetch it with the bearer token; it never changes "
        "and keeps working, so cache the image by this URL. Relative to the API's base URL."
    )
    thumbnail_url: str | None = Field(description="The same, for the 320 px WebP thumbnail.")
    width: int
    height: int
    size: int = Field(description="Of the stored image, in bytes.")
    content_type: str
    created_by: int
    created_at: dt.datetime


class PhotoPushAnswer(PushAnswer):
    photo: Photo
