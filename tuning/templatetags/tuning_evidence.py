"""The tuning evidence on the stage page (a lower layer's template loads this tag library by
name, so engagements never imports tuning), and small filters of its pages."""

from django import template

from common import access
from common.numbers import readable

from ..forms import MeasureEvidenceForm
from ..models import AccuracyComparison, AtcConversion, MeasureEvidence, Profile, ServiceConfig

register = template.Library()

PROFILE_STAGES = ("training_adaptation", "training_tuning", "inference_tuning")
ACCURACY_STAGES = ("training_adaptation", "training_tuning")
INFERENCE_STAGES = ("inference_migration", "inference_tuning")
MEASURE_STAGES = ("training_tuning", "inference_tuning")


@register.filter
def us_ms(value) -> str:
    """Microseconds as milliseconds, 4 significant digits."""
    if value is None or value == "":
        return "—"
    return readable(float(value) / 1000)


@register.filter
def signed_pct(value) -> str:
    """A change in per cent with its sign (already in per cent)."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.3g}%"


@register.inclusion_tag("tuning/partials/stage_evidence.html", takes_context=True)
def stage_tuning_evidence(context, stage):
    """The stage's tuning evidence: accuracy comparisons on the training stages, profiles,
    MindIE configurations and ATC conversions on the inference stages, and the measures with
    their evidence (and the form to record one) on the tuning stages. Staff only."""
    request = context["request"]
    user = request.user
    engagement = stage.engagement
    if not access.can(user, "view_internal", engagement):
        return {"visible": False}
    can_edit = access.can(user, "change", engagement)
    key = stage.key
    data = {"visible": True, "stage": stage, "engagement": engagement, "can_edit": can_edit, "request": request,
            "csrf_token": context.get("csrf_token")}
    if key in ACCURACY_STAGES:
        data["comparisons"] = AccuracyComparison.objects.filter(engagement=engagement).select_related("model")[:10]
    if key in PROFILE_STAGES:
        data["profiles"] = Profile.objects.filter(engagement=engagement).select_related("model")[:10]
    if key in INFERENCE_STAGES:
        data["configs"] = ServiceConfig.objects.filter(engagement=engagement).select_related("model")[:10]
        data["conversions"] = AtcConversion.objects.filter(engagement=engagement).select_related("model")[:10]
    if key in MEASURE_STAGES:
        data["evidence"] = (MeasureEvidence.objects.filter(measure__stage=stage)
                            .select_related("measure__model", "profile_before", "profile_after", "benchmark_before",
                                            "benchmark_after", "accuracy_before", "accuracy_after"))
        data["measure_form"] = MeasureEvidenceForm(engagement=engagement) if can_edit else None
    return data
