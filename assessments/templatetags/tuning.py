"""The tuning measures of a stage, on the stage's page (a lower layer's template loads this
tag library by name, so engagements never imports assessments)."""

from django import template

from common import access

from ..forms import TuningMeasureForm

register = template.Library()


@register.inclusion_tag("assessments/partials/tuning_measures.html", takes_context=True)
def tuning_measures(context, stage):
    user = context["request"].user
    if not access.can(user, "view_internal", stage.engagement):
        return {"visible": False}
    can_edit = access.can(user, "change", stage.engagement)
    return {
        "visible": True, "stage": stage, "can_edit": can_edit, "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "measures": stage.tuning_measures.select_related("model", "created_by"),
        "form": TuningMeasureForm(engagement=stage.engagement) if can_edit else None,
    }
