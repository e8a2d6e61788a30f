"""The catalogue as a CSV or JSON download, written a batch of rows at a time, never all held.

Once the first bytes are sent the status cannot change, so a failure must be
known before, or break the download: `started` reads and signs the first batch
while an error can still be answered (503 `storage_unavailable`); a failure
after that is raised through the server, which ends the response without its
closing chunk, so the client sees an incomplete download, never a short file
that looks whole.
"""

import contextlib
import csv
import io

from pydantic_core import to_json

COLUMNS = [
    "id",
    "name",
    "barcode",
    "category_id",
    "category",
    "company_id",
    "company",
    "added_by_id",
    "added_by_name",
    "added_by_email",
    "created_at",
    "updated_at",
    "photo_urls",
]
# A cell starting with one of these runs as a formula in a spreadsheet; the quote defuses it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}


def started(catalogue):
    """Read the first product now (its whole batch, photo URLs signed), the rest as it goes."""
    first = next(catalogue, None)

    def rest():
        with contextlib.closing(catalogue):  # its connection goes back when the download ends
            if first is not None:
                yield first
                yield from catalogue

    return rest()


def chunks(catalogue, format: str, *, base_url: str):
    """Yield the catalogue's products as pieces of a CSV or JSON file."""
    if format == "csv":
        return _csv(catalogue, base_url)
    return _json(catalogue)


def _flat(product: dict, base_url: str) -> list:
    return [
        product["id"],
        product["name"],
        product["barcode"],
        product["category"]["id"],
        product["category"]["name"],
        product["company"]["id"],
        product["company"]["name"],
        product["created_by"]["id"],
        product["created_by"]["name"] or "",
        product["created_by"]["email"],
        product["created_at"].isoformat().replace("+00:00", "Z"),
        product["updated_at"].isoformat().replace("+00:00", "Z"),
        " ".join(_absolute(photo["url"], base_url) for photo in product["photos"] if photo["url"]),
    ]


def _absolute(url: str, base_url: str) -> str:
    # The local backend's URLs are relative to the API; a spreadsheet needs the whole address.
    return url if "://" in url else base_url + url


def _defused(value):
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv(catalogue, base_url: str):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The byte order mark tells spreadsheets the file is UTF-8 (names in Arabic, French...).
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    for count, product in enumerate(catalogue, start=1):
        writer.writerow([_defused(value) for value in _flat(product, base_url)])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(catalogue):
    yield '{"status":200,"message":"","data":['
    separator = ""
    for product in catalogue:
        yield separator + to_json(product).decode()
        separator = ","
    yield "]}"
