"""Every name the bench takes from the app's package, imported here and nowhere else.

The bench measures the app from outside, over HTTP; from the package it needs only
the schema (to seed), how barcodes are keyed, how cursors are packed, and the photo
pipeline. When a module of the package moves, this file is the one to change.
"""

from productinfo import create_app, db
from productinfo.catalog import barcodes
from productinfo.catalog.models import products
from productinfo.pagination import decode_cursor, encode_cursor
from productinfo.storage import make_key

__all__ = [
    "barcodes",
    "create_app",
    "db",
    "decode_cursor",
    "encode_cursor",
    "make_key",
    "process_photo",
    "products",
]


def process_photo(data: bytes, **limits):
    """Run the app's photo pipeline on an upload (Pillow is imported on first use)."""
    from productinfo.photos.images import process

    return process(data, **limits)
