from decimal import Decimal

from django import template

from common import access, numbers

register = template.Library()


@register.filter
def percent(fraction) -> str:
    """A fraction as a percentage without trailing zeros: 0.02 -> '2%', 0.015 -> '1.5%'."""
    if fraction is None or fraction == "":
        return "—"
    value = (Decimal(str(fraction)) * 100).normalize()
    text = format(value, "f")
    return f"{text}%"


@register.filter
def percent3(fraction) -> str:
    """A computed ratio as a percentage with three decimals: 0.0034567 -> '0.346%'."""
    if fraction is None or fraction == "":
        return "—"
    return f"{float(fraction):.3%}"


@register.simple_tag(takes_context=True)
def can(context, action: str, obj) -> bool:
    """``{% can "change" engagement as can_edit %}``: the access policy, as views ask it."""
    return access.can(context["request"].user, action, obj)


@register.filter
def readable(value) -> str:
    """A figure with 3-4 significant digits and thousands separators (``common.numbers``)."""
    return numbers.readable(value)
