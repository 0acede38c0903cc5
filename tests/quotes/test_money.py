"""Money arithmetic: half-up to the fen, Decimal only; property tests of the totals."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.money import cloud_line, fen, service_line, totals, yuan

money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
days = st.decimals(min_value=0, max_value=10**4, places=1, allow_nan=False, allow_infinity=False)
discount = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
tax = st.decimals(min_value=0, max_value=Decimal("0.99"), places=4, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("value,expected", [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"),
                                            ("-0.005", "-0.01"), ("1234.5", "1234.50"), (3, "3.00")])
def test_half_up_to_the_fen(value, expected):
    assert fen(value) == Decimal(expected)


def test_a_line_with_a_discount_and_the_totals_by_hand():
    line = service_line("12.5", "3200.00", "0.15")  # 12.5 x 3200 x 0.85 = 34000
    assert line == Decimal("34000.00")
    odd = service_line("3", "1333.33", "0.1")  # 3599.991 -> 3599.99
    assert odd == Decimal("3599.99")
    cloud = cloud_line("45000", 3)
    result = totals([line, odd], [cloud], "0.06")
    assert result.services == Decimal("37599.99")
    assert result.tax == Decimal("2255.9994").quantize(Decimal("0.01"))  # 2256.00
    assert result.total == result.services + result.tax + Decimal("135000.00")
    assert yuan(result.total) == "¥174,855.99"


@pytest.mark.parametrize("bad", [lambda: service_line(-1, 100), lambda: service_line(1, -100),
                                 lambda: service_line(1, 100, "1.01"), lambda: service_line(1, 100, "-0.1"),
                                 lambda: totals([], [], "1"), lambda: cloud_line(-5, 1), lambda: service_line("x", 1),
                                 lambda: service_line("NaN", 1), lambda: service_line("Infinity", 1)])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_floats_are_refused():
    with pytest.raises(TypeError):
        service_line(1.5, 100)


@given(st.lists(st.tuples(days, money, discount), max_size=40),
       st.lists(st.tuples(money, st.integers(0, 60)), max_size=10), tax)
def test_totals_equal_the_sum_of_rounded_lines(service_rows, cloud_rows, rate):
    lines = [service_line(d, r, x) for d, r, x in service_rows]
    clouds = [cloud_line(m, n) for m, n in cloud_rows]
    result = totals(lines, clouds, rate)
    assert result.services == sum(lines, Decimal(0))
    assert result.cloud == sum(clouds, Decimal(0))
    assert result.tax == (result.services * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert result.total == result.services + result.tax + result.cloud
    for value in (result.services, result.tax, result.cloud, result.total):
        assert value == value.quantize(Decimal("0.01")) and value >= 0


@given(days, money, discount)
def test_a_line_is_within_half_a_fen_of_the_exact_product(d, r, x):
    exact = d * r * (1 - x)
    assert abs(service_line(d, r, x) - exact) <= Decimal("0.005")


def test_zero_and_huge_quantities():
    assert service_line(0, "99999.99") == Decimal("0.00")
    huge = service_line("9999999.9", "9999999.99", 0)
    assert huge == Decimal("99999998900000.00")  # 9999999.9 x 9999999.99 = 99999998900000.001
    assert totals([huge], [], "0.06").total == huge + (huge * Decimal("0.06")).quantize(Decimal("0.01"))
