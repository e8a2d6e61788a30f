"""Request and response models of the catalogue endpoints."""

import datetime as dt

from pydantic import ConfigDict, Field

from productinfo.fields import (
    NAME_MAX,
    DeviceId,
    Id,
    LocalId,
    LocalNumber,
    Model,
    Name,
    free_text,
    without,
)
from productinfo.http import choice_of
from productinfo.pagination import MAX_LIMIT, PageQuery

MAX_COMPANIES_PER_REQUEST = 500
MAX_CATEGORIES_PER_PAGE = 500


class Category(Model):
    """A product category."""

    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


class Company(Model):
    """A manufacturer."""

    id: int
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CategoryPath(Model):
    category_id: Id


class CategoryQuery(PageQuery):
    # The app loads every category at once; a catalogue has far fewer than this.
    limit: int = Field(MAX_CATEGORIES_PER_PAGE, ge=1, le=MAX_CATEGORIES_PER_PAGE)


class NewCategory(Model):
    name: Name


class CategoryUpdate(Model):
    id: Id
    name: Name


class CompanyQuery(PageQuery):
    q: free_text(NAME_MAX) | None = Field(
        None, description="Part of the name, in any case.", examples=["cev"]
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class NewCompany(Model):
    id: LocalNumber = Field(description="The app's local id for this company; the answer maps it.")
    name: Name


class NewCompanies(Model):
    model_config = ConfigDict(json_schema_extra=without("device_id"))

    companies: list[NewCompany] = Field(
        max_length=MAX_COMPANIES_PER_REQUEST,
        description="In a form body, a JSON string.",
        examples=[[{"id": 3, "name": "Ifri"}]],
    )


class CompanyMapping(Model):
    mapping: dict[str, int] = Field(
        description="Server id for each local id sent.", examples=[{"3": 41}]
    )


class SyncCompany(Model):
    id: LocalId = Field(description="The app's local id of the company (the existing contract).")
    name: Name


class SyncCompanies(Model):
    device_id: DeviceId
    # Items are checked one by one, so that one bad record does not sink the others.
    companies: list[dict] = Field(
        max_length=MAX_COMPANIES_PER_REQUEST,
        description="Each `{id, name}`: `id` is the app's local id (an integer or a short "
        "text). Each is checked alone: an invalid one gets an error result. In a form "
        "body, a JSON string.",
        examples=[[{"id": 3, "name": "Ifri"}]],
    )


def _pick(data) -> str:
    return "sync" if isinstance(data, dict) and "device_id" in data else "plain"


# The plain body, or a device's push when a `device_id` comes.
CompaniesToAdd = choice_of(_pick, plain=NewCompanies, sync=SyncCompanies)
