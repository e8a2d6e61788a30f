"""HTTP endpoints of products."""

from flask import current_app, stream_with_context

from productinfo.auth import guard
from productinfo.auth.guard import current_user
from productinfo.db import connection, get_engine, utcnow
from productinfo.envelope import ok
from productinfo.errors import ValidationFailed
from productinfo.http import ApiBlueprint
from productinfo.ledger import PushAnswer
from productinfo.pagination import PageQuery
from productinfo.products import changes, export, queries, service
from productinfo.products.schemas import (
    BarcodePath,
    ExportQuery,
    HistoryQuery,
    NewProducts,
    Product,
    ProductChanges,
    ProductEvent,
    ProductFilters,
    ProductPath,
    ProductRef,
    ProductsToAdd,
    SearchQuery,
    SyncOneProduct,
    SyncProducts,
)
from productinfo.storage import get_storage

bp = ApiBlueprint("products", __name__)


def _checksum() -> str:
    return current_app.config["BARCODE_CHECKSUM"]


def _warnings(warnings) -> str:
    return " ".join(warning for warning in warnings if warning)


@bp.write("/products.add", body=ProductsToAdd, response=Product | list[Product] | PushAnswer)
def add_products(body):
    """Add one product, or many under `products`, all or none.

    409 `barcode_taken` when a live product has the barcode already, in any printed
    form: `data` is that product, with who added it and when. 422
    `invalid_check_digit` names the expected digit; 422 `unknown_category` or
    `unknown_company` name the field. With `device_id`: the sync push, where each
    product has a `local_id`, may name its company by `company_local_id`, and gets a
    result of its own.
    """
    conn, user_id = connection(), current_user().id
    if isinstance(body, SyncProducts | SyncOneProduct):
        answer, warnings = service.push(
            conn,
            user_id=user_id,
            device_id=body.device_id,
            items=body.products if isinstance(body, SyncProducts) else [body.record()],
            checksum=_checksum(),
        )
        return ok(PushAnswer.model_validate(answer), message=warnings)
    many = isinstance(body, NewProducts)
    created = service.add_many(
        conn,
        get_storage(),
        body.products if many else [body],
        user_id=user_id,
        checksum=_checksum(),
        prefix="products" if many else "",
    )
    found = [Product.model_validate(product) for product, _ in created]
    message = _warnings(warning for _, warning in created)
    return ok(found if many else found[0], message=message)


@bp.read(
    "/products.getByBarcode/<path:barcode>",
    path=BarcodePath,
    response=Product,
    session_in_query=True,
)
def get_product_by_barcode(barcode: str):
    """Find the product of a barcode, in any printed form (UPC-A finds its EAN-13); 404 if none."""
    # The app's most frequent call: the caller's session is read with the product.
    product = queries.get_by_barcode(
        connection(), get_storage(), barcode, checksum=_checksum(), run=guard.checked
    )
    return ok(Product.model_validate(product))


@bp.read("/products.getById/<product_id>", path=ProductPath, response=Product)
def get_product(product_id: int):
    """Get one product."""
    return ok(Product.model_validate(queries.get(connection(), get_storage(), product_id)))


@bp.read(
    "/products.changes/<product_id>",
    path=ProductPath,
    query=PageQuery,
    response=list[ProductEvent],
    paginated=True,
)
def get_product_changes(product_id: int, query: PageQuery):
    """List a product's history, newest first: who added it, who changed what and when.

    A deleted or merged product keeps its history.
    """
    events, next_cursor = changes.events(
        connection(), product_id, cursor=query.cursor, limit=query.limit
    )
    return ok([ProductEvent.model_validate(e) for e in events], next_cursor=next_cursor)


@bp.read("/products.history", query=HistoryQuery, response=list[Product], paginated=True)
def get_product_history(query: HistoryQuery):
    """List products newest first: the caller's (`scope=mine`, the default) or everyone's.

    Filters: `created_by` (with `scope=all`), `category_id`, `company_id`, and when
    they were added, `from` (inclusive) and `to` (exclusive).
    """
    me = current_user().id
    if query.scope == "mine" and query.created_by not in (None, me):
        raise ValidationFailed.field(
            "created_by", "is someone else: ask with scope=all", code="conflicting_filters"
        )
    filters = _filters(query, created_by=me if query.scope == "mine" else query.created_by)
    found, next_cursor = queries.history(
        connection(), get_storage(), filters=filters, cursor=query.cursor, limit=query.limit
    )
    return ok([Product.model_validate(p) for p in found], next_cursor=next_cursor)


@bp.read("/products.search", query=SearchQuery, response=list[Product], paginated=True)
def search_products(query: SearchQuery):
    """Find products by part of their name or their manufacturer's name, newest first.

    The filters of `/products.history` apply too.
    """
    found, next_cursor = queries.search(
        connection(),
        get_storage(),
        q=query.q,
        filters=_filters(query),
        cursor=query.cursor,
        limit=query.limit,
    )
    return ok([Product.model_validate(p) for p in found], next_cursor=next_cursor)


def _filters(query: ProductFilters, **overrides) -> queries.Filters:
    values = {
        "created_by": query.created_by,
        "category_id": query.category_id,
        "company_id": query.company_id,
        "since": query.from_,
        "until": query.to,
    }
    return queries.Filters(**{**values, **overrides})


@bp.write("/products.update", body=ProductChanges, response=Product)
def update_product(body: ProductChanges):
    """Correct the name, barcode, category or company of a product.

    Only the person who added it or an admin (403 `not_your_product`); any other
    field is a 422.
    """
    user = current_user()
    product, warning = service.update(
        connection(),
        get_storage(),
        body,
        user_id=user.id,
        is_admin=user.role == "admin",
        checksum=_checksum(),
    )
    return ok(Product.model_validate(product), message=warning or "")


@bp.write("/products.delete", body=ProductRef)
def delete_product(body: ProductRef):
    """Delete a product (the person who added it or an admin); synced apps see a tombstone."""
    user = current_user()
    service.delete(connection(), body.id, user_id=user.id, is_admin=user.role == "admin")
    return ok(message="Deleted.")


@bp.read(
    "/products.export",
    access="admin",
    query=ExportQuery,
    response=list[Product],
    media=("text/csv",),
)
def export_products(query: ExportQuery):
    """Download the whole catalogue as CSV or JSON, streamed as it is read.

    The filters of `/products.history`, and a search's `q`, export only what they keep.
    Photo URLs need no token: signed for SIGNED_URL_SECONDS with a private bucket. 503
    `storage_unavailable` when photo storage is down; if it fails later, the download
    breaks off (incomplete), never ends as if whole.
    """
    engine, storage, filters = get_engine(), get_storage(), _filters(query)

    def catalogue():
        with engine.connect() as conn:
            if query.q:
                yield from queries.all_found(conn, storage, q=query.q, filters=filters)
            else:
                yield from queries.all_live(conn, storage, filters=filters)

    rows = export.started(catalogue())
    body = export.chunks(rows, query.format, base_url=current_app.config["PUBLIC_BASE_URL"])
    response = current_app.response_class(
        stream_with_context(body), mimetype=export.MEDIA_TYPES[query.format]
    )
    filename = f"products-{utcnow():%Y-%m-%d}.{query.format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # it names the staff
    return response
