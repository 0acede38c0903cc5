from django import template
from django.utils.translation import gettext_lazy

from ..charts import curve_chart
from ..models import LossCurve

register = template.Library()


@register.inclusion_tag("assessments/partials/curve_svg.html")
def loss_curve_chart(job, width=600, height=160):
    curve = LossCurve.objects.filter(job=job).first()
    return {"chart": curve_chart(curve, width, height) if curve else None}


VERDICTS = {"pass": gettext_lazy("PASS"), "fail": gettext_lazy("FAIL"),
            "cannot_compare": gettext_lazy("CANNOT COMPARE"), "not_comparable": gettext_lazy("NOT COMPARABLE"),
            "incomplete": gettext_lazy("INCOMPLETE"), "out_of_scope": gettext_lazy("OUT OF SCOPE"),
            "excluded": gettext_lazy("EXCLUDED")}


@register.filter
def verdict(value):
    """A verdict key as the words shown to people."""
    return VERDICTS.get(value, value or "—")
