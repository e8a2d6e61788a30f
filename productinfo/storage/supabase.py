"""The Supabase Storage backend: objects in a bucket, through storage3's sync client.

storage3 is the Storage part of the `supabase` package, and the only part
installed: the others (auth, realtime, postgrest) would stay out of the cold start
anyway, but supabase-auth pulls in `cryptography`, which PyJWT imports whenever
it is installed (~40 ms on the first authenticated request). What the Storage server
expects, measured against it: a `content-type` on every upload (it would store
text/plain), `upsert` as the string "true", the data as `bytes`, and no `.` or
`..` path segments (keys never have any).

A public bucket gets public URLs, made without a request. A private bucket gets
signed URLs that expire after `signed_url_seconds`; `urls` signs a list in
requests of at most 1,000 paths, the most the Storage server signs at once.
Uploads in two steps go straight to the bucket, through a signed upload URL.
"""

import logging
from functools import cached_property

from productinfo.storage import (
    PhotoNotFound,
    Storage,
    StorageMisconfigured,
    StorageUnavailable,
    UploadTarget,
    check_key,
)

log = logging.getLogger(__name__)

# Keys never change meaning (same key, same bytes), so the CDN and clients may keep objects.
CACHE_SECONDS = 365 * 24 * 3600
# Fail a request well within a serverless function's time limit; connecting should be quick.
TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 3.0
# The Storage server refuses to sign more paths than this in one request.
SIGN_BATCH = 1000
# A client may keep a redirect to a signed URL for half its life, five minutes at most: it must
# never be sent to a URL that has expired. A public URL lasts as long as the bucket is public.
REDIRECT_SECONDS_MAX = 300
PUBLIC_REDIRECT_SECONDS = 24 * 3600


class SupabaseStorage(Storage):
    """Keep objects in a Supabase Storage bucket, with a key that bypasses its access policies."""

    def __init__(
        self,
        *,
        url: str,
        service_role_key: str,
        bucket: str,
        public: bool,
        signed_url_seconds: int,
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.public = public
        self.signed_url_seconds = signed_url_seconds
        self._settings = (url, service_role_key, bucket, timeout)

    @cached_property
    def bucket(self):
        """Build the Storage client on first use: a lookup's stable URLs never need it.

        httpx and storage3 take ~150 ms to import, which a cold start that only reads
        should not pay. Two threads racing here build two clients; one is kept.
        """
        import httpx
        from storage3 import SyncStorageClient

        url, service_role_key, bucket, timeout = self._settings
        # Our own HTTP client, to set the timeouts: storage3's `timeout` argument is deprecated.
        # Kept for the life of the process, so a warm instance reuses its connection.
        http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS))
        )
        headers = {"apikey": service_role_key}
        # The legacy service_role key is a JWT, which Storage reads from Authorization. A
        # secret key (sb_secret_...) is not a JWT and goes in `apikey` alone: the API gateway
        # hands Storage a token for it.
        if not service_role_key.startswith("sb_"):
            headers["Authorization"] = f"Bearer {service_role_key}"
        client = SyncStorageClient(f"{url.rstrip('/')}/storage/v1/", headers, http_client=http)
        return client.from_(bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload an object, replacing one stored under the same key (a retried upload)."""
        options = {
            "content-type": content_type,
            "cache-control": str(CACHE_SECONDS),
            "upsert": "true",
        }
        self._call("upload", self.bucket.upload, check_key(key), bytes(data), options)

    def get(self, key: str) -> bytes:
        """Download an object with the server's key; PhotoNotFound if there is none."""
        data = self._call("download", self.bucket.download, check_key(key), missing_ok=True)
        if data is None:
            raise PhotoNotFound()
        return data

    def delete(self, keys: list[str]) -> None:
        """Delete objects in one request; a 404 means they are gone already, which is the goal."""
        keys = [check_key(key) for key in keys]
        if keys:
            self._call("delete", self.bucket.remove, keys, missing_ok=True)

    def url(self, key: str) -> str:
        """Return the public URL, or a signed one; PhotoNotFound if there is nothing to sign."""
        check_key(key)
        if self.public:
            return self.bucket.get_public_url(key)
        signed = self._call(
            "sign", self.bucket.create_signed_url, key, self.signed_url_seconds, missing_ok=True
        )
        if signed is None:
            raise PhotoNotFound()
        return signed["signedURL"]

    def urls(self, keys: list[str]) -> dict[str, str]:
        """Return the URLs of many objects; a private bucket signs 1,000 per request."""
        keys = list(dict.fromkeys(check_key(key) for key in keys))
        if self.public:
            return {key: self.bucket.get_public_url(key) for key in keys}
        found = {}
        for start in range(0, len(keys), SIGN_BATCH):
            batch = keys[start : start + SIGN_BATCH]
            items = self._call(
                "sign", self.bucket.create_signed_urls, batch, self.signed_url_seconds
            )
            # An object that is gone comes back with an error and no URL: leave it out of the
            # answer rather than fail a whole list over one lost photo.
            found.update((item["path"], item["signedURL"]) for item in items if item["signedURL"])
        return found

    def redirect(self, key: str) -> tuple[str, int]:
        """Return the public URL, or a freshly signed one, and how long a client may keep it."""
        if self.public:
            return self.url(key), PUBLIC_REDIRECT_SECONDS
        return self.url(key), min(REDIRECT_SECONDS_MAX, self.signed_url_seconds // 2)

    def upload_target(self, key: str, *, content_type: str) -> UploadTarget:
        """Sign an upload URL for `key`, which the client PUTs the bytes to (retries replace)."""
        from storage3.types import CreateSignedUploadUrlOptions

        options = CreateSignedUploadUrlOptions(upsert="true")
        signed = self._call(
            "sign upload", self.bucket.create_signed_upload_url, check_key(key), options
        )
        return UploadTarget(signed["signed_url"], "PUT", {"Content-Type": content_type})

    def _call(self, action: str, method, *args, missing_ok: bool = False):
        """Call the Storage API, turning its failures into the app's errors.

        A 404 is None where `missing_ok` (an object that is gone); another 4xx is a
        refusal that no retry can cure (no such bucket, a key it does not accept,
        limits below the app's): StorageMisconfigured, a 500. A 5xx, a 429, an answer
        that is not Storage's JSON, or no answer: StorageUnavailable, a 503.
        """
        import httpx
        from storage3.exceptions import StorageApiError
        from storage3.utils import StorageException

        try:
            return method(*args)
        except StorageApiError as error:
            # `status` is the server's `statusCode`, a string such as '404', whatever the
            # HTTP status it came with (most errors come as HTTP 400).
            status = str(error.status)
            if missing_ok and status == "404":
                return None
            log.error(
                "storage %s failed: %s %s %s", action, error.status, error.code, error.message
            )
            if status.startswith("4") and status != "429":
                raise StorageMisconfigured() from error
            raise StorageUnavailable() from error
        # Network failures come through as raw httpx errors. A ValueError is an answer
        # that is not the JSON storage3 expects (our own keys are checked before the call).
        except (StorageException, httpx.HTTPError, ValueError) as error:
            log.error("storage %s failed: %r", action, error)
            raise StorageUnavailable() from error
