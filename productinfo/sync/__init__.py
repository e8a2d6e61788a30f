"""Offline sync: idempotent pushes with local-id mapping, and an incremental pull."""
