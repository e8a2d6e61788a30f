"""Command line: `flask --app api/index photos sweep`, run from cron or by hand."""

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from productinfo.db import get_engine, utcnow
from productinfo.photos import sweep
from productinfo.storage import StorageUnavailable, get_storage

photos_cli = AppGroup("photos", help="Look after stored photos.")


@photos_cli.command("sweep")
@click.option(
    "--grace-minutes",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Leave loose objects and expired uploads younger than this: uploads under way.",
)
def sweep_command(grace_minutes: int):
    """Remove stored objects no photo names, uploads never finished, old deleted products' photos.

    Safe to run at any time and as often as you like, e.g. hourly from cron.
    """
    engine, storage, now = get_engine(), get_storage(), utcnow()
    cutoff = now - dt.timedelta(minutes=grace_minutes)
    retention = dt.timedelta(days=current_app.config["PHOTO_RETENTION_DAYS"])
    counts = {"purged": 0, "uploads": 0, "loose": 0}
    try:
        while True:
            with engine.begin() as conn:
                keys = sweep.release_photos_of_deleted_products(
                    conn, deleted_before=now - retention
                )
            _remove(engine, storage, keys)
            counts["purged"] += len(keys) // 2
            if len(keys) < 2 * sweep.BATCH:
                break
        while True:
            with engine.connect() as conn:
                uploads = sweep.expired_uploads(conn, before=cutoff)
            storage.delete([key for _, key in uploads])
            with engine.begin() as conn:
                sweep.forget_uploads(conn, [upload_id for upload_id, _ in uploads])
            counts["uploads"] += len(uploads)
            if len(uploads) < sweep.BATCH:
                break
        while True:
            with engine.connect() as conn:
                keys = sweep.loose(conn, before=cutoff)
            _remove(engine, storage, keys)
            counts["loose"] += len(keys)
            if len(keys) < sweep.BATCH:
                break
    except StorageUnavailable as error:
        raise click.ClickException(
            f"{error.message} Nothing is lost: run the sweep again."
        ) from error
    finally:
        click.echo(
            f"Removed {counts['purged']} photos of products deleted over "
            f"{retention.days} days ago, {counts['uploads']} uploads that expired and "
            f"{counts['loose']} loose objects."
        )


def _remove(engine, storage, keys: list[str]) -> None:
    """Delete loose objects from storage, then their records."""
    if keys:
        storage.delete(keys)
        with engine.begin() as conn:
            sweep.forget_loose(conn, keys)
