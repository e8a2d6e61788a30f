"""Request and response models of the photo endpoints."""

import datetime as dt

from pydantic import BaseModel, Field, model_validator

from productinfo.fields import DeviceId, Id, LocalId
from productinfo.http import choice_of
from productinfo.ledger import PushAnswer


class PhotoUpload(BaseModel):
    product_id: Id = Field(description="The product the photo shows.")


class SyncPhotoUpload(BaseModel):
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


class PhotoRef(BaseModel):
    id: Id


class Photo(BaseModel):
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
