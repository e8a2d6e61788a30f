"""Per-address request limits with Flask-Limiter, counted in `RATELIMIT_STORAGE_URI`.

With several serverless instances, point it at a shared Redis (`redis://...`);
the default `memory://` counts per process. The stricter limits on sign-in
and password reset attempts per account are kept in the database (see
`productinfo.security.throttle`).
"""

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter


def client_address() -> str:
    """Return the caller's address, as seen through the trusted proxies."""
    return request.remote_addr or "unknown"


def default_limit() -> str:
    """Return the limit of every endpoint, per address (`RATE_LIMIT`)."""
    return current_app.config["RATE_LIMIT"]


def auth_limit() -> str:
    """Return the stricter limit of sign-in, sign-up and reset endpoints (`AUTH_RATE_LIMIT`)."""
    return current_app.config["AUTH_RATE_LIMIT"]


limiter = Limiter(
    key_func=client_address,
    default_limits=[default_limit],
    headers_enabled=False,
    key_prefix="productinfo",
)


def init_app(app: Flask) -> None:
    """Attach the limiter with the configured storage."""
    limiter.init_app(app)


def retry_after() -> int:
    """Return the seconds until the limit that was just hit resets."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)
