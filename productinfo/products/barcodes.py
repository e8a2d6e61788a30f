"""Barcode rules: clean what was typed or scanned, check GS1 check digits, find every printed form.

A GTIN (the numbers under retail barcodes) is printed in 8, 12, 13 or 14 digits;
the shorter forms are the same number with leading zeros dropped, so a UPC-A
`036000291452` and the EAN-13 `0036000291452` are one product. A UPC-E is a
UPC-A with zeros suppressed: `04963406` is `049000006346`. Every GTIN is keyed
by its 14-digit form, a UPC-E by its UPC-A's. Other codes (internal codes,
short numbers) are kept as typed.

Before anything, digits of any script (Arabic-Indic `٦١٣`, Eastern Arabic-Indic
`۶۱۳`, full-width `６１３`...) become ASCII digits, and spaces and dashes of every
kind are removed.

An 8-digit code starting with 0 or 1 reads as an EAN-8 or as a UPC-E. It is a
UPC-E whenever its check digit is that of its UPC-A expansion, even when it also
holds as an EAN-8 (one such code in ten): an EAN-8 that starts with 0 is a
restricted circulation number, a shop's own code, while a UPC-E is a product
sold everywhere. Reading it as a UPC-E costs an EAN-8 nothing (its own 8 digits
still find it); reading a UPC-E as an EAN-8 would part it from its UPC-A label.
Otherwise it is an EAN-8.
"""

import re
import unicodedata

from productinfo.errors import ValidationFailed

GTIN_LENGTHS = (8, 12, 13, 14)
# Every dash of Unicode (its Pd category, in the Basic Multilingual Plane) and the minus sign,
# as regular-expression text valid in Python, ECMA-262 and Rust alike.
DASHES = (
    r"\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2212\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    r"\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d"
)
_SEPARATORS = re.compile(rf"[\s{DASHES}]+")
_DIGITS = re.compile(r"[0-9]+")

STRICT, WARN, OFF = "strict", "warn", "off"


def _ascii_digit(character: str) -> str:
    # isdecimal() holds for the decimal digits of every script (category Nd), and only those.
    if character.isdecimal() and not character.isascii():
        return str(unicodedata.decimal(character))
    return character


def clean(raw: str) -> str:
    """Turn digits of any script into ASCII, and remove spaces and dashes of any kind."""
    return _SEPARATORS.sub("", "".join(map(_ascii_digit, raw)))


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


def expand_upc_e(code: str) -> str | None:
    """Return the UPC-A of an 8-digit UPC-E (number system 0 or 1), check digit kept; or None.

    The last of the six middle digits says where the suppressed zeros were (GS1).
    """
    if len(code) != 8 or code[0] not in "01" or _DIGITS.fullmatch(code) is None:
        return None
    system, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":  # manufacturer number ending in 000, 100 or 200
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return system + body + check


def gtin(code: str) -> str | None:
    """Return the GTIN a cleaned code stands for (a UPC-E's UPC-A), or None if it is no GTIN."""
    if not is_gtin(code):
        return None
    upc_a = expand_upc_e(code)
    if upc_a is not None and has_valid_check_digit(upc_a):
        return upc_a
    return code


def key(code: str) -> str:
    """Return the form a cleaned code is stored and looked up by: GTINs as 14 digits."""
    number = gtin(code)
    return number.zfill(14) if number is not None else code


def check(code: str, mode: str) -> str | None:
    """Return a sentence about a wrong check digit, or None; only GTINs are checked."""
    number = gtin(code)
    if mode == OFF or number is None or has_valid_check_digit(number):
        return None
    expected = check_digit(code[:-1])
    problem = f"The check digit of {code} is wrong: it should be {expected} ({code[:-1]}{expected})"
    upc_a = expand_upc_e(code)
    if upc_a is not None:
        as_upc_e = check_digit(upc_a[:-1])
        problem += f" as an EAN-8, or {as_upc_e} ({code[:-1]}{as_upc_e}) as a UPC-E"
    return problem + ". Check the number for a typo."


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
