"""Every table of the app on one `metadata`, for migrations and the schema drift test."""

from productinfo.activity import activity
from productinfo.auth.models import email_tokens, refresh_tokens, sessions, users
from productinfo.catalog.models import categories, companies
from productinfo.db import metadata
from productinfo.ledger import sync_mappings
from productinfo.photos.models import loose_objects, photo_uploads, photos
from productinfo.products.models import products
from productinfo.security.throttle import throttle_events

__all__ = [
    "metadata",
    "activity",
    "categories",
    "companies",
    "email_tokens",
    "loose_objects",
    "photo_uploads",
    "photos",
    "products",
    "refresh_tokens",
    "sessions",
    "sync_mappings",
    "throttle_events",
    "users",
]
