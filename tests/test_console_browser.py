"""The admin console in real Chromium, against the app served by waitress on SQLite.

Select these tests with `-m browser`. They need Debian's Chromium (`apt-get install
chromium`); without it they are skipped, except under CI=true, where they fail. Each
test fails on any console error, uncaught exception, dialog or CSP violation the page
reports. The screenshots they take go to a temporary folder, or, with
UPDATE_SCREENSHOTS=1, to docs/screenshots/, which the README shows.
"""

import base64
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import create_engine, update

from productinfo.products.models import products
from productinfo.security import tokens
from tests.helpers import PASSWORD, pull_all
from tests.servers import chromium, waitress

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="console-screenshots-"))
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECRET_KEY = "console-test-secret-key-long-enough-0123456789abcdef"
ADMIN = "admin@example.com"
HOSTILE = "<img src=x onerror=alert(1)>"
# Chromium's console line for any answer with an error status, fetch() calls included.
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")
# Reports CSP violations that Chromium might not log, as console errors the tests catch.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) =>
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));"""


def check_digit(digits: str) -> str:
    """The GS1 check digit of a GTIN's other digits."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def gtin(body: str) -> str:
    return body + check_digit(body)


def photo(color: tuple[int, int, int], label: str, size=(480, 640)) -> bytes:
    """A JPEG that looks a little like a product shot: a bottle with a label."""
    image = Image.new("RGB", size, (236, 239, 243))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rounded_rectangle((w * 0.3, h * 0.15, w * 0.7, h * 0.9), radius=30, fill=color)
    draw.rectangle((w * 0.3, h * 0.45, w * 0.7, h * 0.65), fill=(250, 250, 250))
    draw.text((w * 0.34, h * 0.53), label, fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """The SQLite file the server works on."""
    return tmp_path_factory.mktemp("console") / "productinfo.sqlite3"


@pytest.fixture(scope="module")
def server(database, sqlite_template):
    """The app under waitress in a process of its own, on a SQLite file, with its first admin."""
    folder = database.parent
    shutil.copy(sqlite_template, database)
    env = {
        "PATH": os.environ["PATH"],  # for the create-admin command
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": SECRET_KEY,
        "INSTANCE_PATH": str(folder / "instance"),
        "STORAGE_BACKEND": "local",
        "STORAGE_DIR": str(folder / "photos"),
        "MAIL_BACKEND": "console",
        "SIGNUP_MODE": "approval",
        "BCRYPT_ROUNDS": "4",
        # Every request comes from 127.0.0.1: the per-address limits would trip on the tests.
        "RATE_LIMIT": "100000 per minute",
        "AUTH_RATE_LIMIT": "100000 per minute",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "api/index", "create-admin", ADMIN],
        cwd=ROOT,
        env={**env, "ADMIN_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    with waitress(env, folder / "waitress.log", threads=8) as url:
        yield url


class Api:
    """Calls to the served API, as the mobile app or a script would make them."""

    def __init__(self, request):
        self.request = request

    def call(self, method, path, token=None, status=200, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.request.fetch(path, method=method, headers=headers, **kwargs)
        body = response.json()
        assert response.status == status, body
        return body.get("data") if status == 200 else body

    def signup(self, email, name):
        return self.call(
            "POST", "/users.signup", data={"email": email, "password": PASSWORD, "name": name}
        )

    def login(self, email):
        return self.call("POST", "/users.login", data={"email": email, "password": PASSWORD})

    def user(self, token, email):
        users = self.call("GET", "/users.list?limit=200", token)
        return next(user for user in users if user["email"] == email)

    def staff(self, admin_token, email, name):
        """A new, approved staff member; returns their signed-in answer."""
        account = self.signup(email, name)
        self.call("POST", "/users.approve", admin_token, data={"user_id": account["id"]})
        return account

    def pull_all(self, token, cursor=None):
        """Pull as a phone would; return (changed, deleted, cursor)."""

        def get(query):
            url = f"/sync.pull?{urllib.parse.urlencode(query)}"
            return self.request.get(url, headers={"Authorization": f"Bearer {token}"}).json()

        return pull_all(get, cursor)

    def every_product(self, token, **filters):
        """Every live product, newest first, page after page of /products.history."""
        found, cursor = [], None
        while True:
            query = {
                "scope": "all",
                "limit": 200,
                **filters,
                **({"cursor": cursor} if cursor else {}),
            }
            response = self.request.get(
                f"/products.history?{urllib.parse.urlencode(query)}",
                headers={"Authorization": f"Bearer {token}"},
            )
            body = response.json()
            found += body["data"]
            cursor = body["next_cursor"]
            if cursor is None:
                return found

    def product(self, token, photos=(), **fields):
        product = self.call("POST", "/products.add", token, data=fields)
        for data in photos:
            upload = {"name": "shot.jpg", "mimeType": "image/jpeg", "buffer": data}
            self.call(
                "POST",
                "/photo.upload",
                token,
                multipart={"product_id": str(product["id"]), "file": upload},
            )
        return self.call("GET", f"/products.getById/{product['id']}", token)


@dataclass
class World:
    """What the module's tests share: the accounts and a small catalogue."""

    api: Api
    admin: str
    ana: dict
    categories: dict
    companies: dict
    products: dict = field(default_factory=dict)
    bulk: list = field(default_factory=list)


@pytest.fixture(scope="module")
def world(playwright, server, database):
    request = playwright.request.new_context(base_url=server)
    api = Api(request)
    admin = api.login(ADMIN)["access_token"]
    categories = {
        name: api.call("POST", "/categories.add", admin, data={"name": name})["id"]
        for name in ("Dairy", "Drinks", "Oils", "Bulk")
    }
    names = ["Ifri", "Soummam", "Cevital"]
    batch = {"companies": [{"id": i, "name": name} for i, name in enumerate(names)]}
    mapping = api.call("POST", "/companies.add", admin, data=batch)["mapping"]
    companies = {name: mapping[str(i)] for i, name in enumerate(names)}
    ana = api.staff(admin, "ana@example.com", "Ana")
    world = World(api, admin, ana, categories, companies)

    # Thirty products without photos first, so that the newest are those with photos.
    bulk = [
        {
            "name": f"Bulk item {i:02d}",
            "barcode": f"INT-{i:04d}",
            "category_id": categories["Bulk"],
            "company_id": companies["Cevital"],
        }
        for i in range(30)
    ]
    world.bulk = api.call("POST", "/products.add", ana["access_token"], data={"products": bulk})
    # Captured over the last three weeks, for a dashboard with a history.
    backdate(
        database, {p["id"]: days_ago(i % 21, hour=8 + i % 9) for i, p in enumerate(world.bulk)}
    )
    world.bulk = [api.call("GET", f"/products.getById/{p['id']}", admin) for p in world.bulk]
    shots = [
        ("water", "Ifri Mineral Water 1.5L", gtin("613023400001"), "Drinks", "Ifri", 2),
        ("yogurt", "Soummam Yogurt Strawberry", gtin("613023400002"), "Dairy", "Soummam", 1),
        ("oil", "Cevital Elio Oil 1L", gtin("613023400003"), "Oils", "Cevital", 1),
        # An EAN-13 with a leading zero: its UPC-A form, 036000291452, finds it.
        ("lben", "Soummam Lben 1L", "0036000291452", "Dairy", "Soummam", 1),
        ("hostile", HOSTILE, gtin("613023400004"), "Drinks", "Ifri", 1),
    ]
    colors = [(31, 94, 160), (214, 69, 105), (230, 170, 30), (90, 160, 90), (120, 80, 160)]
    for (key, name, barcode, category, company, count), color in zip(shots, colors, strict=True):
        world.products[key] = api.product(
            ana["access_token"],
            photos=[photo(color, f"{key} {n + 1}") for n in range(count)],
            name=name,
            barcode=barcode,
            category_id=categories[category],
            company_id=companies[company],
        )
    yield world
    request.dispose()


def days_ago(days: int, *, hour: int) -> dt.datetime:
    """A time some days before today (UTC), at an hour."""
    today = dt.datetime.now(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days)


def backdate(database: Path, when: dict[int, dt.datetime]) -> None:
    """Set when products were added, in the server's database, as if captured then."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        for product_id, at in when.items():
            conn.execute(update(products).where(products.c.id == product_id).values(created_at=at))
    engine.dispose()


class Problems:
    """What the page reports that no user should see: console errors, exceptions, dialogs."""

    def __init__(self, page):
        self.seen = []
        self.expected = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))
        page.on("dialog", self._dialog)

    def expect(self, path: str, status: int):
        """Accept the browser's log line for a refusal the test provokes on purpose.

        `path` is the endpoint's path, or the start of it for one with a path parameter.
        """
        self.expected.add((path, status))

    def _console(self, message):
        if message.type != "error":
            return
        failed = FAILED_LOAD.match(message.text)
        if failed:
            url = message.location.get("url", "")
            path = urllib.parse.urlsplit(url).path
            status = int(failed.group(1))
            if any(path.startswith(p) and status == s for p, s in self.expected):
                return
        self.seen.append(f"console error: {message.text} at {message.location}")

    def _dialog(self, dialog):
        self.seen.append(f"dialog: {dialog.type} {dialog.message!r}")
        dialog.dismiss()


@dataclass
class Console:
    page: object
    problems: Problems
    server: str

    def open(self, hash_path=""):
        self.page.goto(f"{self.server}/admin{hash_path}")
        return self

    def sign_in(self, email=ADMIN, password=PASSWORD):
        page = self.page
        if not page.url.startswith(self.server):
            self.open()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        with page.expect_response("**/users.login") as answer:
            page.get_by_role("button", name="Sign in").click()
        return answer.value.json()["data"]

    def go(self, section):
        self.page.get_by_role("navigation", name="Sections").get_by_role(
            "link", name=section
        ).click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(section)

    def shoot(self, name):
        """Save a screenshot as a small palette PNG (see SCREENSHOTS for where)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # Let images that are still decoding land first.
        self.page.wait_for_load_state("networkidle")
        target = SCREENSHOTS / f"{name}.png"
        image = Image.open(io.BytesIO(self.page.screenshot(full_page=False)))
        image.convert("RGB").quantize(colors=128).save(target, optimize=True)


@pytest.fixture
def open_console(browser, server):
    """Open the console in a fresh browser profile (no tokens kept from another test)."""
    opened = []

    def open_one(viewport=DESKTOP):
        context = browser.new_context(
            viewport=viewport,
            locale="en-US",
            timezone_id="UTC",
            accept_downloads=True,
            is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE,
        )
        page = context.new_page()
        page.add_init_script(REPORT_VIOLATIONS)
        page.set_default_timeout(10_000)
        console = Console(page, Problems(page), server)
        opened.append((context, console))
        return console

    yield open_one
    problems = [problem for _, console in opened for problem in console.problems.seen]
    for context, _ in opened:
        context.close()
    assert problems == [], "the page reported problems:\n" + "\n".join(problems)


def blob_images_loaded(page, selector):
    """How many images under `selector` were loaded from blob: URLs and decoded."""
    return page.eval_on_selector_all(
        selector,
        "imgs => imgs.filter(i => i.src.startsWith('blob:') && i.naturalWidth > 0).length",
    )


# Staff


def test_admin_approves_a_pending_account(open_console, world):
    api = world.api
    pending = api.signup("pending@example.com", "Pat Pending")
    waiting = len(api.call("GET", "/users.list?status=pending&limit=200", world.admin))
    console = open_console().open()
    console.sign_in()
    page = console.page
    badge = page.locator("#pending-badge")
    expect(badge).to_have_text(f"{waiting} waiting for approval")
    expect(badge).to_be_visible()

    console.go("Staff")
    page.get_by_role("button", name="Waiting for approval").click()
    card = page.locator(".person", has_text="pending@example.com")
    expect(card).to_contain_text("Waiting for approval")
    console.shoot("staff-desktop")
    page.get_by_role("button", name="Approve: pending@example.com").click()
    expect(page.get_by_role("status").filter(has_text="Pat Pending is approved.")).to_be_visible()
    expect(card).to_have_count(0)
    if waiting == 1:
        expect(badge).to_be_hidden()
    else:
        expect(badge).to_have_text(f"{waiting - 1} waiting for approval")

    approved = api.user(world.admin, "pending@example.com")
    assert (approved["id"], approved["approved"]) == (pending["id"], True)

    phone = open_console(PHONE).open()
    phone.sign_in()
    phone.go("Staff")
    expect(phone.page.locator(".person").first).to_be_visible()
    phone.shoot("staff-phone")


def test_refusals_of_the_api_are_explained(open_console, world):
    console = open_console().open("#/staff")
    console.sign_in()
    page = console.page
    console.problems.expect("/users.setRole", 409)
    console.problems.expect("/users.disable", 409)

    page.get_by_role("button", name=f"Make staff: {ADMIN}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Make {ADMIN} staff?")
    dialog.get_by_role("button", name="Make staff").click()
    me = page.locator(".person", has_text=ADMIN)
    expect(me.get_by_role("alert")).to_have_text(
        "This is the last admin. Make someone else an admin first, then change this account."
    )
    page.get_by_role("button", name=f"Disable: {ADMIN}").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    expect(me.get_by_role("alert")).to_have_text(
        "You cannot disable your own account. Ask another admin to do it."
    )
    me_now = world.api.user(world.admin, ADMIN)
    assert (me_now["role"], me_now["disabled"]) == ("admin", False)


def test_disable_enable_and_change_roles(open_console, world):
    api = world.api
    api.staff(world.admin, "dora@example.com", "Dora")
    console = open_console().open("#/staff")
    console.sign_in()
    page = console.page
    card = page.locator(".person", has_text="dora@example.com")

    page.get_by_role("button", name="Disable: dora@example.com").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    expect(card).to_contain_text("Dora is disabled.")
    expect(card.locator(".tags")).to_contain_text("Disabled")
    assert api.user(world.admin, "dora@example.com")["disabled"] is True
    api.call(
        "POST", "/users.login", data={"email": "dora@example.com", "password": PASSWORD}, status=403
    )

    page.get_by_role("button", name="Enable: dora@example.com").click()
    expect(card).to_contain_text("Dora is enabled again.")
    assert api.user(world.admin, "dora@example.com")["disabled"] is False

    page.get_by_role("button", name="Make admin: dora@example.com").click()
    page.get_by_role("dialog").get_by_role("button", name="Make admin").click()
    expect(card.locator(".tags")).to_contain_text("Admin")
    assert api.user(world.admin, "dora@example.com")["role"] == "admin"

    page.get_by_role("button", name="Admins").click()
    expect(page.locator(".person", has_text="dora@example.com")).to_be_visible()
    page.get_by_role("button", name="Make staff: dora@example.com").click()
    page.get_by_role("dialog").get_by_role("button", name="Make staff").click()
    # No longer an admin: gone from the list of admins.
    expect(card).to_have_count(0)
    assert api.user(world.admin, "dora@example.com")["role"] == "staff"


# Captures


def test_gallery_shows_the_newest_captures_with_who_and_when(open_console, world):
    console = open_console().open()
    console.sign_in()
    page = console.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Captures")
    cards = page.locator(".capture")
    expect(cards).to_have_count(24)  # a page; the rest behind "Show more"
    names = cards.locator(".capture-name").all_inner_texts()
    newest_first = [p["name"] for p in reversed(world.products.values())]
    assert [name for name in names if name in newest_first] == newest_first
    water = page.locator(".capture", has_text="Ifri Mineral Water 1.5L")
    expect(water).to_contain_text("Ifri · Drinks")
    expect(water).to_contain_text("Ana, ")
    expect(water).to_contain_text("2 photos")
    created = dt.datetime.fromisoformat(world.products["water"]["created_at"])
    expect(water.locator("time")).to_have_attribute(
        "datetime", world.products["water"]["created_at"]
    )
    expect(water.locator("time")).to_contain_text(f"{created:%b} {created.day}, {created.year}")
    page.wait_for_function(
        "n => document.querySelectorAll('.capture img[src^=\"blob:\"]').length >= n",
        arg=len(world.products),
    )
    assert blob_images_loaded(page, ".capture img") >= len(world.products)
    console.shoot("captures-desktop")

    page.get_by_role("button", name="Show more").click()
    expect(cards).to_have_count(24 + 11)
    expect(page.get_by_role("button", name="Show more")).to_be_hidden()

    phone = open_console(PHONE).open()
    phone.sign_in()
    expect(phone.page.locator(".capture").first).to_be_visible()
    phone.page.wait_for_function("() => document.querySelector('.capture img[src^=\"blob:\"]')")
    phone.shoot("captures-phone")


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("elio", ["Cevital Elio Oil 1L"]),
        ("SOUMMAM", ["Soummam Lben 1L", "Soummam Yogurt Strawberry"]),  # the maker's name
        ("036000291452", ["Soummam Lben 1L"]),  # the UPC-A of an EAN-13
        ("0 36000 29145 2", ["Soummam Lben 1L"]),  # as printed under the bars
        pytest.param(
            "٠٣٦٠٠٠٢٩١٤٥٢",  # in Arabic-Indic digits
            ["Soummam Lben 1L"],
            id="arabic-indic-digits",
        ),
        ("no such thing", []),
    ],
)
def test_search_by_name_maker_or_barcode(open_console, world, typed, found):
    console = open_console().open()
    console.sign_in()
    page = console.page
    # A code no product has: the console then searches names.
    console.problems.expect("/products.getByBarcode/", 404)
    page.get_by_label("Search by name, manufacturer or barcode").fill(typed)
    page.get_by_role("button", name="Search", exact=True).click()
    if found:
        expect(page.locator(".capture-name")).to_have_text(found)
    else:
        expect(page.get_by_text("No product matches this search.")).to_be_visible()
        expect(page.locator(".capture")).to_have_count(0)
    page.get_by_role("button", name="Clear the search").click()
    expect(page.locator(".capture")).to_have_count(24)


def test_filter_by_category_and_manufacturer(open_console, world):
    console = open_console().open()
    console.sign_in()
    page = console.page
    page.get_by_label("Category").select_option(label="Bulk")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status").filter(has_text="Newest captures in Bulk:")).to_be_visible()
    expect(page.locator(".capture")).to_have_count(24)
    page.get_by_role("button", name="Show more").click()
    expect(page.locator(".capture")).to_have_count(30)
    assert set(page.locator(".capture-name").all_inner_texts()) == {p["name"] for p in world.bulk}

    page.get_by_role("button", name="Clear filters").click()
    page.get_by_label("Manufacturer", exact=True).fill("soumm")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_label("Manufacturer", exact=True)).to_have_value("Soummam")
    expect(page.locator(".capture-name")).to_have_text(
        ["Soummam Lben 1L", "Soummam Yogurt Strawberry"]
    )
    # The filters are in the address, so a reload or the back button keeps them.
    assert f"company={world.companies['Soummam']}" in page.url


def test_product_page_corrects_and_deletes(open_console, world):
    api = world.api
    ana = world.ana["access_token"]
    product = api.product(
        ana,
        photos=[photo((40, 120, 200), "front"), photo((200, 60, 60), "back", size=(600, 450))],
        name="Hamoud Selecto 2L",
        barcode=gtin("613023400009"),
        category_id=world.categories["Drinks"],
        company_id=world.companies["Ifri"],
    )
    console = open_console().open()
    console.sign_in()
    page = console.page
    page.locator(".capture", has_text="Hamoud Selecto 2L").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hamoud Selecto 2L")
    facts = page.locator(".facts")
    expect(facts).to_contain_text(product["barcode"])
    expect(facts).to_contain_text("Ana (ana@example.com)")
    full = page.locator(".photos img")
    expect(full).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photos img')].every(i => i.naturalWidth > 0)"
    )
    sizes = full.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[480, 640], [600, 450]]  # the stored photos, not thumbnails
    console.shoot("product-desktop")

    # Correct the name and the manufacturer.
    page.get_by_label("Name", exact=True).fill("Hamoud Selecto 2 L")
    page.get_by_label("Manufacturer").fill("Cevital")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hamoud Selecto 2 L")
    stored = api.call("GET", f"/products.getById/{product['id']}", ana)
    assert (stored["name"], stored["company"]["name"]) == ("Hamoud Selecto 2 L", "Cevital")

    # A barcode with a wrong check digit: the API's reason, and nothing stored.
    console.problems.expect("/products.update", 422)
    wrong = product["barcode"][:-1] + str((int(product["barcode"][-1]) + 1) % 10)
    page.get_by_label("Barcode", exact=True).fill(wrong)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".edit").get_by_role("alert")).to_contain_text(product["barcode"][-1])
    assert (
        api.call("GET", f"/products.getById/{product['id']}", ana)["barcode"] == product["barcode"]
    )

    # Delete a photo: Escape first (nothing happens), then confirm.
    page.get_by_role("button", name="Delete photo 1").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(full).to_have_count(2)
    page.get_by_role("button", name="Delete photo 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete photo").click()
    expect(full).to_have_count(1)
    expect(page.get_by_role("heading", name="Photos (1)")).to_be_visible()
    left = api.call("GET", f"/products.getById/{product['id']}", ana)["photos"]
    assert [p["id"] for p in left] == [product["photos"][1]["id"]]

    phone = open_console(PHONE).open(f"#/products/{world.products['water']['id']}")
    phone.sign_in()
    expect(phone.page.locator(".photos img")).to_have_count(2)
    phone.page.wait_for_function("() => document.querySelector('.photos img').naturalWidth > 0")
    phone.shoot("product-phone")

    # Delete the product.
    page.get_by_role("button", name="Delete product").click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete “Hamoud Selecto 2 L”?")
    page.get_by_role("dialog").get_by_role("button", name="Delete product").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Captures")
    expect(page.get_by_text("Deleted “Hamoud Selecto 2 L”.")).to_be_visible()
    expect(page.locator(".capture", has_text="Hamoud Selecto")).to_have_count(0)
    api.call("GET", f"/products.getById/{product['id']}", ana, status=404)


# Categories and export


def test_add_and_rename_categories(open_console, world):
    console = open_console().open()
    console.sign_in()
    console.go("Categories")
    page = console.page
    expect(page.get_by_label("Name of Dairy")).to_have_value("Dairy")

    page.get_by_label("New category").fill("Frozen")
    page.get_by_role("button", name="Add category").click()
    expect(page.get_by_text("Added “Frozen”.")).to_be_visible()
    expect(page.get_by_label("Name of Frozen")).to_have_value("Frozen")

    console.problems.expect("/categories.add", 409)
    page.get_by_label("New category").fill("frozen")
    page.get_by_role("button", name="Add category").click()
    expect(page.get_by_role("alert")).to_have_text("A category named “Frozen” exists already.")

    page.get_by_label("Name of Frozen").fill("Frozen food")
    page.locator("li", has=page.get_by_label("Name of Frozen")).get_by_role("button").click()
    expect(page.get_by_text("Renamed “Frozen” to “Frozen food”.")).to_be_visible()
    stored = world.api.call("GET", "/categories.get", world.admin)
    names = [c["name"] for c in stored]
    assert "Frozen food" in names and "Frozen" not in names


@pytest.mark.parametrize("format", ["csv", "json"])
def test_export_downloads_the_catalogue(open_console, world, tmp_path, format):
    console = open_console().open()
    console.sign_in()
    console.go("Export")
    page = console.page
    with page.expect_download() as download:
        page.get_by_role("button", name=f"Download {format.upper()}").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert re.fullmatch(rf"products-\d{{4}}-\d{{2}}-\d{{2}}\.{format}", saved.name)
    expect(page.get_by_role("status").filter(has_text=f"Saved {saved.name}")).to_be_visible()
    if format == "csv":
        rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
        exported = {row["name"]: row for row in rows}
        water = exported["Ifri Mineral Water 1.5L"]
        assert (water["company"], water["category"], water["added_by_name"]) == (
            "Ifri",
            "Drinks",
            "Ana",
        )
        assert len(water["photo_urls"].split()) == 2
    else:
        exported = {product["name"]: product for product in json.loads(saved.read_text())["data"]}
    expected = {p["name"] for p in world.products.values()} | {p["name"] for p in world.bulk}
    assert expected <= set(exported)


# Security


def test_a_hostile_product_name_shows_as_text(open_console, world):
    console = open_console().open()
    console.sign_in()
    page = console.page
    card = page.locator(".capture", has_text=HOSTILE)
    expect(card.locator(".capture-name")).to_have_text(HOSTILE)
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    expect(page.get_by_label("Name", exact=True)).to_have_value(HOSTILE)
    page.get_by_role("button", name="Delete product").click()
    expect(page.get_by_role("dialog").get_by_role("heading")).to_have_text(f"Delete “{HOSTILE}”?")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert page.title() == f"{HOSTILE} · Admin console"
    # No element was made from the name: the only images are the product's photos.
    assert page.locator("img[src='x']").count() == 0
    # The fixture fails the test on any dialog: alert(1) never ran.


def test_a_staff_member_is_refused(open_console, world):
    console = open_console(PHONE).open()
    page = console.page
    with page.expect_response("**/users.logout"):
        signed_in = console.sign_in("ana@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("Admins only")
    expect(
        page.get_by_text("You signed in as Ana (ana@example.com), which is not an admin")
    ).to_be_visible()
    expect(page.locator("#bar")).to_be_hidden()
    console.shoot("admins-only-phone")
    # The console ended the session it could not use.
    world.api.call(
        "POST", "/users.refresh", data={"refresh_token": signed_in["refresh_token"]}, status=401
    )
    page.get_by_role("button", name="Sign in with another account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the admin console")


def test_an_account_waiting_for_approval_is_refused(open_console, world):
    world.api.signup("newcomer@example.com", "Nina")
    console = open_console().open()
    console.sign_in("newcomer@example.com")
    expect(console.page.get_by_role("heading", level=1)).to_have_text("Admins only")


def test_an_admin_demoted_meanwhile_meets_the_admins_only_page(open_console, world):
    api = world.api
    account = api.staff(world.admin, "sam@example.com", "Sam")
    api.call(
        "POST", "/users.setRole", world.admin, data={"user_id": account["id"], "role": "admin"}
    )
    console = open_console().open()
    console.sign_in("sam@example.com")
    page = console.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Captures")
    api.call(
        "POST", "/users.setRole", world.admin, data={"user_id": account["id"], "role": "staff"}
    )
    console.problems.expect("/users.list", 403)
    console.problems.expect("/users.counts", 403)
    # By address rather than by the menu: the badge's own refresh may meet the 403 first and
    # hide the menu, which is the behaviour under test too.
    page.evaluate("location.hash = '#/staff'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Admins only")
    expect(page.locator("#bar")).to_be_hidden()


def test_tokens_stay_in_memory_and_sign_out_ends_the_session(open_console, world):
    console = open_console().open()
    signed_in = console.sign_in()
    page = console.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Captures")
    kept = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert kept == [0, 0, ""]
    assert page.context.cookies() == []

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the admin console")
    expect(
        page.get_by_text("reloading the page or opening the console in another tab")
    ).to_be_visible()

    signed_in = console.sign_in()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    world.api.call(
        "POST", "/users.refresh", data={"refresh_token": signed_in["refresh_token"]}, status=401
    )
    world.api.call("GET", "/users.me", signed_in["access_token"], status=401)


def test_an_expired_access_token_is_refreshed(open_console, world):
    console = open_console().open("#/staff")
    page = console.page
    swapped = []

    def expire_the_token(route):
        # The server itself answers 401 token_expired: the token is ours, signed, but old.
        if swapped:
            route.continue_()
            return
        access = route.request.headers["authorization"].removeprefix("Bearer ")
        claims = json.loads(base64.urlsafe_b64decode(access.split(".")[1] + "=="))
        old = tokens.encode_access(
            user_id=int(claims["sub"]),
            session_id=claims["sid"],
            key=SECRET_KEY,
            now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            lifetime=dt.timedelta(minutes=15),
        )
        swapped.append(old)
        route.continue_(headers={**route.request.headers, "authorization": f"Bearer {old}"})

    console.problems.expect("/users.counts", 401)
    page.route(re.compile(r"/users\.counts"), expire_the_token)
    with page.expect_response("**/users.refresh") as refreshed:
        console.sign_in()
    assert refreshed.value.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    expect(page.locator(".person", has_text=ADMIN)).to_be_visible()
    # The badge's request, refused at first, went through with the new token.
    waiting = world.api.call("GET", "/users.counts", world.admin)["pending"]
    badge = page.locator("#pending-badge")
    if waiting:
        expect(badge).to_have_text(f"{waiting} waiting for approval")
    assert len(swapped) == 1


# Keyboard and small screens


def test_keyboard_alone_and_a_phone_screen(open_console, world):
    console = open_console(PHONE).open()
    page = console.page
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    # Before the page's heading come the sign-out button and the sections, in reading order.
    order = []
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        order.append(page.evaluate("() => document.activeElement.textContent"))
    assert order[:3] == ["Sign out", "Export", "Categories"]
    assert order[3].startswith("Staff") and order[4] == "Duplicates"
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    for section in ("Captures", "Dashboard", "Duplicates", "Staff", "Categories", "Export"):
        console.go(section)
        page.wait_for_load_state("networkidle")
        unlabelled = page.eval_on_selector_all(
            "main input, main select",
            "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label'))"
            ".map(e => e.outerHTML)",
        )
        assert unlabelled == [], section
        fake_buttons = page.eval_on_selector_all(
            "main a:not([href]), main [role=button], button:not([type])", "els => els.length"
        )
        assert fake_buttons == 0, section
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{section} scrolls sideways on a phone by {overflow}px"


# Duplicates, the dashboard, people, a product's history


def test_merge_two_manufacturers_and_see_the_pull(open_console, world):
    api = world.api
    ana = world.ana["access_token"]
    device = str(uuid.uuid4())
    # Ana's phone, offline, keyed one maker twice; the server has both now.
    pushed = api.call(
        "POST",
        "/companies.add",
        ana,
        data={
            "device_id": device,
            "companies": [{"id": 1, "name": "Tchin Lait"}, {"id": 2, "name": "TCHIN-LAIT Spa"}],
        },
    )["mapping"]
    kept, twin = pushed["1"], pushed["2"]
    # And a maker alike another, left as it is.
    api.call("POST", "/companies.add", ana, data={"companies": [{"id": 1, "name": "Soumam"}]})
    products = [
        {
            "local_id": 1,
            "name": "Tchin Lait Lben",
            "barcode": gtin("613023400021"),
            "company_local_id": 1,
        },
        {
            "local_id": 2,
            "name": "Tchin Lait Raib",
            "barcode": gtin("613023400022"),
            "company_local_id": 1,
        },
        {
            "local_id": 3,
            "name": "Tchin Lait Cheese",
            "barcode": gtin("613023400023"),
            "company_local_id": 2,
        },
    ]
    for product in products:
        product["category_id"] = world.categories["Dairy"]
    mapping = api.call(
        "POST", "/products.add", ana, data={"device_id": device, "products": products}
    )["mapping"]
    _, _, cursor = api.pull_all(ana)

    console = open_console().open()
    console.sign_in()
    console.go("Duplicates")
    page = console.page
    group = page.locator(".twin", has_text="TCHIN-LAIT Spa")
    expect(group.get_by_label("Keep Tchin Lait")).to_be_checked()
    expect(group).to_contain_text("The same name, written differently")
    expect(group).to_contain_text("2 products")
    console.shoot("duplicates-desktop")
    group.get_by_role("button", name="Merge into the one kept").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Merge into Tchin Lait?")
    dialog.get_by_role("button", name="Merge").click()
    expect(
        page.get_by_role("status").filter(
            has_text="Merged TCHIN-LAIT Spa into Tchin Lait: 1 product moved."
        )
    ).to_be_visible()
    expect(page.locator(".twin", has_text="TCHIN-LAIT Spa")).to_have_count(0)

    # Ana's phone pulls from before the merge: the twin is gone, its product moved.
    changed, deleted, _ = api.pull_all(ana, cursor)
    assert twin in deleted["companies"] and twin not in changed["companies"]
    cheese = changed["products"][mapping["3"]]
    assert cheese["company"] == {"id": kept, "name": "Tchin Lait"}
    # It pushes once more, naming the twin by its local id: the product lands on the kept one.
    again = api.call(
        "POST",
        "/products.add",
        ana,
        data={
            "device_id": device,
            "products": [
                {
                    "local_id": 4,
                    "name": "Tchin Lait Leben 2L",
                    "barcode": gtin("613023400024"),
                    "category_id": world.categories["Dairy"],
                    "company_local_id": 2,
                }
            ],
        },
    )
    product = api.call("GET", f"/products.getById/{again['mapping']['4']}", ana)
    assert product["company"] == {"id": kept, "name": "Tchin Lait"}
    assert [c["name"] for c in api.call("GET", "/companies.get?q=tchin", ana)] == ["Tchin Lait"]


def captures_per_day(products, days=30):
    """Count products per UTC day over the last `days` days, oldest first."""
    today = dt.datetime.now(dt.UTC).date()
    dates = [today - dt.timedelta(days=n) for n in reversed(range(days))]
    added = [dt.datetime.fromisoformat(p["created_at"]).date() for p in products]
    return [sum(1 for day in added if day == date) for date in dates]


def test_the_dashboard_shows_the_numbers(open_console, world):
    api = world.api
    live = api.every_product(world.admin)
    per_day = captures_per_day(live)
    console = open_console().open()
    console.sign_in()
    console.go("Dashboard")
    page = console.page
    bars = page.locator("svg.chart rect.bar")
    expect(bars).to_have_count(30)
    expect(page.get_by_role("status").filter(has_text="by everyone")).to_contain_text(
        f"{sum(per_day)} captures by everyone"
    )
    expect(bars.locator("title")).to_have_text([re.compile(rf": {n} captures?$") for n in per_day])
    chart = page.get_by_role("img", name="Captures per day by everyone, last 30 days")
    expect(chart).to_be_visible()
    by_maker = {}
    for product in live:
        by_maker[product["company"]["name"]] = by_maker.get(product["company"]["name"], 0) + 1
    top = max(by_maker, key=by_maker.get)
    expect(page.locator(".ranking li").first).to_contain_text(f"{top} · {by_maker[top]} products")
    without = sum(1 for product in live if not product["photos"])
    expect(page.locator(".number", has_text="Without photos").locator(".value")).to_have_text(
        f"{without:,}"
    )
    console.shoot("dashboard-desktop")

    # The same as a table, for screen readers and anyone.
    page.get_by_text("The same as a table").click()
    expect(page.locator("details table tbody td")).to_have_text([str(n) for n in per_day])

    # Ninety days, then one person's captures.
    page.get_by_role("button", name="Last 90 days").click()
    expect(bars).to_have_count(90)
    anas = [product for product in live if product["created_by"]["id"] == world.ana["id"]]
    page.get_by_label("Whose captures").select_option(label="Ana")
    expect(page.get_by_role("status").filter(has_text="by Ana")).to_contain_text(
        f"{len(anas)} captures by Ana"
    )
    expect(page.locator("details table tbody td")).to_have_text(
        [str(n) for n in captures_per_day(anas, days=90)]
    )
    assert "person=" in page.url and "days=90" in page.url
    # This week's most active: a link to each person's page.
    week = page.locator("section", has=page.get_by_role("heading", name="Most active this week"))
    week.get_by_role("link", name="Ana").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana")

    phone = open_console(PHONE).open("#/dashboard")
    phone.sign_in()
    expect(phone.page.locator("svg.chart rect.bar")).to_have_count(30)
    phone.shoot("dashboard-phone")


def test_a_persons_page_and_their_captures(open_console, world):
    api = world.api
    console = open_console().open("#/staff")
    console.sign_in()
    page = console.page
    card = page.locator(".person", has_text="ana@example.com")
    expect(card).to_contain_text("last active")
    card.get_by_role("link", name="Ana").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana")
    person = api.call("GET", f"/users.getById/{world.ana['id']}", world.admin)
    for label, value in (("captures", "products_added"), ("photos", "photos_uploaded")):
        number = page.locator(".number", has_text=label).locator(".value")
        expect(number).to_have_text(f"{person['stats'][value]:,}")
    newest = api.every_product(world.admin, created_by=world.ana["id"])[:12]
    expect(page.locator(".capture-name")).to_have_text([p["name"] for p in newest])
    console.shoot("person-desktop")
    page.get_by_role("link", name="All captures by Ana, with filters and export").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Captures")
    expect(page.get_by_label("Staff member")).to_have_value(str(world.ana["id"]))
    expect(page.get_by_role("status").filter(has_text="captured by Ana")).to_be_visible()


def test_filter_by_staff_member_and_dates_then_export(open_console, world, tmp_path):
    api = world.api
    bob = api.staff(world.admin, "bob@example.com", "Bob")
    for n, name in enumerate(["Bob Water", "Bob Juice"]):
        api.product(
            bob["access_token"],
            name=name,
            barcode=gtin(f"61302340005{n}"),
            category_id=world.categories["Drinks"],
            company_id=world.companies["Ifri"],
        )
    console = open_console().open()
    console.sign_in()
    page = console.page
    today = dt.datetime.now(dt.UTC).date()
    page.get_by_label("Staff member").select_option(label="Bob")
    page.get_by_label("Added from").fill(today.isoformat())
    page.get_by_label("Added until").fill(today.isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".capture-name")).to_have_text(["Bob Juice", "Bob Water"])
    expect(page.get_by_role("status").filter(has_text="captured by Bob")).to_be_visible()

    # Export exactly what the filters keep.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export these as CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [row["name"] for row in rows] == ["Bob Water", "Bob Juice"]  # oldest first
    assert {row["added_by_email"] for row in rows} == {"bob@example.com"}

    # A search, within the filters, exported too.
    page.get_by_label("Search by name, manufacturer or barcode").fill("juice")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".capture-name")).to_have_text(["Bob Juice"])
    with page.expect_download() as download:
        page.get_by_role("button", name="Export these as JSON").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert [p["name"] for p in json.loads(saved.read_text())["data"]] == ["Bob Juice"]

    # The day after: nothing yet.
    page.get_by_role("button", name="Clear the search").click()
    page.get_by_label("Added from").fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_label("Added until").fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("No captures match these filters.")).to_be_visible()


def test_a_products_history_and_merging_its_twin(open_console, world):
    api = world.api
    ana = world.ana["access_token"]
    shared = photo((200, 120, 40), "front")
    kept = api.product(
        ana,
        photos=[shared],
        name="Ifri Citron 1 L",
        barcode=gtin("613023400061"),
        category_id=world.categories["Drinks"],
        company_id=world.companies["Ifri"],
    )
    twin = api.product(
        ana,
        photos=[shared, photo((60, 160, 60), "side")],
        name="Ifri Citron 1L",
        barcode=gtin("613023400062"),
        category_id=world.categories["Drinks"],
        company_id=world.companies["Ifri"],
    )
    console = open_console().open(f"#/products/{twin['id']}")
    console.sign_in()
    page = console.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Ifri Citron 1L")
    history = page.locator("ol.history li")
    expect(history).to_have_count(3)  # added, two photos
    expect(history.last).to_contain_text("Ana added it")

    page.get_by_label("Category").select_option(label="Oils")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    expect(history.first).to_contain_text(f"{ADMIN} changed the category from “Drinks” to “Oils”")
    page.locator(".merge").evaluate("section => section.scrollIntoView({block: 'start'})")
    console.shoot("product-history-desktop")

    # Its twin, found among the maker's products with a name alike.
    page.get_by_role("button", name=f"Merge into “Ifri Citron 1 L” ({kept['barcode']})").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Merge “Ifri Citron 1L” into “Ifri Citron 1 L”?")
    dialog.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ifri Citron 1 L")
    expect(
        page.get_by_text("Merged “Ifri Citron 1L” into “Ifri Citron 1 L”: 1 photo moved.")
    ).to_be_visible()
    expect(page.locator(".photos img")).to_have_count(2)  # its own, and the one moved
    expect(page.locator("ol.history li").first).to_contain_text(
        f"{ADMIN} merged product #{twin['id']} into it (1 photo moved, 1 there already)"
    )
    api.call("GET", f"/products.getById/{twin['id']}", ana, status=404)
    stored = api.call("GET", f"/products.getById/{kept['id']}", ana)
    assert len(stored["photos"]) == 2
