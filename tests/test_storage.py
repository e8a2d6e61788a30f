"""Photo storage: keys, configuration, the local backend and the route that serves it."""

import hashlib
import os
import subprocess
import sys

import pytest
from dotenv import dotenv_values

from productinfo import config
from productinfo.storage import (
    PhotoNotFound,
    StorageUnavailable,
    check_key,
    content_type_of,
    get_storage,
    is_valid_key,
    make_key,
    make_staging_key,
)
from productinfo.storage.local import LocalStorage
from productinfo.storage.supabase import SupabaseStorage
from tests.helpers import assert_error
from tests.test_config import ROOT, configure

DIGEST = hashlib.sha256(b"a photo").hexdigest()
JPEG_KEY = make_key(DIGEST, "image/jpeg")
WEBP_KEY = make_key(DIGEST, "image/webp", variant="thumb")
PNG_KEY = make_key(DIGEST, "image/png")
SUPABASE = {
    "STORAGE_BACKEND": "supabase",
    "SUPABASE_URL": "https://ref.supabase.co",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    "SUPABASE_BUCKET": "photos",
}


@pytest.fixture
def database_url(tmp_path):
    """Storage needs no database: run these tests once, on a SQLite file never opened."""
    return f"sqlite:///{tmp_path}/unused.sqlite3"


@pytest.fixture
def local(tmp_path):
    return LocalStorage(tmp_path / "photos")


def files_under(folder) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(parent, name), folder)
        for parent, _, names in os.walk(folder)
        for name in names
    )


# Keys


def test_keys_are_made_from_the_content_hash():
    assert JPEG_KEY == f"{DIGEST[:2]}/{DIGEST[2:]}.jpg"
    assert WEBP_KEY == f"{DIGEST[:2]}/{DIGEST[2:]}-thumb.webp"
    assert [content_type_of(key) for key in (JPEG_KEY, WEBP_KEY, PNG_KEY)] == [
        "image/jpeg",
        "image/webp",
        "image/png",
    ]


@pytest.mark.parametrize(
    "key",
    [
        "../secret_key",
        "/etc/passwd",
        "/" + JPEG_KEY,
        f"../{DIGEST[2:]}.jpg",
        JPEG_KEY.replace("/", "/./"),
        JPEG_KEY.replace("/", "/../"),
        JPEG_KEY.replace("/", "\\"),
        JPEG_KEY.upper(),
        JPEG_KEY + "\n",
        JPEG_KEY + "\x00.jpg",
        JPEG_KEY.replace(".jpg", ".html"),
        JPEG_KEY.replace(".jpg", "-Thumb.jpg"),
        f"{DIGEST[:2]}/{DIGEST[2:40]}.jpg",
        "",
    ],
)
def test_keys_not_made_by_the_server_are_refused(local, key):
    assert not is_valid_key(key)
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        local.put(key, b"data", "image/jpeg")
    assert not local.root.exists()


# Configuration


def test_photo_settings_have_working_defaults(tmp_path):
    settings = configure({}, tmp_path)
    assert settings["STORAGE_BACKEND"] == "local"
    assert settings["MAX_PHOTO_BYTES"] == 4_000_000 < settings["MAX_CONTENT_LENGTH"]
    assert settings["MAX_PHOTO_PIXELS"] == 50_000_000 > 8064 * 6048  # a 48 MP photo
    assert settings["SUPABASE_BUCKET_PUBLIC"] is False
    assert settings["SIGNED_URL_SECONDS"] == 3600
    assert settings["MAX_UPLOAD_BYTES"] == 25_000_000 > 15_000_000  # a 48 MP phone photo
    assert settings["PHOTO_RETENTION_DAYS"] == 30


def test_supabase_settings_are_read(tmp_path):
    environ = {
        **SUPABASE,
        "SUPABASE_URL": "https://ref.supabase.co/",
        "SUPABASE_BUCKET_PUBLIC": "true",
        "SIGNED_URL_SECONDS": "600",
    }
    settings = configure(environ, tmp_path)
    assert settings["SUPABASE_URL"] == "https://ref.supabase.co"
    assert settings["SUPABASE_BUCKET_PUBLIC"] is True
    assert settings["SIGNED_URL_SECONDS"] == 600


def test_photo_settings_are_documented():
    documented = dotenv_values(ROOT / ".env.example")
    photo_settings = set(config._load_photos({})) | {"STORAGE_BACKEND", "STORAGE_DIR"}
    assert photo_settings <= set(documented)


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND must be 'local' or 'supabase', not 's3'"),
        (
            {"STORAGE_BACKEND": "supabase"},
            "needs SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_BUCKET",
        ),
        ({**SUPABASE, "SUPABASE_BUCKET": ""}, r"needs SUPABASE_BUCKET \("),
        ({**SUPABASE, "SUPABASE_URL": "db.ref.supabase.co"}, "SUPABASE_URL must be the project"),
        ({**SUPABASE, "SUPABASE_BUCKET_PUBLIC": "maybe"}, "SUPABASE_BUCKET_PUBLIC must be true"),
        ({"SIGNED_URL_SECONDS": "0"}, "SIGNED_URL_SECONDS must be a whole number of at least 1"),
        ({"MAX_PHOTO_BYTES": "4MB"}, "MAX_PHOTO_BYTES must be a whole number of at least 1"),
        ({"MAX_PHOTO_PIXELS": "-1"}, "MAX_PHOTO_PIXELS must be a whole number of at least 1"),
        ({"MAX_UPLOAD_BYTES": "1000"}, "MAX_UPLOAD_BYTES must be at least MAX_PHOTO_BYTES"),
        (
            {"PHOTO_RETENTION_DAYS": "-1"},
            "PHOTO_RETENTION_DAYS must be a whole number of at least 0",
        ),
    ],
)
def test_unusable_storage_settings_refuse_to_start(tmp_path, environ, complaint):
    with pytest.raises(config.ConfigError, match=complaint):
        configure(environ, tmp_path)


# The local backend, on the real filesystem


def test_local_put_stores_the_bytes_under_the_key(local):
    local.put(JPEG_KEY, b"jpeg bytes", "image/jpeg")
    local.put(JPEG_KEY, b"jpeg bytes", "image/jpeg")  # a retried upload
    local.put(WEBP_KEY, bytearray(b"webp bytes"), "image/webp")
    assert (local.root / JPEG_KEY).read_bytes() == b"jpeg bytes"
    assert (local.root / WEBP_KEY).read_bytes() == b"webp bytes"
    assert files_under(local.root) == sorted([JPEG_KEY, WEBP_KEY])  # no temporary file left


def test_local_put_refuses_a_type_its_key_does_not_serve(local):
    with pytest.raises(ValueError, match="image/jpeg"):
        local.put(JPEG_KEY, b"<html>", "text/html")
    assert files_under(local.root) == []


def test_local_delete_is_idempotent(local):
    local.put(JPEG_KEY, b"jpeg bytes", "image/jpeg")
    local.put(WEBP_KEY, b"webp bytes", "image/webp")
    local.delete([JPEG_KEY, PNG_KEY])
    assert files_under(local.root) == [WEBP_KEY]
    local.delete([JPEG_KEY, WEBP_KEY])
    local.delete([])
    assert files_under(local.root) == []


def test_local_get_reads_the_bytes_back(local):
    local.put(JPEG_KEY, b"jpeg bytes", "image/jpeg")
    staged = make_staging_key()
    local.put(staged, b"as sent", "application/octet-stream")
    assert (local.get(JPEG_KEY), local.get(staged)) == (b"jpeg bytes", b"as sent")
    with pytest.raises(PhotoNotFound):
        local.get(WEBP_KEY)


def test_staging_keys_are_unguessable_and_never_photo_keys():
    keys = {make_staging_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert check_key(key) == key and key.startswith("staging/") and len(key) == 40
        assert not is_valid_key(key)
        assert content_type_of(key) == "application/octet-stream"


def test_local_urls_point_at_the_photo_route(local):
    assert local.url(JPEG_KEY) == f"/photos/{JPEG_KEY}"
    assert local.urls([JPEG_KEY, WEBP_KEY]) == {
        JPEG_KEY: f"/photos/{JPEG_KEY}",
        WEBP_KEY: f"/photos/{WEBP_KEY}",
    }


def test_local_folder_that_cannot_be_written_is_unavailable(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StorageUnavailable):
        LocalStorage(blocker).put(JPEG_KEY, b"jpeg bytes", "image/jpeg")
    with pytest.raises(StorageUnavailable):
        LocalStorage(blocker).delete([JPEG_KEY])


# The app: backend choice, the 503 (the /photos route: tests/test_photo_urls.py)


def test_storage_failure_is_503_in_the_envelope(make_app, tmp_path):
    (tmp_path / "blocker").write_text("a file where the folder should be")
    app = make_app(STORAGE_DIR=str(tmp_path / "blocker"))

    @app.post("/store")
    def store():
        get_storage().put(JPEG_KEY, b"jpeg bytes", "image/jpeg")
        return "stored"

    body = assert_error(app.test_client().post("/store"), 503, "storage_unavailable")
    assert "blocker" not in body["message"]


def test_supabase_backend_is_chosen_by_configuration(make_app):
    app = make_app(**SUPABASE)
    with app.app_context():
        storage = get_storage()
        assert isinstance(storage, SupabaseStorage)
        assert get_storage() is storage
    # Photos live in the bucket: the app takes no uploads itself.
    assert "/uploads/<secret>" not in {rule.rule for rule in app.url_map.iter_rules()}


def test_cold_start_does_not_import_the_storage_client(tmp_path):
    env = {"PATH": os.environ["PATH"], "INSTANCE_PATH": str(tmp_path), **SUPABASE}
    code = (
        "import sys, api.index; "
        "print(sorted(m for m in ('storage3', 'supabase', 'httpx', 'PIL') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
