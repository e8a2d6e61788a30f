"""Command line: create the first admin."""

import click
from flask import current_app
from flask.cli import with_appcontext

from productinfo.auth import admin
from productinfo.auth.accounts import find_by_email
from productinfo.auth.addresses import normalize_email
from productinfo.db import get_engine
from productinfo.errors import ValidationFailed


@click.command("create-admin")
@click.argument("email")
@click.option(
    "--password",
    envvar="ADMIN_PASSWORD",
    help="Password of a new account (or set ADMIN_PASSWORD); asked for when needed.",
)
@with_appcontext
def create_admin_command(email: str, password: str | None):
    """Create an admin account for EMAIL, or make the existing account an admin."""
    try:
        email = normalize_email(email)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    with get_engine().connect() as conn:
        existing = find_by_email(conn, email)
    if existing is None and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if existing is not None and password is not None:
        click.echo("The account exists: its password is left as it is.")
    if existing is not None and existing["disabled_at"] is not None:
        click.echo("The account was disabled: it is enabled again.")
    with get_engine().begin() as conn:
        try:
            user, created = admin.create_admin(
                conn, current_app.extensions["accounts"], email=email, password=password
            )
        except ValidationFailed as error:
            raise click.ClickException(error.message) from None
    action = "Created admin" if created else "Made admin"
    click.echo(f"{action} {user['email']} (user {user['id']}).")
