"""Every table of the app on one `metadata`, for migrations and the schema drift test."""

from productinfo.catalog.models import categories, companies
from productinfo.db import metadata

__all__ = ["metadata", "categories", "companies"]
