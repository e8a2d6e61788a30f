"""Benchmark the app's hot paths against baselines; print the table, write docs/performance.md.

    .venv/bin/python bench/run.py [--quick] [--databases sqlite,postgres] [--sizes 100000,1000000]
                                  [--postgres URL] [--threads 4] [--connections 8] [--no-docs]

For each database and catalogue size (seeded by bench/seed.py and kept between
runs), the real app and the two baselines of bench/baselines.py are served by
waitress, each in its own process, and loaded over HTTP from another process
(wrk, or bench/load.py without it), the app as a user signed up through the
API. Measurements alternate between the three servers, round after round, and
each figure is the median of the rounds, so machine noise hits all alike.
Then: 1,000 products pushed in one request against one request each; the
server's memory after 1k and 20k mixed requests; cold start; the photo pipeline.

--quick: one round of 2 s per figure and the 100k catalogue only (a few minutes).
The full run (3 rounds of 5 s, 100k and 1M) takes about 20 minutes, plus
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

import cold_start
import load
import photo_pipeline
import seed
import servers
from sqlalchemy import create_engine, text

from productinfo.pagination import encode_cursor

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
KINDS = ("app", "floor", "naive")
# A cursor near the end of the list, newest first: the page of products 199 to 150.
DEEP_CURSOR = encode_cursor([200])
COMPANY_QUERIES = ("foods", "dairy", "cev", "ifr", "som")
MEMORY_POINTS = (1_000, 20_000)
BATCH_PRODUCTS, BATCH_COMPANIES = 1000, 100


def endpoint_paths(size: int, rng: random.Random) -> dict[str, list[str]]:
    """Return the paths of each measured endpoint: random existing barcodes, pages, searches."""
    lookups = [f"/products.getByBarcode/{seed.barcode(rng.randint(1, size))}" for _ in range(5000)]
    return {
        "barcode lookup": lookups,
        "categories": ["/categories.get"],
        "history, first page": ["/products.history?scope=all"],
        "history, deep page": [f"/products.history?scope=all&cursor={DEEP_CURSOR}"],
        "companies ?q=": [f"/companies.get?q={q}" for q in COMPANY_QUERIES],
    }


# At the larger sizes only what depends on the catalogue's size is measured again.
LARGE_ENDPOINTS = ("barcode lookup", "history, first page", "history, deep page")


class Bench:
    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.rng = random.Random(42)
        self.http = []  # rows: database, size, endpoint, {kind: summary}
        self.bulk, self.memory, self.notes = [], [], []

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def paths_file(self, name: str, paths: list[str]) -> Path:
        path = self.workdir / f"{uuid.uuid4().hex[:8]}-{name.split(',')[0].replace(' ', '-')}.txt"
        path.write_text("\n".join(paths) + "\n")
        return path

    def run_database(self, database: str) -> None:
        urls = {
            size: seed.url_for(database, size, server=self.args.postgres)
            for size in self.args.sizes
        }
        for size, url in urls.items():
            self.log(f"{database} {size:,}: seeding if needed")
            seed.ensure(url, size, log=self.log)
        for index, (size, url) in enumerate(urls.items()):
            self.run_http(database, size, url, first=index == 0)
        first_size = self.args.sizes[0]
        self.run_memory(database, first_size, urls[first_size])

    def run_http(self, database: str, size: int, url: str, *, first: bool) -> None:
        threads, workdir = self.args.threads, self.workdir
        paths = endpoint_paths(size, self.rng)
        if not first:
            paths = {name: paths[name] for name in LARGE_ENDPOINTS}
        files = {name: self.paths_file(name, found) for name, found in paths.items()}
        with (
            servers.app(url, threads=threads, workdir=workdir) as app,
            servers.baseline("floor", url, threads=threads, workdir=workdir) as floor,
            servers.baseline("naive", url, threads=threads, workdir=workdir) as naive,
        ):
            token = servers.sign_up(app)
            running = {"app": (app, token), "floor": (floor, ""), "naive": (naive, "")}
            for found in paths.values():
                for kind, (server, key) in running.items():
                    status, body, _ = servers.Client(server.url, key).get(found[0])
                    if status != 200:
                        raise RuntimeError(f"{kind} {found[0]}: {status} {body}")
            warm = self.paths_file("warm-up", [p for found in paths.values() for p in found[:50]])
            for server, key in running.values():
                load.generate(server.url, warm, token=key, seconds=1)
            samples = {(name, kind): [] for name in paths for kind in KINDS}
            for round_ in range(self.args.rounds):
                self.log(f"{database} {size:,}: round {round_ + 1} of {self.args.rounds}")
                for name in paths:
                    for kind, (server, key) in running.items():
                        samples[name, kind].append(
                            load.generate(
                                server.url,
                                files[name],
                                token=key,
                                connections=self.args.connections,
                                seconds=self.args.seconds,
                            )
                        )
            for name in paths:
                medians = {kind: _median(samples[name, kind]) for kind in KINDS}
                self.http.append((database, size, name, medians))
            if first:
                self.run_bulk(database, size, url, app, token)

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

    def run_memory(self, database: str, size: int, url: str) -> None:
        """Measure a fresh server's resident memory after 1k, then 20k, mixed requests."""
        self.log(f"{database} {size:,}: memory over {MEMORY_POINTS[-1]:,} mixed requests")
        paths = endpoint_paths(size, self.rng)
        lookups = paths.pop("barcode lookup")
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
                    self.notes.append(f"memory, {database}: {summary['failed']} requests failed")
                done = point
                rss.append(app.rss_mib())
        self.memory.append((database, size, *rss))


def _median(summaries: list[dict]) -> dict:
    return {
        "rps": statistics.median(s["rps"] for s in summaries),
        "p50": statistics.median(s["p50_ms"] for s in summaries),
        "p99": statistics.median(s["p99_ms"] for s in summaries),
        "failed": sum(s["failed"] for s in summaries),
        "tool": summaries[0]["tool"],
    }


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


def _forget_pushed(url: str, size: int) -> None:
    """Delete what the bulk phase added, so that the seeded database can be used again."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM products WHERE id > :size"), {"size": size})
        conn.execute(text("DELETE FROM companies WHERE id > :n"), {"n": seed.COMPANIES})
    engine.dispose()


# --- Report -------------------------------------------------------------------------------------


def machine(args) -> str:
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
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    tool = _wrk_version() or "bench/load.py (wrk is not installed)"
    parts.append(f"load: {tool}, {args.connections} connections")
    parts.append(f"servers: waitress, {args.threads} threads")
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


def _http_table(rows) -> list[str]:
    head = "| endpoint | database | products |"
    for kind in KINDS:
        head += f" {kind} req/s | p50 ms | p99 ms |"
    lines = [head + " app/floor | app/naive |", "|---|---|---:|" + "---:|" * 11]
    for database, size, name, found in rows:
        line = f"| {name} | {database} | {size:,} |"
        for kind in KINDS:
            summary = found[kind]
            failed = f" ({summary['failed']} failed)" if summary["failed"] else ""
            line += f" {summary['rps']:.0f}{failed} | {summary['p50']:.1f} | {summary['p99']:.1f} |"
        app = found["app"]["rps"]
        line += f" {app / found['floor']['rps']:.2f} | {app / found['naive']['rps']:.2f} |"
        lines.append(line)
    return lines


def report(bench: Bench, cold: dict | None, photo: tuple | None) -> tuple[list[str], list[tuple]]:
    """Return the report's lines and the targets as (name, measured, holds)."""
    lines = ["### Over HTTP (requests per second, latency under load)", ""]
    lines += _http_table(bench.http)
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
    lines += ["", "### Memory: resident size of the app's waitress process", ""]
    lines += ["| database | products | after 1k requests | after 20k requests | growth |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for database, size, first, last in bench.memory:
        lines.append(
            f"| {database} | {size:,} | {first:.1f} MiB | {last:.1f} MiB | "
            f"{(last / first - 1) * 100:+.1f}% |"
        )
    if cold:
        base = cold["import flask"]
        lines += ["", "### Cold start (new interpreter, median)", ""]
        lines += ["| command | time | ratio |", "|---|---:|---:|"]
        for name, median in cold.items():
            lines.append(f"| `{name}` | {median * 1000:.0f} ms | {median / base:.2f}x |")
    if photo:
        size, base, ours = photo
        lines += ["", "### Photo pipeline (12 MP phone JPEG, median)", ""]
        lines += ["| upload | decode + encode JPEG | `process` | ratio |", "|---|---:|---:|---:|"]
        lines.append(
            f"| JPEG {size / 1e6:.1f} MB | {base * 1000:.0f} ms | {ours * 1000:.0f} ms "
            f"| {ours / base:.2f}x |"
        )
    lines += ["", *(f"Note: {note}" for note in bench.notes)]
    return lines, targets(bench, cold)


def targets(bench: Bench, cold: dict | None) -> list[tuple]:
    """Check each target against what was measured in this run."""
    found = []
    http = {(database, size, name): rows for database, size, name, rows in bench.http}
    for (database, size, name), rows in http.items():
        if name != "barcode lookup":
            continue
        app = rows["app"]["rps"]
        floor, naive = app / rows["floor"]["rps"], app / rows["naive"]["rps"]
        where = f"{database}, {size:,}"
        found.append((f"lookup ≥ 70% of the floor ({where})", f"{floor:.0%}", floor >= 0.7))
        if database == "postgres":
            # The floor's own ratio to naive bounds what any implementation could reach here.
            bound = rows["floor"]["rps"] / rows["naive"]["rps"]
            measured = f"{naive:.2f}x (floor: {bound:.2f}x)"
            found.append((f"lookup ≥ 5x naive ({where})", measured, naive >= 5))
    for database, size, name in http:
        if name == "history, deep page" and size >= 1_000_000:
            first = http[database, size, "history, first page"]["app"]["p50"]
            ratio = http[database, size, name]["app"]["p50"] / first
            found.append(
                (
                    f"deep history page ≤ 1.5x first, p50 ({database}, {size:,})",
                    f"{ratio:.2f}x",
                    ratio <= 1.5,
                )
            )
        if name == "barcode lookup" and size >= 1_000_000:
            small = http.get((database, min(bench.args.sizes), name))
            if small:
                ratio = http[database, size, name]["app"]["p50"] / small["app"]["p50"]
                found.append(
                    (
                        f"lookup at {size:,} ≤ 1.3x at {min(bench.args.sizes):,}, p50 ({database})",
                        f"{ratio:.2f}x",
                        ratio <= 1.3,
                    )
                )
    for database, _size, batch, server, singles in bench.bulk:
        ratio = singles / batch
        found.append(
            (f"1,000-product push ≥ 20x faster ({database})", f"{ratio:.1f}x", ratio >= 20)
        )
        if database == "postgres":
            found.append(("push server time < 1 s (postgres)", f"{server:.2f} s", server < 1))
    if cold:
        ratio = cold["import api.index + GET /health"] / cold["import flask"]
        libraries = cold[cold_start.LIBRARIES] / cold["import flask"]
        measured = f"{ratio:.2f}x (libraries alone: {libraries:.2f}x)"
        found.append(("cold start ≤ 2.5x import flask", measured, ratio <= 2.5))
    for database, _size, first, last in bench.memory:
        growth = last / first - 1
        found.append((f"memory growth 1k→20k ≤ 10% ({database})", f"{growth:+.1%}", growth <= 0.1))
    return found


def render(lines: list[str], found: list[tuple], *, command: str, description: str) -> str:
    out = [f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `{command}`.", ""]
    out += [f"Machine: {description}.", "", *lines, "", "### Targets", ""]
    out += ["| target | measured | holds |", "|---|---:|---|"]
    out += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in found]
    return "\n".join(out) + "\n"


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
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s, 100k only")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--sizes", help="catalogue sizes (default 100000,1000000; quick: 100000)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", seed.DEFAULT_POSTGRES),
        help="a database on the Postgres server to use (BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per server")
    parser.add_argument("--connections", type=int, default=8, help="load generator connections")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 3; quick: 1)")
    parser.add_argument("--seconds", type=int, help="seconds per figure (default 5; quick: 2)")
    parser.add_argument("--skip", default="", help="comma-separated: cold,photo")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    args.databases = [d for d in args.databases.split(",") if d]
    default_sizes = "100000" if args.quick else "100000,1000000"
    args.sizes = sorted(int(s) for s in (args.sizes or default_sizes).split(","))
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.seconds = args.seconds or (2 if args.quick else 5)
    args.skip = set(args.skip.split(","))
    return args


def main() -> None:
    # Stopped by a signal, still stop the servers: the `with` blocks unwind on SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse_args()
    command = shlex.join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bench = Bench(args, Path(tmp))
        if not shutil.which("wrk"):
            bench.notes.append(
                "wrk is not installed (apt-get install wrk): load from bench/load.py"
            )
            bench.log(bench.notes[-1])
        if "postgres" in args.databases and (problem := _postgres_problem(args.postgres)):
            bench.notes.append(problem + "; Postgres skipped")
            bench.log(bench.notes[-1])
            args.databases.remove("postgres")
        for database in args.databases:
            bench.run_database(database)
        cold = photo = None
        if "cold" not in args.skip:
            bench.log("cold start")
            cold = cold_start.measure(5 if args.quick else 15)
        if "photo" not in args.skip:
            bench.log("photo pipeline")
            data = photo_pipeline.phone_photo("JPEG")
            photo = (len(data), *photo_pipeline.measure(data, 3 if args.quick else 7))
    lines, found = report(bench, cold, photo)
    generated = render(lines, found, command=command, description=machine(args))
    print(generated)
    if not args.no_docs:
        write_docs(generated)
        print(f"written to {DOCS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
