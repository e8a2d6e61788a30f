"""Read the configuration from the environment and refuse to start when it is unsafe.

Every variable is documented in `.env.example`. Development needs none of them:
the database is a SQLite file and photos go to a folder, both in the instance
folder. Production (`APP_ENV=production`, implied on Vercel) must name its
database and its secret key.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

MIN_SECRET_KEY_BYTES = 32


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can safely run with."""


def load(environ: os._Environ | dict, instance_path: str) -> dict:
    """Build the app configuration from environment variables."""
    env = {key: value.strip() for key, value in environ.items() if value.strip()}
    on_vercel = "VERCEL" in env
    app_env = env.get("APP_ENV", "production" if on_vercel else "development")
    if app_env not in ("development", "production"):
        raise ConfigError("APP_ENV must be 'development' or 'production'.")

    production = app_env == "production"
    database_url = env.get("DATABASE_URL") or env.get("POSTGRES_URL")
    return {
        "APP_ENV": app_env,
        "ON_VERCEL": on_vercel,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": normalize_database_url(database_url) if database_url else None,
        "DATABASE_TIMEOUT_SECONDS": _int(env, "DATABASE_TIMEOUT_SECONDS", 5),
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local"),
        "STORAGE_DIR": env.get("STORAGE_DIR", os.path.join(instance_path, "photos")),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/"),
        "CORS_ORIGINS": _list(env.get("CORS_ORIGINS")),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_REQUEST_BYTES", 4_500_000),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 1 if on_vercel else 0, minimum=0),
        "BARCODE_CHECKSUM": env.get("BARCODE_CHECKSUM", "strict"),
        # Accounts
        "BCRYPT_ROUNDS": _int(env, "BCRYPT_ROUNDS", 12),
        "ACCESS_TOKEN_MINUTES": _int(env, "ACCESS_TOKEN_MINUTES", 15),
        "REFRESH_TOKEN_DAYS": _int(env, "REFRESH_TOKEN_DAYS", 30),
        "SIGNUP_MODE": env.get("SIGNUP_MODE", "approval" if production else "open"),
        "SIGNUP_ALLOWED_DOMAINS": [
            d.lower().lstrip("@") for d in _list(env.get("SIGNUP_ALLOWED_DOMAINS"))
        ],
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATE_LIMIT": env.get("RATE_LIMIT", "300 per minute"),
        "AUTH_RATE_LIMIT": env.get("AUTH_RATE_LIMIT", "30 per minute"),
        # Mail
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "console"),
        "MAIL_FROM": env.get("MAIL_FROM", "Product info <no-reply@localhost>"),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),
        **_load_photos(env),
    }


def _int(env: dict, name: str, default: int, *, minimum: int = 1) -> int:
    """Read a whole number of at least `minimum`."""
    value = env.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, not {value!r}.")
    return number


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def finalize(config: dict, instance_path: str) -> None:
    """Fill in development defaults and check the rules that keep production safe."""
    production = config["APP_ENV"] == "production"
    problems = []
    if config["ON_VERCEL"] and not production:
        # Development defaults write a secret key to the (read-only) disk, print one-time links
        # into the logs and open sign-up to anyone who finds the deployment's address.
        problems.append(
            "APP_ENV=development is for a local machine, not Vercel (VERCEL is set). "
            "Remove APP_ENV or set it to production."
        )
    if config["ON_VERCEL"] and not config["DATABASE_URL"]:
        problems.append(
            "No database is configured. Set DATABASE_URL (or POSTGRES_URL) to the Supabase "
            "pooler URL; Vercel's filesystem is read-only and a SQLite file would be lost."
        )
    elif production and not config["DATABASE_URL"]:
        problems.append("APP_ENV=production needs DATABASE_URL.")
    if config["ON_VERCEL"] and config["STORAGE_BACKEND"] == "local":
        problems.append(
            "No photo storage is configured. Set STORAGE_BACKEND=supabase with SUPABASE_URL, "
            "SUPABASE_SERVICE_ROLE_KEY and SUPABASE_BUCKET; a local folder would be lost."
        )
    problems += _account_problems(config, production)
    problems += _photo_problems(config)
    if config["BARCODE_CHECKSUM"] not in ("strict", "warn", "off"):
        problems.append("BARCODE_CHECKSUM must be strict, warn or off.")
    if config["LOG_LEVEL"] not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
    if config["MAX_PHOTO_BYTES"] >= config["MAX_CONTENT_LENGTH"]:
        problems.append("MAX_PHOTO_BYTES must be below MAX_REQUEST_BYTES (the form is larger).")
    if config["MAX_UPLOAD_BYTES"] < config["MAX_PHOTO_BYTES"]:
        problems.append("MAX_UPLOAD_BYTES must be at least MAX_PHOTO_BYTES.")

    secret = config["SECRET_KEY"]
    if secret is None and production:
        problems.append(
            f"SECRET_KEY is not set. Use at least {MIN_SECRET_KEY_BYTES} random bytes, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`.'
        )
    elif secret is not None and len(secret.encode()) < MIN_SECRET_KEY_BYTES:
        problems.append(
            f"SECRET_KEY is too short: use at least {MIN_SECRET_KEY_BYTES} random bytes."
        )
    if problems:
        raise ConfigError("Refusing to start:\n- " + "\n- ".join(problems))

    if config["DATABASE_URL"] is None:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "productinfo.sqlite3")
        config["EMBEDDED_DATABASE"] = True
    if secret is None:
        config["SECRET_KEY"] = _development_secret_key(instance_path)


def _account_problems(config: dict, production: bool) -> list[str]:
    """Check the sign-up, mail and token settings."""
    problems = []
    if config["SIGNUP_MODE"] not in ("open", "domain", "approval"):
        problems.append("SIGNUP_MODE must be open, domain or approval.")
    if config["SIGNUP_MODE"] == "domain" and not config["SIGNUP_ALLOWED_DOMAINS"]:
        problems.append("SIGNUP_MODE=domain needs SIGNUP_ALLOWED_DOMAINS, e.g. example.com.")
    if config["MAIL_BACKEND"] not in ("console", "smtp"):
        problems.append("MAIL_BACKEND must be console or smtp.")
    if config["MAIL_BACKEND"] == "smtp" and not config["SMTP_HOST"]:
        problems.append("MAIL_BACKEND=smtp needs SMTP_HOST.")
    if config["SMTP_SECURITY"] not in ("starttls", "ssl", "none"):
        problems.append("SMTP_SECURITY must be starttls, ssl or none.")
    if production and config["MAIL_BACKEND"] == "console":
        problems.append(
            "MAIL_BACKEND=console would print one-time links into the logs instead of "
            "mailing them. Set MAIL_BACKEND=smtp and the SMTP_* variables."
        )
    host = urlsplit(config["PUBLIC_BASE_URL"]).hostname
    if production and host in (None, "localhost", "127.0.0.1", "0.0.0.0", "::1"):
        problems.append("Set PUBLIC_BASE_URL to the public address; emailed links start with it.")
    if not 1 <= config["SMTP_PORT"] <= 65535:
        problems.append("SMTP_PORT must be between 1 and 65535.")
    if not 4 <= config["BCRYPT_ROUNDS"] <= 31:
        problems.append("BCRYPT_ROUNDS must be between 4 and 31.")
    return problems


def normalize_database_url(url: str) -> str:
    """Point a postgres:// URL at the psycopg 3 driver and drop parameters libpq rejects."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Vercel's Supabase integration appends `supa=...`, which libpq refuses as an unknown option.
    parsed = parsed.difference_update_query(["supa"])
    return parsed.render_as_string(hide_password=False)


def _development_secret_key(instance_path: str) -> str:
    """Return the key kept in the instance folder, creating it on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# --- Photos: where they are stored and how large an upload may be ------------------------------

STORAGE_BACKENDS = ("local", "supabase")
SUPABASE_REQUIRED = ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_BUCKET")


def _load_photos(env: dict) -> dict:
    """Read the Supabase Storage settings and the limits of an uploaded photo."""
    return {
        "SUPABASE_URL": env.get("SUPABASE_URL", "").rstrip("/") or None,
        "SUPABASE_SERVICE_ROLE_KEY": env.get("SUPABASE_SERVICE_ROLE_KEY"),
        "SUPABASE_BUCKET": env.get("SUPABASE_BUCKET"),
        "SUPABASE_BUCKET_PUBLIC": _flag(env, "SUPABASE_BUCKET_PUBLIC", default=False),
        "SIGNED_URL_SECONDS": _int(env, "SIGNED_URL_SECONDS", 3600),
        # Below Vercel's 4.5 MB request limit, which must also hold the form's other fields.
        "MAX_PHOTO_BYTES": _int(env, "MAX_PHOTO_BYTES", 4_000_000),
        # Admits 48 MP phone photos. Decoding is what costs memory: 3 bytes a pixel.
        "MAX_PHOTO_PIXELS": _int(env, "MAX_PHOTO_PIXELS", 50_000_000),
        # A photo sent in two steps never passes through the function: a 48 MP photo is 8-15 MB.
        "MAX_UPLOAD_BYTES": _int(env, "MAX_UPLOAD_BYTES", 25_000_000),
        # Photos of a deleted product are kept this long (a mistake is noticed), then purged.
        "PHOTO_RETENTION_DAYS": _int(env, "PHOTO_RETENTION_DAYS", 30, minimum=0),
    }


def _photo_problems(config: dict) -> list[str]:
    """Name what keeps the configured photo storage from working."""
    backend = config["STORAGE_BACKEND"]
    if backend not in STORAGE_BACKENDS:
        return [f"STORAGE_BACKEND must be 'local' or 'supabase', not {backend!r}."]
    if backend != "supabase":
        return []
    missing = [name for name in SUPABASE_REQUIRED if not config[name]]
    if missing:
        return [f"STORAGE_BACKEND=supabase needs {', '.join(missing)} (see .env.example)."]
    if not config["SUPABASE_URL"].startswith(("https://", "http://")):
        return ["SUPABASE_URL must be the project URL, e.g. https://<project-ref>.supabase.co."]
    return []


def _flag(env: dict, name: str, *, default: bool) -> bool:
    """Read a yes/no variable."""
    value = env.get(name, "").lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {env[name]!r}.")
