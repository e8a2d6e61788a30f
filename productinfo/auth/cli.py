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
    """Create an admin account for EMAIL, or make the existing account an admin.

    An existing account whose address was never verified is taken back: it gets
    the given password, its sessions end and its address is marked verified.
    """
    try:
        email = normalize_email(email)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    with get_engine().connect() as conn:
        existing = find_by_email(conn, email)
    verified = existing is not None and existing["email_verified_at"] is not None
    if verified and password is not None:
        click.echo("The account exists and its address is verified: its password is left as it is.")
        password = None
    if not verified and password is None:
        if existing is not None:
            click.echo(
                f"An account {email} exists, but its address was never verified: anyone may have "
                "typed it. Choose a new password for it; its sessions will end."
            )
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_engine().begin() as conn:
        try:
            user, done = admin.create_admin(
                conn, current_app.extensions["accounts"], email=email, password=password
            )
        except ValidationFailed as error:
            raise click.ClickException(error.message) from None
    click.echo(f"Admin {user['email']} (user {user['id']}): {'; '.join(done)}.")
