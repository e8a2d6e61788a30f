"""The local storage backend: files in a folder, which the API serves itself.

For development and single-machine deployments. Its URLs are the stable API
paths, `/photos/ab/cdef....jpg`, relative to the API: the app resolves them
against the base URL it already calls, and no Host header is ever trusted to
build an absolute one. Uploads in two steps come to the API too (`upload_target`
is None): there is no other server to send them to.
"""

import logging
import os
import tempfile
from pathlib import Path

from productinfo.storage import (
    STABLE_PREFIX,
    PhotoNotFound,
    Storage,
    StorageUnavailable,
    check_key,
    content_type_of,
)

log = logging.getLogger(__name__)


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

    def get(self, key: str) -> bytes:
        """Read the file of a key."""
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise PhotoNotFound() from None
        except OSError as error:
            log.error("cannot read %s: %s", key, error)
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
        """Return the path the API serves the object at, relative to its base URL."""
        return STABLE_PREFIX + check_key(key)

    def local_file(self, key: str) -> Path:
        """Return the file of a key, which the API serves itself."""
        return self.path(key)
