"""HTTP endpoints of accounts: sign-up and sign-in, sessions, profile, emailed links, admin."""

from functools import partial

from flask import current_app

from productinfo import activity, mail
from productinfo.auth import admin, links, registration, sessions
from productinfo.auth.accounts import Settings, get_user, public_user
from productinfo.auth.guard import authenticate, current_user
from productinfo.auth.schemas import (
    Activity,
    Counts,
    ForgotPassword,
    HistoryQuery,
    Listed,
    Login,
    Logout,
    Me,
    Person,
    Refresh,
    ResetPassword,
    SetRole,
    SignedIn,
    Signup,
    TokenBody,
    UpdateProfile,
    User,
    UserListQuery,
    UserPath,
    UserRef,
)
from productinfo.db import after_commit, connection
from productinfo.envelope import ok
from productinfo.errors import Unauthorized
from productinfo.http import ApiBlueprint
from productinfo.ratelimit import auth_limit, client_address, limiter

bp = ApiBlueprint("users", __name__)


def settings() -> Settings:
    """Return the account settings of the current app."""
    return current_app.extensions["accounts"]


def signed_in(user, session: sessions.SessionTokens, message: str = ""):
    return ok(
        SignedIn(
            **public_user(user),
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            expires_in=session.expires_in,
        ),
        message=message,
    )


def deliver_after_commit(email, *, required: bool = False) -> None:
    """Send an email once the tokens it carries are stored."""
    after_commit(partial(mail.deliver, email, required=required))


@bp.write("/users.signup", access="public", body=Signup, response=SignedIn)
@limiter.limit(auth_limit)
def signup(body: Signup):
    """Create a staff account and sign in; a verification link is emailed.

    409 `email_taken`; 422 `password_too_short`, `password_too_long` or
    `password_too_weak` with the reason; 403 `signup_domain_not_allowed` when
    sign-up is limited to the company's domains.
    """
    user, session, email = registration.signup(
        connection(), settings(), email=body.email, password=body.password, name=body.name
    )
    deliver_after_commit(email)
    return signed_in(user, session)


@bp.write("/users.login", access="public", body=Login, response=SignedIn)
@limiter.limit(auth_limit)
def login(body: Login):
    """Sign in with email and password.

    401 `invalid_credentials` alike for an unknown email and a wrong password;
    429 with `Retry-After` after too many failures for the account or address.
    """
    user, session = sessions.login(
        connection(), settings(), email=body.email, password=body.password, address=client_address()
    )
    return signed_in(user, session)


@bp.write("/users.refresh", access="public", body=Refresh, response=SignedIn)
@limiter.limit(auth_limit)
def refresh(body: Refresh):
    """Spend the refresh token for a new access token and a new refresh token.

    A refresh token works once (the same one sent again within a minute, as a
    retry, still works). Sent again later, it ends the session: 401 `session_revoked`.
    """
    user, session = sessions.refresh(connection(), settings(), refresh_token=body.refresh_token)
    return signed_in(user, session)


@bp.write("/users.logout", access="optional", body=Logout)
def logout(body: Logout):
    """End this session: its refresh token and every access token issued for it stop working.

    Identifies the session by the bearer access token, or by `refresh_token` when
    the access token is missing or expired.
    """
    conn = connection()
    try:
        user = authenticate()
        user_id, session_id = user.id, user.session_id
    except Unauthorized:
        if body.refresh_token is None:
            raise
        user_id, session_id = sessions.session_of_refresh_token(conn, body.refresh_token)
    sessions.logout(conn, user_id=user_id, session_id=session_id)
    return ok(message="Signed out.")


@bp.write("/users.logoutAll", access="self")
def logout_all():
    """End every session of the caller, on every device."""
    sessions.logout_all(connection(), user_id=current_user().id)
    return ok(message="Signed out everywhere.")


@bp.read("/users.me", access="signed_in", response=Me)
def get_me():
    """Get the caller's profile and usage statistics."""
    conn = connection()
    user_id = current_user().id
    user = get_user(conn, user_id)
    return ok(Me(**public_user(user), stats=activity.stats(conn, user_id)))


@bp.read(
    "/users.history", access="self", query=HistoryQuery, response=list[Activity], paginated=True
)
def get_user_history(query: HistoryQuery):
    """List the caller's activity, newest first."""
    rows, next_cursor = activity.history(
        connection(), current_user().id, kind=query.kind, cursor=query.cursor, limit=query.limit
    )
    return ok([Activity.model_validate(row) for row in rows], next_cursor=next_cursor)


@bp.write("/users.update", access="self", body=UpdateProfile, response=User)
def update_profile(body: UpdateProfile):
    """Change the name, the password or the email address.

    A new password or email needs `current_password` (422 `wrong_password`). A new
    password ends the caller's other sessions. A new email is `pending_email` until
    the link mailed to it is opened; then it becomes the sign-in address and the old
    address gets a notice with a link that undoes the change. With SIGNUP_MODE=domain,
    403 `email_domain_not_allowed` outside the allowed domains.
    """
    caller = current_user()
    user, email = registration.update_profile(
        connection(),
        settings(),
        user_id=caller.id,
        session_id=caller.session_id,
        changes=body,
        address=client_address(),
    )
    deliver_after_commit(email)
    return ok(User(**public_user(user)))


@bp.write("/users.signup.verify", access="public", body=TokenBody, response=User)
@limiter.limit(auth_limit)
def verify_email(body: TokenBody):
    """Mark an email address verified with the token from the emailed link.

    422 `link_invalid` or `link_expired`. The link itself opens a page that sends
    this request.
    """
    user, notice = links.verify_email(connection(), settings(), token=body.token)
    deliver_after_commit(notice)
    return ok(User(**public_user(user)), message="Your email address is verified.")


@bp.write("/users.email.undo", access="public", body=TokenBody, response=User)
@limiter.limit(auth_limit)
def undo_email_change(body: TokenBody):
    """Give the account back the address the link was mailed to, and end every session.

    The link is in the notice mailed to the old address when an account's address
    changes; it works once, for seven days. 422 `link_invalid` or `link_expired`;
    409 `email_taken` if another account has taken the address since.
    """
    user = links.undo_email_change(connection(), token=body.token)
    message = (
        "The account has its address back and every session has ended. If you did not "
        "change it, choose a new password now."
    )
    return ok(User(**public_user(user)), message=message)


@bp.write("/users.signup.resend", access="signed_in")
def resend_verification():
    """Email a new verification link to the caller's address.

    409 `already_verified`; 429 after too many emails; 503 `mail_unavailable`.
    """
    email = links.resend_verification(
        connection(), settings(), user_id=current_user().id, address=client_address()
    )
    deliver_after_commit(email, required=True)
    return ok(message=f"A new link was sent to {email.to}.")


@bp.write("/users.forgetpass", access="public", body=ForgotPassword)
@limiter.limit(auth_limit)
def forgot_password(body: ForgotPassword):
    """Email a password reset link, if an account has this address.

    The answer is the same whether or not the account exists.
    """
    email = links.request_password_reset(
        connection(), settings(), email=body.email, address=client_address()
    )
    deliver_after_commit(email)
    return ok(message="If an account uses this address, a reset link is on its way.")


@bp.write("/users.resetpass", access="public", body=ResetPassword)
@limiter.limit(auth_limit)
def reset_password(body: ResetPassword):
    """Set a new password with the emailed token; every session of the account ends."""
    links.reset_password(connection(), settings(), token=body.token, password=body.password)
    return ok(message="Your password is changed. Sign in with it.")


# Administration


@bp.read("/users.list", access="admin", query=UserListQuery, response=list[Listed], paginated=True)
def list_users(query: UserListQuery):
    """List accounts, oldest first, optionally by role or status, with their last activity."""
    rows, next_cursor = admin.list_users(
        connection(), role=query.role, status=query.status, cursor=query.cursor, limit=query.limit
    )
    listed = [Listed(**public_user(row), last_activity_at=row["last_activity_at"]) for row in rows]
    return ok(listed, next_cursor=next_cursor)


@bp.read("/users.counts", access="admin", response=Counts)
def count_users():
    """Count the accounts: all, waiting for approval (`pending`), active, disabled, admins."""
    return ok(Counts.model_validate(admin.counts(connection())))


@bp.read("/users.getById/<user_id>", access="admin", path=UserPath, response=Person)
def get_user_by_id(user_id: int):
    """Get one account with its statistics: captures, photos, last activity."""
    conn = connection()
    user = get_user(conn, user_id)
    return ok(Person(**public_user(user), stats=activity.stats(conn, user_id)))


def _admin_change(change, *args, **kwargs):
    user = change(connection(), *args, admin_id=current_user().id, **kwargs)
    return ok(User(**public_user(user)))


@bp.write("/users.setRole", access="admin", body=SetRole, response=User)
def set_role(body: SetRole):
    """Make a user staff or admin, effective on their next request; 409 `last_admin`."""
    return _admin_change(admin.set_role, settings(), user_id=body.user_id, role=body.role)


@bp.write("/users.disable", access="admin", body=UserRef, response=User)
def disable_user(body: UserRef):
    """Disable an account and end its sessions; 409 `cannot_disable_self`."""
    return _admin_change(admin.set_disabled, settings(), user_id=body.user_id, disabled=True)


@bp.write("/users.enable", access="admin", body=UserRef, response=User)
def enable_user(body: UserRef):
    """Enable a disabled account again."""
    return _admin_change(admin.set_disabled, settings(), user_id=body.user_id, disabled=False)


@bp.write("/users.approve", access="admin", body=UserRef, response=User)
def approve_user(body: UserRef):
    """Approve an account waiting for approval (SIGNUP_MODE=approval)."""
    return _admin_change(admin.approve, user_id=body.user_id)
