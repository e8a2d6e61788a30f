"""Accounts: who may call the API, and what each user did."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the access check, the account endpoints, the link pages and the CLI."""
    from productinfo.auth import cli, guard, pages, routes

    app.extensions["authorize"] = guard.authorize
    app.register_blueprint(routes.bp)
    app.register_blueprint(pages.bp)
    app.cli.add_command(cli.create_admin_command)
