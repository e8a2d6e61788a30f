"""Access tokens (signed JWTs) and opaque one-time tokens (refresh, verification, reset).

Access tokens are short-lived HS256 JWTs naming the user and the session; a request
is accepted only while that session is live, so logging out takes effect at once.
Opaque tokens carry 256 random bits and are stored only as their SHA-256.
"""

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import time

from productinfo.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "productinfo"
AUDIENCE = "productinfo-app"
ACCESS = "access"
# Ids are 32-bit in the database. A claim is read strictly: ASCII digits only, since
# str.isdigit() also admits "²" and "١", and int() of 5000 digits raises.
MAX_ID = 2**31 - 1
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


def new_opaque_token() -> str:
    """Return a new random token for a client to hold."""
    return secrets.token_urlsafe(32)


def successor(token: str, *, key: str) -> str:
    """Return the refresh token that follows `token`: the same each time, unknowable without
    the key, so that a retry can be answered with the successor already issued."""
    mac = hmac.new(key.encode(), b"refresh-successor\0" + token.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def digest(token: str) -> str:
    """Return what is stored of an opaque token: its SHA-256, hex-encoded."""
    return hashlib.sha256(token.encode()).hexdigest()


def encode_access(
    *, user_id: int, session_id: int, key: str, now: dt.datetime, lifetime: dt.timedelta
) -> str:
    """Sign an access token for a session."""
    import jwt

    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": session_id,
        "typ": ACCESS,
        "jti": secrets.token_urlsafe(8),  # two tokens issued in the same second still differ
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_access(token: str, *, key: str) -> tuple[int, int]:
    """Check an access token and return (user id, session id); raise Unauthorized otherwise."""
    user_id, session_id, expires = _verify_access(token, key)
    # A token is verified once (below), but its expiry is checked on every request.
    if expires <= time.time():
        raise _expired()
    return user_id, session_id


@functools.lru_cache(maxsize=1024)
def _verify_access(token: str, key: str) -> tuple[int, int, int]:
    """Check a token's signature and claims; return (user id, session id, expiry).

    A token's bytes never change, so its verification holds until it expires:
    remembering it spares the signature check on each request of a session.
    Failures raise, and are never remembered.
    """
    import jwt

    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "sid", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise _expired() from None
    except jwt.InvalidTokenError:
        raise invalid_token() from None
    sub, sid = claims["sub"], claims["sid"]
    user_id = int(sub) if isinstance(sub, str) and _USER_ID.fullmatch(sub) else 0
    session_id = sid if type(sid) is int else 0  # not isinstance: a bool is an int too
    if claims["typ"] != ACCESS or not (1 <= user_id <= MAX_ID and 1 <= session_id <= MAX_ID):
        raise invalid_token()
    return user_id, session_id, int(claims["exp"])


def _expired() -> Unauthorized:
    return Unauthorized("The access token has expired; refresh it.", code="token_expired")


def invalid_token() -> Unauthorized:
    """Build the error for a token that is not one of ours."""
    return Unauthorized("The access token is not valid.", code="token_invalid")
