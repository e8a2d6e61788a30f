"""HTTP endpoint of the dashboard's numbers (admins only)."""

from productinfo.db import connection, utcnow
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint
from productinfo.stats import service
from productinfo.stats.schemas import Dashboard, StatsQuery

bp = ApiBlueprint("stats", __name__)


@bp.read("/stats.get", access="admin", query=StatsQuery, response=Dashboard)
def get_stats(query: StatsQuery):
    """Get the dashboard's numbers: captures per day (per person and in all) over `days`
    days, products without photos, photos per product, the manufacturers with the most
    products, the most active staff this week."""
    until = query.until or utcnow().date()
    numbers = service.summary(connection(), days=query.days, until=until)
    return ok(Dashboard.model_validate(numbers).model_dump(by_alias=True))
