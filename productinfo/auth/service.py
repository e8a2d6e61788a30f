"""Accounts: sign-up, sign-in, sessions and their tokens, profile, emailed links and roles.

Functions that fail after recording something that must outlive the failure
(a failed sign-in counts towards the limit, a replayed refresh token ends its
session) commit that record themselves before raising.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.engine import RowMapping

from productinfo.auth import activity, emails
from productinfo.auth.guard import account_disabled, check_session
from productinfo.auth.models import email_tokens, refresh_tokens, sessions, users
from productinfo.db import insert_ignoring_conflicts, utcnow
from productinfo.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from productinfo.pagination import keyset, split_page
from productinfo.security import passwords, throttle, tokens

VERIFY_EMAIL, RESET_PASSWORD = "verify_email", "reset_password"
VERIFY_LIFETIME = dt.timedelta(days=2)
RESET_LIFETIME = dt.timedelta(hours=1)
# An app that lost the answer to a refresh may send the same token again this soon.
REFRESH_GRACE = dt.timedelta(seconds=60)
# Failed sign-ins (and wrong current passwords). Tight per account *from one address*,
# so that a stranger guessing cannot lock the owner out; looser per account from all
# addresses (a spread-out attack) and per address (a whole office may share one).
_WRONG = "Too many failed sign-ins. Wait before trying again."
_QUARTER = dt.timedelta(minutes=15)
LOGIN_PER_ACCOUNT_AND_ADDRESS = throttle.Limit("login:account+address", 10, _QUARTER, _WRONG)
LOGIN_PER_ACCOUNT = throttle.Limit("login:account", 100, _QUARTER, _WRONG)
LOGIN_PER_ADDRESS = throttle.Limit("login:address", 50, _QUARTER, _WRONG)
# Emails (verification, reset): per account and per address.
_MAILS = "Too many emails were asked for. Wait before asking again."
MAIL_PER_ACCOUNT = throttle.Limit("mail:account", 3, dt.timedelta(hours=1), _MAILS)
MAIL_PER_ADDRESS = throttle.Limit("mail:address", 20, dt.timedelta(hours=1), _MAILS)


@dataclass(frozen=True)
class SessionTokens:
    session_id: int
    access_token: str
    refresh_token: str
    expires_in: int


def public_user(row: RowMapping) -> dict:
    """Describe an account without its secrets."""
    return {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "role": row["role"],
        "email_verified": row["email_verified_at"] is not None,
        "approved": row["approved_at"] is not None,
        "disabled": row["disabled_at"] is not None,
        "created_at": row["created_at"],
    }


def get_user(conn: Connection, user_id: int) -> RowMapping:
    """Return an account or raise NotFound."""
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no user {user_id}.", code="user_not_found")
    return row


def find_by_email(conn: Connection, email: str) -> RowMapping | None:
    """Return the account with this (normalised) address, if any."""
    return conn.execute(select(users).where(users.c.email == email)).mappings().first()


def _check_new_password(password: str, *, email: str, name: str | None) -> None:
    found = passwords.problem(password, user_inputs=(email, email.split("@")[0], name or ""))
    if found:
        code, reason = found
        raise ValidationFailed.field("password", reason, code=code)


def _hash(password: str) -> str:
    return passwords.hash_password(password, rounds=current_app.config["BCRYPT_ROUNDS"])


# Sign-up and sign-in


def signup(conn: Connection, *, email: str, password: str, name: str | None):
    """Create a staff account and its first session; return (user, tokens, verification email)."""
    config = current_app.config
    domain = email.rsplit("@", 1)[1]
    if config["SIGNUP_MODE"] == "domain" and domain not in config["SIGNUP_ALLOWED_DOMAINS"]:
        allowed = ", ".join(config["SIGNUP_ALLOWED_DOMAINS"])
        raise Forbidden(
            f"Sign-up is open to addresses at {allowed} only.", code="signup_domain_not_allowed"
        )
    _check_new_password(password, email=email, name=name)
    now = utcnow()
    values = {
        "email": email,
        "name": name,
        "password_hash": _hash(password),
        "role": "staff",
        "approved_at": None if config["SIGNUP_MODE"] == "approval" else now,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert_ignoring_conflicts(conn, users, "email").values(values)
    user_id = conn.execute(statement.returning(users.c.id)).scalar()
    if user_id is None:
        raise Conflict("An account with this email address exists already.", code="email_taken")
    activity.record(conn, user_id, "signup")
    session = start_session(conn, user_id, now=now)
    token = _new_email_token(conn, user_id, VERIFY_EMAIL, email, now=now)
    return get_user(conn, user_id), session, emails.verification(email, token)


def login(conn: Connection, *, email: str, password: str, address: str):
    """Check the credentials and start a session; return (user, tokens)."""
    now = utcnow()
    counters = _login_keys(email, address)
    throttle.check(conn, counters, now=now)
    user = find_by_email(conn, email)
    rounds = current_app.config["BCRYPT_ROUNDS"]
    if not passwords.verify(password, user["password_hash"] if user else None, rounds=rounds):
        throttle.record(conn, counters, now=now)
        conn.commit()  # the failure must count although the request fails
        raise Unauthorized("Wrong email or password.", code="invalid_credentials")
    if user["disabled_at"] is not None:
        raise account_disabled()
    throttle.clear(conn, *counters[0])
    activity.record(conn, user["id"], "login")
    return user, start_session(conn, user["id"], now=now)


def _login_keys(email: str, address: str):
    pair = hashlib.sha256(f"{email} {address}".encode()).hexdigest()  # within the key's length
    return (
        (LOGIN_PER_ACCOUNT_AND_ADDRESS, pair),
        (LOGIN_PER_ACCOUNT, email),
        (LOGIN_PER_ADDRESS, address),
    )


# Sessions and their tokens


def start_session(conn: Connection, user_id: int, *, now: dt.datetime) -> SessionTokens:
    """Open a session and issue its first pair of tokens."""
    lifetime = dt.timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])
    session_id = conn.execute(
        insert(sessions)
        .values(user_id=user_id, created_at=now, expires_at=now + lifetime)
        .returning(sessions.c.id)
    ).scalar_one()
    return _issue_tokens(conn, user_id, session_id, now=now)


def _issue_tokens(
    conn: Connection, user_id: int, session_id: int, *, now: dt.datetime
) -> SessionTokens:
    refresh = tokens.new_opaque_token()
    conn.execute(
        insert(refresh_tokens).values(
            session_id=session_id, token_hash=tokens.digest(refresh), created_at=now
        )
    )
    lifetime = dt.timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])
    access = tokens.encode_access(
        user_id=user_id,
        session_id=session_id,
        key=current_app.config["SECRET_KEY"],
        now=now,
        lifetime=lifetime,
    )
    return SessionTokens(session_id, access, refresh, int(lifetime.total_seconds()))


def refresh(conn: Connection, *, refresh_token: str):
    """Spend a refresh token for a new pair; return (user, tokens).

    A token spent more than a moment ago and presented again was stolen or
    leaked: the whole session is ended.
    """
    now = utcnow()
    row = (
        conn.execute(
            select(
                refresh_tokens.c.id,
                refresh_tokens.c.used_at,
                sessions.c.id.label("session_id"),
                sessions.c.user_id,
                sessions.c.revoked_at,
                sessions.c.expires_at,
            )
            .select_from(refresh_tokens.join(sessions))
            .where(refresh_tokens.c.token_hash == tokens.digest(refresh_token))
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

    claimed = conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.id == row["id"], refresh_tokens.c.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    # Not claimed now: spent before, or by a concurrent retry at this very moment.
    used_at = row["used_at"] or now
    if not claimed and now - used_at > REFRESH_GRACE:
        _revoke(conn, sessions.c.id == row["session_id"], now=now)
        activity.record(conn, user["id"], "session_revoked", reason="refresh_token_reused")
        conn.commit()  # the session must end although the request fails
        raise Unauthorized(
            "This refresh token was used already, so the session has been ended to protect "
            "the account. Sign in again.",
            code="session_revoked",
        )
    activity.record(conn, user["id"], "token_refreshed")
    return user, _issue_tokens(conn, user["id"], row["session_id"], now=now)


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


def _revoke(conn: Connection, condition, *, now: dt.datetime) -> None:
    conn.execute(
        update(sessions).where(condition, sessions.c.revoked_at.is_(None)).values(revoked_at=now)
    )


def logout(conn: Connection, *, user_id: int, session_id: int) -> None:
    """End one session: its refresh token and every access token issued for it stop working."""
    _revoke(conn, sessions.c.id == session_id, now=utcnow())
    activity.record(conn, user_id, "logout")


def logout_all(conn: Connection, *, user_id: int) -> None:
    """End every session of a user."""
    _revoke(conn, sessions.c.user_id == user_id, now=utcnow())
    activity.record(conn, user_id, "logout_all")


# Profile


def update_profile(conn: Connection, *, user_id: int, session_id: int, changes, address: str):
    """Change the name, password or email; return (user, verification email or None).

    A new password or email needs the current password. A new password ends the
    user's other sessions; a new email must be verified again.
    """
    user = get_user(conn, user_id)
    fields = changes.model_fields_set - {"current_password"}
    if not fields:
        raise ValidationFailed(
            "Send at least one of name, email or password.", code="nothing_to_update"
        )
    now = utcnow()
    if changes.password is not None or changes.email is not None:
        _confirm_password(conn, user, changes.current_password, address=address, now=now)

    values, email = {}, None
    if "name" in fields and changes.name != user["name"]:
        values["name"] = changes.name
        activity.record(conn, user_id, "profile_updated", fields=["name"])
    if changes.password is not None:
        _check_new_password(changes.password, email=user["email"], name=user["name"])
        values["password_hash"] = _hash(changes.password)
        _revoke(conn, and_(sessions.c.user_id == user_id, sessions.c.id != session_id), now=now)
        activity.record(conn, user_id, "password_changed")
    if changes.email is not None and changes.email != user["email"]:
        if find_by_email(conn, changes.email) is not None:
            raise Conflict("An account with this email address exists already.", code="email_taken")
        # Each change mails a new address, so the cap counts per account, not per address.
        _check_mail_allowance(conn, account=f"user:{user_id}", address=address, now=now)
        values.update(email=changes.email, email_verified_at=None)
        token = _new_email_token(conn, user_id, VERIFY_EMAIL, changes.email, now=now)
        email = emails.verification(changes.email, token)
        activity.record(conn, user_id, "email_changed", old=user["email"], new=changes.email)
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values, updated_at=now))
    return get_user(conn, user_id), email


def _confirm_password(conn: Connection, user, current_password, *, address: str, now) -> None:
    if current_password is None:
        raise ValidationFailed.field(
            "current_password",
            "is needed to change the email or password",
            code="current_password_required",
        )
    counters = _login_keys(user["email"], address)
    throttle.check(conn, counters, now=now)
    rounds = current_app.config["BCRYPT_ROUNDS"]
    if not passwords.verify(current_password, user["password_hash"], rounds=rounds):
        throttle.record(conn, counters, now=now)
        conn.commit()  # a wrong guess counts, as at sign-in
        raise ValidationFailed.field("current_password", "is wrong", code="wrong_password")


# Emailed links


def _new_email_token(conn: Connection, user_id: int, purpose: str, email: str, *, now) -> str:
    token = tokens.new_opaque_token()
    lifetime = VERIFY_LIFETIME if purpose == VERIFY_EMAIL else RESET_LIFETIME
    conn.execute(
        insert(email_tokens).values(
            user_id=user_id,
            purpose=purpose,
            email=email,
            token_hash=tokens.digest(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def _check_mail_allowance(conn: Connection, *, account: str, address: str, now) -> None:
    counters = ((MAIL_PER_ACCOUNT, account), (MAIL_PER_ADDRESS, address))
    throttle.check(conn, counters, now=now)
    throttle.record(conn, counters, now=now)


def _link_invalid(message: str) -> ValidationFailed:
    return ValidationFailed.field("token", message, code="link_invalid")


def _spend_email_token(conn: Connection, token: str, purpose: str, *, now) -> RowMapping:
    row = (
        conn.execute(
            select(email_tokens).where(
                email_tokens.c.token_hash == tokens.digest(token), email_tokens.c.purpose == purpose
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["used_at"] is not None:
        raise _link_invalid("This link is not valid or was used already.")
    if row["expires_at"] <= now:
        raise ValidationFailed.field(
            "token", "This link has expired. Ask for a new one.", code="link_expired"
        )
    claimed = conn.execute(
        update(email_tokens)
        .where(email_tokens.c.id == row["id"], email_tokens.c.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not claimed:  # spent by a concurrent request
        raise _link_invalid("This link is not valid or was used already.")
    return row


def _owner_of_link(conn: Connection, token_row: RowMapping) -> RowMapping:
    """Return the account an emailed link belongs to, if it still uses the address the
    link was mailed to: a link in a mailbox the account gave up must not work."""
    user = get_user(conn, token_row["user_id"])
    if user["email"] != token_row["email"]:
        raise _link_invalid("This link was for an address the account no longer uses.")
    return user


def resend_verification(conn: Connection, *, user_id: int, address: str) -> emails.Email:
    """Issue a new verification link for the user's current address."""
    user = get_user(conn, user_id)
    if user["email_verified_at"] is not None:
        raise Conflict("This email address is verified already.", code="already_verified")
    now = utcnow()
    _check_mail_allowance(conn, account=user["email"], address=address, now=now)
    token = _new_email_token(conn, user_id, VERIFY_EMAIL, user["email"], now=now)
    activity.record(conn, user_id, "verification_sent")
    return emails.verification(user["email"], token)


def verify_email(conn: Connection, *, token: str) -> RowMapping:
    """Mark an address verified with the token mailed to it."""
    now = utcnow()
    row = _spend_email_token(conn, token, VERIFY_EMAIL, now=now)
    user = _owner_of_link(conn, row)
    if user["email_verified_at"] is None:
        conn.execute(
            update(users)
            .where(users.c.id == user["id"])
            .values(email_verified_at=now, updated_at=now)
        )
        activity.record(conn, user["id"], "email_verified")
    return get_user(conn, user["id"])


def request_password_reset(conn: Connection, *, email: str, address: str) -> emails.Email | None:
    """Prepare a reset link if the account exists; callers answer alike either way."""
    now = utcnow()
    _check_mail_allowance(conn, account=email, address=address, now=now)
    user = find_by_email(conn, email)
    if user is None or user["disabled_at"] is not None:
        return None
    token = _new_email_token(conn, user["id"], RESET_PASSWORD, email, now=now)
    activity.record(conn, user["id"], "password_reset_requested")
    return emails.password_reset(email, token)


def reset_password(conn: Connection, *, token: str, password: str) -> None:
    """Set a new password with an emailed token and end every session of the account."""
    now = utcnow()
    row = _spend_email_token(conn, token, RESET_PASSWORD, now=now)
    user = _owner_of_link(conn, row)
    _check_new_password(password, email=user["email"], name=user["name"])
    values = {"password_hash": _hash(password), "updated_at": now}
    if user["email_verified_at"] is None:
        values["email_verified_at"] = now  # the link reached that mailbox
    conn.execute(update(users).where(users.c.id == user["id"]).values(**values))
    # Other reset links of this account are spent too.
    conn.execute(
        update(email_tokens)
        .where(
            email_tokens.c.user_id == user["id"],
            email_tokens.c.purpose == RESET_PASSWORD,
            email_tokens.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    _revoke(conn, sessions.c.user_id == user["id"], now=now)
    throttle.clear(conn, LOGIN_PER_ACCOUNT, user["email"])  # the owner took it back
    activity.record(conn, user["id"], "password_reset")


# Administration


def list_users(conn: Connection, *, role=None, status=None, cursor=None, limit: int):
    """Return a page of accounts, oldest first, optionally by role or status."""
    query = select(users)
    if role:
        query = query.where(users.c.role == role)
    if status == "pending":
        query = query.where(users.c.approved_at.is_(None), users.c.disabled_at.is_(None))
    elif status == "active":
        query = query.where(users.c.approved_at.is_not(None), users.c.disabled_at.is_(None))
    elif status == "disabled":
        query = query.where(users.c.disabled_at.is_not(None))
    rows = conn.execute(keyset(query, (users.c.id,), cursor, limit)).mappings().all()
    return split_page(rows, ("id",), limit)


def set_role(conn: Connection, *, admin_id: int, user_id: int, role: str) -> RowMapping:
    """Make a user staff or admin; the last active admin cannot step down."""
    user = get_user(conn, user_id)
    if user["role"] == role:
        return user
    if user["role"] == "admin" and user["disabled_at"] is None:
        _keep_an_admin(conn)
    conn.execute(update(users).where(users.c.id == user_id).values(role=role, updated_at=utcnow()))
    activity.record(conn, user_id, "role_changed", actor_id=admin_id, role=role)
    return get_user(conn, user_id)


def _keep_an_admin(conn: Connection) -> None:
    """Refuse to take away the last active admin.

    Locking the active admins makes two admins demoting or disabling each other at
    once wait for one another, so that one of them stays.
    """
    active = conn.execute(
        select(users.c.id)
        .where(users.c.role == "admin", users.c.disabled_at.is_(None))
        .with_for_update()
    ).all()
    if len(active) <= 1:
        raise Conflict("This is the last admin. Make someone else admin first.", code="last_admin")


def set_disabled(conn: Connection, *, admin_id: int, user_id: int, disabled: bool) -> RowMapping:
    """Disable an account (ending its sessions) or enable it again."""
    user = get_user(conn, user_id)
    if disabled and user_id == admin_id:
        raise Conflict("You cannot disable your own account.", code="cannot_disable_self")
    now = utcnow()
    if disabled and user["disabled_at"] is None:
        if user["role"] == "admin":
            _keep_an_admin(conn)
        conn.execute(
            update(users).where(users.c.id == user_id).values(disabled_at=now, updated_at=now)
        )
        _revoke(conn, sessions.c.user_id == user_id, now=now)
        activity.record(conn, user_id, "account_disabled", actor_id=admin_id)
    elif not disabled and user["disabled_at"] is not None:
        conn.execute(
            update(users).where(users.c.id == user_id).values(disabled_at=None, updated_at=now)
        )
        activity.record(conn, user_id, "account_enabled", actor_id=admin_id)
    return get_user(conn, user_id)


def approve(conn: Connection, *, admin_id: int, user_id: int) -> RowMapping:
    """Let an account waiting for approval reach the catalogue."""
    user = get_user(conn, user_id)
    if user["approved_at"] is None:
        now = utcnow()
        conn.execute(
            update(users).where(users.c.id == user_id).values(approved_at=now, updated_at=now)
        )
        activity.record(conn, user_id, "account_approved", actor_id=admin_id)
    return get_user(conn, user_id)


def create_admin(conn: Connection, *, email: str, password: str) -> tuple[RowMapping, bool]:
    """Create a verified admin, or promote the existing account; return (user, created)."""
    now = utcnow()
    user = find_by_email(conn, email)
    if user is not None:
        conn.execute(
            update(users)
            .where(users.c.id == user["id"])
            .values(
                role="admin",
                approved_at=user["approved_at"] or now,
                disabled_at=None,
                updated_at=now,
            )
        )
        activity.record(conn, user["id"], "role_changed", role="admin", via="cli")
        return get_user(conn, user["id"]), False
    _check_new_password(password, email=email, name=None)
    user_id = conn.execute(
        insert(users)
        .values(
            email=email,
            password_hash=_hash(password),
            role="admin",
            email_verified_at=now,
            approved_at=now,
            created_at=now,
            updated_at=now,
        )
        .returning(users.c.id)
    ).scalar_one()
    activity.record(conn, user_id, "signup", via="cli", role="admin")
    return get_user(conn, user_id), True
