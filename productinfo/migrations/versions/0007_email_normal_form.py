"""Accounts: every stored address in its one normal form; a pending change of address.

Addresses stored before were lower-cased and NFC, but not NFKC: `ａｎａ@example.com`
(full width) and `ana@example.com` could be two accounts. Each address is now
rewritten in the normal form of `productinfo.auth.addresses`. Two accounts
whose addresses become the same are not merged: the migration stops before
changing anything and names them, so that an admin decides which one keeps the
address (e.g. by giving the other one another address), then migrates again.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from productinfo.auth.addresses import normalize_email

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    # Checked first, before any change: SQLite does not undo an ALTER TABLE on failure.
    rewrites = _rewrites(bind.execute(sa.text("SELECT id, email FROM users ORDER BY id")).all())
    op.add_column("users", sa.Column("pending_email", sa.String(length=320), nullable=True))
    for user_id, email in rewrites:
        update = sa.text("UPDATE users SET email = :email WHERE id = :id")
        bind.execute(update, {"email": email, "id": user_id})
    # Links already mailed name their address too; each must still match its account.
    for token_id, email in bind.execute(sa.text("SELECT id, email FROM email_tokens")).all():
        normal = _normal(email)
        if normal not in (None, email):
            bind.execute(
                sa.text("UPDATE email_tokens SET email = :email WHERE id = :id"),
                {"email": normal, "id": token_id},
            )


def _normal(email: str) -> str | None:
    try:
        return normalize_email(email)
    except ValueError:
        return None


def _rewrites(rows) -> list[tuple[int, str]]:
    """Return (user id, new address) for each address not in its normal form; refuse, naming
    them, addresses that have no normal form or that two accounts would share."""
    owners: dict[str, list[int]] = {}
    problems = []
    for user_id, email in rows:
        normal = _normal(email)
        if normal is None:
            problems.append(f"user {user_id}: {email!r} is not a valid address")
        else:
            owners.setdefault(normal, []).append(user_id)
    for normal, ids in owners.items():
        if len(ids) > 1:
            problems.append(f"users {', '.join(map(str, ids))} would all be {normal!r}")
    if problems:
        raise RuntimeError(
            "Refusing to normalise the users' email addresses; nothing was changed:\n- "
            + "\n- ".join(problems)
            + "\nGive each of these accounts an address of its own (or disable the ones to "
            "drop, after changing their address), then migrate again."
        )
    by_id = dict(rows)
    return [(ids[0], normal) for normal, ids in owners.items() if by_id[ids[0]] != normal]


def downgrade():
    # The addresses stay in their normal form: the forms they were typed in are not kept.
    # No batch mode: rebuilding `users` on SQLite would cascade deletes to its sessions.
    op.drop_column("users", "pending_email")
