"""The two baselines the app is measured against, on the same data and served the same way.

    BENCH_DATABASE_URL=... python -m waitress --threads=4 --call baselines:floor   (from bench/)
    BENCH_DATABASE_URL=... python -m waitress --threads=4 --call baselines:naive

Both answer the paths the app answers, with the app's SQL: a product by its
barcode key (the unique index), a page of categories, a page of products newest
first (the app's cursor is accepted), a page of companies whose name contains `q`.

- `floor`: the least an endpoint can do. One query through SQLAlchemy Core
  (psycopg 3 or sqlite3) on a pooled connection, the rows through Flask's
  `jsonify`; no authentication, validation, photos, logging or envelope.
- `naive`: as taught in class. A new connection per request with the raw driver
  (psycopg 3 or sqlite3), the rows through `json.dumps`.
"""

import json
import os
import re

from flask import Flask, Response, jsonify, request
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from productinfo.pagination import decode_cursor

PRODUCT = """
SELECT p.id, p.name, p.barcode, p.created_at, p.updated_at,
       c.id AS category_id, c.name AS category_name, m.id AS company_id, m.name AS company_name,
       u.id AS user_id, u.name AS user_name, u.email AS user_email
FROM products p JOIN categories c ON c.id = p.category_id
JOIN companies m ON m.id = p.company_id JOIN users u ON u.id = p.created_by
WHERE p.deleted_at IS NULL"""
QUERIES = {
    "barcode": PRODUCT + " AND p.barcode_key = :key",
    "history": PRODUCT + " AND p.id < :before ORDER BY p.id DESC LIMIT 51",
    "categories": "SELECT id, name, created_at, updated_at FROM categories"
    " ORDER BY name_key, id LIMIT 501",
    "companies": "SELECT id, name, created_at, updated_at FROM companies"
    " WHERE name_key LIKE :pattern ORDER BY name_key, id LIMIT 51",
}


def _routes(app: Flask, run) -> Flask:
    """Route the app's paths to `run(query name, parameters)`, which answers with the rows."""

    @app.get("/products.getByBarcode/<barcode>")
    def barcode(barcode):
        return run("barcode", {"key": barcode.zfill(14)})

    @app.get("/products.history")
    def history():
        cursor = request.args.get("cursor")
        return run("history", {"before": decode_cursor(cursor)[0] if cursor else 2**31 - 1})

    @app.get("/categories.get")
    def categories():
        return run("categories", {})

    @app.get("/companies.get")
    def companies():
        return run("companies", {"pattern": f"%{request.args.get('q', '').casefold()}%"})

    return app


def floor() -> Flask:
    """Serve each path with its one query on a pooled SQLAlchemy Core connection."""
    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    statements = {name: text(sql) for name, sql in QUERIES.items()}

    def run(name, params):
        with engine.connect() as conn:
            rows = conn.execute(statements[name], params).mappings().all()
        return jsonify([dict(row) for row in rows])

    return _routes(Flask(__name__), run)


def naive() -> Flask:
    """Serve each path with a new raw driver connection and json.dumps of the rows."""
    url = make_url(os.environ["BENCH_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        import sqlite3

        def connect():
            return sqlite3.connect(url.database)

        queries = QUERIES
    else:
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)

        def connect():
            return psycopg.connect(conninfo)

        queries = {name: re.sub(r":(\w+)", r"%(\1)s", sql) for name, sql in QUERIES.items()}

    def run(name, params):
        conn = connect()
        try:
            cursor = conn.execute(queries[name], params)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            conn.close()
        return Response(json.dumps(rows, default=str), mimetype="application/json")

    return _routes(Flask(__name__), run)
