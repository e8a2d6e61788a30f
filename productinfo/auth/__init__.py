"""Accounts: who may call the API; sign-up, sessions, profile, emailed links and admin."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the account settings, the access check, the endpoints, link pages and CLI."""
    from productinfo.auth import cli, guard, pages, routes
    from productinfo.auth.accounts import Settings

    app.extensions["accounts"] = Settings.from_config(app.config)
    app.extensions["authorize"] = guard.authorize
    app.extensions["settle_authorization"] = guard.settle
    app.register_blueprint(routes.bp)
    app.register_blueprint(pages.bp)
    app.cli.add_command(cli.create_admin_command)
