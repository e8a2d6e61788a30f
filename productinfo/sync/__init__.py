"""Offline sync: the incremental pull. The pushes go through each feature and the ledger."""
