"""HTTP endpoints of the catalogue: categories and companies."""

from productinfo.auth.guard import current_user
from productinfo.catalog import service
from productinfo.catalog.schemas import (
    Category,
    CategoryPath,
    CategoryQuery,
    CategoryUpdate,
    CompaniesToAdd,
    Company,
    CompanyMapping,
    CompanyQuery,
    NewCategory,
    SyncCompanies,
)
from productinfo.db import connection
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint
from productinfo.ledger import PushAnswer

bp = ApiBlueprint("catalog", __name__)


@bp.read("/categories.get", query=CategoryQuery, response=list[Category], paginated=True)
def get_categories(query: CategoryQuery):
    """List the categories in name order."""
    rows, next_cursor = service.get_categories(connection(), cursor=query.cursor, limit=query.limit)
    return ok([Category.model_validate(row) for row in rows], next_cursor=next_cursor)


@bp.read("/categories.getById/<category_id>", path=CategoryPath, response=Category)
def get_category(category_id: int):
    """Get one category."""
    return ok(Category.model_validate(service.get_category(connection(), category_id)))


@bp.write("/categories.add", access="admin", body=NewCategory, response=Category)
def add_category(body: NewCategory):
    """Create a category; 409 `category_exists` if the name is taken, in any case."""
    row = service.create_category(connection(), name=body.name, user_id=current_user().id)
    return ok(Category.model_validate(row))


@bp.write("/categories.update", access="admin", body=CategoryUpdate, response=Category)
def update_category(body: CategoryUpdate):
    """Rename a category; 409 `category_exists` if the new name is taken."""
    row = service.rename_category(
        connection(), category_id=body.id, name=body.name, user_id=current_user().id
    )
    return ok(Category.model_validate(row))


@bp.read("/companies.get", query=CompanyQuery, response=list[Company], paginated=True)
def get_companies(query: CompanyQuery):
    """List manufacturers in name order, optionally those whose name contains `q`."""
    rows, next_cursor = service.get_companies(
        connection(), q=query.q, cursor=query.cursor, limit=query.limit
    )
    return ok([Company.model_validate(row) for row in rows], next_cursor=next_cursor)


@bp.write("/companies.add", body=CompaniesToAdd, response=CompanyMapping | PushAnswer)
def add_companies(body):
    """Store the app's new manufacturers and map each local id to a server id.

    A name that exists already, in any case or spacing, maps to the existing company.
    Without `device_id`: all or nothing; if any item is invalid, the answer names it
    and nothing is stored. With `device_id`: the sync push, a result per record.
    """
    conn = connection()
    if isinstance(body, SyncCompanies):
        answer = service.push_companies(
            conn, user_id=current_user().id, device_id=body.device_id, items=body.companies
        )
        return ok(PushAnswer.model_validate(answer))
    mapping = service.add_companies(conn, body.companies, user_id=current_user().id)
    return ok(CompanyMapping(mapping=mapping))
