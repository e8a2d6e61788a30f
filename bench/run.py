"""Measure the app against its peers and baselines; print every target, write docs/performance.md.

    .venv/bin/python bench/run.py [--quick] [--databases sqlite,postgres] [--sizes 100000,1000000]
                                  [--only http,search,pull,bulk,memory,cold,photo,admin]
                                  [--skip ...]
                                  [--postgres URL] [--threads 4] [--connections 8] [--no-docs]

For each database and catalogue size (seeded by bench/seed.py and kept between
runs), the app and the servers it is measured against are each served in a
process of their own and loaded over HTTP from another (wrk, or bench/load.py
without it). They answer the same requests from the same data; before anything is
timed, the run checks that they give the same answers. Rounds alternate between the
servers (every other one in reverse order); a figure is the median of its rounds,
and a ratio the median of the ratios taken round by round, a second or a few
apart, so that the noise of a shared machine hits both sides alike.

The servers (see SERVERS): the app; the true floor and the naive server of
bench/baselines.py; PostgREST (bench/postgrest.py) when its binary is installed;
the app with the settings it has on Vercel. Then, with the app: search latency,
the first full sync pull, a 1,000-product push, memory, the admin console's pages
(bench/admin_pages.py); then cold start (bench/cold_start.py) and the photo
pipeline (bench/photo_pipeline.py).

--quick: 3 rounds of 1 s per figure, the 100k catalogue only (about ten minutes).
The full run (5 rounds of 3 s, 100k and 1M) takes about half an hour, plus
seeding the first time.
"""

import argparse
import datetime as dt
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import admin_pages
import cold_start
import load
import photo_pipeline
import postgrest
import pull
import search
import seed
import servers
from project import encode_cursor
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PHASES = ("http", "search", "pull", "bulk", "memory", "cold", "photo", "admin")
SERVERS = {
    "app": "waitress serving `productinfo:create_app` as in production: its pooled engine, "
    "access log at INFO, rate limiter (limit raised, still counted)",
    "floor": "a bare WSGI function (no Flask, no SQLAlchemy): the app's SQL, photos included, "
    "on one kept psycopg 3 / sqlite3 connection per thread; no authentication",
    "postgrest": "PostgREST on the same database, `db-pool 10`, a JWT checked on every request, "
    "the same nested product (bench/postgrest.py)",
    "naive": "the floor's work through Flask, with a new connection for every request",
    "app-vercel": "the app with the settings it has on Vercel (`VERCEL=1`: production, "
    "Supabase storage with a public bucket, the connections of each instance kept (`pool_size=4`: "
    "one per concurrent request, up to four), no prepared statements)",
}
LABELS = {
    "app": "the app",
    "floor": "true floor",
    "postgrest": "PostgREST",
    "naive": "naive",
    "app-vercel": "the app, Vercel settings",
}
# A cursor near the end of the list, newest first: the page of products 199 to 150.
DEEP_CURSOR = encode_cursor([200])
COMPANY_QUERIES = ("foods", "dairy", "cev", "ifr", "som")
MEMORY_POINTS = (1_000, 20_000)
BATCH_PRODUCTS, BATCH_COMPANIES = 1000, 100
LOOKUP = "barcode lookup"
# At the larger sizes only what depends on the catalogue's size is measured again.
LARGE_ENDPOINTS = (LOOKUP, "history, first page", "history, deep page")
# Bounds of the targets.
POSTGREST_RATIO, FLOOR_RATIO, VERCEL_RATIO = 1.0, 0.35, 2.0
SEARCH_MS = {"postgres": 10, "sqlite": 30}
COLD_RATIO, PHOTO_RATIO = 2.0, 2.5
PUSH_RATIO, PUSH_SECONDS = 20, 0.5
DASHBOARD_MS = 1000
RUN = ".venv/bin/python bench/run.py"


def endpoint_paths(size: int, rng: random.Random) -> dict[str, list[str]]:
    """Return the paths of each measured endpoint: random existing barcodes, pages, searches."""
    barcodes = [seed.barcode(rng.randint(1, size)) for _ in range(5000)]
    return {
        LOOKUP: [f"/products.getByBarcode/{code}" for code in barcodes],
        "categories": ["/categories.get"],
        "history, first page": ["/products.history?scope=all"],
        "history, deep page": [f"/products.history?scope=all&cursor={DEEP_CURSOR}"],
        "companies ?q=": [f"/companies.get?q={q}" for q in COMPANY_QUERIES],
    }


class Bench:
    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.rng = random.Random(42)
        self.http = []  # rows: database, size, endpoint, {kind: summary}
        self.bulk, self.memory, self.search, self.pulls, self.notes = [], [], [], [], []
        self.admin = []  # rows: database, size, {page: figures}
        self.postgrest = postgrest.binary() if "postgres" in args.databases else None
        self.postgrest_secret = postgrest.new_secret()

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        self.notes.append(message)
        self.log(message)

    def paths_file(self, name: str, paths: list[str]) -> Path:
        path = self.workdir / f"{uuid.uuid4().hex[:8]}-{name.split(',')[0].replace(' ', '-')}.txt"
        path.write_text("\n".join(paths) + "\n")
        return path

    def wants(self, phase: str) -> bool:
        return phase in self.args.phases

    def run_database(self, database: str) -> None:
        urls = {
            size: seed.url_for(database, size, server=self.args.postgres)
            for size in self.args.sizes
        }
        for size, url in urls.items():
            self.log(f"{database} {size:,}: seeding if needed")
            seed.ensure(url, size, log=self.log)
            if database == "postgres" and self.postgrest:
                postgrest.prepare(url)
        for index, (size, url) in enumerate(urls.items()):
            self.run_size(database, size, url, first=index == 0)
        first_size = self.args.sizes[0]
        if self.wants("memory"):
            self.run_memory(database, first_size, urls[first_size])

    def run_size(self, database: str, size: int, url: str, *, first: bool) -> None:
        """Serve the app (and, for the HTTP figures, its peers) and run the phases on it."""
        with servers.app(url, threads=self.args.threads, workdir=self.workdir) as app:
            token = servers.sign_up(app)
            if self.wants("http"):
                self.run_http(database, size, url, app, token, first=first)
            if self.wants("search"):
                self.run_search(database, size, url, app, token)
            if first and self.wants("pull"):
                self.run_pull(database, size, app, token)
            if first and self.wants("bulk"):
                self.run_bulk(database, size, url, app, token)
            if self.wants("admin"):
                self.run_admin(database, size, url, app)

    def peers(self, database: str, url: str):
        """Start the servers the app is measured against; return {kind: server}."""
        threads, workdir = self.args.threads, self.workdir
        started = {
            "floor": servers.baseline("floor", url, threads=threads, workdir=workdir),
            "naive": servers.baseline("naive", url, threads=threads, workdir=workdir),
        }
        if database == "postgres":
            if self.postgrest:
                started["postgrest"] = postgrest.start(
                    url, workdir=workdir, secret=self.postgrest_secret
                )
            started["app-vercel"] = servers.vercel_app(url, threads=threads, workdir=workdir)
        return started

    def run_http(self, database, size, url, app, token, *, first: bool) -> None:
        paths = endpoint_paths(size, self.rng)
        if not first:
            paths = {name: paths[name] for name in LARGE_ENDPOINTS}
        peers = self.peers(database, url)
        try:
            running = {"app": (app, token)}
            for kind, server in peers.items():
                key = {"postgrest": postgrest.token(self.postgrest_secret), "app-vercel": token}
                running[kind] = (server, key.get(kind, ""))
            # Who serves what: PostgREST and the Vercel-set app only the lookup.
            kinds = {
                name: [k for k in running if name == LOOKUP or k in ("app", "floor", "naive")]
                for name in paths
            }
            served = {
                (name, kind): [postgrest.lookup_path(p.rsplit("/", 1)[1]) for p in found]
                if kind == "postgrest"
                else found
                for name, found in paths.items()
                for kind in kinds[name]
            }
            check_answers(running, served, kinds)
            files = {key: self.paths_file(key[0], found) for key, found in served.items()}
            for kind, (server, key) in running.items():
                warm = [p for (_, k), found in served.items() if k == kind for p in found[:50]]
                load.generate(server.url, self.paths_file("warm-up", warm), token=key, seconds=1)
            samples = {key: [] for key in served}
            for round_ in range(self.args.rounds):
                self.log(f"{database} {size:,}: round {round_ + 1} of {self.args.rounds}")
                for name in paths:
                    # Every other round in reverse order, so that no server is always
                    # measured right after the same one.
                    order = kinds[name] if round_ % 2 == 0 else kinds[name][::-1]
                    for kind in order:
                        server, key = running[kind]
                        samples[name, kind].append(
                            load.generate(
                                server.url,
                                files[name, kind],
                                token=key,
                                connections=self.args.connections,
                                seconds=self.args.seconds,
                            )
                        )
            for name in paths:
                medians = {kind: _median(samples[name, kind]) for kind in kinds[name]}
                self.http.append((database, size, name, medians))
        finally:
            for server in peers.values():
                server.stop()

    def run_search(self, database: str, size: int, url: str, app, token: str) -> None:
        """Time a common, a rare and an absent search term, one request at a time."""
        self.log(f"{database} {size:,}: search")
        rare = _product_name(url, size // 2)
        lookup = f"/products.getByBarcode/{seed.barcode(size // 3)}"
        runs = 11 if self.args.quick else 31
        found = search.measure(app.url, token, rare=rare, lookup=lookup, runs=runs)
        self.search.append((database, size, rare, found))

    def run_pull(self, database: str, size: int, app, token: str) -> None:
        """Pull the whole catalogue as the app's first sync does, asking for gzip."""
        self.log(f"{database} {size:,}: full pull")
        asked = pull.full_pull(app.url, token, accept_gzip=True)
        # An app that compresses is timed without gzip too; one that does not would
        # answer the same bytes again.
        plain = (
            pull.full_pull(app.url, token, accept_gzip=False) if asked["compressed_pages"] else None
        )
        if asked["products"] < size:
            self.note(f"pull, {database}: {asked['products']:,} products of {size:,}")
        self.pulls.append((database, size, asked, plain))

    def run_bulk(self, database: str, size: int, url: str, app, token: str) -> None:
        """Push 1,000 products and their companies in one request each, then one by one."""
        self.log(f"{database} {size:,}: bulk add")
        client = servers.Client(app.url, token)
        start = self.rng.randrange(10**8)
        try:
            batch = _push_batch(client, *_new_products(start, "batch"))
            batch_server = servers.server_times_ms(app, "POST", "/products.add")[-1] / 1000
            singles = _push_one_by_one(client, *_new_products(start + BATCH_PRODUCTS, "single"))
        finally:
            _forget_pushed(url, size)
        self.bulk.append((database, size, batch, batch_server, singles))

    def run_admin(self, database: str, size: int, url: str, app) -> None:
        """Time the admin console's pages, one request at a time, against a lookup."""
        self.log(f"{database} {size:,}: admin pages")
        token = servers.sign_up(app)
        _make_admin(url, token)
        until = admin_pages.last_day(size, seed.START)
        lookup = f"/products.getByBarcode/{seed.barcode(size // 3)}"
        runs = 5 if self.args.quick else 11
        found = admin_pages.measure(app.url, token, until=until, lookup=lookup, runs=runs)
        self.admin.append((database, size, found))

    def run_memory(self, database: str, size: int, url: str) -> None:
        """Measure a fresh server's resident memory after 1k, then 20k, mixed requests."""
        self.log(f"{database} {size:,}: memory over {MEMORY_POINTS[-1]:,} mixed requests")
        paths = endpoint_paths(size, self.rng)
        lookups = paths.pop(LOOKUP)
        others = [path for found in paths.values() for path in found]
        # About 70% lookups, the rest pages and searches.
        mixed = lookups[:700] + others * (300 // len(others))
        mixed_file = self.paths_file("mixed", mixed)
        with servers.app(
            url, threads=self.args.threads, workdir=self.workdir, name="memory"
        ) as app:
            token = servers.sign_up(app)
            done, rss = 0, []
            for point in MEMORY_POINTS:
                summary = load.generate(app.url, mixed_file, token=token, requests=point - done)
                if summary["failed"]:
                    self.note(f"memory, {database}: {summary['failed']} requests failed")
                done = point
                rss.append(app.rss_mib())
        self.memory.append((database, size, *rss))


def check_answers(running: dict, served: dict, kinds: dict) -> None:
    """Fail unless every server answers the first path of each endpoint as the app does."""
    for name, serving in kinds.items():
        server, key = running["app"]
        status, expected, _ = servers.Client(server.url, key).get(served[name, "app"][0])
        if status != 200:
            raise RuntimeError(f"app {served[name, 'app'][0]}: {status} {expected}")
        for kind in serving:
            server, key = running[kind]
            status, body, _ = servers.Client(server.url, key).get(served[name, kind][0])
            if kind == "postgrest":
                same = status == 200 and _same_product(expected["data"], body[0])
            elif kind == "app-vercel":
                same = status == 200 and _same_product(expected["data"], body["data"])
            else:
                same = status == 200 and body == expected
            if not same:
                raise RuntimeError(f"{kind} answers {name} differently: {status} {body}")


def _same_product(app: dict, other: dict) -> bool:
    """Tell whether two answers hold the same product, whatever the photo URLs' prefix."""

    def essence(product: dict) -> tuple:
        photos = [
            (photo["id"], photo.get("key") or "/".join(photo["url"].split("/")[-2:]))
            for photo in product["photos"]
        ]
        when = [dt.datetime.fromisoformat(product[k]) for k in ("created_at", "updated_at")]
        nested = [product[k]["id"] for k in ("category", "company", "created_by")]
        return product["id"], product["name"], product["barcode"], *when, *nested, photos

    return essence(app) == essence(other)


def _median(summaries: list[dict]) -> dict:
    return {
        "rounds": [s["rps"] for s in summaries],
        "rps": statistics.median(s["rps"] for s in summaries),
        "p50": statistics.median(s["p50_ms"] for s in summaries),
        "p99": statistics.median(s["p99_ms"] for s in summaries),
        "failed": sum(s["failed"] for s in summaries),
        "tool": summaries[0]["tool"],
    }


def ratio(found: dict, kind: str, other: str) -> float:
    """Return the median over the rounds of `kind`'s req/s ÷ `other`'s in the same round."""
    pairs = zip(found[kind]["rounds"], found[other]["rounds"], strict=True)
    return statistics.median(mine / theirs for mine, theirs in pairs)


def _product_name(url: str, product_id: int) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM products WHERE id = :id"), {"id": product_id})
        found = name.scalar_one()
    engine.dispose()
    return found


def _new_products(start: int, tag: str) -> tuple[list, list]:
    """Make a device's offline records: companies (local ids 1..N), products naming them."""
    run = uuid.uuid4().hex[:6]
    companies = [{"id": k, "name": f"Bench {tag} {run} {k}"} for k in range(1, BATCH_COMPANIES + 1)]
    products = [
        {
            "local_id": start + i,
            "name": f"Bench product {start + i}",
            "barcode": seed.barcode(start + i, prefix="201"),
            "category_id": 1 + i % seed.CATEGORIES,
            "company_local_id": 1 + i % BATCH_COMPANIES,
        }
        for i in range(BATCH_PRODUCTS)
    ]
    return companies, products


def _expect_ok(response) -> dict:
    status, body, _ = response
    if status != 200:
        raise RuntimeError(f"push failed: {status} {body}")
    return body["data"]


def _push_batch(client, companies, products) -> float:
    """Push the companies in one request, then the products in one; return the seconds."""
    device = str(uuid.uuid4())
    first = client.post("/companies.add", {"device_id": device, "companies": companies})
    _expect_ok(first)
    second = client.post("/products.add", {"device_id": device, "products": products})
    _expect_ok(second)
    return first[2] + second[2]


def _push_one_by_one(client, companies, products) -> float:
    """Push each company and each product in a request of its own; return the seconds."""
    device, elapsed = str(uuid.uuid4()), 0.0
    for company in companies:
        response = client.post("/companies.add", {"device_id": device, "companies": [company]})
        _expect_ok(response)
        elapsed += response[2]
    for product in products:
        response = client.post("/products.add", {"device_id": device, **product})
        _expect_ok(response)
        elapsed += response[2]
    return elapsed


def _make_admin(url: str, token: str) -> None:
    """Make the account of an access token an admin, as `flask create-admin` would."""
    from project import decode_access_subject

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET role = 'admin' WHERE id = :id"),
            {"id": decode_access_subject(token)},
        )
    engine.dispose()


def _forget_pushed(url: str, size: int) -> None:
    """Delete what the bulk phase added, so that the seeded database can be used again."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM products WHERE id > :size"), {"size": size})
        conn.execute(text("DELETE FROM companies WHERE id > :n"), {"n": seed.COMPANIES})
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after: the phases that follow measure the catalogue,
        # not the dead rows of the batch (they made the trigram index of makers 8× slower).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE products, companies"))
    engine.dispose()


# --- Report -------------------------------------------------------------------------------------


def machine(args, bench: Bench) -> str:
    """Describe the machine and the tools of this run."""
    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    parts = [
        f"{os.cpu_count()} cores ({_cpu_model()})",
        f"{int(memory) / 2**20:.1f} GiB RAM",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    if "postgres" in args.databases:
        engine = create_engine(args.postgres)
        with engine.connect() as conn:
            parts.append("PostgreSQL " + conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        found = bench.postgrest
        parts.append(postgrest.version(found) if found else "PostgREST not installed")
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    tool = _wrk_version() or "bench/load.py (wrk is not installed)"
    parts.append(f"load: {tool}, 1 thread, {args.connections} connections")
    parts.append(f"Python servers: waitress, {args.threads} threads")
    parts.append("bytecode: compiled beforehand for every module, none written while measuring")
    return ", ".join(parts)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (output.stdout + output.stderr).split(" [")[0].strip() or "wrk"


def _failed(summary: dict) -> str:
    return f" ({summary['failed']} failed)" if summary["failed"] else ""


def _lookup_table(rows) -> list[str]:
    lines = ["| database | products | server | req/s | p50 ms | p99 ms | app ÷ it |"]
    lines.append("|---|---:|---|---:|---:|---:|---:|")
    for database, size, name, found in rows:
        if name != LOOKUP:
            continue
        for kind, summary in found.items():
            versus = "—" if kind == "app" else f"{ratio(found, 'app', kind):.2f}"
            lines.append(
                f"| {database} | {size:,} | {LABELS[kind]} | {summary['rps']:.0f}{_failed(summary)}"
                f" | {summary['p50']:.1f} | {summary['p99']:.1f} | {versus} |"
            )
        if "app-vercel" in found:
            vercel = ratio(found, "app-vercel", "naive")
            lines.append(
                f"| {database} | {size:,} | the app, Vercel settings ÷ naive | | | | {vercel:.2f} |"
            )
    return lines


def _reads_table(rows) -> list[str]:
    kinds = ("app", "floor", "naive")
    head = "| endpoint | database | products |"
    head += "".join(f" {LABELS[kind]} req/s | p50 ms |" for kind in kinds)
    lines = [head + " app ÷ floor | app ÷ naive |", "|---|---|---:|" + "---:|" * 8]
    for database, size, name, found in rows:
        if name == LOOKUP:
            continue
        line = f"| {name} | {database} | {size:,} |"
        for kind in kinds:
            summary = found[kind]
            line += f" {summary['rps']:.0f}{_failed(summary)} | {summary['p50']:.1f} |"
        line += f" {ratio(found, 'app', 'floor'):.2f} | {ratio(found, 'app', 'naive'):.2f} |"
        lines.append(line)
    return lines


def _mb(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def report(bench: Bench, cold: dict | None, photo: tuple | None) -> list[str]:
    """Return the report's sections, each a table of what was measured."""
    lines = ["### The servers", "", "| server | what it is |", "|---|---|"]
    lines += [f"| {LABELS[kind]} | {what} |" for kind, what in SERVERS.items()]
    if bench.http:
        lines += ["", "### Barcode lookup over HTTP (req/s, latency under load)", ""]
        lines += _lookup_table(bench.http)
        if any(name != LOOKUP for _, _, name, _ in bench.http):
            lines += ["", "### Other reads over HTTP", ""]
            lines += _reads_table(bench.http)
    if bench.search:
        lines += ["", "### Search: p50 of `/products.search?q=`, one request at a time", ""]
        lines += [
            "| database | products | common (`milk`) | rare (one name) | absent | lookup | "
            "slowest ÷ lookup |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for database, size, _rare, found in bench.search:
            cells = [
                f"{found[kind]['p50_ms']:.1f} ms ({found[kind]['found']} found)"
                for kind in ("common", "rare", "absent")
            ]
            worst = max(found[kind]["p50_ms"] for kind in ("common", "rare", "absent"))
            lookup = found["lookup"]["p50_ms"]
            lines.append(
                f"| {database} | {size:,} | {' | '.join(cells)} | {lookup:.1f} ms "
                f"| {worst / lookup:.1f} |"
            )
        rares = ", ".join(f"{db} {size:,}: `{rare}`" for db, size, rare, _ in bench.search)
        lines += ["", f"Rare terms: {rares}."]
    if bench.pulls:
        lines += ["", "### The first full pull (every page of `/sync.pull`, default page size)", ""]
        lines += [
            "| database | products | pages | time | over the wire | JSON | gzip would make |"
            " gzip time |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for database, size, asked, plain in bench.pulls:
            gzip_time = f"{asked['seconds']:.1f} s" if plain else "not offered"
            seconds = (plain or asked)["seconds"]
            lines.append(
                f"| {database} | {size:,} | {asked['pages']} | {seconds:.1f} s "
                f"| {_mb(asked['wire_bytes'])} | {_mb(asked['json_bytes'])} "
                f"| {_mb(asked['gzip_bytes'])} | {gzip_time} |"
            )
        if not any(plain for *_, plain in bench.pulls):
            lines += [
                "",
                "Asked with `Accept-Encoding: gzip`, the app answered uncompressed: the bytes "
                "over the wire are the same with and without it. The gzip column is what "
                "gzip (level 6) makes of the same bodies.",
            ]
    if bench.admin:
        lines += ["", "### The admin console's pages: p50, one request at a time", ""]
        lines += ["| database | products | page | p50 | ÷ lookup | found |"]
        lines += ["|---|---:|---|---:|---:|---:|"]
        for database, size, found in bench.admin:
            for name, figures in found.items():
                if name == "lookup":
                    continue
                lines.append(
                    f"| {database} | {size:,} | {name} | {figures['p50_ms']:.0f} ms "
                    f"| {figures['ratio']:.1f}× | {figures['found']:,} |"
                )
        lines += [
            "",
            "Found: captures in the window for the dashboard, groups for the twins, products "
            "for the history. The lookup is a barcode lookup of the same app, alternating with "
            "each page; its p50: "
            + ", ".join(
                f"{db} {size:,} {found['lookup']['p50_ms']:.1f} ms"
                for db, size, found in bench.admin
            )
            + ".",
        ]
    if bench.bulk:
        lines += ["", "### Bulk add: 1,000 products and 100 companies", ""]
        lines += [
            "| database | products | batch (2 requests) | one by one (1,100 requests) | ratio "
            "| server time of the products batch |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for database, size, batch, server, singles in bench.bulk:
            lines.append(
                f"| {database} | {size:,} | {batch:.2f} s | {singles:.2f} s | "
                f"{singles / batch:.1f}x | {server:.2f} s |"
            )
    if bench.memory:
        lines += ["", "### Memory: resident size of the app's waitress process", ""]
        lines += ["| database | products | after 1k requests | after 20k requests | growth |"]
        lines += ["|---|---:|---:|---:|---:|"]
        for database, size, first, last in bench.memory:
            lines.append(
                f"| {database} | {size:,} | {first:.1f} MiB | {last:.1f} MiB | "
                f"{(last / first - 1) * 100:+.1f}% |"
            )
    if cold:
        lines += ["", "### Cold start: process start to the answer, no shutdown (median)", ""]
        lines += ["| command | authenticated lookup | ratio | `/health` | ratio |"]
        lines += ["|---|---:|---:|---:|---:|"]
        for name in cold_start.LOAD:
            cells = []
            for what in cold_start.PATHS:
                seconds, base = cold[name, what], cold["flask + psycopg", what]
                cells += [f"{seconds * 1000:.0f} ms", f"{seconds / base:.2f}x"]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        alone = cold["python alone", ""] * 1000
        lines += ["", f"The interpreter alone starts in {alone:.0f} ms."]
    if photo:
        size, base, ours = photo
        lines += ["", "### Photo pipeline (12 MP phone JPEG, median)", ""]
        lines += ["| upload | decode + encode JPEG | `process` | ratio |", "|---|---:|---:|---:|"]
        lines.append(
            f"| JPEG {size / 1e6:.1f} MB | {base * 1000:.0f} ms | {ours * 1000:.0f} ms "
            f"| {ours / base:.2f}x |"
        )
    lines += ["", *(f"Note: {note}" for note in bench.notes)]
    return lines


def _target(name, figure, ratio, holds, command) -> dict:
    return {"name": name, "figure": figure, "ratio": ratio, "holds": holds, "command": command}


def _versus(rows: dict, kind: str, other: str, bound: float, label: str, command: str) -> dict:
    """Return the target that `kind` serves at least `bound` times the lookups `other` does."""
    measured = ratio(rows, kind, other)
    figure = f"{rows[kind]['rps']:.0f} vs {rows[other]['rps']:.0f} req/s"
    return _target(label, figure, f"{measured:.2f}×", measured >= bound, command)


def targets(bench: Bench, cold: dict | None, photo: tuple | None) -> list[dict]:
    """Check each target of the speed issue, then the earlier ones, against this run."""
    found = []
    http = {(database, size, name): rows for database, size, name, rows in bench.http}
    for (database, size, name), rows in http.items():
        if name != LOOKUP or database != "postgres":
            continue
        where = f"postgres, {size:,}"
        command = f"{RUN} --databases postgres --sizes {size} --only http"
        label = f"1. lookup ≥ {POSTGREST_RATIO:.1f}× PostgREST ({where})"
        if "postgrest" in rows:
            found.append(_versus(rows, "app", "postgrest", POSTGREST_RATIO, label, command))
        else:
            figure = f"not measured: install PostgREST (`{postgrest.INSTALL}`)"
            found.append(_target(label, figure, "—", None, command))
        label = f"1. lookup ≥ {FLOOR_RATIO}× the true floor ({where})"
        found.append(_versus(rows, "app", "floor", FLOOR_RATIO, label, command))
        label = f"2. on Vercel's settings, lookup ≥ {VERCEL_RATIO:.0f}× naive ({where})"
        found.append(_versus(rows, "app-vercel", "naive", VERCEL_RATIO, label, command))
    for database, size, _rare, terms in bench.search:
        bound = SEARCH_MS[database]
        p50 = {kind: terms[kind]["p50_ms"] for kind in ("common", "rare", "absent")}
        worst = max(p50.values())
        found.append(
            _target(
                f"3. search p50 ≤ {bound} ms, every term ({database}, {size:,})",
                " / ".join(f"{kind} {ms:.1f}" for kind, ms in p50.items()) + " ms",
                f"{worst / bound:.2f}× the bound",
                worst <= bound,
                f"{RUN} --databases {database} --sizes {size} --only search",
            )
        )
    if cold:
        command = ".venv/bin/python bench/cold_start.py"
        for what, bound in (("lookup", COLD_RATIO), ("/health", None)):
            app, base = cold["app", what], cold["flask + psycopg", what]
            label = "authenticated lookup" if what == "lookup" else "`/health` alone"
            found.append(
                _target(
                    f"4. cold start to the {label}"
                    + (
                        f" ≤ {bound:.1f}× Flask + psycopg" if bound else ", against Flask + psycopg"
                    ),
                    f"{app * 1000:.0f} vs {base * 1000:.0f} ms",
                    f"{app / base:.2f}×",
                    app / base <= bound if bound else None,
                    command,
                )
            )
    if photo:
        _size, base, ours = photo
        found.append(
            _target(
                f"5. photo pipeline ≤ {PHOTO_RATIO}× decode + encode (12 MP JPEG)",
                f"{ours * 1000:.0f} vs {base * 1000:.0f} ms",
                f"{ours / base:.2f}×",
                ours / base <= PHOTO_RATIO,
                ".venv/bin/python bench/photo_pipeline.py",
            )
        )
    for database, size, batch, server, singles in bench.bulk:
        command = f"{RUN} --databases {database} --only bulk"
        found.append(
            _target(
                f"6. 1,000-product push ≥ {PUSH_RATIO}× single requests ({database}, {size:,})",
                f"{batch:.2f} vs {singles:.2f} s",
                f"{singles / batch:.1f}×",
                singles / batch >= PUSH_RATIO,
                command,
            )
        )
        if database == "postgres":
            found.append(
                _target(
                    f"6. its server time ≤ {PUSH_SECONDS} s (postgres, {size:,})",
                    f"{server:.2f} s",
                    f"{server / PUSH_SECONDS:.2f}× the bound",
                    server <= PUSH_SECONDS,
                    command,
                )
            )
    for database, size, asked, plain in bench.pulls:
        time_ = (plain or asked)["seconds"]
        gzip = (
            f"gzip {asked['seconds']:.1f} s, {_mb(asked['wire_bytes'])}"
            if plain
            else f"not compressed (gzip would make {_mb(asked['gzip_bytes'])})"
        )
        found.append(
            _target(
                f"6. first full pull of {size:,} products, reported ({database})",
                f"{time_:.1f} s, {asked['pages']} pages, {_mb(asked['json_bytes'])}; {gzip}",
                f"gzip: {asked['gzip_bytes'] / asked['json_bytes']:.2f}× the bytes",
                None,
                f"{RUN} --databases {database} --only pull",
            )
        )
    for database, size, pages in bench.admin:
        days = ("dashboard, 30 days", "dashboard, 90 days")
        worst = max(pages[name]["p50_ms"] for name in days)
        found.append(
            _target(
                f"7. dashboard p50 ≤ {DASHBOARD_MS / 1000:g} s, 30 and 90 days "
                f"({database}, {size:,})",
                " / ".join(f"{name[11:]} {pages[name]['p50_ms']:.0f} ms" for name in days),
                f"{max(pages[name]['ratio'] for name in days):.0f}× a lookup",
                worst <= DASHBOARD_MS,
                f"{RUN} --databases {database} --sizes {size} --only admin",
            )
        )
    found += _earlier_targets(bench, http)
    return found


def _earlier_targets(bench: Bench, http: dict) -> list[dict]:
    """Check the targets of earlier issues, so that none slips back unnoticed."""
    found = []
    for database, size, name in http:
        command = f"{RUN} --databases {database} --only http"
        if name == "history, deep page" and size >= 1_000_000:
            first = http[database, size, "history, first page"]["app"]["p50"]
            ratio = http[database, size, name]["app"]["p50"] / first
            found.append(
                _target(
                    f"earlier: deep history page ≤ 1.5× the first, p50 ({database}, {size:,})",
                    f"{http[database, size, name]['app']['p50']:.1f} vs {first:.1f} ms",
                    f"{ratio:.2f}×",
                    ratio <= 1.5,
                    command,
                )
            )
        small = http.get((database, min(bench.args.sizes), name))
        if name == LOOKUP and size >= 1_000_000 and small:
            ratio = http[database, size, name]["app"]["p50"] / small["app"]["p50"]
            found.append(
                _target(
                    f"earlier: lookup p50 at {size:,} ≤ 1.3× at {min(bench.args.sizes):,} "
                    f"({database})",
                    f"{http[database, size, name]['app']['p50']:.1f} vs "
                    f"{small['app']['p50']:.1f} ms",
                    f"{ratio:.2f}×",
                    ratio <= 1.3,
                    command,
                )
            )
    for database, _size, first, last in bench.memory:
        growth = last / first - 1
        found.append(
            _target(
                f"earlier: memory growth from 1k to 20k requests ≤ 10% ({database})",
                f"{first:.1f} → {last:.1f} MiB",
                f"{growth:+.1%}",
                growth <= 0.1,
                f"{RUN} --databases {database} --only memory",
            )
        )
    return found


def _holds(value: bool | None) -> str:
    return "reported" if value is None else "yes" if value else "**no**"


def render(lines: list[str], found: list[dict], *, command: str, description: str) -> str:
    out = [f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `{command}`.", ""]
    out += [f"Machine: {description}.", "", "### Targets", ""]
    out += ["| target | figure | ratio | holds | command |", "|---|---|---:|---|---|"]
    out += [
        f"| {t['name']} | {t['figure']} | {t['ratio']} | {_holds(t['holds'])} | `{t['command']}` |"
        for t in found
    ]
    return "\n".join([*out, "", *lines]) + "\n"


def summary(found: list[dict]) -> str:
    """Return the targets as plain text, one per line, for the terminal."""
    width = max(len(t["name"]) for t in found) if found else 0
    return "\n".join(
        f"{_holds(t['holds']).strip('*'):8} {t['name']:{width}}  {t['ratio']:>16}  {t['figure']}"
        for t in found
    )


def write_docs(generated: str) -> None:
    """Replace the generated part of docs/performance.md, keeping what was written by hand."""
    if DOCS.exists():
        current = DOCS.read_text()
    else:
        DOCS.parent.mkdir(exist_ok=True)
        current = f"# Performance\n\n{BEGIN}\n{END}\n"
    before, _, rest = current.partition(BEGIN)
    _, _, after = rest.partition(END)
    DOCS.write_text(f"{before}{BEGIN}\n{generated}{END}{after}")


# --- Main ---------------------------------------------------------------------------------------


def _postgres_problem(url: str) -> str | None:
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure to connect means: skip Postgres and say why
        return f"Postgres is not reachable at {url}: {str(error).splitlines()[0]}"
    return None


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1 s, 100k only")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", help="catalogue sizes (default 100000,1000000; quick: 100000)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", seed.DEFAULT_POSTGRES),
        help="a database on the Postgres server to use (BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per server")
    parser.add_argument("--connections", type=int, default=8, help="load generator connections")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 5; quick: 3)")
    parser.add_argument("--seconds", type=int, help="seconds per round (default 3; quick: 1)")
    parser.add_argument("--only", help=f"comma-separated phases: {','.join(PHASES)}")
    parser.add_argument("--skip", default="", help="comma-separated phases to leave out")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    args.databases = [d for d in args.databases.split(",") if d]
    default_sizes = "100000" if args.quick else "100000,1000000"
    args.sizes = sorted(int(s) for s in (args.sizes or default_sizes).split(","))
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.seconds = args.seconds or (1 if args.quick else 3)
    chosen = set(args.only.split(",")) if args.only else set(PHASES)
    unknown = (chosen | set(filter(None, args.skip.split(",")))) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    args.phases = chosen - set(args.skip.split(","))
    return args


def main() -> None:
    # Stopped by a signal, still stop the servers: the `with` blocks unwind on SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    command = shlex.join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])
    print("compiling bytecode for every module", file=sys.stderr, flush=True)
    servers.compile_all()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bench = Bench(args, Path(tmp))
        if not shutil.which("wrk"):
            bench.note("wrk is not installed (apt-get install wrk): load from bench/load.py")
        if "postgres" in args.databases and (problem := _postgres_problem(args.postgres)):
            bench.note(problem + "; Postgres skipped")
            args.databases.remove("postgres")
        if "postgres" in args.databases and not bench.postgrest:
            bench.note(f"PostgREST is not installed ({postgrest.INSTALL}): left out")
        for database in args.databases:
            bench.run_database(database)
        cold = photo = None
        if bench.wants("cold") and "postgres" in args.databases:
            bench.log("cold start")
            url = seed.ensure(seed.postgres_url(args.postgres, 100_000), 100_000, log=bench.log)
            token = cold_start.sign_up(url)
            cold = cold_start.measure(url, token, 7 if args.quick else 15)
        elif bench.wants("cold"):
            bench.note("cold start is measured on Postgres (the Vercel settings): skipped")
        if bench.wants("photo"):
            bench.log("photo pipeline")
            data = photo_pipeline.phone_photo("JPEG")
            photo = (len(data), *photo_pipeline.measure(data, 3 if args.quick else 7))
    found = targets(bench, cold, photo)
    generated = render(
        report(bench, cold, photo), found, command=command, description=machine(args, bench)
    )
    print(generated)
    print(summary(found), file=sys.stderr)
    if not args.no_docs:
        write_docs(generated)
        print(f"written to {DOCS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
