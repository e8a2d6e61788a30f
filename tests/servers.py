"""Real servers for the tests: the app under waitress, a private Postgres cluster, Chromium."""

import contextlib
import glob
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = Path(ROOT) / "README.md"


def chromium() -> str:
    """Return the path of Debian's Chromium; skip without it, except under CI=true (fail)."""
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    message = "Chromium is not installed (apt-get install chromium); .ci/run installs it."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def waitress(env: dict, log_path, *, threads: int = 4, args=()):
    """Serve `productinfo:create_app` with waitress in a process of its own; yield its URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "waitress",
        f"--listen=127.0.0.1:{port}",
        f"--threads={threads}",
        *args,
        "--call",
        "productinfo:create_app",
    ]
    with open(log_path, "w") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], **env},
            stdout=output,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"waitress did not start: {open(log_path).read()}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def app_env(app, folder, **env) -> dict:
    """Return the environment that serves an app's database and secret key."""
    return {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(folder / f"served-{free_port()}"),
        "BCRYPT_ROUNDS": "4",
        **env,
    }


def readme_waitress_options() -> list[str]:
    """Return the options of the README's waitress command, but the address and the app."""
    text = README.read_text()
    [command] = re.findall(r"^\.venv/bin/waitress-serve .*?(?<!\\)$", text, re.M | re.S)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[-2:] == ["--call", "productinfo:create_app"], words
    return [word for word in words[1:-2] if not word.startswith("--listen")]


def call(url, data=None, headers=None):
    """Send a request; return (status, headers, JSON body)."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


def post_json(url: str, path: str, body: dict, *, headers=None, source: str = "127.0.0.1"):
    """POST a JSON body from a chosen local address; return (status, JSON body)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request("POST", path, json.dumps(body), headers)
        response = connection.getresponse()
        return response.status, json.load(response)
    finally:
        connection.close()


def _postgres_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@contextlib.contextmanager
def private_postgres():
    """Run a Postgres cluster of the test's own, so that it may be stopped or frozen.

    Yields (URL of its `postgres` database, pid of its postmaster). Needs the server
    binaries and, run as root, the `postgres` system user (initdb refuses root).
    """
    binaries = _postgres_bin()
    problem = None
    if binaries is None:
        problem = "the PostgreSQL server binaries are not installed"
    elif os.geteuid() == 0 and shutil.which("runuser") is None:
        problem = "running as root without runuser"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"cannot start a private Postgres: {problem}")
        pytest.skip(f"cannot start a private Postgres: {problem}")
    # Not under pytest's temporary folders: those are private to root, and the server
    # runs as `postgres`.
    directory = tempfile.mkdtemp(prefix="productinfo-pg-")
    data = os.path.join(directory, "pgdata")
    os.makedirs(data)
    as_postgres = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*command):
        subprocess.run([*as_postgres, *command], check=True, capture_output=True)

    run(f"{binaries}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = os.path.join(directory, "postgres.log")
    run(f"{binaries}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
    with open(os.path.join(data, "postmaster.pid")) as pid_file:
        pid = int(pid_file.readline())
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            signal_cluster(pid, signal.SIGCONT)
        run(f"{binaries}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def signal_cluster(pid: int, signum: int) -> None:
    """Send a signal to a postmaster and every process it started."""
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True
    ).stdout.split()
    for process in [pid, *map(int, children)]:
        os.kill(process, signum)
