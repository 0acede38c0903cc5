from django import template

from ..charts import curve_chart
from ..models import LossCurve

register = template.Library()


@register.inclusion_tag("assessments/partials/curve_svg.html")
def loss_curve_chart(job, width=600, height=160):
    curve = LossCurve.objects.filter(job=job).first()
    return {"chart": curve_chart(curve, width, height) if curve else None}
