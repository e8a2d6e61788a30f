"""HTTP endpoint of the sync pull; the pushes are the write endpoints given a `device_id`."""

from productinfo.db import connection
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint
from productinfo.storage import get_storage
from productinfo.sync import service
from productinfo.sync.schemas import PullAnswer, PullQuery

bp = ApiBlueprint("sync", __name__)


PULL_FIELDS = {
    "next_cursor": {"type": "string", "description": "Pass as `cursor` to the next pull."},
    "has_more": {"type": "boolean", "description": "More is waiting: pull again at once."},
}


@bp.read("/sync.pull", query=PullQuery, response=PullAnswer, paginated=PULL_FIELDS)
def pull(query: PullQuery):
    """Return what changed since the cursor: categories, companies, products (with photos).

    Each kind lists the records created or updated, and the ids deleted. Keep
    `next_cursor` for the next pull; while `has_more` is true, pull again at once.
    No change is ever skipped, but a record may come twice: apply them as upserts.
    """
    changes, next_cursor, has_more = service.pull(
        connection(), get_storage(), cursor=query.cursor, limit=query.limit
    )
    return ok(PullAnswer.model_validate(changes), next_cursor=next_cursor, has_more=has_more)
