"""What every account service shares: its settings, the user queries, the password rules."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.engine import RowMapping

from productinfo.auth.addresses import domain_of, normalize_domain
from productinfo.auth.models import users
from productinfo.config import ConfigError
from productinfo.errors import Forbidden, NotFound, ValidationFailed
from productinfo.security import passwords


@dataclass(frozen=True)
class Settings:
    """What the account services need of the configuration."""

    secret_key: str
    bcrypt_rounds: int
    access_lifetime: dt.timedelta
    refresh_lifetime: dt.timedelta
    signup_mode: str
    allowed_domains: tuple[str, ...]
    base_url: str  # of the links in emails

    @classmethod
    def from_config(cls, config) -> "Settings":
        """Read the settings from the app's configuration."""
        return cls(
            secret_key=config["SECRET_KEY"],
            bcrypt_rounds=config["BCRYPT_ROUNDS"],
            access_lifetime=dt.timedelta(minutes=config["ACCESS_TOKEN_MINUTES"]),
            refresh_lifetime=dt.timedelta(days=config["REFRESH_TOKEN_DAYS"]),
            signup_mode=config["SIGNUP_MODE"],
            allowed_domains=_allowed_domains(config["SIGNUP_ALLOWED_DOMAINS"]),
            base_url=config["PUBLIC_BASE_URL"],
        )


def _allowed_domains(domains) -> tuple[str, ...]:
    """Write the allowed domains as addresses are written (`xn--` names decoded)."""
    try:
        return tuple(normalize_domain(domain) for domain in domains)
    except ValueError as error:
        raise ConfigError(f"SIGNUP_ALLOWED_DOMAINS has a domain that is not one: {error}") from None


def in_allowed_domain(email: str, settings: Settings) -> bool:
    """Tell whether a normalised address may hold an account in the sign-up mode `domain`."""
    return domain_of(email) in settings.allowed_domains


def public_user(row: RowMapping) -> dict:
    """Describe an account without its secrets."""
    return {
        "id": row["id"],
        "email": row["email"],
        "pending_email": row["pending_email"],
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


def acting(settings: Settings) -> list:
    """Return the conditions on `users` of an account able to act: approved, enabled and,
    when sign-up is by domain, with its address verified."""
    conditions = [users.c.approved_at.is_not(None), users.c.disabled_at.is_(None)]
    if settings.signup_mode == "domain":
        conditions.append(users.c.email_verified_at.is_not(None))
    return conditions


def can_act(user: RowMapping, settings: Settings) -> bool:
    """Tell whether an account is able to act (see `acting`)."""
    verified = user["email_verified_at"] is not None or settings.signup_mode != "domain"
    return user["approved_at"] is not None and user["disabled_at"] is None and verified


def account_disabled() -> Forbidden:
    """Build the error for a caller whose account an admin disabled."""
    return Forbidden("This account is disabled. Ask an admin.", code="account_disabled")


def check_new_password(password: str, *, email: str, name: str | None) -> None:
    """Raise a 422 naming why a new password is refused, if it is."""
    found = passwords.problem(password, user_inputs=(email, email.split("@")[0], name or ""))
    if found:
        code, reason = found
        raise ValidationFailed.field("password", reason, code=code)


def hash_password(password: str, settings: Settings) -> str:
    """Hash an acceptable password at the configured cost."""
    return passwords.hash_password(password, rounds=settings.bcrypt_rounds)
