"""Request and response models of the photo endpoints."""

import datetime as dt

from pydantic import BaseModel, Field

from productinfo.fields import Id


class PhotoUpload(BaseModel):
    product_id: Id = Field(description="The product the photo shows.")


class PhotoRef(BaseModel):
    id: Id


class Photo(BaseModel):
    """A stored photo: the cleaned full-size image and its thumbnail."""

    id: int
    product_id: int
    url: str | None = Field(description="Null only if the stored object has gone missing.")
    thumbnail_url: str | None
    width: int
    height: int
    size: int = Field(description="Of the stored image, in bytes.")
    content_type: str
    created_by: int
    created_at: dt.datetime
