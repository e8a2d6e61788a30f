"""Every table of the app on one `metadata`, for migrations and the schema drift test."""

from productinfo.auth.models import activity, email_tokens, refresh_tokens, sessions, users
from productinfo.catalog.models import categories, companies, products
from productinfo.db import metadata
from productinfo.photos.models import photos
from productinfo.security.throttle import throttle_events
from productinfo.sync.models import sync_mappings

__all__ = [
    "metadata",
    "activity",
    "categories",
    "companies",
    "email_tokens",
    "photos",
    "products",
    "refresh_tokens",
    "sessions",
    "sync_mappings",
    "throttle_events",
    "users",
]
