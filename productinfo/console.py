"""The admin console: the static page in public/admin, served at /admin with a strict CSP.

On Vercel the platform serves public/ itself, before the rewrite to the function,
with the same headers from vercel.json. Under `flask run` and waitress this
blueprint serves the same files. The page only calls the public API.
"""

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, send_from_directory

from productinfo.ratelimit import limiter

ROOT = Path(__file__).resolve().parent.parent / "public" / "admin"

# No inline script or style, nothing from another origin; photos arrive as blob: URLs
# made from authorised fetches of /photos/<key>, which Supabase Storage answers with a
# redirect to its own origin, hence that origin in connect-src. Keep in step with the
# /admin headers in vercel.json (a Supabase project on a custom domain adds it there).
SUPABASE_ORIGINS = "https://*.supabase.co"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self' {storage}; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def content_security_policy(config) -> str:
    """Return the console's policy, allowing the configured Storage's own origin if need be."""
    storage = SUPABASE_ORIGINS
    if config["STORAGE_BACKEND"] == "supabase":
        parts = urlsplit(config["SUPABASE_URL"])
        if not parts.hostname.endswith(".supabase.co"):
            storage += f" {parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.format(storage=storage)


bp = Blueprint("console", __name__)


# The page loads a dozen small files at once: they count against no request limit.
@bp.get("/admin", strict_slashes=False)
@limiter.exempt
def console_page():
    """Serve the console's page."""
    return _send("index.html")


# `merge_slashes=False`: "/admin//etc/passwd" is a JSON 404, not a redirect.
@bp.get("/admin/<path:name>", merge_slashes=False)
@limiter.exempt
def console_file(name: str):
    """Serve one of the console's scripts, styles or images; a JSON 404 for anything else."""
    return _send(name)


def _send(name: str):
    # send_from_directory refuses paths that leave the folder, and directories, with a 404.
    response = send_from_directory(ROOT, name, max_age=0)
    # Unversioned file names: the browser revalidates each time (a 304 when unchanged).
    response.cache_control.no_cache = True
    response.headers["Content-Security-Policy"] = content_security_policy(current_app.config)
    return response
