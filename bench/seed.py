"""Seed a benchmark database: users, categories, companies and N products, a photo on every 4th.

    python bench/seed.py --database sqlite --size 100000
    python bench/seed.py --database postgres --size 1000000 [--postgres postgresql://...]

The database is migrated to the current schema (`productinfo.schema.upgrade`), then
filled with COPY on Postgres and large executemany batches on SQLite; the
secondary indexes of products and photos are dropped for the load and built
again after it. Seeded databases are kept (a SQLite file under bench/results/,
a Postgres database named bench_<size>) and reused while they hold exactly N
products at the current revision. Product n has the GTIN-13 `barcode(n)`, so a
load generator can pick existing barcodes without asking the database.
"""

import argparse
import datetime as dt
import hashlib
import random
import time
from pathlib import Path

from project import barcodes, make_key, products, schema
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
USERS, CATEGORIES, COMPANIES = 20, 30, 2000
PHOTO_EVERY = 4
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
# A bcrypt hash of nothing anyone types: seeded users never sign in.
UNUSABLE_HASH = "$2b$04$" + "." * 53
WORDS = (
    "milk yoghurt juice water soda coffee tea flour semolina pasta couscous rice oil olive "
    "butter cheese cream biscuit chocolate honey jam sugar salt pepper tomato harissa tuna "
    "sardine bean lentil chickpea date fig orange lemon apple peach soap shampoo bleach"
).split()
MAKERS = "cev ifr som ham can bes tch dan lai nov sah tel mar bel ati ro".split()
TRADES = ("Foods", "Dairy", "Drinks", "Industries", "Group", "Distribution", "SARL", "Mills")


def barcode(number: int, prefix: str = "200") -> str:
    """Return the GTIN-13 of product `number`: an in-store prefix, the number, a check digit."""
    body = f"{prefix}{number:09d}"
    return body + str(barcodes.check_digit(body))


def postgres_url(server: str, size: int) -> str:
    """Return the URL of the benchmark database of `size` on a Postgres server."""
    return make_url(server).set(database=f"bench_{size}").render_as_string(hide_password=False)


def sqlite_url(size: int) -> str:
    """Return the URL of the benchmark SQLite file of `size`."""
    return f"sqlite:///{RESULTS / f'bench-{size}.sqlite3'}"


def url_for(database: str, size: int, *, server: str = DEFAULT_POSTGRES) -> str:
    """Return the URL of the benchmark database of a kind ("sqlite" or "postgres") and size."""
    return sqlite_url(size) if database == "sqlite" else postgres_url(server, size)


def is_seeded(url: str, size: int) -> bool:
    """Tell whether the database holds exactly `size` seeded products at the current revision."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if schema.current_revision(conn) != schema.head_revision():
                return False
            count, last = conn.execute(select(func.count(), func.max(products.c.id))).one()
            return count == size and last == size
    except Exception:
        return False
    finally:
        engine.dispose()


def ensure(url: str, size: int, *, log=print) -> str:
    """Seed the database at `url` with `size` products unless it holds them already."""
    if is_seeded(url, size):
        return url
    start = time.perf_counter()
    _recreate(url)
    engine = create_engine(url)
    try:
        schema.upgrade(engine)
        _fill(engine, size)
    finally:
        engine.dispose()
    log(f"seeded {size:,} products into {_name(url)} in {time.perf_counter() - start:.0f}s")
    return url


def _name(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.get_backend_name()} {parsed.database}"


def _recreate(url: str) -> None:
    """Start from an empty database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        RESULTS.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()


def _fill(engine: Engine, size: int) -> None:
    rng = random.Random(size)
    raw = engine.raw_connection()
    try:
        loader = _PostgresLoader(raw) if engine.dialect.name == "postgresql" else _SqliteLoader(raw)
        indexes = loader.drop_indexes(("products", "photos"))
        loader.load("users", _USER_COLUMNS, _users())
        loader.load("categories", _NAMED_COLUMNS, _named(_category_names()))
        loader.load("companies", _NAMED_COLUMNS, _named(_company_names(rng)))
        loader.load("products", _PRODUCT_COLUMNS, _products(size, rng))
        loader.load("photos", _PHOTO_COLUMNS, _photos(size))
        loader.finish(indexes, ("users", "categories", "companies", "products", "photos"))
        raw.commit()
    finally:
        raw.close()


_USER_COLUMNS = ("id", "email", "name", "password_hash", "role", "approved_at")
_USER_COLUMNS += ("created_at", "updated_at")
_NAMED_COLUMNS = ("id", "name", "name_key", "created_at", "updated_at")
_PRODUCT_COLUMNS = ("id", "name", "name_key", "barcode", "barcode_key", "category_id")
_PRODUCT_COLUMNS += ("company_id", "created_by", "created_at", "updated_at")
_PHOTO_COLUMNS = ("id", "product_id", "sha256", "key", "thumbnail_key", "content_type")
_PHOTO_COLUMNS += ("width", "height", "size", "created_by", "created_at")


def _users():
    for n in range(1, USERS + 1):
        yield (
            n,
            f"seed{n}@example.com",
            f"Seed user {n}",
            UNUSABLE_HASH,
            "staff",
            START,
            START,
            START,
        )


def _category_names():
    return [f"{word.title()} {n}" for n, word in enumerate(WORDS[:CATEGORIES], 1)]


def _company_names(rng: random.Random):
    names = set()
    while len(names) < COMPANIES:
        stem = "".join(rng.choice(MAKERS) for _ in range(2)).title()
        names.add(f"{stem} {rng.choice(TRADES)} {rng.randrange(100)}")
    return sorted(names)


def _named(names):
    for n, name in enumerate(names, 1):
        yield (n, name, name.casefold(), START, START)


def _products(size: int, rng: random.Random):
    for n in range(1, size + 1):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.randrange(1, 2000)}g"
        code = barcode(n)
        at = START + dt.timedelta(seconds=30 * n)
        category, company = rng.randrange(1, CATEGORIES + 1), rng.randrange(1, COMPANIES + 1)
        user = rng.randrange(1, USERS + 1)
        yield (n, name, name.casefold(), code, barcodes.key(code), category, company, user, at, at)


def _photos(size: int):
    for n, product in enumerate(range(PHOTO_EVERY, size + 1, PHOTO_EVERY), 1):
        digest = hashlib.sha256(f"{product}:seed".encode()).hexdigest()
        key, thumb = make_key(digest, "image/jpeg"), make_key(digest, "image/webp", variant="thumb")
        at = START + dt.timedelta(seconds=30 * product + 5)
        yield (n, product, digest, key, thumb, "image/jpeg", 3024, 4032, 2_461_337, 1, at)


class _PostgresLoader:
    def __init__(self, raw):
        self.raw = raw

    def drop_indexes(self, tables) -> list[str]:
        """Drop the secondary indexes of `tables`; return the statements that make them again."""
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                (list(tables),),
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in found]

    def load(self, table: str, columns, rows) -> None:
        with self.raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def finish(self, indexes, tables) -> None:
        with self.raw.cursor() as cursor:
            for statement in indexes:
                cursor.execute(statement)
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
                cursor.execute(f"ANALYZE {table}")


class _SqliteLoader:
    BATCH = 50_000

    def __init__(self, raw):
        self.raw = raw
        # A lost seed is made again: no need to wait for the disk.
        raw.execute("PRAGMA synchronous = OFF")

    def drop_indexes(self, tables) -> list[str]:
        marks = ", ".join("?" for _ in tables)
        # The change_seq index stays: the trigger that stamps each new row reads its
        # highest value, which without the index would scan the table for every row.
        found = self.raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks}) AND name NOT LIKE '%change_seq%'",
            tuple(tables),
        ).fetchall()
        for name, _ in found:
            self.raw.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in found]

    def load(self, table: str, columns, rows) -> None:
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        batch = []
        for row in rows:
            # Stored as SQLAlchemy stores UTC times on SQLite: naive, with microseconds.
            batch.append(tuple(_sqlite_value(value) for value in row))
            if len(batch) == self.BATCH:
                self.raw.executemany(statement, batch)
                batch = []
        self.raw.executemany(statement, batch)

    def finish(self, indexes, tables) -> None:
        for statement in indexes:
            self.raw.execute(statement)


def _sqlite_value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="any database on the server")
    args = parser.parse_args()
    url = url_for(args.database, args.size, server=args.postgres)
    if is_seeded(url, args.size):
        print(f"{_name(url)} already holds {args.size:,} products")
    ensure(url, args.size)


if __name__ == "__main__":
    main()
