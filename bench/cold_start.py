"""Cold start: a new interpreter importing the app (and serving one request) against `import flask`.

    python bench/cold_start.py [--runs 15]

The runs alternate between the commands so that machine noise hits all alike. The second
line is the floor of any app built on these libraries: importing them.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One request through the WSGI interface, as a server sends it; Flask's test client
# would add imports (click.testing, pdb) that no server makes.
SERVE_ONE = (
    "import api.index as m; from werkzeug.test import create_environ; seen = []; "
    "body = b''.join(m.app(create_environ('/health'), lambda status, _: seen.append(status))); "
    "assert seen == ['200 OK'], body"
)
# What the app cannot start without: its web framework, database toolkit, validation, limiter.
LIBRARIES = "import flask, sqlalchemy, pydantic, flask_limiter"
COMMANDS = {
    "import flask": "import flask",
    LIBRARIES: LIBRARIES,
    "import api.index": "import api.index",
    "import api.index + GET /health": SERVE_ONE,
}


def time_once(code: str, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def measure(runs: int) -> dict[str, float]:
    """Return the median seconds of each command over `runs` alternating runs."""
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "INSTANCE_PATH": instance, "LOG_LEVEL": "WARNING"}
        for code in COMMANDS.values():  # warm the bytecode caches and create the database
            time_once(code, env)
        samples = {name: [] for name in COMMANDS}
        for _ in range(runs):
            for name, code in COMMANDS.items():
                samples[name].append(time_once(code, env))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    medians = measure(args.runs)
    base = medians["import flask"]
    print(f"{'command':50} {'median':>9} {'ratio':>6}   ({args.runs} runs each)")
    for name, median in medians.items():
        print(f"{name:50} {median * 1000:7.0f}ms {median / base:5.2f}x")


if __name__ == "__main__":
    main()
