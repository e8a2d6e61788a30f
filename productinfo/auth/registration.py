"""Registration: sign up, then keep the name, password and email address of the account."""

from sqlalchemy import Connection, update

from productinfo import activity
from productinfo.auth import emails, links, sessions
from productinfo.auth.accounts import (
    Settings,
    check_new_password,
    find_by_email,
    get_user,
    hash_password,
    in_allowed_domain,
)
from productinfo.auth.models import users
from productinfo.db import insert_ignoring_conflicts, utcnow
from productinfo.errors import Conflict, Forbidden, ValidationFailed
from productinfo.mail import Email


def signup(conn: Connection, settings: Settings, *, email: str, password: str, name: str | None):
    """Create a staff account and its first session; return (user, tokens, verification email)."""
    if settings.signup_mode == "domain" and not in_allowed_domain(email, settings):
        allowed = ", ".join(settings.allowed_domains)
        raise Forbidden(
            f"Sign-up is open to addresses at {allowed} only.", code="signup_domain_not_allowed"
        )
    check_new_password(password, email=email, name=name)
    now = utcnow()
    values = {
        "email": email,
        "name": name,
        "password_hash": hash_password(password, settings),
        "role": "staff",
        "approved_at": None if settings.signup_mode == "approval" else now,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert_ignoring_conflicts(conn, users, "email").values(values)
    user_id = conn.execute(statement.returning(users.c.id)).scalar()
    if user_id is None:
        raise Conflict("An account with this email address exists already.", code="email_taken")
    activity.record(conn, user_id, "signup")
    session = sessions.start_session(conn, settings, user_id, now=now)
    token = links.new_token(conn, user_id, links.VERIFY_EMAIL, email, now=now)
    verification = emails.verification(email, token, base_url=settings.base_url)
    return get_user(conn, user_id), session, verification


def update_profile(
    conn: Connection, settings: Settings, *, user_id: int, session_id: int, changes, address: str
) -> tuple[dict, Email | None]:
    """Change the name, password or email; return (user, verification email or None).

    A new password or email needs the current password. A new password ends the
    user's other sessions. A new email is only pending: it becomes the sign-in
    address once verified with the link mailed to it (`links.verify_email`).
    """
    user = get_user(conn, user_id)
    fields = changes.model_fields_set - {"current_password"}
    if not fields:
        raise ValidationFailed(
            "Send at least one of name, email or password.", code="nothing_to_update"
        )
    now = utcnow()
    if changes.password is not None or changes.email is not None:
        sessions.confirm_password(conn, settings, user, changes.current_password, address=address)

    values, email = {}, None
    if "name" in fields and changes.name != user["name"]:
        values["name"] = changes.name
        activity.record(conn, user_id, "profile_updated", fields=["name"])
    if changes.password is not None:
        check_new_password(changes.password, email=user["email"], name=user["name"])
        values["password_hash"] = hash_password(changes.password, settings)
        sessions.revoke(conn, user_id=user_id, keep=session_id, now=now)
        activity.record(conn, user_id, "password_changed")
    if changes.email == user["email"] and user["pending_email"] is not None:
        values["pending_email"] = None  # asking for the current address cancels a change
        activity.record(conn, user_id, "email_change_cancelled", pending=user["pending_email"])
    elif changes.email is not None and changes.email != user["email"]:
        values["pending_email"] = changes.email
        email = _request_new_address(conn, settings, user, changes.email, address=address, now=now)
    if values:
        conn.execute(update(users).where(users.c.id == user_id).values(**values, updated_at=now))
    return get_user(conn, user_id), email


def _request_new_address(
    conn: Connection, settings: Settings, user, new: str, *, address: str, now
) -> Email:
    """Check a new address and prepare the link that proves it."""
    if settings.signup_mode == "domain" and not in_allowed_domain(new, settings):
        allowed = ", ".join(settings.allowed_domains)
        raise Forbidden(
            f"An account's address must be at {allowed}.", code="email_domain_not_allowed"
        )
    if find_by_email(conn, new) is not None:
        raise Conflict("An account with this email address exists already.", code="email_taken")
    # Each change mails a new address, so the cap counts per account, not per address.
    links.check_mail_allowance(conn, account=f"user:{user['id']}", address=address, now=now)
    token = links.new_token(conn, user["id"], links.VERIFY_EMAIL, new, now=now)
    activity.record(conn, user["id"], "email_change_requested", old=user["email"], new=new)
    return emails.new_address(new, token, base_url=settings.base_url)
