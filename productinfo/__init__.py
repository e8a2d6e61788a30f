"""Product information backend: the Flask app factory."""

import os

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: load config, init db and storage, register blueprints and error handlers."""
    environ = _environment(test_config)
    instance_path = environ.get("INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None)
    _load_config(app, environ, test_config)
    _init_logging(app)

    from productinfo import auth, db, demo, errors, http, mail, openapi, photos, ratelimit, storage

    db.init_app(app)
    if app.config.get("EMBEDDED_DATABASE"):
        _prepare_embedded_database(app)
    storage.init_app(app)
    mail.init_app(app)
    http.init_app(app)  # first: a request has its id before the limiter may refuse it
    ratelimit.init_app(app)
    _init_proxies(app)
    _init_cors(app)

    from productinfo.catalog.routes import bp as catalog_bp
    from productinfo.console import bp as console_bp
    from productinfo.health import bp as health_bp
    from productinfo.merges.routes import bp as merges_bp
    from productinfo.products.routes import bp as products_bp
    from productinfo.stats.routes import bp as stats_bp
    from productinfo.sync.routes import bp as sync_bp

    auth.init_app(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(products_bp)
    app.register_blueprint(merges_bp)
    app.register_blueprint(stats_bp)
    photos.init_app(app)
    app.register_blueprint(sync_bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(console_bp)
    demo.init_app(app)
    errors.register_error_handlers(app)
    return app


def _environment(test_config: dict | None):
    """Return the environment to configure from: the process's, or none at all under test."""
    if test_config is not None:
        return {}
    from dotenv import load_dotenv

    load_dotenv()
    return os.environ


def _load_config(app: Flask, environ, test_config: dict | None) -> None:
    from productinfo import config

    app.config.from_mapping(config.load(environ, app.instance_path))
    app.config.from_mapping(test_config or {})
    config.finalize(app.config, app.instance_path)


def _prepare_embedded_database(app: Flask) -> None:
    """Create or migrate the local SQLite file, with demo data the first time."""
    from productinfo import demo, schema

    engine = app.extensions["db"].engine
    if schema.ensure_schema(engine):
        demo.seed(engine)


def _init_logging(app: Flask) -> None:
    """Log to stderr, one escaped line per record, tagged by its request id (see logs.py)."""
    from productinfo import logs

    logs.init_app(app)


def _init_proxies(app: Flask) -> None:
    """Trust the client address and scheme set by this many proxies in front (Vercel: one).

    Under waitress, its own `--trusted-proxy` options do this instead (see the README).
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _init_cors(app: Flask) -> None:
    """Allow the configured web origins, and no others."""
    if app.config["CORS_ORIGINS"]:
        from flask_cors import CORS

        CORS(
            app,
            origins=app.config["CORS_ORIGINS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
