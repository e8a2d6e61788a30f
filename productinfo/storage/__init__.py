"""Photo storage: one small interface, with a local folder or Supabase Storage behind it.

    Storage                     put, get, delete, urls, upload_target
     +-- LocalStorage           files under STORAGE_DIR, served by the API at GET /photos/<key>
     +-- SupabaseStorage        a Supabase Storage bucket: public URLs or signed ones

    NotFound (404)
     +-- PhotoNotFound          photo_not_found
    ServiceUnavailable (503)
     +-- StorageUnavailable     storage_unavailable: down or overloaded; a retry may succeed
    ApiError (500)
     +-- StorageMisconfigured   storage_misconfigured: refused for good (no such bucket, a
                                key it does not accept, limits below the app's); retrying
                                cannot help, an operator must fix the settings

Keys are made by the server (`make_key`, `make_staging_key`) and checked strictly
(`check_key`), so a key is always a safe relative path such as
`ab/cdef...-thumb.webp`. Objects never change once stored. Every photo has a
stable URL, the API path `/photos/<key>` (see `productinfo.storage.routes`),
which answers with the bytes or a redirect to them. STORAGE_BACKEND chooses the
backend, which is created on first use: a cold start that serves no photo never
imports the Supabase client.
"""

import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from flask import Flask, current_app

from productinfo.errors import ApiError, NotFound, ServiceUnavailable

# The content type of each stored object follows from its key, never from its bytes.
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {content_type: extension for extension, content_type in CONTENT_TYPES.items()}
# Two hex digits of the hash as a folder keeps folders small; hyphen and lowercase
# letters name a variant. No dot, slash or other character can reach a path.
KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{62}(?:-[a-z]{1,16})?\.(?:jpg|png|webp)")
# Uploads as the app sent them, waiting to be checked: never served, whatever they hold.
STAGING_PREFIX = "staging/"
STAGING_KEY = re.compile(r"staging/[0-9a-f]{32}")
STAGED_TYPE = "application/octet-stream"
# The stable URL of an object: the API answers it for signed-in staff on every backend.
STABLE_PREFIX = "/photos/"


class StorageUnavailable(ServiceUnavailable):
    """The storage backend failed in a way a retry may cure: down, unreachable, overloaded."""

    code = "storage_unavailable"

    def __init__(self, message: str = "Photo storage is unavailable. Retry shortly.", **kwargs):
        super().__init__(message, **kwargs)


class StorageMisconfigured(ApiError):
    """The storage backend refuses this server's requests for good: its settings need fixing."""

    status, code = 500, "storage_misconfigured"

    def __init__(self, message: str = "", **kwargs):
        super().__init__(
            message
            or "Photo storage refuses this server's requests: an operator must fix its "
            "settings. Retrying will not help.",
            **kwargs,
        )


class PhotoNotFound(NotFound):
    """No object is stored under the key."""

    code = "photo_not_found"

    def __init__(self, message: str = "There is no photo at this address.", **kwargs):
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class UploadTarget:
    """Where and how a client sends the bytes of an upload: the request to make."""

    url: str
    method: str
    headers: dict[str, str]


class Storage:
    """Store immutable objects under server-made keys and give out URLs to them."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what is there (the same key means the same bytes)."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """Return the bytes stored under `key`; PhotoNotFound if there are none."""
        raise NotImplementedError

    def delete(self, keys: list[str]) -> None:
        """Delete objects; a key with nothing stored under it is not an error."""
        raise NotImplementedError

    def url(self, key: str) -> str:
        """Return a URL a client outside the API can fetch the object from now."""
        raise NotImplementedError

    def urls(self, keys: list[str]) -> dict[str, str]:
        """Return the `url` of many objects at once; a backend may leave out objects it lacks."""
        return {key: self.url(key) for key in keys}

    def stable_urls(self, keys: list[str]) -> dict[str, str]:
        """Return the stable URL of each object, which answers signed-in staff for ever.

        No request to the backend is made: a list of products costs nothing here.
        """
        return {key: STABLE_PREFIX + check_key(key) for key in keys}

    def local_file(self, key: str) -> Path | None:
        """Return the file the API serves the object from, or None if it lives elsewhere."""
        return None

    def redirect(self, key: str) -> tuple[str, int]:
        """Return where to send a client for the object now, and how long it may keep that."""
        raise NotImplementedError

    def upload_target(self, key: str, *, content_type: str) -> UploadTarget | None:
        """Return where a client sends an upload's bytes itself, or None if the API takes them."""
        return None


def make_key(digest: str, content_type: str, *, variant: str = "") -> str:
    """Build an object's key from a hex sha256, its type and a variant name."""
    suffix = f"-{variant}" if variant else ""
    return check_key(f"{digest[:2]}/{digest[2:]}{suffix}.{EXTENSIONS[content_type]}")


def make_staging_key() -> str:
    """Return a new, unguessable key for an upload waiting to be checked."""
    return STAGING_PREFIX + secrets.token_hex(16)


def check_key(key: str) -> str:
    """Return `key` if the server could have made it (a photo or a staged upload), else raise."""
    if not (is_valid_key(key) or is_staging_key(key)):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def is_valid_key(key: str) -> bool:
    """Tell whether `key` has the one shape `make_key` gives: a photo's or a thumbnail's."""
    return isinstance(key, str) and KEY.fullmatch(key) is not None


def is_staging_key(key: str) -> bool:
    """Tell whether `key` names an upload waiting to be checked."""
    return isinstance(key, str) and STAGING_KEY.fullmatch(key) is not None


def content_type_of(key: str) -> str:
    """Return the content type an object is stored and served with, from its key."""
    if is_staging_key(key):
        return STAGED_TYPE
    return CONTENT_TYPES[check_key(key).rsplit(".", 1)[1]]


class _Slot:
    """Hold the storage backend of one app, created on first use."""

    def __init__(self, config):
        self.config = config

    @cached_property
    def backend(self) -> Storage:
        return create(self.config)


def create(config) -> Storage:
    """Create the backend that STORAGE_BACKEND names."""
    if config["STORAGE_BACKEND"] == "supabase":
        from productinfo.storage.supabase import SupabaseStorage

        return SupabaseStorage(
            url=config["SUPABASE_URL"],
            service_role_key=config["SUPABASE_SERVICE_ROLE_KEY"],
            bucket=config["SUPABASE_BUCKET"],
            public=config["SUPABASE_BUCKET_PUBLIC"],
            signed_url_seconds=config["SIGNED_URL_SECONDS"],
        )
    from productinfo.storage.local import LocalStorage

    return LocalStorage(config["STORAGE_DIR"])


def init_app(app: Flask) -> None:
    """Attach the configured storage backend and the route serving photos by stable URL."""
    from productinfo.storage.routes import bp

    app.extensions["storage"] = _Slot(app.config)
    app.register_blueprint(bp)


def get_storage() -> Storage:
    """Return the current app's storage backend."""
    return current_app.extensions["storage"].backend
