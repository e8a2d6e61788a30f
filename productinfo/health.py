"""The root and health endpoints, for people and for uptime checks."""

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


@bp.read("/health", access="public", response=Health)
def health():
    """Check that the database answers; 503 `database_unavailable` if it does not."""
    connection().execute(text("SELECT 1"))
    return ok(Health(database="ok"))
