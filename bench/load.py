"""Load generator: GET random paths of a file over keep-alive connections, from its own process.

    python bench/load.py http://127.0.0.1:8000 paths.txt [--token T] [--connections 8]
                         [--seconds 5 | --requests 20000]

Prints one JSON line: requests, seconds, p50_ms, p99_ms, failed (any answer but
200, or no answer). `generate` runs wrk with bench/wrk.lua when wrk is installed
and a duration is asked for, and this generator otherwise: wrk is faster, so it
takes less of the CPU the server shares with it.
"""

import argparse
import http.client
import json
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


def generate(
    url: str,
    paths_file: Path,
    *,
    token: str = "",
    connections: int = 8,
    seconds: int | None = None,
    requests: int | None = None,
) -> dict:
    """Load the server from a separate process; return its JSON summary, with `tool`."""
    if seconds is not None and shutil.which("wrk"):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "wrk.lua")]
        command += [url, "--", str(paths_file), token]
        tool = "wrk"
    else:
        command = [sys.executable, str(HERE / "load.py"), url, str(paths_file)]
        command += ["--token", token, "--connections", str(connections)]
        command += ["--seconds", str(seconds)] if seconds is not None else []
        command += ["--requests", str(requests)] if requests is not None else []
        tool = "python"
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    return {**summary, "tool": tool, "rps": summary["requests"] / summary["seconds"]}


def _worker(host, port, paths, headers, deadline, budget, latencies, failures, lock):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    rng = random.Random()
    mine = []
    while time.perf_counter() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        start = time.perf_counter()
        try:
            connection.request("GET", rng.choice(paths), headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            connection.close()
            ok = False
        mine.append(time.perf_counter() - start)
        if not ok:
            failures.append(1)
    connection.close()
    latencies.extend(mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("paths", type=Path)
    parser.add_argument("--token", default="")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--requests", type=int)
    args = parser.parse_args()
    target = urlsplit(args.url)
    paths = args.paths.read_text().split()
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    deadline = time.perf_counter() + (args.seconds or 3600)
    budget = [args.requests or 10**12]
    latencies, failures, lock = [], [], threading.Lock()
    work = (target.hostname, target.port, paths, headers, deadline, budget)
    threads = [
        threading.Thread(target=_worker, args=(*work, latencies, failures, lock))
        for _ in range(args.connections)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    summary = {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "p50_ms": round(cuts[49] * 1000, 3),
        "p99_ms": round(cuts[98] * 1000, 3),
        "failed": len(failures),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
