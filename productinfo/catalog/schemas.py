"""Request and response models of the catalogue endpoints."""

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from productinfo.catalog.models import NAME_MAX
from productinfo.pagination import MAX_LIMIT, PageQuery

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
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
    category_id: int


class CategoryQuery(PageQuery):
    # The app loads every category at once; a catalogue has far fewer than this.
    limit: int = Field(MAX_CATEGORIES_PER_PAGE, ge=1, le=MAX_CATEGORIES_PER_PAGE)


class NewCategory(BaseModel):
    name: Name


class CategoryUpdate(BaseModel):
    id: int
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
