"""Read the configuration from the environment and refuse to start when it is unsafe.

Every variable is documented in `.env.example`. Development needs none of them:
the database is a SQLite file and photos go to a folder, both in the instance
folder. Production (`APP_ENV=production`, implied on Vercel) must name its
database and its secret key.
"""

import os
import secrets
from pathlib import Path

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

    database_url = env.get("DATABASE_URL") or env.get("POSTGRES_URL")
    return {
        "APP_ENV": app_env,
        "ON_VERCEL": on_vercel,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": normalize_database_url(database_url) if database_url else None,
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local"),
        "STORAGE_DIR": env.get("STORAGE_DIR", os.path.join(instance_path, "photos")),
        "CORS_ORIGINS": [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "MAX_CONTENT_LENGTH": int(env.get("MAX_REQUEST_BYTES", 4_500_000)),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        **_load_photos(env),
    }


def finalize(config: dict, instance_path: str) -> None:
    """Fill in development defaults and check the rules that keep production safe."""
    production = config["APP_ENV"] == "production"
    problems = []
    if config["ON_VERCEL"] and not config["DATABASE_URL"]:
        problems.append(
            "No database is configured. Set DATABASE_URL (or POSTGRES_URL) to the Supabase "
            "pooler URL; Vercel's filesystem is read-only and a SQLite file would be lost."
        )
    if config["ON_VERCEL"] and config["STORAGE_BACKEND"] == "local":
        problems.append(
            "No photo storage is configured. Set STORAGE_BACKEND=supabase with SUPABASE_URL, "
            "SUPABASE_SERVICE_ROLE_KEY and SUPABASE_BUCKET; a local folder would be lost."
        )
    if production and not config["DATABASE_URL"]:
        problems.append("APP_ENV=production needs DATABASE_URL.")
    problems.extend(_photo_problems(config))

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
        "SIGNED_URL_SECONDS": _count(env, "SIGNED_URL_SECONDS", default=3600),
        # Below Vercel's 4.5 MB request limit, which must also hold the form's other fields.
        "MAX_PHOTO_BYTES": _count(env, "MAX_PHOTO_BYTES", default=4_000_000),
        # Admits 48 MP phone photos. Decoding is what costs memory: 3 bytes a pixel.
        "MAX_PHOTO_PIXELS": _count(env, "MAX_PHOTO_PIXELS", default=50_000_000),
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


def _count(env: dict, name: str, *, default: int) -> int:
    """Read a positive whole number."""
    value = env.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{name} must be a positive whole number, not {value!r}.")
    return number
