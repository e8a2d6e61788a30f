"""No files without a row: failures part-way through an upload, and `photos sweep`."""

import datetime as dt
import threading

import pytest
from flask import g
from sqlalchemy import text

from productinfo.storage import is_staging_key
from productinfo.storage.local import LocalStorage
from productinfo.storage.supabase import SupabaseStorage
from tests.fake_supabase import BUCKET, SERVICE_KEY, UNAVAILABLE
from tests.helpers import (
    Auth,
    add_product,
    admin_with_product,
    assert_error,
    assert_ok,
    make_catalogue,
)
from tests.images import encode, halves
from tests.test_photo_uploads import finish, send, start
from tests.test_photos import JPEG, stored_files, upload


def sweep(app, *args):
    return app.test_cli_runner().invoke(args=["photos", "sweep", *args])


# Three ways an upload fails part-way, against the contract fake of Supabase Storage


@pytest.fixture
def on_supabase(make_supabase_app, supabase_server):
    app = make_supabase_app()
    # A short timeout, so that an answer that comes late is a timeout within the test.
    app.extensions["storage"].backend = SupabaseStorage(
        url=supabase_server.url,
        service_role_key=SERVICE_KEY,
        bucket=BUCKET,
        public=False,
        signed_url_seconds=600,
        timeout=0.5,
    )
    return app, *admin_with_product(app)


def stored_keys(fake) -> set[str]:
    return {name.removeprefix(f"{BUCKET}/") for name in fake.objects}


def attempted_keys(fake) -> set[str]:
    prefix = f"/storage/v1/object/{BUCKET}/"
    return {c.path.removeprefix(prefix) for c in fake.requests if c.method == "POST"} - {""}


FAILURES = {
    # The image is stored, then Storage cannot be reached: not even to remove it again.
    "unreachable after the image": {"down_after_stores": 1},
    # The thumbnail is stored, but the answer is lost on the way back.
    "thumbnail answer lost": {"drop_answer_to": "-thumb.webp"},
    # The image is stored, but its answer comes after the client gave up waiting.
    "image answer times out": {"delay_answer_to": (".jpg", 1.5)},
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_upload_leaves_no_object_once_swept(on_supabase, supabase_server, fetch, failure):
    app, client, product_id = on_supabase
    for name, value in failure.items():
        setattr(supabase_server, name, value)
    assert_error(upload(client, product_id, JPEG), 503, "storage_unavailable")
    assert fetch("SELECT id FROM photos") == []
    # Each key was recorded before anything was stored under it.
    recorded = {row["key"] for row in fetch("SELECT key FROM loose_objects")}
    assert attempted_keys(supabase_server) <= recorded and len(recorded) == 2

    supabase_server.heal()
    result = sweep(app, "--grace-minutes", "0")
    assert result.exit_code == 0, result.output
    assert stored_keys(supabase_server) == set()
    assert fetch("SELECT key FROM loose_objects") == []


def test_an_object_left_by_unreachable_storage_is_removed_by_the_sweep(
    on_supabase, supabase_server, fetch
):
    app, client, product_id = on_supabase
    supabase_server.down_after_stores = 1
    assert_error(upload(client, product_id, JPEG), 503, "storage_unavailable")
    [left] = stored_keys(supabase_server)  # the image: removing it failed too
    assert left.endswith(".jpg")
    supabase_server.heal()

    young = sweep(app)  # within the grace period: it may be an upload under way
    assert young.exit_code == 0 and "0 loose objects" in young.output
    assert stored_keys(supabase_server) == {left}
    old = sweep(app, "--grace-minutes", "0")
    assert "2 loose objects" in old.output
    assert stored_keys(supabase_server) == set()
    assert fetch("SELECT key FROM loose_objects") == []


@pytest.mark.parametrize("failure", ["thumbnail answer lost", "image answer times out"])
def test_objects_stored_without_an_answer_are_removed_at_once(
    on_supabase, supabase_server, failure
):
    app, client, product_id = on_supabase
    for name, value in FAILURES[failure].items():
        setattr(supabase_server, name, value)
    assert_error(upload(client, product_id, JPEG), 503, "storage_unavailable")
    assert stored_keys(supabase_server) == set()


def test_storage_down_during_the_sweep_keeps_the_records(on_supabase, supabase_server, fetch):
    app, client, product_id = on_supabase
    supabase_server.down_after_stores = 1
    upload(client, product_id, JPEG)
    supabase_server.heal()
    supabase_server.failure = UNAVAILABLE
    result = sweep(app, "--grace-minutes", "0")
    assert result.exit_code == 1
    assert "Photo storage is unavailable. Retry shortly. Nothing is lost" in result.output
    assert len(fetch("SELECT key FROM loose_objects")) == 2
    supabase_server.failure = None
    assert sweep(app, "--grace-minutes", "0").exit_code == 0
    assert stored_keys(supabase_server) == set()


def test_a_deleted_photo_whose_objects_could_not_be_removed_is_swept(
    on_supabase, supabase_server, fetch
):
    app, client, product_id = on_supabase
    photo = assert_ok(upload(client, product_id, JPEG))
    supabase_server.failure = UNAVAILABLE
    assert_ok(client.post("/photo.delete", json={"id": photo["id"]}))
    assert len(stored_keys(supabase_server)) == 2
    supabase_server.failure = None
    assert sweep(app, "--grace-minutes", "0").exit_code == 0
    assert stored_keys(supabase_server) == set()


# The sweep, on the local backend


@pytest.fixture
def product(staff, admin):
    return add_product(staff, make_catalogue(admin), "6130234000010", name="Ifri 1.5L")


def test_the_sweep_removes_uploads_never_finished(app, staff, product, fetch):
    expired, fresh, done = (assert_ok(start(staff, product["id"])) for _ in range(3))
    for ticket in (expired, fresh, done):
        assert_ok(send(app, ticket, JPEG))
    assert_ok(finish(staff, done))
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("UPDATE photo_uploads SET expires_at = :t WHERE id IN (:a, :b)"),
            {"t": "2020-01-01 00:00:00", "a": expired["upload_id"], "b": done["upload_id"]},
        )
    assert len([f for f in stored_files(app) if f.startswith("staging/")]) == 2
    result = sweep(app)
    assert result.exit_code == 0, result.output
    assert "2 uploads that expired" in result.output
    assert [f for f in stored_files(app) if f.startswith("staging/")] == [
        f"staging/{name}" for name in _staged_name(fetch, fresh["upload_id"])
    ]
    assert [r["id"] for r in fetch("SELECT id FROM photo_uploads")] == [fresh["upload_id"]]
    assert len(fetch("SELECT id FROM photos")) == 1  # the finished one's photo stays


def _staged_name(fetch, upload_id):
    [row] = fetch("SELECT staging_key FROM photo_uploads WHERE id = :id", id=upload_id)
    return [row["staging_key"].removeprefix("staging/")]


@pytest.mark.parametrize(
    ("retention", "purged"), [(30, {"31 days"}), (0, {"1 day", "29 days", "31 days"})]
)
def test_photos_of_products_deleted_long_ago_are_purged(make_app, fetch, retention, purged):
    app = make_app(PHOTO_RETENTION_DAYS=retention)
    client = Auth(app).client("admin", email="boss@example.com")
    catalogue = make_catalogue(client)
    ages = {"live": None, "1 day": 1, "29 days": 29, "31 days": 31}
    photos = {}
    for n, (name, days) in enumerate(ages.items()):
        product = add_product(client, catalogue, f"X{n}")
        photos[name] = assert_ok(upload(client, product["id"], encode(halves(), "PNG")))
        if days is not None:
            assert_ok(client.post("/products.delete", json={"id": product["id"]}))
            with app.extensions["db"].engine.begin() as conn:
                conn.execute(
                    text("UPDATE products SET deleted_at = :t WHERE id = :id"),
                    {"t": _days_ago(days), "id": product["id"]},
                )
    result = sweep(app)
    assert result.exit_code == 0, result.output
    assert f"Removed {len(purged)} photos of products deleted over {retention} days ago" in (
        result.output
    )
    kept = {row["id"] for row in fetch("SELECT id FROM photos")}
    assert kept == {photo["id"] for name, photo in photos.items() if name not in purged}
    files = stored_files(app)
    for name, photo in photos.items():
        present = photo["url"].removeprefix("/photos/") in files
        assert present == (name not in purged), name
    assert fetch("SELECT key FROM loose_objects") == []


def _days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def test_the_sweep_never_removes_an_object_a_photo_names(app, staff, product, fetch):
    photo = assert_ok(upload(staff, product["id"], JPEG))
    key = photo["url"].removeprefix("/photos/")
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(
            text("INSERT INTO loose_objects (key, created_at) VALUES (:k, '2020-01-01 00:00:00')"),
            {"k": key},
        )
    assert sweep(app, "--grace-minutes", "0").exit_code == 0
    assert key in stored_files(app)


# No transaction held while photo storage works


class SlowStorage(LocalStorage):
    """The local backend, pausing in the first `put` of a photo and the first `get`."""

    def __init__(self, root):
        super().__init__(root)
        self.working, self.go_on, self.seen = threading.Event(), threading.Event(), {}

    def _pause(self, action: str):
        if self.working.is_set():
            return
        conn = g.db_connection
        self.seen = {"action": action, "in_transaction": conn.in_transaction()}
        if conn.dialect.name == "postgresql":
            self.seen["pid"] = conn.connection.dbapi_connection.info.backend_pid
        self.working.set()
        assert self.go_on.wait(30)

    def put(self, key, data, content_type):
        if not is_staging_key(key):
            self._pause("put")
        super().put(key, data, content_type)

    def get(self, key):
        self._pause("get")
        return super().get(key)


@pytest.mark.parametrize("path", ["one request", "two steps"])
def test_no_transaction_is_open_while_photo_storage_works(app, staff, product, fetch, path):
    slow = SlowStorage(app.config["STORAGE_DIR"])
    answers = []
    if path == "two steps":
        ticket = assert_ok(start(staff, product["id"]))
        send(app, ticket, JPEG)
        app.extensions["storage"].backend = slow
        call = lambda: answers.append(finish(staff, ticket))  # noqa: E731
    else:
        app.extensions["storage"].backend = slow
        call = lambda: answers.append(upload(staff, product["id"], JPEG))  # noqa: E731
    worker = threading.Thread(target=call)
    worker.start()
    try:
        assert slow.working.wait(30)
        assert slow.seen["in_transaction"] is False
        if "pid" in slow.seen:
            [activity] = fetch(
                "SELECT state FROM pg_stat_activity WHERE pid = :pid"
                " AND application_name = 'productinfo'",
                pid=slow.seen["pid"],
            )
            assert activity["state"] == "idle"
    finally:
        slow.go_on.set()
        worker.join(30)
    assert_ok(answers[0])
