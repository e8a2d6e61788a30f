"""GS1 rules, checked on every GTIN length by property-based tests."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from productinfo.products import barcodes

lengths = st.sampled_from(barcodes.GTIN_LENGTHS)


@st.composite
def gtins(draw, length=None):
    """A valid GTIN of a GTIN length: random digits and the right check digit."""
    length = length or draw(lengths)
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return body + str(barcodes.check_digit(body))


@pytest.mark.parametrize(
    "code",
    [
        "5449000000996",
        "036000291452",
        "96385074",
        "10614141000415",
        "4006381333931",
        "0012345678905",
    ],
)
def test_known_gtins_are_valid(code):
    assert barcodes.has_valid_check_digit(code)
    assert barcodes.check(code, barcodes.STRICT) is None


@given(gtins())
def test_every_valid_gtin_is_accepted(code):
    assert barcodes.is_gtin(code)
    assert barcodes.check(code, barcodes.STRICT) is None


@given(gtins(), st.data())
def test_every_single_digit_change_is_rejected(code, data):
    position = data.draw(st.integers(0, len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
    changed = code[:position] + digit + code[position + 1 :]
    problem = barcodes.check(changed, barcodes.STRICT)
    assert problem is not None
    expected = barcodes.check_digit(changed[:-1])
    assert f"should be {expected}" in problem


@given(gtins(length=12))
def test_upc_a_and_its_ean_13_share_a_key(upc):
    assert barcodes.key(upc) == barcodes.key("0" + upc) == barcodes.key("00" + upc)


@given(gtins(), st.lists(st.sampled_from([" ", "-", "  ", "\t"]), max_size=5), st.randoms())
def test_spaces_and_dashes_are_ignored(code, separators, random):
    printed = list(code)
    for separator in separators:
        printed.insert(random.randint(0, len(printed)), separator)
    assert barcodes.clean("".join(printed)) == code


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("ABC-123", "ABC123"),  # an internal code, kept as typed
        ("12345", "12345"),  # a short number is not a GTIN
        ("1234567890", "1234567890"),
        ("١٢٣٤٥٦٧٨", "١٢٣٤٥٦٧٨"),  # non-ASCII digits are not a GTIN either
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
