"""HTTP endpoints of duplicates and merges (admins only)."""

from functools import partial

from productinfo.auth.guard import current_user
from productinfo.db import after_commit, connection
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint
from productinfo.merges import duplicates, service
from productinfo.merges.schemas import (
    CompanyMerge,
    DuplicateGroup,
    DuplicatesQuery,
    Merge,
    ProductMerge,
)
from productinfo.photos.service import remove_objects
from productinfo.storage import get_storage

bp = ApiBlueprint("merges", __name__)


@bp.read(
    "/companies.duplicates",
    access="admin",
    query=DuplicatesQuery,
    response=list[DuplicateGroup],
    paginated=True,
)
def get_duplicate_companies(query: DuplicatesQuery):
    """List groups of likely twin manufacturers, the most alike first.

    Alike: the same name once case, accents, punctuation and legal forms are left
    out, or a trigram similarity of the names of at least `similarity`.
    """
    groups, next_cursor = duplicates.find(
        connection(), threshold=query.similarity, cursor=query.cursor, limit=query.limit
    )
    return ok([DuplicateGroup.model_validate(g) for g in groups], next_cursor=next_cursor)


@bp.write("/companies.merge", access="admin", body=Merge, response=CompanyMerge)
def merge_companies(body: Merge):
    """Merge manufacturer `from_id` into `into_id`: its products move, it becomes a tombstone.

    Pulls then list `from_id` as deleted and its products as changed; a device's
    later push naming the removed company's local id, or its name, lands on the kept
    one. 404 `company_not_found`; 409 `company_removed` (merged already, into
    another); 422 `merge_into_itself`. The same merge sent again changes nothing.
    """
    answer = service.merge_companies(
        connection(), from_id=body.from_id, into_id=body.into_id, user_id=current_user().id
    )
    return ok(CompanyMerge.model_validate(answer))


@bp.write("/products.merge", access="admin", body=Merge, response=ProductMerge)
def merge_products(body: Merge):
    """Merge product `from_id` into `into_id`, the same product keyed twice.

    Its photos move to the kept product (one the kept product has already, the same
    upload, stays once); it becomes a tombstone, which pulls list as deleted; a
    device's later push naming its local id lands on the kept one. 404
    `product_not_found`; 409 `product_removed` (deleted, or merged into another); 422
    `merge_into_itself`. The same merge sent again changes nothing.
    """
    storage = get_storage()
    answer, keys = service.merge_products(
        connection(), storage, from_id=body.from_id, into_id=body.into_id, user_id=current_user().id
    )
    after_commit(partial(remove_objects, storage, keys))
    return ok(ProductMerge.model_validate(answer))
