"""Numbers as people read them: a few significant digits, thousands separators, no trailing zeros.

``readable(850.0)`` is ``"850"``, ``readable(0.6790)`` ``"0.679"``, ``readable(1234567)``
``"1,234,567"``, ``percent(0.02)`` ``"2%"``. Pure Python (no Django), so templates, charts and
exports can all use it.

The rules:

- ``None`` and NaN are ``"—"``; infinities ``"∞"`` and ``"-∞"``.
- Python ints (and numeric strings that spell one) are shown exactly, with separators.
- Anything else is rounded (half away from zero, on the number as written: ``12.345`` is
  ``12.35``) to ``digits`` significant digits, trailing zeros dropped; digits of the integer
  part are never rounded away (``1234567.8`` is ``"1,234,568"``, not ``"1,235,000"``).
- Fixed notation for magnitudes from 1e-6 up to 1e15; outside that (floats and decimals only)
  scientific, ``"1.235e-7"``.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DASH = "—"
_INT = re.compile(r"[+-]?\d+")
_SMALLEST_FIXED = Decimal("1e-6")
_LARGEST_FIXED = Decimal("1e15")


def _as_decimal(value) -> Decimal | int | None:
    """The value as an exact int (Python ints, integer strings), a Decimal, or None (no value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):  # numpy's float64 too
        # repr is the shortest text that reads back as the same float: round what was written.
        return Decimal(repr(float(value)))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if _INT.fullmatch(text):
            return int(text)
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    if hasattr(value, "__index__"):  # numpy's integers
        return int(value.__index__())
    try:  # numpy's other scalars and other numbers
        return Decimal(repr(float(value)))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"not a number: {value!r}") from exc


def _scientific(number: Decimal, digits: int) -> str:
    rounded = number.quantize(Decimal(1).scaleb(number.adjusted() - digits + 1), rounding=ROUND_HALF_UP)
    exponent = rounded.adjusted()  # rounding 9.9996e-7 makes it 1.000e-6
    mantissa = rounded.scaleb(-exponent)
    text = format(mantissa, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}e{exponent}"


def _fixed(number: Decimal, digits: int) -> str:
    # Significant digits, but never fewer than the integer part holds.
    quantum = Decimal(1).scaleb(min(0, number.adjusted() - digits + 1))
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        return "0"
    text = format(rounded, ",f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def readable(value, digits: int = 4) -> str:
    """``value`` (int, float, Decimal, numeric string, None) as text: ``digits`` significant
    digits without trailing zeros, thousands separators, ``"—"`` for None and NaN."""
    if digits < 1:
        raise ValueError("digits must be at least 1")
    number = _as_decimal(value)
    if number is None:
        return DASH
    if isinstance(number, int):
        return f"{number:,}"
    if number.is_nan():
        return DASH
    if number.is_infinite():
        return "-∞" if number < 0 else "∞"
    if number == 0:
        return "0"
    magnitude = abs(number)
    if magnitude < _SMALLEST_FIXED or magnitude >= _LARGEST_FIXED:
        return _scientific(number, digits)
    return _fixed(number, digits)


def percent(fraction, digits: int = 3) -> str:
    """A fraction as a percentage with ``digits`` significant digits: 0.02 is ``"2%"``,
    0.003474 is ``"0.347%"``; None and NaN are ``"—"``."""
    number = _as_decimal(fraction)
    if number is None:
        return DASH
    if isinstance(number, int):
        number = Decimal(number)
    if number.is_nan():
        return DASH
    text = readable(number * 100 if number.is_finite() else number, digits)
    return text + "%"

