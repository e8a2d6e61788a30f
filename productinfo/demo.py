"""Demo data for the embedded database, so a new developer has something to look at."""

import contextlib

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import Engine

from productinfo.catalog import service as catalog
from productinfo.catalog.schemas import NewCompany
from productinfo.db import get_engine
from productinfo.errors import Conflict

CATEGORIES = ["Beverages", "Vegetables", "Furniture", "Food"]
COMPANIES = ["Hamoud", "Sommam", "Besbassa", "Cevital", "Ifri", "Candia"]


def seed(engine: Engine) -> None:
    """Add the demo categories and companies that are missing."""
    with engine.begin() as conn:
        for name in CATEGORIES:
            with contextlib.suppress(Conflict):
                catalog.create_category(conn, name=name)
        catalog.add_companies(
            conn, [NewCompany(id=i, name=name) for i, name in enumerate(COMPANIES)]
        )


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo categories and companies."""
    seed(get_engine())
    click.echo("Demo categories and companies loaded.")


def init_app(app: Flask) -> None:
    """Register the seed-demo command."""
    app.cli.add_command(seed_demo_command)
