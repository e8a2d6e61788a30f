"""Cold start: from process start to the first authenticated barcode lookup, without shutdown.

    python bench/cold_start.py [--runs 15] [--postgres URL]

Each run is a new interpreter that imports a WSGI app and serves one request
through its WSGI callable, with an environ built as a server builds it (no test
client, whose imports no server makes). The child measures the time itself: from
the moment the parent started it (`time.monotonic` is one clock for every process)
to the answer's last byte. It prints that and leaves with `os._exit`, so that the
interpreter's shutdown is not counted. The runs alternate between the commands.

- app: `api/index.py`, with the settings it has on Vercel (bench/servers.py), on
  the Postgres database bench_100000;
- flask + psycopg: `baselines.flask_psycopg`, the same token check, session check
  and lookup, the same answer (checked), and nothing else;
- python alone: the interpreter starting and doing nothing, for scale.

Each serves `GET /products.getByBarcode/<a product with a photo>` with a bearer
token, then, in runs of their own, `GET /health`. Bytecode is compiled for
everything beforehand, as for the servers.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import seed
import servers

ROOT = Path(__file__).resolve().parent.parent
# A product with a photo: its URL is built too. Every 4th product has one.
PRODUCT = seed.barcode(4)
LOAD = {
    "app": "from api.index import app",
    "flask + psycopg": "import baselines; app = baselines.flask_psycopg()",
}
CHILD = """import io, os, sys, time
{load}
environ = {{
    "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": os.environ["BENCH_PATH"],
    "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1",
    "HTTP_AUTHORIZATION": "Bearer " + os.environ["BENCH_TOKEN"],
    "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
    "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}}
status = []
body = b"".join(app(environ, lambda line, headers, exc_info=None: status.append(line)))
elapsed = time.monotonic() - float(os.environ["BENCH_STARTED"])
sys.stdout.write(f"{{elapsed}} {{status[0].split()[0]}}\\n")
if os.environ.get("BENCH_SHOW"):
    sys.stdout.write(body.decode() + "\\n")
sys.stdout.flush()
os._exit(0)
"""
NOTHING = """import os, sys, time
sys.stdout.write(f"{time.monotonic() - float(os.environ['BENCH_STARTED'])} 200\\n")
sys.stdout.flush()
os._exit(0)
"""
PATHS = {"lookup": f"/products.getByBarcode/{PRODUCT}", "/health": "/health"}


def environments(database_url: str, token: str) -> dict[str, dict]:
    """Return each command's environment: the app's Vercel settings, the peer's equivalent."""
    common = {"PATH": os.environ["PATH"], **servers.PYTHON_ENV, "BENCH_TOKEN": token}
    return {
        "app": {**common, **servers.vercel_environment(database_url), "LOG_LEVEL": "WARNING"},
        "flask + psycopg": {
            **common,
            "BENCH_DATABASE_URL": database_url,
            "SECRET_KEY": servers.SECRET_KEY,
        },
    }


def run_once(code: str, env: dict, path: str, *, show: bool = False) -> tuple[float, str]:
    """Start a child, let it serve `path`; return (seconds it measured, its output after)."""
    env = {**env, "BENCH_PATH": path, **({"BENCH_SHOW": "1"} if show else {})}
    env["BENCH_STARTED"] = repr(time.monotonic())
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    first, _, rest = done.stdout.partition("\n")
    if done.returncode != 0 or not first.endswith(" 200"):
        raise RuntimeError(
            f"cold start of {path} failed: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return float(first.split()[0]), rest


def check_same_answer(envs: dict) -> None:
    """Fail unless the app and its peer answer the lookup with the same JSON."""
    bodies = {
        name: json.loads(
            run_once(CHILD.format(load=LOAD[name]), env, PATHS["lookup"], show=True)[1]
        )
        for name, env in envs.items()
    }
    if bodies["app"] != bodies["flask + psycopg"]:
        raise RuntimeError(f"the cold-start peer answers differently: {bodies}")


def measure(database_url: str, token: str, runs: int) -> dict[str, float]:
    """Return the median seconds of each (command, path) over `runs` alternating runs."""
    envs = environments(database_url, token)
    check_same_answer(envs)
    commands = {
        (name, what): (CHILD.format(load=LOAD[name]), envs[name], path)
        for what, path in PATHS.items()
        for name in LOAD
    }
    commands["python alone", ""] = (NOTHING, envs["app"], "")
    samples = {key: [] for key in commands}
    for _ in range(runs):
        for key, (code, env, path) in commands.items():
            samples[key].append(run_once(code, env, path)[0])
    return {key: statistics.median(values) for key, values in samples.items()}


def sign_up(database_url: str) -> str:
    """Return the token of a new account on the database, made through the app."""
    with tempfile.TemporaryDirectory() as workdir:
        with servers.app(database_url, threads=1, workdir=Path(workdir)) as app:
            return servers.sign_up(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgres", default=seed.DEFAULT_POSTGRES, help="any database on it")
    args = parser.parse_args()
    url = seed.ensure(seed.postgres_url(args.postgres, 100_000), 100_000)
    servers.compile_all()
    medians = measure(url, sign_up(url), args.runs)
    print(f"{'command':40} {'median':>9} {'ratio':>6}   ({args.runs} runs each)")
    for (name, what), median in medians.items():
        base = medians.get(("flask + psycopg", what), median)
        print(f"{name + ' ' + what:40} {median * 1000:7.0f}ms {median / base:5.2f}x")


if __name__ == "__main__":
    main()
