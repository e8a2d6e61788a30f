"""Sign-in and sessions: credentials checked under limits, tokens issued, rotated and revoked.

A session is one signed-in device. Its access tokens name it, so ending the
session ends every token issued for it. Its refresh tokens form one chain and
work once each (a retry within a minute gets the same answer; see `refresh`).
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from productinfo import activity
from productinfo.auth.accounts import Settings, account_disabled, find_by_email, get_user
from productinfo.auth.models import refresh_tokens, sessions
from productinfo.db import persist_now, utcnow
from productinfo.errors import Unauthorized, ValidationFailed
from productinfo.security import passwords, throttle, tokens

# An app that lost the answer to a refresh may send the same token again this soon, and
# gets the same successor.
REFRESH_GRACE = dt.timedelta(seconds=60)
# Failed sign-ins (and wrong current passwords). Tight per account *from one address*,
# so that a stranger guessing cannot lock the owner out; looser per account from all
# addresses (a spread-out attack) and per address (a whole office may share one).
_WRONG = "Too many failed sign-ins. Wait before trying again."
_QUARTER = dt.timedelta(minutes=15)
LOGIN_PER_ACCOUNT_AND_ADDRESS = throttle.Limit("login:account+address", 10, _QUARTER, _WRONG)
LOGIN_PER_ACCOUNT = throttle.Limit("login:account", 100, _QUARTER, _WRONG)
LOGIN_PER_ADDRESS = throttle.Limit("login:address", 50, _QUARTER, _WRONG)


@dataclass(frozen=True)
class SessionTokens:
    session_id: int
    access_token: str
    refresh_token: str
    expires_in: int


def check_session(revoked_at, expires_at, *, now) -> None:
    """Raise Unauthorized if a session was ended or has run out."""
    if revoked_at is not None:
        raise Unauthorized("This session has ended. Sign in again.", code="session_revoked")
    if expires_at <= now:
        raise Unauthorized("This session has expired. Sign in again.", code="session_expired")


def login(conn: Connection, settings: Settings, *, email: str, password: str, address: str):
    """Check the credentials and start a session; return (user, tokens)."""
    now = utcnow()
    counters = _login_keys(email, address)
    attempt = _count_attempt(conn, counters, now=now)
    user = find_by_email(conn, email)
    hashed = user["password_hash"] if user else None
    if not passwords.verify(password, hashed, rounds=settings.bcrypt_rounds):
        raise Unauthorized("Wrong email or password.", code="invalid_credentials")
    if user["disabled_at"] is not None:
        raise account_disabled()
    throttle.forget(conn, attempt)  # a right password is no guess
    throttle.clear(conn, *counters[0])
    activity.record(conn, user["id"], "login")
    return user, start_session(conn, settings, user["id"], now=now)


def confirm_password(conn: Connection, settings: Settings, user, password, *, address: str):
    """Check a signed-in user's current password, under the sign-in limits."""
    if password is None:
        raise ValidationFailed.field(
            "current_password",
            "is needed to change the email or password",
            code="current_password_required",
        )
    attempt = _count_attempt(conn, _login_keys(user["email"], address), now=utcnow())
    if not passwords.verify(password, user["password_hash"], rounds=settings.bcrypt_rounds):
        raise ValidationFailed.field("current_password", "is wrong", code="wrong_password")
    throttle.forget(conn, attempt)


def _count_attempt(conn: Connection, counters, *, now) -> list[int]:
    """Count a password attempt under the sign-in limits before its password is checked.

    Counted first and committed at once, so that guesses sent together cannot all reach
    the password check: past a limit, none does. A right password forgets its attempt.
    """
    attempt = throttle.take(conn, counters, now=now)
    persist_now(conn)  # the attempt counts whatever becomes of the request
    return attempt


def _login_keys(email: str, address: str):
    pair = hashlib.sha256(f"{email} {address}".encode()).hexdigest()  # within the key's length
    return (
        (LOGIN_PER_ACCOUNT_AND_ADDRESS, pair),
        (LOGIN_PER_ACCOUNT, email),
        (LOGIN_PER_ADDRESS, address),
    )


def start_session(conn: Connection, settings: Settings, user_id: int, *, now) -> SessionTokens:
    """Open a session and issue its first pair of tokens."""
    session_id = conn.execute(
        insert(sessions)
        .values(user_id=user_id, created_at=now, expires_at=now + settings.refresh_lifetime)
        .returning(sessions.c.id)
    ).scalar_one()
    refresh_token = tokens.new_opaque_token()
    _store_refresh_token(conn, session_id, refresh_token, now=now)
    return _session_tokens(settings, user_id, session_id, refresh_token, now=now)


def _store_refresh_token(conn: Connection, session_id: int, refresh_token: str, *, now) -> None:
    conn.execute(
        insert(refresh_tokens).values(
            session_id=session_id, token_hash=tokens.digest(refresh_token), created_at=now
        )
    )


def _session_tokens(
    settings: Settings, user_id: int, session_id: int, refresh_token: str, *, now
) -> SessionTokens:
    access = tokens.encode_access(
        user_id=user_id,
        session_id=session_id,
        key=settings.secret_key,
        now=now,
        lifetime=settings.access_lifetime,
    )
    expires_in = int(settings.access_lifetime.total_seconds())
    return SessionTokens(session_id, access, refresh_token, expires_in)


def refresh(conn: Connection, settings: Settings, *, refresh_token: str):
    """Spend a refresh token for a new pair; return (user, tokens).

    A session is one chain of refresh tokens, each the successor of the one before
    (`tokens.successor`). The same token sent again within REFRESH_GRACE of its
    first use, while its successor is unused, is a retry: it gets that same
    successor (and a new access token). Sent later, or once the successor was used,
    the token was stolen or leaked: the whole session is ended.
    """
    now = utcnow()
    token_hash = tokens.digest(refresh_token)
    # Claimed first: a concurrent retry of the same token waits on this write, then finds
    # it spent and its successor stored (on SQLite, the first write takes the write lock).
    claimed = conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.token_hash == token_hash, refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    row = (
        conn.execute(
            select(
                refresh_tokens.c.used_at,
                sessions.c.id.label("session_id"),
                sessions.c.user_id,
                sessions.c.revoked_at,
                sessions.c.expires_at,
            )
            .select_from(refresh_tokens.join(sessions))
            .where(refresh_tokens.c.token_hash == token_hash)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise _invalid_refresh_token()
    check_session(row["revoked_at"], row["expires_at"], now=now)
    user = get_user(conn, row["user_id"])
    if user["disabled_at"] is not None:
        raise account_disabled()

    successor = tokens.successor(refresh_token, key=settings.secret_key)
    if claimed:
        _store_refresh_token(conn, row["session_id"], successor, now=now)
    elif now - row["used_at"] > REFRESH_GRACE or not _unused(conn, row["session_id"], successor):
        revoke(conn, session_id=row["session_id"], now=now)
        activity.record(conn, user["id"], "session_revoked", reason="refresh_token_reused")
        persist_now(conn)  # the session must end although the request fails
        raise Unauthorized(
            "This refresh token was used already, so the session has been ended to protect "
            "the account. Sign in again.",
            code="session_revoked",
        )
    activity.record(conn, user["id"], "token_refreshed")
    return user, _session_tokens(settings, user["id"], row["session_id"], successor, now=now)


def _unused(conn: Connection, session_id: int, refresh_token: str) -> bool:
    """Tell whether a refresh token of the session was issued and not spent yet."""
    used_at = conn.execute(
        select(refresh_tokens.c.used_at).where(
            refresh_tokens.c.token_hash == tokens.digest(refresh_token),
            refresh_tokens.c.session_id == session_id,
        )
    ).first()
    return used_at is not None and used_at[0] is None


def session_of_refresh_token(conn: Connection, refresh_token: str) -> tuple[int, int]:
    """Return (user id, session id) of a refresh token, spent or not."""
    row = conn.execute(
        select(sessions.c.user_id, sessions.c.id)
        .select_from(refresh_tokens.join(sessions))
        .where(refresh_tokens.c.token_hash == tokens.digest(refresh_token))
    ).first()
    if row is None:
        raise _invalid_refresh_token()
    return row.user_id, row.id


def _invalid_refresh_token() -> Unauthorized:
    return Unauthorized("The refresh token is not valid.", code="token_invalid")


def revoke(
    conn: Connection,
    *,
    now,
    session_id: int | None = None,
    user_id: int | None = None,
    keep: int | None = None,
) -> int:
    """End one session, or every session of a user but the one to `keep`; return how many."""
    if session_id is None and user_id is None:
        raise ValueError("name the session or the user whose sessions end")
    condition = sessions.c.revoked_at.is_(None)
    if session_id is not None:
        condition &= sessions.c.id == session_id
    if user_id is not None:
        condition &= sessions.c.user_id == user_id
    if keep is not None:
        condition &= sessions.c.id != keep
    return conn.execute(update(sessions).where(condition).values(revoked_at=now)).rowcount


def logout(conn: Connection, *, user_id: int, session_id: int) -> None:
    """End one session: its refresh token and every access token issued for it stop working."""
    revoke(conn, session_id=session_id, now=utcnow())
    activity.record(conn, user_id, "logout")


def logout_all(conn: Connection, *, user_id: int) -> None:
    """End every session of a user."""
    revoke(conn, user_id=user_id, now=utcnow())
    activity.record(conn, user_id, "logout_all")
