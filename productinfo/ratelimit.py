"""Per-address request limits with Flask-Limiter, counted in `RATELIMIT_STORAGE_URI`.

With several serverless instances, point it at a shared Redis (`redis://...`);
the default `memory://` counts per process. When the Redis cannot be reached,
the limits go on, counted by each instance in its own memory, and a warning is
logged; `/health` says `rate_limits: degraded` until the Redis answers again.
The stricter limits on sign-in and password reset attempts per account are kept
in the database (see `productinfo.security.throttle`).
"""

import threading
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES


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
    _count_in_memory_without_timers()


class SweptMemoryStorage(MemoryStorage):
    """Counters in memory, like `limits`' own, with expired keys swept by the requests.

    `limits`' MemoryStorage starts a timer thread from within a request whenever its
    last one has ended, so as to drop expired keys in the background: a thread started
    every few requests. This one sweeps them itself, at most every `SWEEP_SECONDS`, in
    the request that finds the time has come. Counting is unchanged: a key read after
    its expiry counts from zero, swept or not.
    """

    SWEEP_SECONDS = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one the base class starts when it is created
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (the base class's hook)
        if time.monotonic() < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweeping.release()


def _count_in_memory_without_timers() -> None:
    """Put swept memory storage where Flask-Limiter made `limits`' own: as the storage of
    `memory://`, and as the fallback while the Redis is down (it has no option for either)."""
    if limiter._strategy is None:  # the limiter is off
        return
    strategy = STRATEGIES[limiter._strategy]
    if type(limiter._storage) is MemoryStorage:
        limiter._storage = SweptMemoryStorage()
        limiter._limiter = strategy(limiter._storage)
    if type(getattr(limiter, "_fallback_storage", None)) is MemoryStorage:
        limiter._fallback_storage = SweptMemoryStorage()
        limiter._fallback_limiter = strategy(limiter._fallback_storage)


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
