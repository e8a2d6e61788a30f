"""The servers the bench starts, each in a process of its own; a small client.

Every Python server runs with the bytecode that `compile_all` wrote beforehand and
writes none itself (PYTHONDONTWRITEBYTECODE=1), so that no server starts with an
advantage in .pyc files over another.
"""

import compileall
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PASSWORD = "tulip-rocket-harbor-57"
# One signing key for every app server of a run: a token signed up on one works on all.
SECRET_KEY = secrets.token_urlsafe(48)
# The app runs from the repository, uninstalled, as the bench does.
PYTHON_ENV = {"PYTHONPATH": os.pathsep.join((str(HERE), str(ROOT))), "PYTHONDONTWRITEBYTECODE": "1"}


def compile_all() -> None:
    """Write the bytecode of the app, the bench and every installed library, once for all."""
    for folder in (
        ROOT / "productinfo",
        ROOT / "api",
        HERE,
        Path(sysconfig.get_paths()["purelib"]),
    ):
        compileall.compile_dir(folder, quiet=1, workers=0)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A process serving HTTP on 127.0.0.1:`port`, stopped when the `with` block ends."""

    def __init__(self, name: str, command: list[str], env: dict, *, port: int, log: Path):
        self.name, self.log, self.port = name, log, port
        environment = {"PATH": os.environ["PATH"], **env}
        with log.open("w") as output:
            self.process = subprocess.Popen(
                command, cwd=HERE, env=environment, stdout=output, stderr=output
            )
        self.url = f"http://127.0.0.1:{port}"
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, _ = Client(self.url).get("/categories.get")
                if status < 500:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def rss_mib(self) -> float:
        """Return the resident memory of the server process, in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def waitress(name: str, target: str, env: dict, *, threads: int, workdir: Path) -> Server:
    """Serve `target` (module:factory, found in bench/ or installed) with waitress."""
    port = free_port()
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}"]
    command += [f"--threads={threads}", "--call", target]
    return Server(name, command, {**PYTHON_ENV, **env}, port=port, log=workdir / f"{name}.log")


def app_environment(database_url: str, workdir: Path, name: str) -> dict:
    """Return the app's settings in the bench: the development defaults, access log at INFO."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "INSTANCE_PATH": str(workdir / f"{name}-instance"),
        "LOG_LEVEL": "INFO",
        # One load generator is one address: let it past the per-address limit, which is
        # still counted on every request. A token lasts the whole run.
        "RATE_LIMIT": "1000000000 per minute",
        "ACCESS_TOKEN_MINUTES": "240",
    }


# Public bucket: its photo URLs are made without a request to Storage, which the bench
# has none of. A private bucket would sign them, one request to Storage per lookup.
SUPABASE_URL, SUPABASE_BUCKET = "https://bench.supabase.invalid", "photos"
VERCEL_PHOTO_URL_PREFIX = f"{SUPABASE_URL}/storage/v1/object/public/{SUPABASE_BUCKET}/"


def vercel_environment(database_url: str) -> dict:
    """Return the settings the app runs with on Vercel: what productinfo/config.py requires.

    The mail and storage hosts are never reached: the measured requests send no mail
    and make public photo URLs.
    """
    return {
        "VERCEL": "1",  # production; its connections kept per instance, no prepared statements
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": "https://productinfo.example.com",
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "smtp.invalid",
        "STORAGE_BACKEND": "supabase",
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_bench_never_sent",
        "SUPABASE_BUCKET": SUPABASE_BUCKET,
        "SUPABASE_BUCKET_PUBLIC": "true",
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT": "1000000000 per minute",
        "ACCESS_TOKEN_MINUTES": "240",
    }


def app(database_url: str, *, threads: int, workdir: Path, name: str = "app") -> Server:
    """Serve the real app on a database, as in production: waitress, access log at INFO."""
    env = app_environment(database_url, workdir, name)
    return waitress(name, "productinfo:create_app", env, threads=threads, workdir=workdir)


def vercel_app(database_url: str, *, threads: int, workdir: Path) -> Server:
    """Serve the real app with the settings it has on Vercel."""
    env = vercel_environment(database_url)
    return waitress("app-vercel", "productinfo:create_app", env, threads=threads, workdir=workdir)


def baseline(kind: str, database_url: str, *, threads: int, workdir: Path) -> Server:
    """Serve a baseline of bench/baselines.py ("floor" or "naive") on a database."""
    env = {"BENCH_DATABASE_URL": database_url}
    return waitress(kind, f"baselines:{kind}", env, threads=threads, workdir=workdir)


class Client:
    """A keep-alive HTTP client for JSON calls, timing each one."""

    def __init__(self, base_url: str, token: str = "", headers: dict | None = None):
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.headers.update(headers or {})

    def raw(self, method: str, path: str, body=None) -> tuple[int, bytes, dict, float]:
        """Send a request; return (status, body bytes as sent, headers, seconds)."""
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - start
        return response.status, data, dict(response.getheaders()), elapsed

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, float]:
        """Send a request; return (status, decoded body, seconds)."""
        status, data, _, elapsed = self.raw(method, path, body)
        return status, json.loads(data) if data else None, elapsed

    def get(self, path: str):
        return self.call("GET", path)

    def post(self, path: str, body: dict):
        return self.call("POST", path, body)


def sign_up(server: Server) -> str:
    """Create a staff account through the API and return its access token."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    status, body, _ = Client(server.url).post(
        "/users.signup", {"email": email, "password": PASSWORD, "name": "Bench"}
    )
    if status != 200:
        raise RuntimeError(f"sign-up failed: {status} {body}")
    return body["data"]["access_token"]


def server_times_ms(server: Server, method: str, path: str) -> list[float]:
    """Return the times the app logged for requests to `path`, oldest first."""
    marker = f" {method} {path} "
    return [
        float(line.rsplit(" ", 1)[1].removesuffix("ms"))
        for line in server.log.read_text().splitlines()
        if marker in line and line.endswith("ms")
    ]
