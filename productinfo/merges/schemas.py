"""Request and response models of duplicates and merges."""

from pydantic import Field

from productinfo.catalog.schemas import Company
from productinfo.fields import Id, Model
from productinfo.pagination import PageQuery
from productinfo.products.schemas import Product

MAX_GROUPS_PER_PAGE = 100


class Merge(Model):
    from_id: Id = Field(description="The record to remove; it becomes a tombstone.")
    into_id: Id = Field(description="The record to keep.")


class DuplicatesQuery(PageQuery):
    limit: int = Field(20, ge=1, le=MAX_GROUPS_PER_PAGE, description="Groups per page.")
    similarity: float = Field(
        0.5,
        ge=0.3,
        le=1.0,
        description="How alike two names must be, from 0.3 to 1 (trigram similarity).",
    )


class Twin(Model):
    id: int
    name: str
    products: int = Field(description="Live products of this manufacturer.")


class DuplicateGroup(Model):
    """Manufacturers whose names are alike: the one with the most products first."""

    companies: list[Twin]
    reason: str = Field(
        description="`same_name`: the same once case, accents, punctuation and legal forms "
        "(SPA, SARL...) are left out; `similar_name`: alike by trigram similarity."
    )
    similarity: float = Field(description="Of the two most alike names: 1 for the same name.")


class CompanyMerge(Model):
    kept: Company
    removed: Company = Field(description="Now a tombstone: pulls list its id as deleted.")
    products_moved: int


class ProductMerge(Model):
    kept: Product = Field(description="With its photos, those moved included.")
    removed_id: int
    photos_moved: int
    photos_already_there: int = Field(
        description="Photos the kept product had already (the same bytes): kept once."
    )
