"""Request and response models of the sync pull (the pushes' models are their features')."""

from typing import Generic, TypeVar

from pydantic import Field

from productinfo.catalog.schemas import Category, Company
from productinfo.fields import Model, optional
from productinfo.products.schemas import Product

MAX_PULL_LIMIT = 1000


class PullQuery(Model):
    cursor: str = optional(
        description="Opaque: `next_cursor` of the previous pull, as it came; empty or left out "
        "for everything. Any other text is a 422 `invalid_cursor`.",
    )
    limit: int = Field(500, ge=1, le=MAX_PULL_LIMIT, description="Records per kind.")


T = TypeVar("T")


class Changes(Model, Generic[T]):
    changed: list[T] = Field(description="Created or updated since the cursor.")
    deleted: list[int] = Field(description="Ids deleted since the cursor (tombstones).")


class PullAnswer(Model):
    categories: Changes[Category]
    companies: Changes[Company]
    products: Changes[Product]
