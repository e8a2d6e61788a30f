"""Photos of products: the upload pipeline, storage of the objects, their rows."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the photo limits, the photo endpoints and the `photos` commands."""
    from productinfo.photos import routes
    from productinfo.photos.cli import photos_cli
    from productinfo.photos.service import Limits

    app.extensions["photo_limits"] = Limits.from_config(app.config)
    app.register_blueprint(routes.bp)
    if app.config["STORAGE_BACKEND"] == "local":
        app.register_blueprint(routes.receiving)
    app.cli.add_command(photos_cli)
