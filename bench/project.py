"""Every name the bench takes from the app's package, imported here and nowhere else.

The bench measures the app from outside, over HTTP; from the package it needs only
the schema (to seed), how barcodes are keyed, how cursors are packed, and the photo
pipeline. When a module of the package moves, this file is the one to change.
"""

import sys
from pathlib import Path

# The app runs from the repository, uninstalled: `python bench/run.py` puts only bench/
# on the path, so the repository's root goes there too.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from productinfo import create_app, schema  # noqa: E402
from productinfo.pagination import decode_cursor, encode_cursor  # noqa: E402
from productinfo.products import barcodes  # noqa: E402
from productinfo.products.models import products  # noqa: E402
from productinfo.storage import make_key  # noqa: E402

__all__ = [
    "barcodes",
    "create_app",
    "decode_access_subject",
    "schema",
    "decode_cursor",
    "encode_cursor",
    "make_key",
    "process_photo",
    "products",
]


def decode_access_subject(token: str) -> int:
    """Return the user id an access token names, without checking it (the bench made it)."""
    import jwt

    return int(jwt.decode(token, options={"verify_signature": False})["sub"])


def process_photo(data: bytes, **limits):
    """Run the app's photo pipeline on an upload (Pillow is imported on first use)."""
    from productinfo.photos.images import process

    return process(data, **limits)
