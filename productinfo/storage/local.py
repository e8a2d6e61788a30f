"""The local storage backend: files in a folder, served by the app at GET /photos/<key>.

For development and single-machine deployments. URLs are relative to the API,
`/photos/ab/cdef....jpg`: the app resolves them against the base URL it already
calls, and no Host header is ever trusted to build an absolute one.
"""

import logging
import os
import tempfile
from pathlib import Path

from flask import Blueprint, send_file

from productinfo.ratelimit import limiter
from productinfo.storage import (
    PhotoNotFound,
    Storage,
    StorageUnavailable,
    check_key,
    content_type_of,
    get_storage,
    is_valid_key,
)

log = logging.getLogger(__name__)

URL_PREFIX = "/photos/"
# Keys never change meaning (same key, same bytes), so clients and proxies may keep them.
CACHE_SECONDS = 365 * 24 * 3600

bp = Blueprint("photos_local", __name__)


class LocalStorage(Storage):
    """Keep objects as files under a folder, one file per key."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Return the file of a key; `check_key` guarantees it lies inside the folder."""
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file through a temporary one, so that no reader sees half of it."""
        path = self.path(key)
        if content_type != content_type_of(key):
            raise ValueError(f"{key!r} is served as {content_type_of(key)}, not {content_type}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            log.error("cannot store %s: %s", key, error)
            raise StorageUnavailable() from error

    def delete(self, keys: list[str]) -> None:
        """Remove the files of the keys that have one."""
        paths = [self.path(key) for key in keys]
        try:
            for path in paths:
                path.unlink(missing_ok=True)
        except OSError as error:
            log.error("cannot delete %s: %s", path, error)
            raise StorageUnavailable() from error

    def url(self, key: str) -> str:
        """Return the path the app serves the object at, relative to the API's base URL."""
        return URL_PREFIX + check_key(key)


# `merge_slashes=False`: `/photos//etc/passwd` is a JSON 404, not a redirect elsewhere.
# Photos are fetched by the dozen with each list of products: no request limit here.
@bp.get(URL_PREFIX + "<path:key>", merge_slashes=False)
@limiter.exempt
def get_photo(key: str):
    """Serve a stored object with its content type and a cache lifetime of a year."""
    storage = get_storage()
    # Anything but a key `make_key` could have made is not there: no traversal, no listing.
    if not is_valid_key(key):
        raise PhotoNotFound()
    try:
        response = send_file(
            storage.path(key), mimetype=content_type_of(key), max_age=CACHE_SECONDS
        )
    except FileNotFoundError:
        raise PhotoNotFound() from None
    response.cache_control.immutable = True
    return response
