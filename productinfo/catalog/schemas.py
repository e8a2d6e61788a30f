"""Request and response models of the catalogue endpoints."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from productinfo.catalog.models import BARCODE_MAX
from productinfo.fields import NAME_MAX, Id, Name
from productinfo.pagination import MAX_LIMIT, PageQuery
from productinfo.photos.schemas import Photo

MAX_COMPANIES_PER_REQUEST = 500
MAX_CATEGORIES_PER_PAGE = 500


class Category(BaseModel):
    """A product category."""

    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


class Company(BaseModel):
    """A manufacturer."""

    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryPath(BaseModel):
    category_id: Id


class CategoryQuery(PageQuery):
    # The app loads every category at once; a catalogue has far fewer than this.
    limit: int = Field(MAX_CATEGORIES_PER_PAGE, ge=1, le=MAX_CATEGORIES_PER_PAGE)


class NewCategory(BaseModel):
    name: Name


class CategoryUpdate(BaseModel):
    id: Id
    name: Name


class CompanyQuery(PageQuery):
    q: str | None = Field(
        None, max_length=NAME_MAX, description="Part of the name, in any case.", examples=["cev"]
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class NewCompany(BaseModel):
    id: int = Field(description="The app's local id for this company; the answer maps it.")
    name: Name


class NewCompanies(BaseModel):
    companies: list[NewCompany] = Field(
        max_length=MAX_COMPANIES_PER_REQUEST,
        description="In a form body, a JSON string.",
        examples=[[{"id": 3, "name": "Ifri"}]],
    )


class CompanyMapping(BaseModel):
    mapping: dict[str, int] = Field(
        description="Server id for each local id sent.", examples=[{"3": 41}]
    )


# Products

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


class HistoryQuery(PageQuery):
    scope: Literal["mine", "all"] = Field("mine", description="Your uploads, or everyone's.")
    category_id: Id | None = None
    company_id: Id | None = None


class SearchQuery(PageQuery):
    q: Name = Field(description="Part of a product or manufacturer name, in any case.")


class ExportQuery(BaseModel):
    format: Literal["csv", "json"] = "csv"


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
