"""Reading photos: a product's photos, or a list of products' photos, with their URLs.

Answers carry each photo's stable URL, which costs no request to storage. Only
the export, read by a spreadsheet that has no token, asks the storage backend
for URLs that work without one (`signed=True`).
"""

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.engine import RowMapping

from productinfo.errors import NotFound
from productinfo.photos.models import photos
from productinfo.storage import Storage

PREFIX = "photo_"

# Built once, so that SQLAlchemy reuses its cache key; the list is expanded on each call.
_OF_PRODUCTS = (
    select(photos)
    .where(photos.c.product_id.in_(bindparam("product_ids", expanding=True)))
    .order_by(photos.c.id)
)


def _shape(row: RowMapping, urls: dict[str, str]) -> dict:
    return {
        "id": row["id"],
        "product_id": row["product_id"],
        "url": urls.get(row["key"]),
        "thumbnail_url": urls.get(row["thumbnail_key"]),
        "width": row["width"],
        "height": row["height"],
        "size": row["size"],
        "content_type": row["content_type"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }


def _urls(storage: Storage, keys: list[str], signed: bool) -> dict[str, str]:
    return storage.urls(keys) if signed else storage.stable_urls(keys)


def _shaped(rows, storage: Storage, signed: bool = False) -> list[dict]:
    """Shape photo rows with their stable URLs, or URLs that need no token (`signed`)."""
    if not rows:
        return []
    keys = [key for row in rows for key in (row["key"], row["thumbnail_key"])]
    urls = _urls(storage, keys, signed)
    return [_shape(row, urls) for row in rows]


def joined_columns() -> list:
    """Return the columns a query joining photos selects, named `photo_<column>`."""
    return [column.label(PREFIX + column.name) for column in photos.c if column.name != "sha256"]


def from_joined(rows, storage: Storage) -> list[dict]:
    """Shape the photos of rows selected with `joined_columns`, with their stable URLs."""
    return _shaped(
        [
            {k.removeprefix(PREFIX): value for k, value in row.items() if k.startswith(PREFIX)}
            for row in rows
            if row[PREFIX + "id"] is not None
        ],
        storage,
    )


def of_products(
    conn: Connection, storage: Storage, product_ids: list[int], *, signed: bool = False
) -> dict[int, list]:
    """Return the photos of each product, oldest first, with stable URLs (or `signed` ones)."""
    if not product_ids:
        return {}
    rows = conn.execute(_OF_PRODUCTS, {"product_ids": product_ids}).mappings().all()
    found: dict[int, list[dict]] = {}
    for photo in _shaped(rows, storage, signed):
        found.setdefault(photo["product_id"], []).append(photo)
    return found


def get(conn: Connection, storage: Storage, photo_id: int) -> dict:
    """Return a photo with its URLs, or raise NotFound."""
    row = conn.execute(select(photos).where(photos.c.id == photo_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no photo {photo_id}.", code="photo_not_found")
    return _shape(row, storage.stable_urls([row["key"], row["thumbnail_key"]]))
