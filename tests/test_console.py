"""The admin console's files: served at /admin with a strict CSP, and nothing else from there."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import assert_error

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "public" / "admin"
SCRIPTS = sorted(CONSOLE.rglob("*.js"))
# What the console's policy must say, directive by directive.
REQUIRED_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "blob:", "data:"},
    # Photos: /photos/<key> answers with a redirect to Supabase Storage, fetched too.
    "connect-src": {"'self'", "https://*.supabase.co"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
}


def policy(header: str) -> dict[str, set[str]]:
    """Split a Content-Security-Policy into its directives and their sources."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def assert_strict_policy(header: str) -> None:
    directives = policy(header)
    for name, sources in REQUIRED_POLICY.items():
        assert directives.get(name) == sources, (name, header)
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_a_supabase_project_on_its_own_domain_is_allowed_for_photos(make_supabase_app):
    app = make_supabase_app()  # the contract fake, on 127.0.0.1
    with app.test_client().get("/admin") as response:
        response.make_sequence()
    sources = policy(response.headers["Content-Security-Policy"])["connect-src"]
    assert sources == {"'self'", "https://*.supabase.co", app.config["SUPABASE_URL"]}


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/index.html"])
def test_console_page_is_served_with_a_strict_policy(client, path):
    with client.get(path) as response:
        response.make_sequence()
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_strict_policy(response.headers["Content-Security-Policy"])
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Absolute: the same page at /admin and /admin/ must find its files.
    assert '<script type="module" src="/admin/js/main.js"></script>' in response.text


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/admin/js/main.js", "text/javascript"),
        ("/admin/js/views/product.js", "text/javascript"),
        ("/admin/console.css", "text/css"),
        ("/admin/icon.svg", "image/svg+xml"),
    ],
)
def test_console_files_are_served(client, path, mimetype):
    with client.get(path) as response:
        assert (response.status_code, response.mimetype) == (200, mimetype)
    assert_strict_policy(response.headers["Content-Security-Policy"])
    assert response.headers["Cache-Control"].startswith("no-cache")
    etag = response.headers["ETag"]
    with client.get(path, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/admin/missing.js",
        "/admin/js/",
        "/admin/../productinfo/config.py",
        "/admin/%2e%2e/README.md",
        "/admin/..%2fproductinfo/config.py",
        "/admin//etc/passwd",
    ],
)
def test_nothing_else_is_served_from_admin(client, path):
    assert_error(client.get(path), 404)


def test_console_page_is_not_a_form_target(client):
    assert_error(client.post("/admin", data={"email": "a@b.c", "password": "x"}), 405)


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline = []
        self.scripts = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names or any(n.startswith("on") for n in names):
            self.inline.append((tag, attrs))
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(("script", data))


def test_page_has_no_inline_script_or_style():
    markup = _Markup()
    markup.feed((CONSOLE / "index.html").read_text())
    assert markup.inline == []
    assert markup.scripts == [{"type": "module", "src": "/admin/js/main.js"}]


# What would parse data as HTML, run strings as code, or keep tokens beyond the tab.
UNSAFE = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"localStorage|sessionStorage|indexedDB|document\.cookie|\.style\b|setAttribute\(\s*.style"
)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(CONSOLE)))
def test_scripts_render_text_and_keep_tokens_in_memory(script):
    assert UNSAFE.findall(script.read_text()) == []


def test_console_calls_only_documented_endpoints(staff):
    """Every action of the console is an endpoint of the OpenAPI document, as a script sees it."""
    documented = set(staff.get("/openapi.json").get_json()["paths"])
    prefixes = {path.split("{")[0] for path in documented}
    called = set()
    for script in SCRIPTS:
        called |= set(
            re.findall(
                r"[\"'`](/(?:users|products|categories|companies|photo|stats|sync)\.[\w.]*/?)",
                script.read_text(),
            )
        )
    assert called, "no endpoint found in the console's scripts"
    assert {path for path in called if path not in documented and path not in prefixes} == set()


def test_vercel_serves_the_console_with_the_same_headers(client):
    config = json.loads((ROOT / "vercel.json").read_text())
    with client.get("/admin") as response:
        served = response.headers
    rules = {rule["source"]: rule["headers"] for rule in config["headers"]}
    assert {"/admin", "/admin/(.*)"} <= set(rules)
    for source in ("/admin", "/admin/(.*)"):
        headers = {h["key"]: h["value"] for h in rules[source]}
        assert headers["Content-Security-Policy"] == served["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
