"""Request and response models of the sync protocol: pushes with local ids, and the pull."""

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, model_validator

from productinfo.catalog.schemas import (
    MAX_COMPANIES_PER_REQUEST,
    MAX_PRODUCTS_PER_REQUEST,
    Barcode,
    Category,
    Company,
    NewCompanies,
    NewProduct,
    NewProducts,
    Product,
)
from productinfo.fields import Id, Name
from productinfo.http import one_of
from productinfo.photos.schemas import Photo, PhotoUpload

MAX_PULL_LIMIT = 1000


def _as_text(value):
    # The app's SQLite ids are integers, but any short text works as a local id.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


LocalId = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="The app's own id of the record (an integer or a short text)."),
]
DeviceId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ),
    Field(description="A UUID the app chose once per install.", examples=["3f2b..."]),
]


class SyncCompany(BaseModel):
    id: LocalId = Field(description="The app's local id of the company (the existing contract).")
    name: Name


class SyncCompanies(BaseModel):
    device_id: DeviceId
    # Items are checked one by one, so that one bad record does not sink the others.
    companies: list[Any] = Field(max_length=MAX_COMPANIES_PER_REQUEST)


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
    products: list[Any] = Field(max_length=MAX_PRODUCTS_PER_REQUEST)

    @model_validator(mode="before")
    @classmethod
    def _single_product(cls, data):
        # One product may come unwrapped: {device_id, local_id, name, ...}.
        if isinstance(data, dict) and "products" not in data:
            product = {key: value for key, value in data.items() if key != "device_id"}
            return {"device_id": data.get("device_id"), "products": [product]}
        return data


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


class RecordResult(BaseModel):
    """What became of one pushed record."""

    index: int = Field(description="Its position in the batch.")
    local_id: str | None
    status: Literal["created", "existing", "merged", "error"] = Field(
        description="created; existing: pushed before (a retry); merged: the same company "
        "name or barcode was on the server already, and the record maps to it; error."
    )
    id: int | None = Field(None, description="The server id, unless an error.")
    code: str | None = Field(None, description="For an error, or a merge: a stable code.")
    field: str | None = Field(None, description="For an error: the field at fault.")
    message: str | None = None


class PushAnswer(BaseModel):
    mapping: dict[str, dict[str, int]] = Field(
        description="Server id of each local id, per kind.", examples=[{"companies": {"3": 41}}]
    )
    results: list[RecordResult]


class PhotoPushAnswer(PushAnswer):
    photo: Photo


class PullQuery(BaseModel):
    cursor: str | None = Field(None, description="`next_cursor` of the previous pull; none: all.")
    limit: int = Field(500, ge=1, le=MAX_PULL_LIMIT, description="Records per kind.")


T = TypeVar("T")


class Changes(BaseModel, Generic[T]):
    changed: list[T] = Field(description="Created or updated since the cursor.")
    deleted: list[int] = Field(description="Ids deleted since the cursor (tombstones).")


class PullAnswer(BaseModel):
    categories: Changes[Category]
    companies: Changes[Company]
    products: Changes[Product]


# The write endpoints take their plain body, or the sync body when a `device_id` comes.


def _pick(plain: str):
    def pick(data) -> str:
        if isinstance(data, dict) and "device_id" in data:
            return "sync"
        if plain == "products":
            return "many" if isinstance(data, dict) and "products" in data else "one"
        return plain

    return pick


CompaniesToAdd = one_of(_pick("plain"), plain=NewCompanies, sync=SyncCompanies)
ProductsToAdd = one_of(_pick("products"), one=NewProduct, many=NewProducts, sync=SyncProducts)
PhotoToUpload = one_of(_pick("plain"), plain=PhotoUpload, sync=SyncPhotoUpload)
