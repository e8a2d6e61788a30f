"""The admin console: the static page in public/admin, served at /admin with a strict CSP.

On Vercel the platform serves public/ itself, before the rewrite to the function,
with the same headers from vercel.json. Under `flask run` and waitress this
blueprint serves the same files. The page only calls the public API.
"""

from pathlib import Path

from flask import Blueprint, send_from_directory

from productinfo.ratelimit import limiter

ROOT = Path(__file__).resolve().parent.parent / "public" / "admin"

# No inline script or style, nothing from another origin; photos arrive as blob: URLs
# made from authorised fetches. Keep in step with the /admin headers in vercel.json.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

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
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
