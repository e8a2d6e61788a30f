"""Which live products a search finds: a page of ids, newest first, found through an index.

A product is found when its name key contains the folded term, or its maker's
does. Asked as one `WHERE name LIKE ... OR company_id IN (makers)`, neither
database can use an index for the OR and both scan every product. So each side
is a branch of its own, ordered and limited to one page (after the cursor,
filtered), and the page is the newest of their union:

- Postgres: the trigram GIN indexes of the name keys serve `LIKE '%word%'`;
- SQLite: the FTS5 trigram indexes of migration 0010, walked newest first. A term
  of fewer than three characters holds no trigram: it takes the plain scan, which
  stops as soon as a page is full.

The index is asked for each word of the term (of three characters or more), not
for the whole term: the trigrams that span a space ("e d", " da") are in most
names and make the whole name's index scan several times longer. Every hit is then
checked against the whole term, exactly as `contains` matches it, so the index
only narrows the rows checked (FTS5 also folds more case than LIKE does).
"""

from sqlalchemy import Connection, Integer, and_, column, func, or_, select, table, union

from productinfo.catalog.models import companies
from productinfo.pagination import keyset
from productinfo.products.models import LIVE, products

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
        by_name = _ids().where(_has(products.c.name_key, folded))
        name_order = products.c.id
        makers = select(companies.c.id).where(_has(companies.c.name_key, folded))
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


def _words(folded: str) -> list[str]:
    """Return the words of a term an index can look up: each is in every name the term is in."""
    return [word for word in folded.split() if len(word) >= TRIGRAM] or [folded]


def _has(name_key, folded: str):
    """Tell whether a name key contains the term (on Postgres), its words looked up in the
    trigram index."""
    words = _words(folded)
    if words == [folded]:
        return _contains(name_key, folded)
    # strpos, unlike LIKE, is no index condition: it checks the hits, literally as LIKE would.
    return and_(*(_contains(name_key, word) for word in words), func.strpos(name_key, folded) > 0)


def _fts_query(folded: str) -> str:
    """Return an FTS5 query that every name containing the term matches: its words, each quoted
    as a phrase so that quotes and operators (AND, NEAR, *...) in it are text."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in _words(folded))


def _indexed(named, index, folded: str):
    """Select the ids of a named table's rows whose name key contains `folded`, by its index."""
    return (
        select(named.c.id)
        .select_from(index.join(named, named.c.id == index.c.rowid))
        .where(index.c.name_key.match(_fts_query(folded)), _contains(named.c.name_key, folded))
    )
