import os
import subprocess
import sys
from pathlib import Path

import pytest

from productinfo import config

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 32
VERCEL = {
    "VERCEL": "1",
    "SECRET_KEY": GOOD_KEY,
    "DATABASE_URL": "postgres://u:p@pooler:6543/postgres",
    "STORAGE_BACKEND": "supabase",
    "MAIL_BACKEND": "smtp",
    "SMTP_HOST": "smtp.example.com",
    "PUBLIC_BASE_URL": "https://products.example.com",
    "SUPABASE_URL": "https://ref.supabase.co",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
    "SUPABASE_BUCKET": "photos",
}


def configure(environ: dict, instance_path) -> dict:
    settings = config.load(environ, str(instance_path))
    config.finalize(settings, str(instance_path))
    return settings


def test_development_defaults_need_no_configuration(tmp_path):
    settings = configure({}, tmp_path)
    assert settings["APP_ENV"] == "development"
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/productinfo.sqlite3"
    assert settings["STORAGE_BACKEND"] == "local"
    assert settings["STORAGE_DIR"] == f"{tmp_path}/photos"
    assert settings["CORS_ORIGINS"] == []


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    first = configure({}, tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert configure({}, tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://u:p@db.example.com:5432/postgres",
            "postgresql+psycopg://u:p@db.example.com:5432/postgres",
        ),
        (
            "postgres://u.ref:p@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require&supa=base-pooler.x",
            "postgresql+psycopg://u.ref:p@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require",
        ),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/data/app.db", "sqlite:////var/data/app.db"),
    ],
)
def test_database_url_is_normalized(url, expected):
    assert config.normalize_database_url(url) == expected


def test_postgres_url_from_vercel_integration_is_accepted(tmp_path):
    settings = configure(
        {"POSTGRES_URL": "postgres://u:p@h:6543/db", "SECRET_KEY": GOOD_KEY}, tmp_path
    )
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u:p@h:6543/db"


def test_database_url_wins_over_postgres_url(tmp_path):
    environ = {"DATABASE_URL": "postgres://a@h/one", "POSTGRES_URL": "postgres://b@h/two"}
    assert configure(environ, tmp_path)["DATABASE_URL"].endswith("a@h/one")


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        (
            {"VERCEL": "1", "SECRET_KEY": GOOD_KEY, "STORAGE_BACKEND": "supabase"},
            "No database is configured",
        ),
        (
            {"VERCEL": "1", "SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://h/d"},
            "No photo storage",
        ),
        (
            {"VERCEL": "1", "DATABASE_URL": "postgres://h/d", "STORAGE_BACKEND": "supabase"},
            "SECRET_KEY is not set",
        ),
        ({**VERCEL, "MAIL_BACKEND": "console"}, "MAIL_BACKEND=console would print"),
        ({**VERCEL, "PUBLIC_BASE_URL": ""}, "Set PUBLIC_BASE_URL"),
        ({"MAIL_BACKEND": "smtp"}, "needs SMTP_HOST"),
        ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND must be"),
        ({"SIGNUP_MODE": "domain"}, "needs SIGNUP_ALLOWED_DOMAINS"),
        ({"SIGNUP_MODE": "invite"}, "SIGNUP_MODE must be"),
        ({"BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS must be between"),
        ({"BCRYPT_ROUNDS": "twelve"}, "BCRYPT_ROUNDS must be a whole number"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be"),
        (
            {"ACCESS_TOKEN_MINUTES": "-5"},
            "ACCESS_TOKEN_MINUTES must be a whole number of at least 1",
        ),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES must be a whole number of at least 0"),
        ({"MAX_PHOTO_BYTES": "5000000"}, "MAX_PHOTO_BYTES must be below MAX_REQUEST_BYTES"),
        ({**VERCEL, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "Set PUBLIC_BASE_URL"),
        ({"APP_ENV": "production", "SECRET_KEY": GOOD_KEY}, "needs DATABASE_URL"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"APP_ENV": "staging"}, "APP_ENV must be"),
    ],
)
def test_unsafe_configurations_refuse_to_start(tmp_path, environ, complaint):
    with pytest.raises(config.ConfigError, match=complaint):
        configure(environ, tmp_path)
    assert not (tmp_path / "productinfo.sqlite3").exists()


def test_vercel_with_everything_configured(tmp_path):
    settings = configure(VERCEL, tmp_path)
    assert settings["APP_ENV"] == "production"
    assert settings["ON_VERCEL"] is True
    assert settings["TRUSTED_PROXIES"] == 1
    assert settings["SIGNUP_MODE"] == "approval"
    assert settings["BCRYPT_ROUNDS"] == 12


def test_entry_point_refuses_to_start_on_bare_vercel(tmp_path):
    env = {"PATH": os.environ["PATH"], "VERCEL": "1", "INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import api.index"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert list(tmp_path.iterdir()) == []
