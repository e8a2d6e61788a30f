"""How an email address is read: one normal form, for every path that takes an address.

Sign-up, sign-in, password reset, profile update and `create-admin` all read an
address through `normalize_email`, and the database stores that form, so the
same address typed in any of these ways is the same account:

1. NFKC: full-width letters (`ａｎａ`) become ASCII, a ligature (`ﬁ`) its letters,
   and a decomposed accent (`e` + U+0301) composes (`é`).
2. email_validator checks the syntax and IDNA-decodes the domain to Unicode
   (`xn--bcher-kva.example` becomes `bücher.example`).
3. Lower case, with Unicode's default rules, the same in every locale: `I`
   becomes `i` and `İ` becomes `i̇` (i and a combining dot), while the Turkish
   dotless `ı` stays `ı` and `ß` stays `ß`. Neither is folded (to `i`, to `ss`):
   IDNA 2008 keeps `ß` apart in domain names, and mail servers that accept such
   local parts treat them as other mailboxes, so folding could hand one person's
   address to another.
4. NFC again, as lower-casing can leave a letter and its mark apart.
"""

import unicodedata

MAX_LENGTH = 320  # the width of the email columns


def normalize_email(value: str) -> str:
    """Return the normal form of an email address; raise ValueError if it is not one."""
    from email_validator import EmailNotValidError, validate_email

    try:
        address = validate_email(_compatible(value), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    normal = unicodedata.normalize("NFC", address.normalized.lower())
    if len(normal) > MAX_LENGTH:
        raise ValueError(f"The email address is too long (over {MAX_LENGTH} characters).")
    return normal


def sign_in_email(value: str) -> str:
    """Return the normal form of an address typed to sign in; for a malformed one, a form
    no account has, so that the sign-in fails as it does for an unknown account."""
    value = value[: MAX_LENGTH * 4]  # NFKC cannot bring a longer text down to an address
    try:
        return normalize_email(value)
    except ValueError:
        # Postgres stores no NUL: this form is looked up, and must not fail on either database.
        return _compatible(value).lower().replace("\x00", "\ufffd")[:MAX_LENGTH]


def normalize_domain(domain: str) -> str:
    """Return a domain name as `normalize_email` writes the domain of an address."""
    return domain_of(normalize_email(f"x@{domain.strip().lstrip('@')}"))


def domain_of(email: str) -> str:
    """Return the domain of a normalised address."""
    return email.rsplit("@", 1)[1]


def _compatible(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()
