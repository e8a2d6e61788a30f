"""The baselines the app is measured against: the app's answers, from the same data, with less.

    BENCH_DATABASE_URL=... python -m waitress --threads=4 --call baselines:floor   (from bench/)
    BENCH_DATABASE_URL=... python -m waitress --threads=4 --call baselines:naive

Each serves the paths the bench loads (a product by barcode, the categories, a page
of products newest first with the app's cursor, companies whose name contains `q`)
with the statements the app sends for them, copied from its SQL log on Postgres (on
SQLite, the same statements with SQLite's placeholders and quoting): the lookup is
one query with the product's photos. Each answers the app's very JSON body, which
bench/run.py checks before it measures anything.

- `floor`: the least a Python server can do to give that answer. A bare WSGI
  function (no Flask, no SQLAlchemy), one connection per thread kept open (psycopg 3
  in autocommit mode, as the app reads, or sqlite3), json.dumps of the shaped rows.
  No authentication, validation, logging or request limits.
- `naive`: as taught in class. The same work through Flask, with a new driver
  connection for every request.
- `flask_psycopg`: the cold-start peer. Flask and psycopg, answering the app's
  authenticated lookup: the bearer token checked (HS256, with the standard
  library), the app's session check and lookup on a connection opened by the
  first request.

Photo URLs are built as the app's storage builds them: `BENCH_PHOTO_URL_PREFIX`
then the key ("/photos/" by default, the app's local storage).

Only the standard library is imported here at the top, so that importing this
module costs a cold start nothing beyond what each factory imports itself.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import threading
import time

# --- The app's statements, from its SQL log on Postgres (SQLAlchemy 2 and psycopg 3) -----------

SESSION = """SELECT users.role, users.approved_at, users.disabled_at, sessions.revoked_at, \
sessions.expires_at
FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.id = %(session_id)s::INTEGER AND sessions.user_id = %(user_id)s::INTEGER"""

_PRODUCT = """SELECT products.id, products.name, products.barcode, products.created_at, \
products.updated_at, categories.id AS category_id, categories.name AS category_name, companies.id \
AS company_id, companies.name AS company_name, users.id AS user_id, users.name AS user_name, \
users.email AS user_email"""
_PRODUCT_FROM = """FROM products JOIN categories ON categories.id = products.category_id JOIN \
companies ON companies.id = products.company_id JOIN users ON users.id = products.created_by"""

LOOKUP = f"""{_PRODUCT}, photos.id AS photo_id, photos.product_id AS photo_product_id, photos.key \
AS photo_key, photos.thumbnail_key AS photo_thumbnail_key, photos.content_type AS \
photo_content_type, photos.width AS photo_width, photos.height AS photo_height, photos.size AS \
photo_size, photos.created_by AS photo_created_by, photos.created_at AS photo_created_at
{_PRODUCT_FROM} LEFT OUTER JOIN photos ON photos.product_id = products.id
WHERE products.deleted_at IS NULL AND products.barcode_key = %(barcode_key)s::VARCHAR \
ORDER BY photos.id"""

HISTORY = f"""{_PRODUCT}
{_PRODUCT_FROM}
WHERE products.deleted_at IS NULL ORDER BY products.id DESC
 LIMIT %(param_1)s::INTEGER"""
HISTORY_AFTER = f"""{_PRODUCT}
{_PRODUCT_FROM}
WHERE products.deleted_at IS NULL AND (products.id) < (%(param_1)s::INTEGER) \
ORDER BY products.id DESC
 LIMIT %(param_2)s::INTEGER"""

_PHOTOS = """SELECT photos.id, photos.product_id, photos.sha256, photos.key, photos.thumbnail_key, \
photos.content_type, photos.width, photos.height, photos.size, photos.created_by, \
photos.created_at
FROM photos
WHERE photos.product_id IN ({}) ORDER BY photos.id"""

CATEGORIES = """SELECT categories.id, categories.name, categories.created_at, \
categories.updated_at, categories.name_key
FROM categories ORDER BY categories.name_key, categories.id
 LIMIT %(param_1)s::INTEGER"""

COMPANIES = """SELECT companies.id, companies.name, companies.created_at, companies.updated_at, \
companies.name_key
FROM companies
WHERE (companies.name_key LIKE '%%' || %(name_key_1)s::VARCHAR || '%%' ESCAPE '/') \
ORDER BY companies.name_key, companies.id
 LIMIT %(param_1)s::INTEGER"""

PAGE, CATEGORY_PAGE = 50, 500  # the app's default page sizes


def photos_of(count: int) -> str:
    """Return the app's statement for the photos of `count` products (one parameter each)."""
    marks = ", ".join(f"%(product_ids_{n})s::INTEGER" for n in range(1, count + 1))
    return _PHOTOS.format(marks)


def for_sqlite(sql: str) -> str:
    """Return a statement as SQLAlchemy writes it for SQLite: named parameters, "key" quoted."""
    sql = re.sub(r"%\((\w+)\)s(::\w+)?", r":\1", sql)
    return sql.replace("photos.key", 'photos."key"').replace("'%%'", "'%'")


# --- Shaping rows into the app's JSON --------------------------------------------------------


def iso(value) -> str:
    """Format a time as the app does: ISO 8601 in UTC, with a Z."""
    if isinstance(value, str):  # SQLite keeps UTC times as text without an offset
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def photo(row: dict, prefix: str, url: str) -> dict:
    """Shape a photo row (its columns named `prefix` + column) as the app does."""
    return {
        "id": row[prefix + "id"],
        "product_id": row[prefix + "product_id"],
        "url": url + row[prefix + "key"],
        "thumbnail_url": url + row[prefix + "thumbnail_key"],
        "width": row[prefix + "width"],
        "height": row[prefix + "height"],
        "size": row[prefix + "size"],
        "content_type": row[prefix + "content_type"],
        "created_by": row[prefix + "created_by"],
        "created_at": iso(row[prefix + "created_at"]),
    }


def product(row: dict, photos: list[dict]) -> dict:
    """Shape a product row, its category, company and uploader nested, as the app does."""
    return {
        "id": row["id"],
        "name": row["name"],
        "barcode": row["barcode"],
        "category": {"id": row["category_id"], "name": row["category_name"]},
        "company": {"id": row["company_id"], "name": row["company_name"]},
        "created_by": {"id": row["user_id"], "name": row["user_name"], "email": row["user_email"]},
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "photos": photos,
    }


def named(row: dict) -> dict:
    """Shape a category or company row as the app does."""
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def envelope(data, **extra) -> dict:
    """Wrap data in the app's success envelope."""
    return {"status": 200, "message": "", "data": data, **extra}


def not_found() -> dict:
    """Return the body of a lookup that found nothing (shorter than the app's)."""
    return {"status": 404, "message": "No product has this barcode.", "code": "product_not_found"}


def barcode_key(barcode: str) -> str:
    """Return the lookup key of a GTIN as the app stores it: 14 digits (the bench sends GTIN-13)."""
    return barcode.zfill(14)


# --- The endpoints, written once for every baseline ------------------------------------------


class Endpoints:
    """Answer the bench's paths through `run(statement, params) -> rows as dicts`."""

    def __init__(self, sqlite: bool, url_prefix: str):
        self.sql = for_sqlite if sqlite else (lambda statement: statement)
        self.url = url_prefix
        self.statements = {
            name: self.sql(statement)
            for name, statement in {
                "lookup": LOOKUP,
                "history": HISTORY,
                "history_after": HISTORY_AFTER,
                "categories": CATEGORIES,
                "companies": COMPANIES,
                "session": SESSION,
            }.items()
        }

    def lookup(self, run, barcode: str) -> tuple[int, dict]:
        """Return the product of a barcode with its photos, from one query."""
        rows = run(self.statements["lookup"], {"barcode_key": barcode_key(barcode)})
        if not rows:
            return 404, not_found()
        found = [photo(row, "photo_", self.url) for row in rows if row["photo_id"] is not None]
        return 200, envelope(product(rows[0], found))

    def history(self, run, cursor: str | None) -> tuple[int, dict]:
        """Return a page of products newest first, with their photos: two queries, as the app."""
        from project import decode_cursor, encode_cursor

        if cursor:
            params = {"param_1": decode_cursor(cursor)[0], "param_2": PAGE + 1}
            rows = run(self.statements["history_after"], params)
        else:
            rows = run(self.statements["history"], {"param_1": PAGE + 1})
        next_cursor = encode_cursor([rows[PAGE - 1]["id"]]) if len(rows) > PAGE else None
        rows = rows[:PAGE]
        found: dict[int, list] = {}
        if rows:
            ids = {f"product_ids_{n}": row["id"] for n, row in enumerate(rows, 1)}
            for row in run(self.sql(photos_of(len(ids))), ids):
                found.setdefault(row["product_id"], []).append(photo(row, "", self.url))
        data = [product(row, found.get(row["id"], [])) for row in rows]
        return 200, envelope(data, next_cursor=next_cursor)

    def categories(self, run) -> tuple[int, dict]:
        """Return the first page of categories in name order."""
        rows = run(self.statements["categories"], {"param_1": CATEGORY_PAGE + 1})
        return 200, self._named_page(rows, CATEGORY_PAGE)

    def companies(self, run, q: str) -> tuple[int, dict]:
        """Return the first page of companies whose name contains `q`, in name order."""
        escaped = re.sub(r"([/%_])", r"/\1", q.casefold())
        rows = run(self.statements["companies"], {"name_key_1": escaped, "param_1": PAGE + 1})
        return 200, self._named_page(rows, PAGE)

    def _named_page(self, rows: list[dict], limit: int) -> dict:
        from project import encode_cursor

        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = encode_cursor([last["name_key"], last["id"]]) if last else None
        return envelope([named(row) for row in rows[:limit]], next_cursor=next_cursor)

    def answer(self, run, path: str, query: dict) -> tuple[int, dict]:
        """Route a path to its endpoint."""
        if path.startswith("/products.getByBarcode/"):
            return self.lookup(run, path.removeprefix("/products.getByBarcode/"))
        if path == "/products.history":
            return self.history(run, query.get("cursor"))
        if path == "/categories.get":
            return self.categories(run)
        if path == "/companies.get":
            return self.companies(run, query.get("q", ""))
        return 404, {"status": 404, "message": "Not found.", "code": "not_found"}


def _driver(url: str):
    """Return (connect, is SQLite) for a SQLAlchemy-style database URL, with the raw driver."""
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split(":///", 1)[1]
        return (lambda: sqlite3.connect(path)), True
    import psycopg

    conninfo = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)
    # Autocommit: the app reads outside a transaction too (no BEGIN, no ROLLBACK).
    return (lambda: psycopg.connect(conninfo, autocommit=True)), False


def _rows(conn, statement: str, params: dict) -> list[dict]:
    cursor = conn.execute(statement, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _url_prefix() -> str:
    return os.environ.get("BENCH_PHOTO_URL_PREFIX", "/photos/")


def _json(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


# --- The servers ---------------------------------------------------------------------------


def floor():
    """Serve each path with the app's statements on a connection per thread: bare WSGI."""
    from urllib.parse import parse_qsl

    connect, sqlite = _driver(os.environ["BENCH_DATABASE_URL"])
    endpoints = Endpoints(sqlite, _url_prefix())
    kept = threading.local()

    def run(statement: str, params: dict) -> list[dict]:
        if not hasattr(kept, "conn"):
            kept.conn = connect()
        return _rows(kept.conn, statement, params)

    def app(environ, start_response):
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        status, body = endpoints.answer(run, environ["PATH_INFO"], query)
        data = _json(body)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        start_response(f"{status} {'OK' if status == 200 else 'Not Found'}", headers)
        return [data]

    return app


def naive():
    """Serve each path with the same work through Flask, on a new connection per request."""
    from flask import Flask, Response, request

    connect, sqlite = _driver(os.environ["BENCH_DATABASE_URL"])
    endpoints = Endpoints(sqlite, _url_prefix())
    app = Flask(__name__)

    @app.get("/<path:path>")
    def serve(path):
        conn = connect()
        try:
            status, body = endpoints.answer(
                lambda statement, params: _rows(conn, statement, params),
                "/" + path,
                request.args.to_dict(),
            )
        finally:
            conn.close()
        return Response(_json(body), status=status, mimetype="application/json")

    return app


def flask_psycopg():
    """Serve the authenticated lookup and /health with Flask and psycopg, nothing else."""
    from flask import Flask, Response, request

    connect, sqlite = _driver(os.environ["BENCH_DATABASE_URL"])
    endpoints = Endpoints(sqlite, _url_prefix())
    secret = os.environ["SECRET_KEY"].encode()
    app = Flask(__name__)
    kept = {}

    def run(statement: str, params: dict) -> list[dict]:
        if "conn" not in kept:
            kept["conn"] = connect()
        return _rows(kept["conn"], statement, params)

    def respond(status: int, body: dict) -> Response:
        return Response(_json(body), status=status, mimetype="application/json")

    @app.get("/health")
    def health():
        run("SELECT 1", {})
        return respond(200, envelope({"database": "ok"}))

    @app.get("/products.getByBarcode/<barcode>")
    def lookup(barcode):
        claims = verify_hs256(request.headers.get("Authorization", ""), secret)
        if claims is None:
            return respond(401, {"status": 401, "message": "Bad token.", "code": "invalid_token"})
        params = {"session_id": claims["sid"], "user_id": int(claims["sub"])}
        session = run(endpoints.statements["session"], params)
        if not session or not _session_allows(session[0]):
            return respond(401, {"status": 401, "message": "Sign in.", "code": "session_revoked"})
        return respond(*endpoints.lookup(run, barcode))

    return app


def verify_hs256(header: str, secret: bytes) -> dict | None:
    """Return the claims of a bearer JWT signed with HS256 by `secret` and not expired, or None."""
    scheme, _, token = header.partition(" ")
    parts = token.split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    signed = f"{parts[0]}.{parts[1]}".encode()
    expected = hmac.new(secret, signed, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64(parts[2])):
        return None
    claims = json.loads(_b64(parts[1]))
    return claims if claims.get("exp", 0) > time.time() else None


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _session_allows(row: dict) -> bool:
    expires = row["expires_at"]
    if isinstance(expires, str):
        expires = dt.datetime.fromisoformat(expires).replace(tzinfo=dt.UTC)
    live = row["revoked_at"] is None and expires > dt.datetime.now(dt.UTC)
    return live and row["disabled_at"] is None and row["approved_at"] is not None
