"""Per-address request limits with Flask-Limiter, counted in `RATELIMIT_STORAGE_URI`.

With several serverless instances, point it at a shared Redis (`redis://...`);
the default `memory://` counts per process. When the Redis cannot be reached,
the limits go on, counted by each instance in its own memory, and a warning is
logged; `/health` says `rate_limits: degraded` until the Redis answers again.
The stricter limits on sign-in and password reset attempts per account are kept
in the database (see `productinfo.security.throttle`).
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


# A Redis that does not answer within this many seconds counts as down.
REDIS_TIMEOUT = 1


def init_app(app: Flask) -> None:
    """Attach the limiter with the configured storage, and memory to fall back on."""
    config = app.config
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # An error the fallback does not cover is logged; the request is served unlimited.
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis", "rediss", "valkey")):
        # A hung Redis would otherwise hold every request for as long as the socket lives.
        timeouts = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", timeouts)
    limiter.init_app(app)
    # The limiter is one object for every app of the process (tests build many); each app
    # starts with its storage presumed up, whatever became of the previous one's.
    limiter._storage_dead = False


def storage_state() -> str:
    """Say how requests are counted: `ok`, `degraded` (per instance: Redis is down) or `off`."""
    if not limiter.enabled:
        return "off"
    return "ok" if limiter.storage.check() else "degraded"


def retry_after() -> int:
    """Return the seconds until the limit that was just hit resets."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)
