"""Request and response models of the product endpoints."""

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from productinfo.fields import (
    CONTROLS,
    SPACES,
    DeviceId,
    Id,
    LocalId,
    Model,
    Name,
    exactly_one_of,
    optional,
    refuse_controls,
    without,
)
from productinfo.http import choice_of
from productinfo.pagination import PageQuery
from productinfo.photos.schemas import Photo
from productinfo.products.barcodes import DASHES
from productinfo.products.models import BARCODE_MAX

MAX_PRODUCTS_PER_REQUEST = 1000
# At least one character that is not a space or a dash, and no control character.
BARCODE_PATTERN = f"^[^{CONTROLS}]*[^{CONTROLS}{SPACES}{DASHES}][^{CONTROLS}]*$"
Barcode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=BARCODE_MAX),
    AfterValidator(refuse_controls),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": BARCODE_MAX,
            "pattern": BARCODE_PATTERN,
            "description": "As printed or scanned: digits of any script, spaces and dashes "
            "of any kind are read as printed digits; a UPC-E is its UPC-A.",
            "examples": ["5449000000996"],
        }
    ),
]


class NewProduct(Model):
    model_config = ConfigDict(json_schema_extra=without("device_id", "products"))

    name: Name
    barcode: Barcode
    category_id: Id
    company_id: Id


class NewProducts(Model):
    model_config = ConfigDict(json_schema_extra=without("device_id"))

    products: list[NewProduct] = Field(min_length=1, max_length=MAX_PRODUCTS_PER_REQUEST)


class ProductPath(Model):
    product_id: Id


class BarcodePath(Model):
    barcode: Barcode


class ProductChanges(Model):
    # The id and at least one field to change; none may be null.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 2})

    id: Id
    name: Name = optional()
    barcode: Barcode = optional()
    category_id: Id = optional()
    company_id: Id = optional()


class ProductRef(Model):
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


class ProductFilters(Model):
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
            raise PydanticCustomError("empty_period", "must come after `from`")
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


class Ref(Model):
    id: int
    name: str


class Uploader(Model):
    id: int
    name: str | None
    email: str


class Product(Model):
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


class ProductEvent(Model):
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


class SyncProduct(Model):
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


class SyncProducts(Model):
    device_id: DeviceId
    # Items are checked one by one, so that one bad record does not sink the others.
    products: list[dict] = Field(
        max_length=MAX_PRODUCTS_PER_REQUEST,
        description="Each `{local_id, name, barcode, category_id, company_id | "
        "company_local_id}`, checked alone: an invalid one gets an error result. In a form "
        "body, a JSON string.",
        examples=[
            [
                {
                    "local_id": 12,
                    "name": "Lben 1L",
                    "barcode": "6130234000027",
                    "category_id": 4,
                    "company_local_id": 3,
                }
            ]
        ],
    )


def _one_product_schema(schema: dict) -> None:
    schema.update(exactly_one_of("company_id", "company_local_id"))
    without("products")(schema)


class SyncOneProduct(SyncProduct):
    """One product of a device, unwrapped: checked as a whole, answered as a push."""

    model_config = ConfigDict(json_schema_extra=_one_product_schema)

    device_id: DeviceId

    def record(self) -> dict:
        """Return the product as a push's record."""
        return self.model_dump(exclude={"device_id"}, exclude_none=True)


def _pick(data) -> str:
    if not isinstance(data, dict):
        return "one"
    if "device_id" in data:
        return "sync" if "products" in data or "local_id" not in data else "sync_one"
    return "many" if "products" in data else "one"


# One product, a batch, or a device's push when a `device_id` comes (one product may come
# unwrapped: `{device_id, local_id, name, ...}`).
ProductsToAdd = choice_of(
    _pick, one=NewProduct, many=NewProducts, sync=SyncProducts, sync_one=SyncOneProduct
)
