"""Security primitives: password hashing, tokens and database-backed throttling."""
