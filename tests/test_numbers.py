"""Readable numbers: a few significant digits, thousands separators, no trailing zeros, no
scientific notation in the range people read. Pure: no database.

The properties read the text back (``float(text.replace(",", ""))``) and compare it with the
value, rather than re-deriving the text the way the code does.
"""

import math
import re
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from common.numbers import percent, readable

GROUPED = re.compile(r"-?(0|[1-9]\d{0,2}(,\d{3})*)(\.\d*[1-9])?")  # the whole text, when fixed


@pytest.mark.parametrize(("value", "text"), [
    (None, "—"), (math.nan, "—"), (Decimal("NaN"), "—"), (np.nan, "—"),
    (850.0, "850"), (Decimal("850.0000"), "850"), ("850.0000", "850"), (850, "850"),
    (0.6790, "0.679"), ("0.6790", "0.679"),
    (1500, "1,500"), (1500.0, "1,500"), (1234567, "1,234,567"), (-1234567, "-1,234,567"),
    (12.345, "12.35"), (12.3456, "12.35"), (-12.3456, "-12.35"),
    (0.0001235, "0.0001235"), (0.00012345, "0.0001235"), (0.000001, "0.000001"),
    (1234567.891, "1,234,568"), (-1234.5678, "-1,235"), (9999.7, "10,000"), (0.99996, "1"),
    (0, "0"), (0.0, "0"), (-0.0, "0"), (Decimal("-0.00"), "0"),
    (123456789012345.6, "123,456,789,012,346"), (12345678901234567890, "12,345,678,901,234,567,890"),
    ("12,345", "12,345"), (" 42 ", "42"), (np.float64(0.5), "0.5"), (np.int64(12345), "12,345"),
    (math.inf, "∞"), (-math.inf, "-∞"),
])
def test_examples(value, text):
    assert readable(value) == text


def test_the_number_of_digits_is_a_parameter():
    assert readable(3.14159, 3) == "3.14"
    assert readable(3.14159, 6) == "3.14159"
    assert readable(2 / 3, 2) == "0.67"
    with pytest.raises(ValueError):
        readable(1.0, 0)


def test_outside_the_readable_range_is_scientific():
    assert readable(1.2345e-7) == "1.235e-7"
    assert readable(2e-9) == "2e-9"
    assert readable(1e15) == "1e15"
    assert readable(-3.14159e20) == "-3.142e20"


def test_what_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        readable("12 apples")
    with pytest.raises(TypeError):
        readable(object())


@pytest.mark.parametrize(("fraction", "text"), [
    (0.02, "2%"), (0.003474, "0.347%"), (0.0035, "0.35%"), (Decimal("0.125"), "12.5%"), ("0.5", "50%"),
    (1, "100%"), (-0.05, "-5%"), (0.07, "7%"), (0.12345, "12.3%"), (12.3456, "1,235%"), (0, "0%"),
    (None, "—"), (math.nan, "—"),
])
def test_percent_examples(fraction, text):
    assert percent(fraction) == text


def check_fixed(text: str, value: float, digits: int):
    """``text`` is ``value`` in fixed notation, grouped, to ``digits`` significant digits."""
    assert "e" not in text.lower(), text
    assert GROUPED.fullmatch(text), text
    back = float(text.replace(",", ""))
    integer_digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    if integer_digits >= digits:
        assert abs(back - value) <= 0.5 + 1e-9 * abs(value), (text, value)  # rounded to a whole number
        assert "." not in text
    else:
        # Within half a unit in the last significant digit kept, relative to the value.
        assert abs(back - value) <= 0.5 * 10 ** (1 - digits) * abs(value) * (1 + 1e-9), (text, value)
        if "." in text:
            significant = text.replace("-", "").replace(",", "").replace(".", "").lstrip("0")
            assert len(significant) <= digits, (text, value)


readable_floats = st.floats(1e-6, 1e15, exclude_max=True).flatmap(lambda x: st.sampled_from([x, -x]))


@settings(max_examples=500)
@given(readable_floats)
@example(850.0)
@example(0.6790)
@example(12.345)
@example(9999.5)
@example(0.00099995)
@example(999_999_999_999_999.9)
def test_floats_read_back_within_half_a_unit_in_the_fourth_digit(value):
    check_fixed(readable(value), value, 4)


@settings(max_examples=300)
@given(readable_floats, st.integers(1, 9))
def test_any_number_of_digits(value, digits):
    check_fixed(readable(value, digits), value, digits)


@settings(max_examples=300)
@given(st.integers())
def test_integers_are_exact_and_grouped_by_threes(value):
    text = readable(value)
    assert text.replace(",", "") == str(value)
    assert GROUPED.fullmatch(text)


@settings(max_examples=300)
@given(st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False))
def test_decimals_and_their_text_agree(value):
    assume(value == 0 or Decimal("1e-6") <= abs(value) < Decimal("1e15"))
    text = readable(value)
    assert readable(str(value)) == text
    if value == value.to_integral_value() and "E" not in str(value):
        return  # an integral Decimal may be shown in full, like an int
    check_fixed(text, float(value), 4)


@settings(max_examples=300)
@given(st.floats(1e-8, 1e12).flatmap(lambda x: st.sampled_from([x, -x])))
def test_percent_reads_back_within_half_a_unit_in_the_third_digit(fraction):
    text = percent(fraction)
    assert text.endswith("%")
    check_fixed(text.removesuffix("%"), fraction * 100, 3)


@settings(max_examples=200)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_gives_text(value):
    text = readable(value)
    if math.isnan(value):
        assert text == "—"
    elif math.isinf(value):
        assert text in ("∞", "-∞")
    elif value == 0 or 1e-6 <= abs(value) < 1e15:
        check_fixed(text, value, 4)
    else:
        mantissa, exponent = text.split("e")
        back = Decimal(mantissa).scaleb(int(exponent))  # as a Decimal: 1.798e308 is past the largest float
        # Near enough, or (a subnormal float, with fewer digits than that) the very float.
        assert (abs(back - Decimal(value)) <= Decimal("5e-4") * abs(Decimal(value))
                or float(back) == value), (text, value)
        assert 1 <= abs(Decimal(mantissa)) < 10 and len(mantissa.replace("-", "").replace(".", "")) <= 4
