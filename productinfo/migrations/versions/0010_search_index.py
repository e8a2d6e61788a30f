"""Search by substring without a scan on SQLite: FTS5 trigram indexes of the name keys.

`products_search` and `companies_search` index every three characters of
`products.name_key` and `companies.name_key` (tables with external content: they
hold the index, the text stays in its table). Triggers keep them in step with every
insert, rename and delete, and the rows there already are indexed here. Postgres
has its trigram GIN indexes since 0003 and 0008: nothing changes there.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXED = {"products": "products_search", "companies": "companies_search"}


def _statements(table: str, index: str) -> list[str]:
    # An external-content index forgets a row by being told its old text ('delete').
    forget = (
        f"INSERT INTO {index} ({index}, rowid, name_key) VALUES ('delete', OLD.id, OLD.name_key);"
    )
    learn = f"INSERT INTO {index} (rowid, name_key) VALUES (NEW.id, NEW.name_key);"
    return [
        f"CREATE VIRTUAL TABLE {index} USING fts5("
        f"name_key, content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {index}_insert AFTER INSERT ON {table} BEGIN {learn} END",
        f"CREATE TRIGGER {index}_update AFTER UPDATE OF name_key ON {table}"
        f" BEGIN {forget} {learn} END",
        f"CREATE TRIGGER {index}_delete AFTER DELETE ON {table} BEGIN {forget} END",
        f"INSERT INTO {index} ({index}) VALUES ('rebuild')",  # index the rows there already
    ]


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, index in INDEXED.items():
        for statement in _statements(table, index):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for index in INDEXED.values():
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {index}_{event}")
        op.execute(f"DROP TABLE {index}")
