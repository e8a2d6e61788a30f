"""Barcode rules: clean what was typed or scanned, check GS1 check digits, find every printed form.

A GTIN (the numbers under retail barcodes) is printed in 8, 12, 13 or 14 digits;
the shorter forms are the same number with leading zeros dropped, so a UPC-A
`036000291452` and the EAN-13 `0036000291452` are one product. Every GTIN is
keyed by its 14-digit form. Other codes (internal codes, short numbers) are kept
as typed.
"""

import re

from productinfo.errors import ValidationFailed

GTIN_LENGTHS = (8, 12, 13, 14)
_SEPARATORS = re.compile(r"[\s\-]+")
_DIGITS = re.compile(r"[0-9]+")

STRICT, WARN, OFF = "strict", "warn", "off"


def clean(raw: str) -> str:
    """Remove spaces and dashes."""
    return _SEPARATORS.sub("", raw)


def is_gtin(code: str) -> bool:
    """Tell whether a cleaned code has the shape of a GTIN: all digits, of a GTIN length."""
    return len(code) in GTIN_LENGTHS and _DIGITS.fullmatch(code) is not None


def check_digit(body: str) -> int:
    """Compute the GS1 check digit of the digits that precede it."""
    # From the right, digits are weighted 3, 1, 3, 1...
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def has_valid_check_digit(code: str) -> bool:
    """Tell whether a GTIN's last digit is the check digit of the others."""
    return check_digit(code[:-1]) == int(code[-1])


def key(code: str) -> str:
    """Return the form a code is stored and looked up by: GTINs as 14 digits."""
    return code.zfill(14) if is_gtin(code) else code


def check(code: str, mode: str) -> str | None:
    """Return a sentence about a wrong check digit, or None; only GTINs are checked."""
    if mode == OFF or not is_gtin(code) or has_valid_check_digit(code):
        return None
    expected = check_digit(code[:-1])
    return (
        f"The check digit of {code} is wrong: it should be {expected} "
        f"({code[:-1]}{expected}). Check the number for a typo."
    )


def read(raw: str, mode: str, *, field: str = "barcode") -> tuple[str, str | None]:
    """Clean a barcode and check its check digit; return (code, warning or None).

    With mode `strict` (BARCODE_CHECKSUM's default) a wrong check digit is a 422
    `invalid_check_digit`; with `warn` it comes back as a warning; `off` skips it.
    """
    code = clean(raw)
    if not code:
        raise ValidationFailed.field(field, "must contain more than spaces and dashes")
    problem = check(code, mode)
    if problem and mode == STRICT:
        raise ValidationFailed.field(field, problem, code="invalid_check_digit")
    return code, problem
