"""Offline sync: local-id mappings, and a change sequence stamped by triggers.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from productinfo.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SYNCED = ("categories", "companies", "products")

# Postgres: the row's change is the id of the transaction that wrote it. A puller
# knows that every transaction below its snapshot's xmin has finished.
POSTGRES = [
    """CREATE FUNCTION stamp_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.change_seq := pg_current_xact_id()::text::bigint;
        RETURN NEW;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_change_seq BEFORE INSERT OR UPDATE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION stamp_change_seq()"
        for table in SYNCED
    ),
]

# SQLite has one writer at a time, so a counter (the highest sequence so far, plus
# one) follows the order of commits.
_NEXT = "(SELECT max(m) FROM ({})) + 1".format(
    " UNION ALL ".join(f"SELECT max(change_seq) AS m FROM {table}" for table in SYNCED)
)
SQLITE = [
    statement
    for table in SYNCED
    for statement in (
        f"""CREATE TRIGGER {table}_change_seq_insert AFTER INSERT ON {table}
        BEGIN UPDATE {table} SET change_seq = {_NEXT} WHERE id = NEW.id; END""",
        f"""CREATE TRIGGER {table}_change_seq_update AFTER UPDATE ON {table}
        WHEN NEW.change_seq = OLD.change_seq
        BEGIN UPDATE {table} SET change_seq = {_NEXT} WHERE id = NEW.id; END""",
    )
]


def upgrade():
    for table in SYNCED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)
            )
        op.create_index(f"ix_{table}_change_seq_id", table, ["change_seq", "id"])
    for statement in POSTGRES if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    for table in SYNCED:  # stamp the rows that exist already
        op.execute(f"UPDATE {table} SET updated_at = updated_at")

    op.create_table(
        "sync_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("local_id", sa.String(length=64), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_mappings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_mappings")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_sync_mappings_user_device_kind_local",
        "sync_mappings",
        ["user_id", "device_id", "kind", "local_id"],
        unique=True,
    )


def downgrade():
    op.drop_table("sync_mappings")
    if op.get_bind().dialect.name == "postgresql":
        for table in SYNCED:
            op.execute(f"DROP TRIGGER {table}_change_seq ON {table}")
        op.execute("DROP FUNCTION stamp_change_seq()")
    else:
        for table in SYNCED:
            op.execute(f"DROP TRIGGER {table}_change_seq_insert")
            op.execute(f"DROP TRIGGER {table}_change_seq_update")
    for table in SYNCED:
        op.drop_index(f"ix_{table}_change_seq_id", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("change_seq")
