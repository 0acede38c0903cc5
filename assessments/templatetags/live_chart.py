"""The live loss chart on a running training job's page. The job page belongs to workers (a
lower layer), whose template loads this tag library by name, so workers never imports
assessments; for a job of another kind the tag draws nothing."""

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from common import access

from ..live import LIVE_KINDS, live_chart, reference_choices, reference_for
from ..models import LossCurve

register = template.Library()


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{number_format(value * 100, 2)}%"


def _labels(threshold: float) -> dict:
    return {"step": _("Step"), "loss": _("Loss"), "reference": _("GPU reference"), "npu": _("NPU"),
            "error": _("Relative error"), "threshold": _("Threshold %(t)s") % {"t": _percent(threshold)},
            "no_data": _("No loss values yet."), "no_common": _("No common steps to compare yet."),
            "no_compared": _("No compared steps after the warm-up yet.")}


@register.inclusion_tag("assessments/partials/live_loss_chart.html", takes_context=True)
def live_loss_chart(context, job):
    request = context.get("request")
    user = getattr(request, "user", None)
    if job.kind not in LIVE_KINDS or not access.can_list(user, LossCurve):
        return {"visible": False}
    chosen = request.GET.get("reference", "") if request is not None else ""
    chart = live_chart(job, chosen_reference=chosen, labels=_labels(float(job.engagement.loss_mre_threshold)))
    comparison = chart.comparison
    return {
        "visible": True, "job": job, "chart": chart, "comparison": comparison,
        "warning_kind": "window" if comparison.window_mre is not None
        and comparison.window_mre >= comparison.threshold else "nan",
        "running_mre": _percent(comparison.running_mre), "window_mre": _percent(comparison.window_mre),
        "threshold": _percent(comparison.threshold),
    }


@register.inclusion_tag("assessments/partials/live_reference_form.html", takes_context=True)
def live_reference_form(context, job):
    """The choice of the GPU reference the live chart compares with (outside the polled fragment,
    so a poll never resets it); the choice rides on the page's query string."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if job.kind not in LIVE_KINDS or not access.can_list(user, LossCurve):
        return {"visible": False}
    reference = reference_for(job, request.GET.get("reference", "") if request is not None else "")
    return {"visible": True, "references": reference_choices(job)[:50],
            "chosen": reference.uuid if reference else None}
