"""Photos of products: the upload pipeline, storage of the objects, their rows."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the photo limits and the photo endpoints."""
    from productinfo.photos import routes
    from productinfo.photos.service import Limits

    app.extensions["photo_limits"] = Limits.from_config(app.config)
    app.register_blueprint(routes.bp)
