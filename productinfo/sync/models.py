"""The mapping of the apps' local ids to server ids, per user and device."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from productinfo.db import UTCDateTime, metadata

sync_mappings = Table(
    "sync_mappings",
    metadata,
    Column("id", Integer, primary_key=True),
    # A phone shared by several staff keeps one namespace per user.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("local_id", String(64), nullable=False),
    Column("server_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)
Index(
    "uq_sync_mappings_user_device_kind_local",
    sync_mappings.c.user_id,
    sync_mappings.c.device_id,
    sync_mappings.c.kind,
    sync_mappings.c.local_id,
    unique=True,
)
