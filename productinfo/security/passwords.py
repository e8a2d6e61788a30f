"""Password rules and bcrypt hashing.

Passwords are NFKC-normalised first, so the same password typed on two keyboards
(composed or decomposed accents, full-width digits) hashes the same. bcrypt reads
at most 72 bytes: longer passwords are refused, never silently truncated.
"""

import functools
import unicodedata

MIN_CHARS = 8
MAX_BYTES = 72
# zxcvbn scores 0 (guessed in under a thousand tries) to 4; 0 and 1 are refused.
MIN_STRENGTH = 2


def normalize(password: str) -> str:
    """Return the canonical form of a password."""
    return unicodedata.normalize("NFKC", password)


def problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """Say why a new password is refused, as (code, reason), or None if it is acceptable."""
    password = normalize(password)
    if len(password) < MIN_CHARS:
        return "password_too_short", f"must be at least {MIN_CHARS} characters"
    size = len(password.encode())
    if size > MAX_BYTES:
        return "password_too_long", f"must be at most {MAX_BYTES} bytes in UTF-8 (it is {size})"
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=[value for value in user_inputs if value])
    if result["score"] < MIN_STRENGTH:
        warning = result["feedback"]["warning"] or "This password is too easy to guess."
        hints = " ".join(result["feedback"]["suggestions"])
        return "password_too_weak", f"{warning} {hints}".strip()
    return None


def hash_password(password: str, *, rounds: int) -> str:
    """Hash an acceptable password with bcrypt."""
    import bcrypt

    return bcrypt.hashpw(normalize(password).encode(), bcrypt.gensalt(rounds)).decode()


def verify(password: str, hashed: str | None, *, rounds: int) -> bool:
    """Check a password against its hash, in about the same time whether or not there is one."""
    import bcrypt

    candidate = normalize(password).encode()
    if hashed is None or len(candidate) > MAX_BYTES:
        # Spend the time of a real check so that unknown accounts cannot be told apart.
        bcrypt.checkpw(candidate[:MAX_BYTES], _dummy_hash(rounds))
        return False
    return bcrypt.checkpw(candidate, hashed.encode())


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    import bcrypt

    return bcrypt.hashpw(b"not a password", bcrypt.gensalt(rounds))
