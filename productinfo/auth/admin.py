"""Administration of accounts: list them, approve, change roles, disable, create the first admin.

One admin able to act always remains: approved, enabled and, when sign-up is by
domain, with a verified address. The last one can neither step down nor be
disabled; an admin who cannot act does not count.
"""

from sqlalchemy import Connection, and_, case, func, insert, select, update
from sqlalchemy.engine import RowMapping

from productinfo import activity
from productinfo.auth import sessions
from productinfo.auth.accounts import (
    Settings,
    acting,
    can_act,
    check_new_password,
    find_by_email,
    get_user,
    hash_password,
)
from productinfo.auth.models import users
from productinfo.db import utcnow
from productinfo.errors import Conflict
from productinfo.pagination import keyset, split_page

STATUS = {
    "pending": and_(users.c.approved_at.is_(None), users.c.disabled_at.is_(None)),
    "active": and_(users.c.approved_at.is_not(None), users.c.disabled_at.is_(None)),
    "disabled": users.c.disabled_at.is_not(None),
}


def list_users(conn: Connection, *, role=None, status=None, cursor=None, limit: int):
    """Return a page of accounts, oldest first, optionally by role or status, each with
    when they last did something (`last_activity_at`)."""
    query = select(users, activity.last_activity(users.c.id).label("last_activity_at"))
    if role:
        query = query.where(users.c.role == role)
    if status:
        query = query.where(STATUS[status])
    rows = conn.execute(keyset(query, (users.c.id,), cursor, limit)).mappings().all()
    return split_page(rows, ("id",), limit)


def counts(conn: Connection) -> dict[str, int]:
    """Count the accounts in each list of the staff page: everyone, by status, the admins."""
    wanted = {**STATUS, "admins": users.c.role == "admin"}
    row = conn.execute(
        select(
            func.count().label("all"),
            *(func.count(case((condition, 1))).label(name) for name, condition in wanted.items()),
        )
    ).one()
    return dict(row._mapping)


def set_role(
    conn: Connection, settings: Settings, *, admin_id: int, user_id: int, role: str
) -> RowMapping:
    """Make a user staff or admin; the last admin able to act cannot step down."""
    user = get_user(conn, user_id)
    if user["role"] == role:
        return user
    _keep_an_admin(conn, settings, user)
    conn.execute(update(users).where(users.c.id == user_id).values(role=role, updated_at=utcnow()))
    activity.record(conn, user_id, "role_changed", actor_id=admin_id, role=role)
    return get_user(conn, user_id)


def _keep_an_admin(conn: Connection, settings: Settings, user: RowMapping) -> None:
    """Refuse to take `user` away if they are the last admin able to act.

    Locking those admins makes two admins demoting or disabling each other at
    once wait for one another, so that one of them stays.
    """
    if user["role"] != "admin" or not can_act(user, settings):
        return
    admins = conn.execute(
        select(users.c.id).where(users.c.role == "admin", *acting(settings)).with_for_update()
    ).all()
    if len(admins) <= 1:
        raise Conflict("This is the last admin. Make someone else admin first.", code="last_admin")


def set_disabled(
    conn: Connection, settings: Settings, *, admin_id: int, user_id: int, disabled: bool
) -> RowMapping:
    """Disable an account (ending its sessions) or enable it again."""
    user = get_user(conn, user_id)
    if disabled and user_id == admin_id:
        raise Conflict("You cannot disable your own account.", code="cannot_disable_self")
    now = utcnow()
    if disabled and user["disabled_at"] is None:
        _keep_an_admin(conn, settings, user)
        conn.execute(
            update(users).where(users.c.id == user_id).values(disabled_at=now, updated_at=now)
        )
        sessions.revoke(conn, user_id=user_id, now=now)
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


def create_admin(
    conn: Connection, settings: Settings, *, email: str, password: str | None
) -> tuple[RowMapping, list[str]]:
    """Make `email` an admin able to act; return the account and what was done, in words.

    A new account is created verified. An existing account whose address is
    verified is promoted, its password left as it is. An existing account whose
    address was never verified may belong to anyone who typed it: it is taken
    back, with the given password, every session ended and the address marked
    verified, since the operator vouches for it.
    """
    now = utcnow()
    user = find_by_email(conn, email)
    if user is None:
        return _create_verified_admin(conn, settings, email=email, password=password, now=now)
    values, done = {"role": "admin", "updated_at": now}, []
    if user["email_verified_at"] is None:
        check_new_password(password, email=email, name=user["name"])
        values.update(
            password_hash=hash_password(password, settings),
            email_verified_at=now,
            pending_email=None,
        )
        ended = sessions.revoke(conn, user_id=user["id"], now=now)
        done += [
            "its address was not verified, so whoever signed up with it may not own it",
            "password set",
            f"{ended} session{'' if ended == 1 else 's'} ended",
            "address marked verified",
        ]
        activity.record(conn, user["id"], "account_reclaimed", via="cli")
    if user["approved_at"] is None:
        values["approved_at"] = now
        done.append("approved")
    if user["disabled_at"] is not None:
        values["disabled_at"] = None
        done.append("enabled again")
    conn.execute(update(users).where(users.c.id == user["id"]).values(**values))
    if user["role"] != "admin":
        activity.record(conn, user["id"], "role_changed", role="admin", via="cli")
    return get_user(conn, user["id"]), [*done, "made admin"]


def _create_verified_admin(conn: Connection, settings: Settings, *, email, password, now):
    check_new_password(password, email=email, name=None)
    user_id = conn.execute(
        insert(users)
        .values(
            email=email,
            password_hash=hash_password(password, settings),
            role="admin",
            email_verified_at=now,
            approved_at=now,
            created_at=now,
            updated_at=now,
        )
        .returning(users.c.id)
    ).scalar_one()
    activity.record(conn, user_id, "signup", via="cli", role="admin")
    return get_user(conn, user_id), ["created, with its address marked verified"]
