"""The app served by waitress in processes of its own, and a small HTTP client to call it."""

import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readme_waitress_options() -> list[str]:
    """Return the options of the README's waitress command, but the address and the app."""
    text = README.read_text()
    [command] = re.findall(r"^\.venv/bin/waitress-serve .*?(?<!\\)$", text, re.M | re.S)
    words = shlex.split(command.replace("\\\n", " "))
    assert words[-2:] == ["--call", "productinfo:create_app"], words
    return [word for word in words[1:-2] if not word.startswith("--listen")]


def serve(app, log: Path, *, options=(), **env) -> tuple[subprocess.Popen, str]:
    """Serve the app's database with waitress in a new process; return it and its URL."""
    port = free_port()
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INSTANCE_PATH": str(log.parent / f"served-{port}"),
        "BCRYPT_ROUNDS": "4",
        **env,
    }
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", *options]
    command += ["--call", "productinfo:create_app"]
    with log.open("w") as output:
        server = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/", timeout=1).close()
            return server, url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"waitress did not start: {log.read_text()}")
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)


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
