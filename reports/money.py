"""Money in yuan as Decimal, rounded half-up to the fen (0.01), never floats.

A quote's arithmetic, in one place:

    service line   = round(person_days x rate x (1 - discount))
    cloud line     = round(monthly_cost x months)
    services       = sum of service lines          (each already rounded)
    tax            = round(services x tax_rate)    (VAT on services)
    cloud          = sum of cloud lines
    total          = services + tax + cloud

Errors: a value that is not a finite number below ``LIMIT`` in magnitude (``"abc"``, NaN,
Infinity, ``1e309``), and a figure out of its range (a negative rate, a discount above 100%),
raise ``MoneyError``, a ``ValidationError`` (also a ``ValueError``), and nothing else: the
arithmetic runs in its own decimal context, so no ``decimal`` signal escapes. A float is a
programming error, not input: ``TypeError``.
"""

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, DecimalException, localcontext

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

FEN = Decimal("0.01")
# No figure of a quote comes near a quintillion yuan; anything at or beyond it is a typing mistake.
# 18 digits and the fen fit the context's 28 digits, so rounding to the fen is exact.
LIMIT = Decimal(10) ** 18
CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999)


class MoneyError(ValidationError, ValueError):
    """A value money arithmetic cannot take: the only error ``reports.money`` raises on input."""


def _checked(number: Decimal, value) -> Decimal:
    if not number.is_finite():
        raise MoneyError(_("Enter a finite number."), code="invalid")
    if number.copy_abs() >= LIMIT:
        raise MoneyError(_("%(value)s is too large a number.") % {"value": str(value)[:40]}, code="max_value")
    return number


def _arithmetic(function):
    """Run ``function`` in ``CONTEXT``; a decimal signal (overflow of a product, say) is a MoneyError."""
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            with localcontext(CONTEXT):
                return function(*args, **kwargs)
        except DecimalException:
            raise MoneyError(_("The number is out of range."), code="invalid") from None
    return guarded


@_arithmetic
def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal, an int or a string")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (DecimalException, ValueError):
        raise MoneyError(_("Enter a number."), code="invalid") from None
    return _checked(number, value)


@_arithmetic
def fen(value) -> Decimal:
    """Round half-up to the fen."""
    number = to_decimal(value)
    return _checked(number.quantize(FEN, rounding=ROUND_HALF_UP), value)


@_arithmetic
def service_line(person_days, rate, discount=0) -> Decimal:
    person_days, rate, discount = to_decimal(person_days), to_decimal(rate), to_decimal(discount)
    if person_days < 0 or rate < 0:
        raise MoneyError(_("Person-days and rates cannot be negative."), code="min_value")
    if not 0 <= discount <= 1:
        raise MoneyError(_("A discount is between 0 and 100%."), code="invalid")
    return fen(person_days * rate * (1 - discount))


@_arithmetic
def cloud_line(monthly_cost, months) -> Decimal:
    monthly_cost, months = to_decimal(monthly_cost), to_decimal(months)
    if monthly_cost < 0 or months < 0:
        raise MoneyError(_("Costs and months cannot be negative."), code="min_value")
    return fen(monthly_cost * months)


@dataclass(frozen=True)
class Totals:
    services: Decimal
    tax: Decimal
    cloud: Decimal
    total: Decimal

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items()}


@_arithmetic
def totals(service_lines, cloud_lines, tax_rate) -> Totals:
    """From already-rounded line totals."""
    tax_rate = to_decimal(tax_rate)
    if not 0 <= tax_rate < 1:
        raise MoneyError(_("A tax rate is at least 0% and below 100%."), code="invalid")
    services = sum((to_decimal(v) for v in service_lines), Decimal("0.00"))
    cloud = sum((to_decimal(v) for v in cloud_lines), Decimal("0.00"))
    tax = fen(services * tax_rate)
    return Totals(services=fen(services), tax=tax, cloud=fen(cloud), total=fen(services + tax + cloud))


def yuan(value) -> str:
    """¥1,234,567.89"""
    return f"¥{fen(value):,}"
