"""Request and response models of the product endpoints."""

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from productinfo.fields import DeviceId, Id, LocalId, Name
from productinfo.http import choice_of
from productinfo.pagination import PageQuery
from productinfo.photos.schemas import Photo
from productinfo.products.models import BARCODE_MAX

MAX_PRODUCTS_PER_REQUEST = 1000
Barcode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=BARCODE_MAX),
    Field(
        description="As printed or scanned; spaces and dashes are ignored.",
        examples=["5449000000996"],
    ),
]


class NewProduct(BaseModel):
    name: Name
    barcode: Barcode
    category_id: Id
    company_id: Id


class NewProducts(BaseModel):
    products: list[NewProduct] = Field(min_length=1, max_length=MAX_PRODUCTS_PER_REQUEST)


class ProductPath(BaseModel):
    product_id: Id


class BarcodePath(BaseModel):
    barcode: Barcode


class ProductChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    name: Name | None = None
    barcode: Barcode | None = None
    category_id: Id | None = None
    company_id: Id | None = None


class ProductRef(BaseModel):
    id: Id


def _iso(value):
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}([T ]|$)", value.strip()):
        raise ValueError("must be an ISO 8601 date or time, such as 2026-11-01T08:00:00Z")
    return value.strip()


def _utc(value: dt.datetime) -> dt.datetime:
    # The API's times are UTC: one given without an offset is read as UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Instant = Annotated[
    dt.datetime,
    BeforeValidator(_iso),
    AfterValidator(_utc),
    Field(description="ISO 8601; a date alone is its midnight; no offset means UTC."),
]


class ProductFilters(BaseModel):
    """Which products a list keeps; every filter given applies."""

    created_by: Id | None = Field(None, description="Added by this person (a user id).")
    category_id: Id | None = None
    company_id: Id | None = None
    from_: Instant | None = Field(
        None, alias="from", description="Added at this time or later (ISO 8601, UTC)."
    )
    to: Instant | None = Field(None, description="Added before this time (ISO 8601, UTC).")

    @field_validator("to")
    @classmethod
    def _after_from(cls, to, info: ValidationInfo):
        start = info.data.get("from_")
        if to is not None and start is not None and to <= start:
            raise ValueError("must come after `from`")
        return to


class HistoryQuery(PageQuery, ProductFilters):
    scope: Literal["mine", "all"] = Field(
        "mine", description="Your uploads, or everyone's (then `created_by` picks one person)."
    )


class SearchQuery(PageQuery, ProductFilters):
    q: Name = Field(description="Part of a product or manufacturer name, in any case.")


class ExportQuery(ProductFilters):
    format: Literal["csv", "json"] = "csv"
    q: Name | None = Field(
        None, description="Only the products a search for this finds (then newest first)."
    )


class Ref(BaseModel):
    id: int
    name: str


class Uploader(BaseModel):
    id: int
    name: str | None
    email: str


class Product(BaseModel):
    """A product with its category, manufacturer and who added it."""

    id: int
    name: str
    barcode: str
    category: Ref
    company: Ref
    created_by: Uploader
    created_at: dt.datetime
    updated_at: dt.datetime
    photos: list[Photo]


class ProductEvent(BaseModel):
    """One event of a product's history, and who caused it."""

    id: int
    kind: str = Field(
        description="product_added, product_updated (with `changes`: each field's value "
        "before and after), photo_uploaded, photo_deleted, product_deleted, products_merged.",
        examples=["product_updated"],
    )
    by: Uploader | None = Field(description="Who did it; null if the account is gone.")
    created_at: dt.datetime
    details: dict = Field(
        examples=[{"product_id": 7, "changes": {"name": {"from": "Ifri 1.5L", "to": "Ifri 1.5 L"}}}]
    )


class SyncProduct(BaseModel):
    local_id: LocalId
    name: Name
    barcode: Barcode
    category_id: Id
    company_id: Id | None = Field(None, description="A server id; or give `company_local_id`.")
    company_local_id: LocalId | None = Field(
        None, description="The local id of a company pushed from this device, now or before."
    )

    @model_validator(mode="after")
    def _one_company(self):
        if (self.company_id is None) == (self.company_local_id is None):
            raise ValueError("give exactly one of company_id and company_local_id")
        return self


class SyncProducts(BaseModel):
    device_id: DeviceId
    # Items are checked one by one, so that one bad record does not sink the others.
    products: list[Any] = Field(max_length=MAX_PRODUCTS_PER_REQUEST)

    @model_validator(mode="before")
    @classmethod
    def _single_product(cls, data):
        # One product may come unwrapped: {device_id, local_id, name, ...}.
        if isinstance(data, dict) and "products" not in data:
            product = {key: value for key, value in data.items() if key != "device_id"}
            return {"device_id": data.get("device_id"), "products": [product]}
        return data


def _pick(data) -> str:
    if isinstance(data, dict) and "device_id" in data:
        return "sync"
    return "many" if isinstance(data, dict) and "products" in data else "one"


# One product, a batch, or a device's push when a `device_id` comes.
ProductsToAdd = choice_of(_pick, one=NewProduct, many=NewProducts, sync=SyncProducts)
