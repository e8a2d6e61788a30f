"""The app and its baselines served by waitress, each in a process of its own; a small client."""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PASSWORD = "tulip-rocket-harbor-57"


class Server:
    """A waitress process serving `target` (module:factory) on a free port of 127.0.0.1."""

    def __init__(self, name: str, target: str, env: dict, *, threads: int, log: Path):
        self.name, self.log = name, log
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{self.port}"]
        command += [f"--threads={threads}", "--call", target]
        environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(HERE), **env}
        with log.open("w") as output:
            self.process = subprocess.Popen(
                command, cwd=HERE, env=environment, stdout=output, stderr=output
            )
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                Client(self.url).get("/categories.get")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"{self.name} did not start:\n{self.log.read_text()}"
                    ) from None
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


def app(database_url: str, *, threads: int, workdir: Path, name: str = "app") -> Server:
    """Serve the real app on a database, as in production: waitress, access log at INFO."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "INSTANCE_PATH": str(workdir / f"{name}-instance"),
        "LOG_LEVEL": "INFO",
        # One load generator is one address: let it past the per-address limit, which is
        # still counted on every request. A token lasts the whole run.
        "RATE_LIMIT": "1000000000 per minute",
        "ACCESS_TOKEN_MINUTES": "240",
    }
    return Server(name, "productinfo:create_app", env, threads=threads, log=workdir / f"{name}.log")


def baseline(kind: str, database_url: str, *, threads: int, workdir: Path) -> Server:
    """Serve a baseline of bench/baselines.py ("floor" or "naive") on a database."""
    env = {"BENCH_DATABASE_URL": database_url}
    return Server(kind, f"baselines:{kind}", env, threads=threads, log=workdir / f"{kind}.log")


class Client:
    """A keep-alive HTTP client for JSON calls, timing each one."""

    def __init__(self, base_url: str, token: str = ""):
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body=None) -> tuple[int, dict, float]:
        """Send a request; return (status, decoded body, seconds)."""
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
        return response.status, json.loads(data) if data else None, elapsed

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
