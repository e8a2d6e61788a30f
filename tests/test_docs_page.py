"""/docs works without the internet: Swagger UI comes from the deployment, under a strict CSP."""

import json
import shutil
import subprocess
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from productinfo import create_app
from tests.servers import chromium, waitress

ROOT = Path(__file__).resolve().parent.parent


def locked_version(package: str) -> str:
    """Return the version of `package` that uv.lock pins."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


SWAGGER_UI = locked_version("flask-swagger-ui")


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    path = tmp_path / "productinfo.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def client(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        }
    )
    yield app.test_client()
    app.extensions["db"].dispose()


class References(HTMLParser):
    """Collect every URL a page names in src and href attributes, and its inline scripts."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[name] for name in ("src", "href") if attrs.get(name)]
        self._in_script_without_src = tag == "script" and "src" not in attrs

    def handle_data(self, data):
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        self._in_script_without_src = False


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_docs_page_names_only_its_own_files(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = References()
    page.feed(response.get_data(as_text=True))
    assert page.inline_scripts == 0
    assert len(page.urls) == 3  # the stylesheet, Swagger UI, the script that starts it
    for url in page.urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), f"{url} is on another host"
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype in ("text/css", "text/javascript"), url
    assert f"/docs/swagger-ui/{SWAGGER_UI}/swagger-ui-bundle.js" in page.urls


def test_docs_page_policy_allows_no_other_host_and_no_inline_script(client):
    csp = csp_directives(client.get("/docs").headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    allowed = {"'self'", "'none'", "'unsafe-inline'", "data:"}
    for directive, sources in csp.items():
        assert set(sources) <= allowed, f"{directive} {sources}"


def test_swagger_ui_files_are_cached_for_their_version_only(client):
    with client.get(f"/docs/swagger-ui/{SWAGGER_UI}/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        body = bundle.get_data(as_text=True)
    assert len(body) > 500_000  # the whole bundle, not a stub
    assert "SwaggerUIBundle" in body


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui/0.0.1/swagger-ui-bundle.js",  # another version than the installed one
        f"/docs/swagger-ui/{SWAGGER_UI}/LICENSE",  # in the package, but not served
        f"/docs/swagger-ui/{SWAGGER_UI}/oauth2-redirect.html",
        f"/docs/swagger-ui/{SWAGGER_UI}/..%2F__init__.py",
    ],
)
def test_only_the_pages_files_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


# --- In a real browser, with every other host unreachable ---------------------------------------


@pytest.fixture
def served(database_url, tmp_path):
    """The app served by waitress in a process of its own, as in production."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "INSTANCE_PATH": str(tmp_path / "served"),
    }
    with waitress(env, tmp_path / "waitress.log") as url:
        yield url


def page_requests(net_log: Path, origin: str) -> list[str]:
    """Return the URLs of the requests the page made, from Chromium's network log."""
    text = net_log.read_text().rstrip().rstrip(",")
    if not text.endswith("}"):  # the log of a browser that did not close it
        text += "]}"
    log = json.loads(text)
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start
        # The page's own requests; the browser's background calls have no page behind them.
        and (
            event.get("params", {}).get("initiator") == origin
            or event.get("params", {}).get("request_type") == "main frame"
        )
    ]


def test_docs_page_renders_in_chromium_with_no_other_host(served, tmp_path):
    net_log = tmp_path / "net-log.json"
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
        # Nothing leaves this machine: a page that needs a CDN finds no CDN.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--log-net-log={net_log}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=15000",
        "--dump-dom",
        f"{served}/docs",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    dom = result.stdout
    assert 'class="swagger-ui' in dom
    assert "Product information API" in dom
    assert "/companies.add" in dom  # the operations came from /openapi.json

    requests = page_requests(net_log, served)
    assert f"{served}/openapi.json" in requests
    assert f"{served}/docs/swagger-ui/{SWAGGER_UI}/swagger-ui-bundle.js" in requests
    assert [url for url in requests if not url.startswith(f"{served}/")] == []

    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert [line for line in console if "Content Security Policy" in line] == []
