"""Quoting on pages of lower layers: the assessments pages offer "quote this estimate"
through these tags (a template loads a tag library by name, so no lower app imports reports)."""

from django import template

from ..quotes import current_items

register = template.Library()


@register.simple_tag
def rate_items():
    """The rate card valid today, for a "quote as" choice."""
    return current_items()


@register.simple_tag
def rate_map():
    """Rate-card row -> its rate, for the quote editor's running totals (a line with no rate
    typed takes its service's)."""
    from ..models import RateCardItem

    return {str(pk): str(rate) for pk, rate in RateCardItem.objects.values_list("pk", "rate")}
