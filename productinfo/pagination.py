"""Keyset pagination: a page costs the same however deep it is.

A cursor is the sort key of the last row of a page, encoded so that clients
treat it as opaque. `encode_cursor` and `decode_cursor` are the one codec of
every cursor the API issues, the sync pull's included.
"""

import base64
import binascii
import json
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import BigInteger, Select, tuple_

from productinfo.errors import ValidationFailed
from productinfo.fields import Model

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(state) -> str:
    """Encode JSON-able state (a sort key, a pull's positions) as an opaque, URL-safe token."""
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_cursor(token):
    """Decode a token made by `encode_cursor`; raise ValueError if it is not one."""
    if not isinstance(token, str):
        raise ValueError("must be a cursor string")
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, RecursionError):  # too deep to be one of ours
        raise ValueError("is not a cursor this API issued") from None


NOT_OURS = "is not a cursor this API issued"


def _sort_key(token) -> tuple | None:
    """Decode the cursor of a list page: the sort key of the page's last row; none for ""."""
    if token == "":  # `cursor=`: the first page, as clients send it
        return None
    try:
        values = decode_cursor(token)
    except ValueError:
        values = None
    if not isinstance(values, list) or not values:
        raise PydanticCustomError("invalid_cursor", NOT_OURS)
    return tuple(values)


CURSOR_SCHEMA = {
    "type": "string",
    "description": "Opaque: `next_cursor` of the previous page, as it came; empty or left "
    "out for the first page. Any other text is a 422 `invalid_cursor`.",
}
Cursor = Annotated[tuple | None, BeforeValidator(_sort_key), WithJsonSchema(CURSOR_SCHEMA)]


class PageQuery(Model):
    """The paging parameters every list endpoint accepts."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    cursor: Cursor = None


def keyset(
    query: Select, key: tuple, cursor: tuple | None, limit: int, *, descending=False
) -> Select:
    """Return `query` ordered by `key`, starting after `cursor`, one row longer than a page."""
    if cursor is not None:
        if not _fits(cursor, key):
            raise ValidationFailed.field(
                "cursor", "is not a cursor of this list", code="invalid_cursor"
            )
        after = tuple_(*key) < tuple_(*cursor) if descending else tuple_(*key) > tuple_(*cursor)
        query = query.where(after)
    order = [column.desc() for column in key] if descending else list(key)
    return query.order_by(*order).limit(limit + 1)


def split_page(rows: list, key_names: tuple[str, ...], limit: int) -> tuple[list, str | None]:
    """Cut the extra row `keyset` asked for and derive the next cursor from the last kept row."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1][name] for name in key_names])


def _fits(cursor: tuple, key: tuple) -> bool:
    """Tell whether a cursor's values have the types, and ranges, of the sort key's columns."""
    return len(cursor) == len(key) and all(
        isinstance(value, column.type.python_type)
        and not isinstance(value, bool)
        and (not isinstance(value, int) or in_range(value, column.type))
        for value, column in zip(cursor, key, strict=True)
    )


def in_range(value: int, column_type) -> bool:
    """Tell whether an integer fits a column: 64 bits for BigInteger, else 32."""
    bits = 64 if isinstance(column_type, BigInteger) else 32
    return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
