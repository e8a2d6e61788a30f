"""The stable URL of every stored photo: GET /photos/<key>, for signed-in staff only.

The same path works on every backend and for ever, so the app may keep it as long
as it likes. The local backend's bytes are served here; a Supabase bucket's
object is a redirect to a freshly signed URL (a private bucket) or to its public
URL. A stranger gets a 401 and learns nothing, not even whether the photo exists.
"""

from flask import redirect, send_file
from pydantic import Field

from productinfo.fields import Model
from productinfo.http import ApiBlueprint
from productinfo.ratelimit import limiter
from productinfo.storage import CONTENT_TYPES, PhotoNotFound, content_type_of, get_storage
from productinfo.storage import is_valid_key as is_photo_key

# Keys never change meaning (same key, same bytes): the client may keep the bytes for a year.
CACHE_SECONDS = 365 * 24 * 3600


class _Blueprint(ApiBlueprint):
    # `/photos//etc/passwd` is a JSON 404, not a redirect to a path with one slash.
    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        options.setdefault("merge_slashes", False)
        super().add_url_rule(rule, endpoint, view_func, **options)


bp = _Blueprint("photo_files", __name__)


class PhotoKey(Model):
    key: str = Field(
        description="As in a photo's `url` or `thumbnail_url`: `ab/cdef….jpg`.",
        examples=["3e/ab09c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8.jpg"],
    )


# Photos are fetched by the dozen with each list of products: no request limit here.
@limiter.exempt
@bp.read("/photos/<path:key>", path=PhotoKey, media=tuple(CONTENT_TYPES.values()))
def get_photo(key: str):
    """Fetch a photo or thumbnail by its stable URL: the image, or a redirect to it.

    Send the bearer token, as for every call. The local backend answers the image
    itself (`Cache-Control: private`, for a year: the image behind a URL never
    changes). Supabase Storage answers 302 to a URL of the bucket, signed for a
    short while (private bucket) or public, which the client follows. 404
    `photo_not_found` when there is no such photo.
    """
    # Anything but a key `make_key` could have made is not there: no traversal, no listing,
    # and uploads waiting to be checked are never served.
    if not is_photo_key(key):
        raise PhotoNotFound()
    storage = get_storage()
    file = storage.local_file(key)
    if file is not None:
        try:
            response = send_file(file, mimetype=content_type_of(key), max_age=CACHE_SECONDS)
        except FileNotFoundError:
            raise PhotoNotFound() from None
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.immutable = True
        return response
    location, seconds = storage.redirect(key)
    response = redirect(location, 302)
    response.cache_control.private = True
    response.cache_control.max_age = seconds
    return response
