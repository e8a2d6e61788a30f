"""Photo storage: one small interface, with a local folder or Supabase Storage behind it.

    Storage                     put, delete, url, urls
     +-- LocalStorage           files under STORAGE_DIR, served at GET /photos/<key>
     +-- SupabaseStorage        a Supabase Storage bucket: public URLs or signed ones

    NotFound (404)
     +-- PhotoNotFound          photo_not_found
    ServiceUnavailable (503)
     +-- StorageUnavailable     storage_unavailable: the backend failed; retry later

Keys are made by the server from a content hash (`make_key`) and checked strictly
(`check_key`), so a key is always a safe relative path such as
`ab/cdef...-thumb.webp`. The same content gets the same key, so objects never
change once stored. STORAGE_BACKEND chooses the backend, which is created on
first use: a cold start that serves no photo never imports the Supabase client.
"""

import re
from functools import cached_property

from flask import Flask, current_app

from productinfo.errors import NotFound, ServiceUnavailable

# The content type of each stored object follows from its key, never from its bytes.
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {content_type: extension for extension, content_type in CONTENT_TYPES.items()}
# Two hex digits of the hash as a folder keeps folders small; hyphen and lowercase
# letters name a variant. No dot, slash or other character can reach a path.
KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{62}(?:-[a-z]{1,16})?\.(?:jpg|png|webp)")


class StorageUnavailable(ServiceUnavailable):
    """The storage backend failed: down, unreachable, or refusing the request."""

    code = "storage_unavailable"

    def __init__(self, message: str = "Photo storage is unavailable. Retry shortly.", **kwargs):
        super().__init__(message, **kwargs)


class PhotoNotFound(NotFound):
    """No object is stored under the key."""

    code = "photo_not_found"

    def __init__(self, message: str = "There is no photo at this address.", **kwargs):
        super().__init__(message, **kwargs)


class Storage:
    """Store immutable objects under server-made keys and give out URLs to them."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what is there (the same key means the same bytes)."""
        raise NotImplementedError

    def delete(self, keys: list[str]) -> None:
        """Delete objects; a key with nothing stored under it is not an error."""
        raise NotImplementedError

    def url(self, key: str) -> str:
        """Return a URL a client can fetch the object from."""
        raise NotImplementedError

    def urls(self, keys: list[str]) -> dict[str, str]:
        """Return the URLs of many objects at once; a backend may leave out objects it lacks."""
        return {key: self.url(key) for key in keys}


def make_key(digest: str, content_type: str, *, variant: str = "") -> str:
    """Build an object's key from the hex sha256 of its source, its type and a variant name."""
    suffix = f"-{variant}" if variant else ""
    return check_key(f"{digest[:2]}/{digest[2:]}{suffix}.{EXTENSIONS[content_type]}")


def check_key(key: str) -> str:
    """Return `key` if `make_key` could have made it, else raise ValueError."""
    if not is_valid_key(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def is_valid_key(key: str) -> bool:
    """Tell whether `key` has the one shape `make_key` gives."""
    return isinstance(key, str) and KEY.fullmatch(key) is not None


def content_type_of(key: str) -> str:
    """Return the content type an object is stored and served with, from its key."""
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
    """Attach the configured storage backend and, for the local one, the route serving photos."""
    app.extensions["storage"] = _Slot(app.config)
    if app.config["STORAGE_BACKEND"] == "local":
        from productinfo.storage.local import bp

        app.register_blueprint(bp)


def get_storage() -> Storage:
    """Return the current app's storage backend."""
    return current_app.extensions["storage"].backend
