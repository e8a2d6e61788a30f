"""The root and health endpoints, for people and for uptime checks."""

from flask import g
from pydantic import Field
from sqlalchemy import text

from productinfo import __version__
from productinfo.db import connection
from productinfo.envelope import ok
from productinfo.fields import Model
from productinfo.http import ApiBlueprint
from productinfo.ratelimit import limiter, storage_state

bp = ApiBlueprint("health", __name__)


class About(Model):
    name: str
    version: str
    docs: str


class Health(Model):
    database: str
    rate_limits: str = Field(
        description="`ok`; `degraded` while the shared counters (Redis) are unreachable and "
        "each instance counts requests on its own; `off` when limits are disabled."
    )


@bp.read("/", access="public", response=About)
def index():
    """Name the service and its version."""
    return ok(About(name="productinfo", version=__version__, docs="/docs"))


# An uptime check gives up after a few seconds: a stuck database must not hold it.
HEALTH_TIMEOUT_SECONDS = 2


@bp.read("/health", access="public", response=Health)
@limiter.exempt
def health():
    """Check that the database answers and is migrated, and report the rate limits.

    503 `database_unavailable` if it does not answer within seconds; 503
    `migrations_pending`, naming both revisions and the command to run, if its
    schema is older than the code's. Never rate-limited.
    """
    g.db_timeout = HEALTH_TIMEOUT_SECONDS
    connection().execute(text("SELECT 1"))
    limits = storage_state()
    message = ""
    if limits == "degraded":
        message = "The rate-limit storage is unreachable: each instance counts requests alone."
    return ok(Health(database="ok", rate_limits=limits), message=message)
