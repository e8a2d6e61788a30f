"""Tables of accounts: users, their sessions and tokens."""

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table

from productinfo.db import UTCDateTime, metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    # The sign-in address, stored in its normal form (addresses.py), so that uniqueness
    # ignores case and every way of typing the same address.
    Column("email", String(320), nullable=False, unique=True),
    # An address the user asked to change to; it replaces `email` once verified.
    Column("pending_email", String(320)),
    Column("name", String(200)),
    Column("password_hash", String(100), nullable=False),
    Column("role", String(10), nullable=False),
    Column("email_verified_at", UTCDateTime),
    # Null while an account waits for an admin's approval (SIGNUP_MODE=approval).
    Column("approved_at", UTCDateTime),
    Column("disabled_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("role IN ('staff', 'admin')", name="role"),
    sqlite_autoincrement=True,
)

# One row per signed-in device; access tokens name their session, so revoking the
# session revokes every token issued for it.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    sqlite_autoincrement=True,
)

# Every refresh token ever issued, by hash: a spent one presented again is a replay.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    sqlite_autoincrement=True,
)

# Emailed one-time tokens: address verification and password reset.
email_tokens = Table(
    "email_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("email", String(320), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    sqlite_autoincrement=True,
)
