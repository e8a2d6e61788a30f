"""Which live products a search finds: a page of ids, newest first, found through an index.

A product is found when its name key contains the folded term, or its maker's
does. Asked as one `WHERE name LIKE ... OR company_id IN (makers)`, neither
database can use an index for the OR and both scan every product. So each side
is a branch of its own, ordered and limited to one page (after the cursor,
filtered), and the page is the newest of their union:

- Postgres: `LIKE '%term%'`, which the trigram GIN indexes of the name keys serve;
- SQLite: the FTS5 trigram indexes of migration 0010, walked newest first, each
  hit checked again with the same LIKE, so that what matches stays exactly what
  `contains` matches (the index folds case further than LIKE does). A term of
  fewer than three characters holds no trigram: it takes the plain scan, which
  stops as soon as a page is full.
"""

from sqlalchemy import Connection, Integer, column, or_, select, table, union

from productinfo.catalog.models import companies
from productinfo.pagination import keyset
from productinfo.products.models import products

LIVE = products.c.deleted_at.is_(None)
TRIGRAM = 3

# SQLite only: external-content FTS5 tables, one index row per row of their table.
products_search = table("products_search", column("rowid", Integer), column("name_key"))
companies_search = table("companies_search", column("rowid", Integer), column("name_key"))


def found_ids(conn: Connection, folded: str, *, filters, cursor, limit: int):
    """Return a query of the ids of the live products (that the filters keep) whose name or
    maker's name contains `folded`, newest first after `cursor`, one more than a page."""
    if conn.dialect.name == "sqlite":
        if len(folded) < TRIGRAM:
            return _scan(folded, filters=filters, cursor=cursor, limit=limit)
        # Ordered by the index's own rowid (the product's id), which it walks newest first.
        by_name = _indexed(products, products_search, folded).where(LIVE)
        name_order = products_search.c.rowid
        makers = _indexed(companies, companies_search, folded)
    else:
        by_name, name_order = _ids().where(_contains(products.c.name_key, folded)), products.c.id
        makers = select(companies.c.id).where(_contains(companies.c.name_key, folded))
    by_maker = _ids().where(products.c.company_id.in_(makers))
    branches = [
        keyset(filters.apply(branch), key, cursor, limit, descending=True).subquery()
        for branch, key in ((by_name, (name_order,)), (by_maker, (products.c.id,)))
    ]
    return union(*(select(branch.c.id) for branch in branches))


def _contains(name_key, folded: str):
    """Tell whether a name key contains the folded term, `%`, `_` and `\\` being literal."""
    return name_key.contains(folded, autoescape=True)


def _ids():
    return select(products.c.id).where(LIVE)


def _scan(folded: str, *, filters, cursor, limit: int):
    """Return the plain query: every live product, newest first, until a page is found."""
    makers = select(companies.c.id).where(_contains(companies.c.name_key, folded))
    query = _ids().where(
        or_(_contains(products.c.name_key, folded), products.c.company_id.in_(makers))
    )
    return keyset(filters.apply(query), (products.c.id,), cursor, limit, descending=True)


def _phrase(folded: str) -> str:
    """Quote a term as one FTS5 phrase, so that its quotes and words (AND, NEAR...) are text."""
    return '"' + folded.replace('"', '""') + '"'


def _indexed(named, index, folded: str):
    """Select the ids of a named table's rows whose name key contains `folded`, by its index."""
    return (
        select(named.c.id)
        .select_from(index.join(named, named.c.id == index.c.rowid))
        .where(index.c.name_key.match(_phrase(folded)), _contains(named.c.name_key, folded))
    )
