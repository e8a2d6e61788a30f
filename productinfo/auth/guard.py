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

from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import bindparam, select

from productinfo.auth.accounts import account_disabled
from productinfo.auth.models import sessions, users
from productinfo.auth.sessions import check_session
from productinfo.db import connection, utcnow
from productinfo.errors import Forbidden, Unauthorized
from productinfo.security import tokens

# Built once: SQLAlchemy then reuses its cache key and compiled form on every request.
_SESSION = (
    select(
        users.c.role,
        users.c.approved_at,
        users.c.email_verified_at,
        users.c.disabled_at,
        sessions.c.revoked_at,
        sessions.c.expires_at,
    )
    .select_from(sessions.join(users))
    .where(sessions.c.id == bindparam("session_id"), sessions.c.user_id == bindparam("user_id"))
)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    role: str
    session_id: int
    approved: bool
    verified: bool


def authorize(access: str) -> None:
    """Raise unless the caller may reach an endpoint with this access level."""
    if access in ("public", "optional"):
        return
    user = authenticate()
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


def authenticate() -> CurrentUser:
    """Return the signed-in caller, or raise Unauthorized with a code the app can act on."""
    if "current_user" in g:
        return g.current_user
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized(
            "Sign in first, then send the header Authorization: Bearer <access token>.",
            code="not_signed_in",
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise tokens.invalid_token()
    user_id, session_id = tokens.decode_access(token.strip(), key=current_app.config["SECRET_KEY"])
    row = connection().execute(_SESSION, {"session_id": session_id, "user_id": user_id}).first()
    if row is None:
        raise tokens.invalid_token()
    if row.disabled_at is not None:
        raise account_disabled()
    check_session(row.revoked_at, row.expires_at, now=utcnow())
    g.current_user = CurrentUser(
        user_id,
        row.role,
        session_id,
        approved=row.approved_at is not None,
        verified=row.email_verified_at is not None,
    )
    return g.current_user


def current_user() -> CurrentUser:
    """Return the caller that `authorize` let through."""
    return g.current_user
