"""Emailed links: verify an address (a new account's, or the one it changes to), undo a change
of address, reset a password.

A link carries a one-time token, stored as its hash, valid for one purpose and
one address: a link mailed to an address the account has since given up no
longer works. The one exception is the link that undoes a change of address,
mailed to the address given up: it restores that address.
"""

import datetime as dt

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import RowMapping

from productinfo import activity
from productinfo.auth import emails, sessions
from productinfo.auth.accounts import (
    Settings,
    check_new_password,
    find_by_email,
    get_user,
    hash_password,
)
from productinfo.auth.models import email_tokens, users
from productinfo.db import utcnow
from productinfo.errors import Conflict, ValidationFailed
from productinfo.mail import Email
from productinfo.security import throttle, tokens

VERIFY_EMAIL, RESET_PASSWORD, UNDO_EMAIL = "verify_email", "reset_password", "undo_email"
VERIFY_LIFETIME = dt.timedelta(days=2)
RESET_LIFETIME = dt.timedelta(hours=1)
UNDO_LIFETIME = dt.timedelta(days=7)
LIFETIMES = {
    VERIFY_EMAIL: VERIFY_LIFETIME,
    RESET_PASSWORD: RESET_LIFETIME,
    UNDO_EMAIL: UNDO_LIFETIME,
}
# Emails (verification, reset): per account and per address.
_MAILS = "Too many emails were asked for. Wait before asking again."
MAIL_PER_ACCOUNT = throttle.Limit("mail:account", 3, dt.timedelta(hours=1), _MAILS)
MAIL_PER_ADDRESS = throttle.Limit("mail:address", 20, dt.timedelta(hours=1), _MAILS)


def new_token(conn: Connection, user_id: int, purpose: str, email: str, *, now) -> str:
    """Issue the one-time token of a link mailed to `email`."""
    token = tokens.new_opaque_token()
    lifetime = LIFETIMES[purpose]
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


def check_mail_allowance(conn: Connection, *, account: str, address: str, now) -> None:
    """Count one more email for an account and an address; 429 past their limits."""
    throttle.take(conn, ((MAIL_PER_ACCOUNT, account), (MAIL_PER_ADDRESS, address)), now=now)


def _link_invalid(message: str) -> ValidationFailed:
    return ValidationFailed.field("token", message, code="link_invalid")


def _spend(conn: Connection, token: str, purpose: str, *, now) -> RowMapping:
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


def _owner(conn: Connection, token_row: RowMapping) -> RowMapping:
    """Return the account an emailed link belongs to, if it still uses the address the
    link was mailed to: a link in a mailbox the account gave up must not work."""
    user = get_user(conn, token_row["user_id"])
    if user["email"] != token_row["email"]:
        raise _link_invalid("This link was for an address the account no longer uses.")
    return user


def resend_verification(
    conn: Connection, settings: Settings, *, user_id: int, address: str
) -> Email:
    """Issue a new verification link for the user's address, or for the one it changes to."""
    user = get_user(conn, user_id)
    if user["email_verified_at"] is None:
        to, write = user["email"], emails.verification
    elif user["pending_email"] is not None:
        to, write = user["pending_email"], emails.new_address
    else:
        raise Conflict("This email address is verified already.", code="already_verified")
    now = utcnow()
    check_mail_allowance(conn, account=to, address=address, now=now)
    token = new_token(conn, user_id, VERIFY_EMAIL, to, now=now)
    activity.record(conn, user_id, "verification_sent")
    return write(to, token, base_url=settings.base_url)


def verify_email(conn: Connection, settings: Settings, *, token: str):
    """Verify an address with the token mailed to it; return (user, notice to send or None).

    The link to an address the account asked to change to makes it the sign-in
    address, and the address given up is told, with a link that undoes it.
    """
    now = utcnow()
    row = _spend(conn, token, VERIFY_EMAIL, now=now)
    user = get_user(conn, row["user_id"])
    if row["email"] == user["email"]:
        if user["email_verified_at"] is None:
            _set_address(conn, user["id"], user["email"], now=now)
            activity.record(conn, user["id"], "email_verified")
        return get_user(conn, user["id"]), None
    if row["email"] != user["pending_email"]:
        raise _link_invalid("This link was for an address the account no longer uses.")
    new, old = row["email"], user["email"]
    if find_by_email(conn, new) is not None:
        raise Conflict("Another account took this address meanwhile.", code="email_taken")
    _set_address(conn, user["id"], new, now=now)
    activity.record(conn, user["id"], "email_changed", old=old, new=new)
    undo = new_token(conn, user["id"], UNDO_EMAIL, old, now=now)
    days = UNDO_LIFETIME.days
    notice = emails.address_changed(old, new, undo, base_url=settings.base_url, days=days)
    return get_user(conn, user["id"]), notice


def undo_email_change(conn: Connection, *, token: str) -> RowMapping:
    """Give an account back the address the token was mailed to, ending every session."""
    now = utcnow()
    row = _spend(conn, token, UNDO_EMAIL, now=now)
    user = get_user(conn, row["user_id"])
    restored, undone = row["email"], user["email"]
    if restored != undone:
        if find_by_email(conn, restored) is not None:
            raise Conflict(
                "Another account uses this address now. Ask an admin.", code="email_taken"
            )
        _set_address(conn, user["id"], restored, now=now)
    sessions.revoke(conn, user_id=user["id"], now=now)
    activity.record(conn, user["id"], "email_change_undone", restored=restored, undone=undone)
    return get_user(conn, user["id"])


def _set_address(conn: Connection, user_id: int, email: str, *, now) -> None:
    """Make a proven address the sign-in address, with no change left pending."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(email=email, pending_email=None, email_verified_at=now, updated_at=now)
    )


def request_password_reset(
    conn: Connection, settings: Settings, *, email: str, address: str
) -> Email | None:
    """Prepare a reset link if the account exists; callers answer alike either way."""
    now = utcnow()
    check_mail_allowance(conn, account=email, address=address, now=now)
    user = find_by_email(conn, email)
    if user is None or user["disabled_at"] is not None:
        return None
    token = new_token(conn, user["id"], RESET_PASSWORD, email, now=now)
    activity.record(conn, user["id"], "password_reset_requested")
    return emails.password_reset(email, token, base_url=settings.base_url)


def reset_password(conn: Connection, settings: Settings, *, token: str, password: str) -> None:
    """Set a new password with an emailed token and end every session of the account."""
    now = utcnow()
    row = _spend(conn, token, RESET_PASSWORD, now=now)
    user = _owner(conn, row)
    check_new_password(password, email=user["email"], name=user["name"])
    values = {"password_hash": hash_password(password, settings), "updated_at": now}
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
    sessions.revoke(conn, user_id=user["id"], now=now)
    throttle.clear(conn, sessions.LOGIN_PER_ACCOUNT, user["email"])  # the owner took it back
    activity.record(conn, user["id"], "password_reset")
