"""Who is calling: the bearer access token, checked against its live session on every request.

Each endpoint declares who may call it:

    public     anyone
    optional   anyone; a bearer token is read if the endpoint wants it
    signed_in  any signed-in user, even one whose address is not verified yet
    self       a signed-in user, even one waiting for approval (their own account)
    staff      approved staff and admins (the default)
    admin      admins only

With SIGNUP_MODE=domain, an account whose address is not verified is refused
(403 `email_unverified`) everywhere but `signed_in` endpoints: proving the
mailbox is what proves the person belongs to the company.

Role, approval, verification and sessions are read from the database on each
request, so a demoted, disabled or signed-out user loses access on the very
next request.
"""

import functools
from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import Connection, bindparam, select, true

from productinfo.auth.accounts import account_disabled
from productinfo.auth.models import sessions, users
from productinfo.auth.sessions import check_session
from productinfo.db import connection, utcnow
from productinfo.errors import Forbidden, Unauthorized
from productinfo.security import tokens

# What the rules read of the caller's session and account, labelled so that they can sit
# beside the columns of any query (see `checked`).
_STATE = (
    users.c.role.label("session_role"),
    users.c.approved_at.label("session_approved_at"),
    users.c.email_verified_at.label("session_verified_at"),
    users.c.disabled_at.label("session_disabled_at"),
    sessions.c.revoked_at.label("session_revoked_at"),
    sessions.c.expires_at.label("session_expires_at"),
)
_CALLER = sessions.join(users)
_THEIRS = (sessions.c.id == bindparam("session_id"), sessions.c.user_id == bindparam("user_id"))
# Built once: SQLAlchemy then reuses its cache key and compiled form on every request.
_SESSION = select(*_STATE).select_from(_CALLER).where(*_THEIRS)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    role: str
    session_id: int
    approved: bool
    verified: bool


@dataclass(frozen=True)
class _Pending:
    """A caller whose token is good, their session still to be read (see `checked`)."""

    access: str
    user_id: int
    session_id: int


def authorize(access: str, *, deferred: bool = False) -> None:
    """Raise unless the caller may reach an endpoint with this access level.

    With `deferred`, only the token is checked here: the endpoint reads the session in
    its own query (`checked`), and `settle` makes sure it was read before any answer.
    """
    if access in ("public", "optional"):
        return
    if "current_user" in g:
        _admit_to(access, g.current_user)
        return
    user_id, session_id = _claims()
    if deferred:
        g.pending_caller = _Pending(access, user_id, session_id)
        return
    row = connection().execute(_SESSION, {"session_id": session_id, "user_id": user_id}).first()
    _admit(access, user_id, session_id, row)


def authenticate() -> CurrentUser:
    """Return the signed-in caller, or raise Unauthorized with a code the app can act on."""
    if "current_user" not in g:
        authorize("signed_in")
    return g.current_user


def settle() -> None:
    """Read the caller's session now if the endpoint deferred it and has not read it yet.

    Called once the endpoint has answered or failed: a refusal (401, 403) then
    takes the place of whatever the endpoint said.
    """
    pending = g.pop("pending_caller", None)
    if pending is not None:  # its token was checked already: read the session alone
        ids = {"session_id": pending.session_id, "user_id": pending.user_id}
        row = connection().execute(_SESSION, ids).first()
        _admit(pending.access, pending.user_id, pending.session_id, row)


def checked(conn: Connection, query, params: dict, *, order_by: tuple[str, ...] = ()) -> list:
    """Run `query` with the caller's session read in the same round trip; return its rows.

    The caller is admitted (or refused) by the same rules as `authorize`, before any
    row is returned. `order_by` names the columns of `query` its rows are sorted by.
    Without a deferred caller, `query` runs alone.
    """
    pending = g.pop("pending_caller", None)
    if pending is None:
        return conn.execute(query, params).mappings().all()
    statement = _joined(query, order_by)
    ids = {"session_id": pending.session_id, "user_id": pending.user_id}
    rows = conn.execute(statement, {**params, **ids}).mappings().all()
    _admit(pending.access, pending.user_id, pending.session_id, rows[0] if rows else None)
    # The session row comes once even when the query finds nothing, its columns NULL.
    first = query.selected_columns[0].name
    return [row for row in rows if row[first] is not None]


@functools.lru_cache(maxsize=32)
def _joined(query, order_by: tuple[str, ...]):
    """Return the caller's session row, LEFT JOINed with the rows `query` finds.

    Built once per query (queries are built once, at import), so that SQLAlchemy
    reuses its compiled form.
    """
    found = query.order_by(None).subquery("found")
    return (
        select(*_STATE, *found.c)
        .select_from(_CALLER.outerjoin(found, true()))
        .where(*_THEIRS)
        .order_by(*(found.c[name] for name in order_by))
    )


def _claims() -> tuple[int, int]:
    """Return (user id, session id) of the bearer token, or raise Unauthorized."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized(
            "Sign in first, then send the header Authorization: Bearer <access token>.",
            code="not_signed_in",
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise tokens.invalid_token()
    return tokens.decode_access(token.strip(), key=current_app.config["SECRET_KEY"])


def _admit(access: str, user_id: int, session_id: int, row) -> None:
    """Apply the rules to the caller's session row (None: no such session): the one place
    they live, whether the row was read alone or with the endpoint's query."""
    if row is None:
        raise tokens.invalid_token()
    if row.session_disabled_at is not None:
        raise account_disabled()
    check_session(row.session_revoked_at, row.session_expires_at, now=utcnow())
    g.current_user = CurrentUser(
        user_id,
        row.session_role,
        session_id,
        approved=row.session_approved_at is not None,
        verified=row.session_verified_at is not None,
    )
    _admit_to(access, g.current_user)


def _admit_to(access: str, user: CurrentUser) -> None:
    if access == "signed_in":
        return
    if not user.verified and current_app.extensions["accounts"].signup_mode == "domain":
        raise Forbidden(
            "Confirm your email address first, with the link we sent to it.",
            code="email_unverified",
        )
    if access == "self":
        return
    if not user.approved:
        raise Forbidden("An admin has not approved this account yet.", code="approval_pending")
    if access == "admin" and user.role != "admin":
        raise Forbidden("Only an admin can do this.", code="admin_only")


def current_user() -> CurrentUser:
    """Return the caller that `authorize` let through."""
    return g.current_user
