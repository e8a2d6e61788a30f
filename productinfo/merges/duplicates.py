"""Likely twin manufacturers: the same name written differently, or names alike.

Offline capture makes twins ("Cevital" and "CEVITAL Spa"). Two live companies are
likely twins when

- their names are the same once case, accents, punctuation and legal forms (SPA,
  SARL, EURL...) are left out (`twin_key`): similarity 1, reason `same_name`;
- or their names are alike: the trigram similarity of their folded names reaches
  the threshold (0.5 by default). On Postgres, pg_trgm's `similarity()`, with the
  `%` operator served by a GIN trigram index on `companies.name_key`. On SQLite,
  the same measure computed here (`trigrams`, `similarity`: pg_trgm's definition)
  over the live companies, found through an index of trigrams built per request.

Each group is a company and its twins (see `gather`). The normalised names, and on SQLite the whole
comparison, are computed in Python over at most MAX_SCANNED companies (the oldest),
a bound far above a company catalogue's size; the answer says when it was reached.
"""

import re
import unicodedata
from collections import defaultdict
from itertools import combinations

from sqlalchemy import Connection, and_, func, select, text

from productinfo.catalog.models import companies
from productinfo.errors import ValidationFailed
from productinfo.pagination import encode_cursor
from productinfo.products.models import products

MAX_SCANNED = 20_000
LEGAL_FORMS = frozenset(
    "sa spa sarl eurl snc sas sasu ets etablissements ste societe cie co company inc ltd llc "
    "plc gmbh corp group groupe".split()
)
LIVE = companies.c.deleted_at.is_(None)


def twin_key(name: str) -> str:
    """Fold a name for comparison: no case, accents, punctuation or legal form."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    # "S.P.A." is a legal form too: single letters in a row are read as one word.
    text = re.sub(r"\b(\w)\.(?=\w\b)", r"\1", text)
    words = re.findall(r"[^\W_]+", text)
    kept = [word for word in words if word not in LEGAL_FORMS]
    return " ".join(kept or words)


def trigrams(text: str) -> set[str]:
    """Return the trigrams of a text as pg_trgm makes them: per word, padded "  word "."""
    found = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: set[str], b: set[str]) -> float:
    """Return pg_trgm's similarity of two trigram sets: shared ÷ all."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def find(conn: Connection, *, threshold: float, cursor=None, limit: int) -> tuple[list, str | None]:
    """Return a page of groups of likely twins, the most alike first, and the next cursor."""
    names = dict(
        conn.execute(
            select(companies.c.id, companies.c.name_key)
            .where(LIVE)
            .order_by(companies.c.id)
            .limit(MAX_SCANNED)
        ).all()
    )
    scores: dict[tuple[int, int], float] = {}
    by_key = defaultdict(list)
    for company_id, key in names.items():
        by_key[twin_key(key)].append(company_id)
    for same in by_key.values():
        for pair in combinations(same, 2):
            scores[pair] = 1.0
    alike = _similar_postgres if conn.dialect.name == "postgresql" else _similar_here
    for pair, score in alike(conn, names, threshold).items():
        scores.setdefault(pair, score)

    groups = gather(scores)
    ordered = sorted(groups, key=lambda group: (-group["similarity"], group["companies"][0]))
    if cursor is not None:
        if not _is_position(cursor):
            raise ValidationFailed.field("cursor", "is not a cursor of this list")
        after = (-cursor[0], cursor[1])
        ordered = [g for g in ordered if (-g["similarity"], g["companies"][0]) > after]
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last["similarity"], last["companies"][0]])
    return _described(conn, page), next_cursor


def _is_position(cursor) -> bool:
    return (
        len(cursor) == 2
        and isinstance(cursor[0], int | float)
        and type(cursor[1]) is int
        and not isinstance(cursor[0], bool)
    )


def _similar_postgres(conn: Connection, names: dict, threshold: float) -> dict:
    """Find pairs of live companies whose names are alike, with pg_trgm and its index."""
    a, b = companies.alias(), companies.alias()
    query = (
        select(a.c.id, b.c.id, func.similarity(a.c.name_key, b.c.name_key))
        # `%` (alike above pg_trgm's threshold) is what the GIN index serves.
        .join(b, and_(a.c.name_key.bool_op("%")(b.c.name_key), a.c.id < b.c.id))
        .where(a.c.deleted_at.is_(None), b.c.deleted_at.is_(None))
    )
    # The index leaves out fewer candidates at pg_trgm's default threshold (0.3) than at
    # the one asked: set for this query, then put back (the connection returns to a pool).
    setting = "pg_trgm.similarity_threshold"
    conn.execute(select(func.set_config(setting, str(threshold), False)))
    try:
        return {(first, second): float(found) for first, second, found in conn.execute(query)}
    finally:
        # A connection dropped on a timeout is discarded, setting and all; resetting it
        # would only hide the timeout (a 503) behind an error of its own (a 500).
        if not conn.invalidated:
            conn.execute(text(f"RESET {setting}"))


def _similar_here(conn: Connection, names: dict, threshold: float) -> dict:
    """Find pairs of companies whose names are alike, by trigram similarity computed here."""
    grams = {company_id: trigrams(key) for company_id, key in names.items()}
    holders = defaultdict(list)  # trigram -> companies whose name has it
    for company_id, found in grams.items():
        for gram in found:
            holders[gram].append(company_id)
    pairs = {}
    for company_id, found in grams.items():
        shared = defaultdict(int)
        for gram in found:
            for other in holders[gram]:
                if other > company_id:
                    shared[other] += 1
        for other, count in shared.items():
            score = count / (len(found) + len(grams[other]) - count)
            if score >= threshold:
                pairs[company_id, other] = score
    return pairs


def gather(scores: dict[tuple[int, int], float]) -> list[dict]:
    """Gather pairs into groups: a company and its twins that no earlier group took.

    Alike names chain ("Ifri 1", "Ifri 2", "Ifri 3"...): grouping twins of twins would
    make one group of them all, which no admin would merge into one. A company whose
    twins were all taken joins the group of its most alike twin.
    """
    twins = defaultdict(dict)  # company -> {twin: score}
    for (first, second), score in scores.items():
        twins[first][second] = twins[second][first] = score
    group_of, groups = {}, []
    for center in sorted(twins):
        if center in group_of:
            continue
        members = {twin: score for twin, score in twins[center].items() if twin not in group_of}
        if members:
            group = {"ids": {center, *members}, "similarity": max(members.values())}
            groups.append(group)
            group_of.update(dict.fromkeys(group["ids"], group))
    for company in sorted(set(twins) - set(group_of)):
        best = max(twins[company], key=lambda twin: (twins[company][twin], -twin))
        group = group_of[best]
        group["ids"].add(company)
        group["similarity"] = max(group["similarity"], twins[company][best])
    return [
        {"companies": sorted(group["ids"]), "similarity": round(group["similarity"], 3)}
        for group in groups
    ]


def _described(conn: Connection, page: list[dict]) -> list[dict]:
    """Give each group's companies their names and product counts, the most used first."""
    ids = [company_id for group in page for company_id in group["companies"]]
    if not ids:
        return []
    rows = conn.execute(
        select(companies.c.id, companies.c.name).where(companies.c.id.in_(ids))
    ).all()
    named = dict(rows)
    counts = dict(
        conn.execute(
            select(products.c.company_id, func.count())
            .where(products.c.company_id.in_(ids), products.c.deleted_at.is_(None))
            .group_by(products.c.company_id)
        ).all()
    )
    described = []
    for group in page:
        twins = [
            {"id": company_id, "name": named[company_id], "products": counts.get(company_id, 0)}
            for company_id in group["companies"]
        ]
        twins.sort(key=lambda twin: (-twin["products"], twin["id"]))
        same = len({twin_key(twin["name"]) for twin in twins}) == 1
        described.append(
            {
                "companies": twins,
                "reason": "same_name" if same else "similar_name",
                "similarity": group["similarity"],
            }
        )
    return described
