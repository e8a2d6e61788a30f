"""The root and health endpoints, for people and for uptime checks."""

from flask import g
from pydantic import BaseModel
from sqlalchemy import text

from productinfo import __version__
from productinfo.db import connection
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint

bp = ApiBlueprint("health", __name__)


class About(BaseModel):
    name: str
    version: str
    docs: str


class Health(BaseModel):
    database: str


@bp.read("/", access="public", response=About)
def index():
    """Name the service and its version."""
    return ok(About(name="productinfo", version=__version__, docs="/docs"))


# An uptime check gives up after a few seconds: a stuck database must not hold it.
HEALTH_TIMEOUT_SECONDS = 2


@bp.read("/health", access="public", response=Health)
def health():
    """Check that the database answers and is migrated.

    503 `database_unavailable` if it does not answer within seconds; 503
    `migrations_pending`, naming both revisions and the command to run, if its
    schema is older than the code's.
    """
    g.db_timeout = HEALTH_TIMEOUT_SECONDS
    connection().execute(text("SELECT 1"))
    return ok(Health(database="ok"))
