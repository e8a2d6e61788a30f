"""Request and response models of the account endpoints."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from productinfo.auth.addresses import normalize_email, sign_in_email
from productinfo.fields import Id, Model, Name, free_text, optional
from productinfo.pagination import PageQuery

Role = Literal["staff", "admin"]
# The password rules (length in bytes, strength) are checked by the service, which can
# explain them; this only bounds what is read.
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# Tokens are opaque: compared as sent, never trimmed.
Token = Annotated[str, StringConstraints(min_length=1, max_length=512)]


# Every address is read in one normal form (see addresses.py).
Email = Annotated[
    str,
    StringConstraints(max_length=320),
    AfterValidator(normalize_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 320}),
]
# Sign-in takes any string: a malformed or overlong address is simply an unknown account.
LoginEmail = Annotated[str, AfterValidator(sign_in_email)]


class Signup(Model):
    email: Email
    password: Password
    name: Name | None = None


class Login(Model):
    email: LoginEmail
    password: Password


class Refresh(Model):
    refresh_token: Token


class Logout(Model):
    refresh_token: Token | None = Field(
        None, description="Needed only when the access token is missing or expired."
    )


class UpdateProfile(Model):
    # At least one of name, email and password; a new email or password needs the current one.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": [name]} for name in ("name", "email", "password")],
            "dependentRequired": {"email": ["current_password"], "password": ["current_password"]},
        },
    )

    name: Name | None = Field(None, description="null removes the name.")
    email: Email = optional(description="Replaces the address once verified.")
    password: Password = optional()
    current_password: Password = optional()


class TokenBody(Model):
    token: Token


class ForgotPassword(Model):
    email: LoginEmail


class ResetPassword(Model):
    token: Token
    password: Password


class UserRef(Model):
    user_id: Id


class SetRole(Model):
    user_id: Id
    role: Role


class HistoryQuery(PageQuery):
    kind: free_text(40) | None = Field(None, description="Only events of this kind.")


class UserListQuery(PageQuery):
    role: Role | None = None
    status: Literal["pending", "active", "disabled"] | None = None


class User(Model):
    """An account as its owner and the admins see it."""

    id: int
    email: str
    pending_email: str | None = Field(
        description="The address the account asked to change to, until it is verified."
    )
    name: str | None
    role: Role
    email_verified: bool
    approved: bool
    disabled: bool
    created_at: dt.datetime


class SignedIn(User):
    """An account with the tokens of a new session."""

    access_token: str
    refresh_token: str
    expires_in: int = Field(description="Seconds until the access token expires.")


class Stats(Model):
    products_added: int
    photos_uploaded: int
    last_activity_at: dt.datetime | None


class Me(User):
    stats: Stats


class Listed(User):
    """An account in the admins' list."""

    last_activity_at: dt.datetime | None = Field(
        description="When they last did something themselves (signed in, captured...)."
    )


class Person(Me):
    """An account as the admins see it, with what it contributed."""


class UserPath(Model):
    user_id: Id


class Counts(Model):
    all: int
    pending: int = Field(description="Waiting for an admin's approval.")
    active: int
    disabled: int
    admins: int


class Activity(Model):
    """One event of a user's history."""

    id: int
    kind: str
    user_id: int = Field(description="Whose account it concerns.")
    actor_id: int | None = Field(description="Who caused it, when it was not the user.")
    details: dict
    created_at: dt.datetime
