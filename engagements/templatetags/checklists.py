"""A stage's checklist counted from the items a page already lists (no query)."""

from django import template

register = template.Library()


@register.simple_tag
def checklist_counts(items) -> dict:
    """Required and optional items, closed (done or waived) and open: a stage at 100% may still
    have optional items open, and the checklist says so."""
    counts = {"required": 0, "required_closed": 0, "optional": 0, "optional_open": 0}
    for item in items:
        closed = item.state != "open"
        if item.required:
            counts["required"] += 1
            counts["required_closed"] += closed
        else:
            counts["optional"] += 1
            counts["optional_open"] += not closed
    return counts
