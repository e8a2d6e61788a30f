"""GS1 rules, checked against python-stdnum (an independent implementation) and GS1's examples.

The expected check digits come from `stdnum.ean`, never from the code under test;
UPC-E is checked against the zero-suppression rules of GS1, written here in the other
direction (UPC-A to UPC-E) than the code reads them.
"""

import re
import sys
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import ean

from productinfo.products import barcodes

lengths = st.sampled_from(barcodes.GTIN_LENGTHS)
digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def gtins(draw, length=None):
    """A valid GTIN of a GTIN length: random digits and the check digit stdnum computes."""
    length = length or draw(lengths)
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return body + ean.calc_check_digit(body)


def suppress_zeros(upc_a: str) -> str | None:
    """Write a UPC-A as a UPC-E by GS1's zero-suppression rules, or None if it has none."""
    system, maker, item, check = upc_a[0], upc_a[1:6], upc_a[6:11], upc_a[11]
    if system not in "01":
        return None
    if maker[2:] in ("000", "100", "200") and item[:2] == "00":
        middle = maker[:2] + item[2:] + maker[2]
    elif maker[3:] == "00" and item[:3] == "000":
        middle = maker[:3] + item[3:] + "3"
    elif maker[4] == "0" and item[:4] == "0000":
        middle = maker[:4] + item[4] + "4"
    elif maker[4] != "0" and item[:4] == "0000" and item[4] in "56789":
        middle = maker + item[4]
    else:
        return None
    return system + middle + check


@st.composite
def upc_a_with_a_upc_e(draw):
    """A valid UPC-A that GS1's rules can print as a UPC-E, and that UPC-E."""
    rule = draw(st.integers(0, 3))
    d = [draw(digits) for _ in range(5)]
    if rule == 0:  # maker ends in 000, 100 or 200; item up to 999
        body = d[0] + d[1] + draw(st.sampled_from("012")) + "0000" + d[2] + d[3] + d[4]
    elif rule == 1:  # maker ends in 00; item up to 99
        body = d[0] + d[1] + draw(st.sampled_from("3456789")) + "00000" + d[2] + d[3]
    elif rule == 2:  # maker ends in 0; item up to 9
        body = d[0] + d[1] + d[2] + draw(st.sampled_from("123456789")) + "00000" + d[4]
    else:  # any other maker; item 5 to 9
        maker = d[0] + d[1] + d[2] + d[3] + draw(st.sampled_from("123456789"))
        body = maker + "0000" + draw(st.sampled_from("56789"))
    body = draw(st.sampled_from("01")) + body
    upc_a = body + ean.calc_check_digit(body)
    upc_e = suppress_zeros(upc_a)
    assert upc_e is not None
    return upc_a, upc_e


@pytest.mark.parametrize(
    "code",
    [
        "5449000000996",  # EAN-13
        "036000291452",  # UPC-A
        "96385074",  # EAN-8
        "10614141000415",  # GTIN-14 of GS1's example company prefix 0614141
        "4006381333931",
        "0012345678905",
        "6130234000072",
    ],
)
def test_known_gtins_are_valid(code):
    assert ean.is_valid(code)
    assert barcodes.has_valid_check_digit(code)
    assert barcodes.check(code, barcodes.STRICT) is None


# A UPC-E and its UPC-A: Diet Coke's, then one for each rule of GS1's zero-suppression
# table (by the last of the six middle digits: 0, 1, 2; 3; 4; 5-9), number systems 0 and 1.
UPC_E = [
    ("04963406", "049000006346"),
    ("01234505", "012000003455"),
    ("01234514", "012100003454"),
    ("01234523", "012200003453"),
    ("01234531", "012300000451"),
    ("01234543", "012340000053"),
    ("01234558", "012345000058"),
    ("01234596", "012345000096"),
    ("11234502", "112000003452"),
]


@pytest.mark.parametrize(("upc_e", "upc_a"), UPC_E)
def test_upc_e_is_its_upc_a(upc_e, upc_a):
    assert ean.is_valid(upc_a)  # the published pairs, checked by the oracle
    assert suppress_zeros(upc_a) == upc_e
    assert barcodes.check(upc_e, barcodes.STRICT) is None
    assert barcodes.key(upc_e) == barcodes.key(upc_a) == barcodes.key("0" + upc_a)
    assert barcodes.key(upc_e) == "00" + upc_a


@given(upc_a_with_a_upc_e())
def test_every_upc_e_finds_its_upc_a(pair):
    upc_a, upc_e = pair
    assert barcodes.check(upc_e, barcodes.STRICT) is None
    assert barcodes.key(upc_e) == barcodes.key(upc_a) == upc_a.zfill(14)


@given(gtins(length=8))
def test_an_ean_8_that_is_no_upc_e_stays_an_ean_8(code):
    upc_a = barcodes.expand_upc_e(code)
    assume(upc_a is None or not ean.is_valid(upc_a))
    assert barcodes.key(code) == code.zfill(14)
    assert barcodes.check(code, barcodes.STRICT) is None


@given(upc_a_with_a_upc_e())
def test_a_code_valid_both_as_ean_8_and_as_upc_e_is_a_upc_e(pair):
    upc_a, upc_e = pair
    assume(ean.is_valid(upc_e))  # its check digit holds as an EAN-8 too
    assert barcodes.key(upc_e) == upc_a.zfill(14)


def test_a_upc_e_with_a_wrong_check_digit_names_both_readings():
    problem = barcodes.check("04963407", barcodes.STRICT)
    assert "it should be 0 (04963400) as an EAN-8, or 6 (04963406) as a UPC-E" in problem
    assert ean.calc_check_digit("0496340") == "0"


@given(gtins())
def test_every_valid_gtin_is_accepted(code):
    assert barcodes.is_gtin(code)
    assert barcodes.check(code, barcodes.STRICT) is None


@given(gtins(), st.data())
def test_every_single_digit_change_is_rejected(code, data):
    position = data.draw(st.integers(0, len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    changed = code[:position] + digit + code[position + 1 :]
    assume(not ean.is_valid(barcodes.expand_upc_e(changed) or "x"))  # no UPC-E by chance
    problem = barcodes.check(changed, barcodes.STRICT)
    assert problem is not None
    assert f"should be {ean.calc_check_digit(changed[:-1])}" in problem


@given(gtins(length=12))
def test_upc_a_and_its_ean_13_share_a_key(upc):
    assert barcodes.key(upc) == barcodes.key("0" + upc) == barcodes.key("00" + upc)


# The zero of every script's decimal digits; Unicode keeps each script's ten in order.
ZEROS = [
    chr(c)
    for c in range(sys.maxunicode + 1)
    if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0
]


@given(gtins(), st.sampled_from(ZEROS))
def test_digits_of_any_script_are_read_as_ascii(code, zero):
    typed = "".join(chr(ord(zero) + int(digit)) for digit in code)
    assert barcodes.clean(typed) == code
    assert barcodes.key(barcodes.clean(typed)) == barcodes.key(code)


@pytest.mark.parametrize(
    "typed",
    [
        "٦١٣٠٢٣٤٠٠٠٠٧٢",  # Arabic-Indic
        "۶۱۳۰۲۳۴۰۰۰۰۷۲",  # Eastern Arabic-Indic (Persian, Urdu)
        "６１３０２３４００００７２",  # full width
        "6 130234 000072",
        "6\u2013130234\u2011000072",  # en dash, non-breaking hyphen
        "6\u00a0130234\u2009000\u2212072",  # no-break space, thin space, minus sign
        "٦١٣\u3000٠٢٣٤\uff0d٠٠٠٠٧٢",  # ideographic space, full-width hyphen
    ],
)
def test_what_keyboards_type_is_the_printed_code(typed):
    assert barcodes.clean(typed) == "6130234000072"


SEPARATORS = [" ", "-", "  ", "\t", "\u00a0", "\u2010", "\u2013", "\u2212", "\u3000", "\uff0d"]


@given(gtins(), st.lists(st.sampled_from(SEPARATORS), max_size=5), st.randoms())
def test_spaces_and_dashes_are_ignored(code, separators, random):
    printed = list(code)
    for separator in separators:
        printed.insert(random.randint(0, len(printed)), separator)
    assert barcodes.clean("".join(printed)) == code


def test_every_dash_of_unicode_is_a_separator():
    dashes = re.compile(f"[{barcodes.DASHES}]")
    for point in range(0x10000):
        if unicodedata.category(chr(point)) == "Pd":
            assert dashes.fullmatch(chr(point)), f"U+{point:04X}"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ABC-123", "ABC123"),  # an internal code, kept as typed
        ("12345", "12345"),  # a short number is not a GTIN
        ("1234567890", "1234567890"),
        ("١٢٣٤٥", "12345"),  # a short number in Arabic-Indic digits
    ],
)
def test_other_codes_are_kept_as_typed(typed, key):
    code = barcodes.clean(typed)
    assert barcodes.key(code) == key
    assert barcodes.check(code, barcodes.STRICT) is None


def test_check_modes():
    wrong = "5449000000997"
    assert "should be 6" in barcodes.check(wrong, barcodes.STRICT)
    assert "should be 6" in barcodes.check(wrong, barcodes.WARN)
    assert barcodes.check(wrong, barcodes.OFF) is None
