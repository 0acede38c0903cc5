"""Money in yuan as Decimal, rounded half-up to the fen (0.01), never floats.

A quote's arithmetic, in one place:

    service line   = round(person_days x rate x (1 - discount))
    cloud line     = round(monthly_cost x months)
    services       = sum of service lines          (each already rounded)
    tax            = round(services x tax_rate)    (VAT on services)
    cloud          = sum of cloud lines
    total          = services + tax + cloud
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is never a float: pass a Decimal, an int or a string")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def fen(value) -> Decimal:
    """Round half-up to the fen."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def service_line(person_days, rate, discount=0) -> Decimal:
    person_days, rate, discount = to_decimal(person_days), to_decimal(rate), to_decimal(discount)
    if person_days < 0 or rate < 0:
        raise ValueError("person-days and rates cannot be negative")
    if not 0 <= discount <= 1:
        raise ValueError("a discount is between 0 and 100%")
    return fen(person_days * rate * (1 - discount))


def cloud_line(monthly_cost, months) -> Decimal:
    monthly_cost, months = to_decimal(monthly_cost), to_decimal(months)
    if monthly_cost < 0 or months < 0:
        raise ValueError("costs and months cannot be negative")
    return fen(monthly_cost * months)


@dataclass(frozen=True)
class Totals:
    services: Decimal
    tax: Decimal
    cloud: Decimal
    total: Decimal

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items()}


def totals(service_lines, cloud_lines, tax_rate) -> Totals:
    """From already-rounded line totals."""
    tax_rate = to_decimal(tax_rate)
    if not 0 <= tax_rate < 1:
        raise ValueError("a tax rate is between 0 and 100%")
    services = sum((to_decimal(v) for v in service_lines), Decimal("0.00"))
    cloud = sum((to_decimal(v) for v in cloud_lines), Decimal("0.00"))
    tax = fen(services * tax_rate)
    return Totals(services=fen(services), tax=tax, cloud=fen(cloud), total=fen(services + tax + cloud))


def yuan(value) -> str:
    """¥1,234,567.89"""
    return f"¥{fen(value):,}"
