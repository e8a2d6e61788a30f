"""HTTP endpoints of products."""

from productinfo.auth import activity
from productinfo.auth.guard import current_user
from productinfo.catalog import export, products
from productinfo.catalog.schemas import (
    BarcodePath,
    ExportQuery,
    HistoryQuery,
    NewProducts,
    Product,
    ProductChanges,
    ProductPath,
    ProductRef,
    ProductsToAdd,
    SearchQuery,
)
from productinfo.db import connection
from productinfo.envelope import ok
from productinfo.http import ApiBlueprint

bp = ApiBlueprint("products", __name__)


def _warnings(warnings) -> str:
    return " ".join(warning for warning in warnings if warning)


@bp.write("/products.add", body=ProductsToAdd, response=Product | list[Product])
def add_products(body):
    """Add one product, or many under `products`, all or none.

    409 `barcode_taken` when a live product has the barcode already, in any printed
    form: `data` is that product, with who added it and when. 422
    `invalid_check_digit` names the expected digit; 422 `unknown_category` or
    `unknown_company` name the field.
    """
    conn = connection()
    user = current_user()
    if isinstance(body, NewProducts):
        created = products.create_many(conn, body.products, user_id=user.id)
    else:
        created = [products.create(conn, body, user_id=user.id)]
    added = [{"product_id": product["id"]} for product, _ in created]
    activity.record_many(conn, user.id, "product_added", added)
    conn.commit()
    found = [Product.model_validate(product) for product, _ in created]
    message = _warnings(warning for _, warning in created)
    return ok(found if isinstance(body, NewProducts) else found[0], message=message)


@bp.read("/products.getByBarcode/<barcode>", path=BarcodePath, response=Product)
def get_product_by_barcode(barcode: str):
    """Find the product of a barcode, in any printed form (UPC-A finds its EAN-13); 404 if none."""
    return ok(Product.model_validate(products.get_by_barcode(connection(), barcode)))


@bp.read("/products.getById/<product_id>", path=ProductPath, response=Product)
def get_product(product_id: int):
    """Get one product."""
    return ok(Product.model_validate(products.get(connection(), product_id)))


@bp.read("/products.history", query=HistoryQuery, response=list[Product], paginated=True)
def get_product_history(query: HistoryQuery):
    """List products newest first: the caller's (`scope=mine`, the default) or everyone's."""
    found, next_cursor = products.history(
        connection(),
        user_id=current_user().id if query.scope == "mine" else None,
        category_id=query.category_id,
        company_id=query.company_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return ok([Product.model_validate(p) for p in found], next_cursor=next_cursor)


@bp.read("/products.search", query=SearchQuery, response=list[Product], paginated=True)
def search_products(query: SearchQuery):
    """Find products by part of their name or their manufacturer's name, newest first."""
    found, next_cursor = products.search(
        connection(), q=query.q, cursor=query.cursor, limit=query.limit
    )
    return ok([Product.model_validate(p) for p in found], next_cursor=next_cursor)


@bp.write("/products.update", body=ProductChanges, response=Product)
def update_product(body: ProductChanges):
    """Correct the name, barcode, category or company of a product.

    Only the person who added it or an admin (403 `not_your_product`); any other
    field is a 422.
    """
    conn = connection()
    user = current_user()
    product, warning = products.update_product(
        conn, body, user_id=user.id, is_admin=user.role == "admin"
    )
    fields = sorted(body.model_fields_set - {"id"})
    activity.record(conn, user.id, "product_updated", product_id=body.id, fields=fields)
    conn.commit()
    return ok(Product.model_validate(product), message=warning or "")


@bp.write("/products.delete", body=ProductRef)
def delete_product(body: ProductRef):
    """Delete a product (the person who added it or an admin); synced apps see a tombstone."""
    conn = connection()
    user = current_user()
    products.delete(conn, body.id, user_id=user.id, is_admin=user.role == "admin")
    activity.record(conn, user.id, "product_deleted", product_id=body.id)
    conn.commit()
    return ok(message="Deleted.")


@bp.read("/products.export", access="admin", query=ExportQuery)
def export_products(query: ExportQuery):
    """Download the whole catalogue as CSV or JSON, streamed as it is read."""
    return export.stream(query.format)
