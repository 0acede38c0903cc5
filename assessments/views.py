"""The engagement's assessment records in the browser: analyses with their findings, loss
curves, benchmark and evaluation results. Internal to the service provider."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors
from engagements.models import Engagement

from . import services
from .charts import curve_chart
from .models import Finding, LossCurve, MigrationAnalysis, ScoreBaseline
from .services import finding_counts


class CurveUploadForm(forms.Form):
    log = forms.FileField(label=gettext_lazy("Training log"))
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), choices=LossCurve.Platform.choices,
                                 initial=LossCurve.Platform.GPU)
    label = forms.CharField(label=gettext_lazy("Label"), max_length=200, help_text=gettext_lazy("e.g. 8 x A100, fp32"))
    pattern = forms.CharField(label=gettext_lazy("Loss pattern (regular expression)"), required=False)


class PairForm(forms.Form):
    reference = forms.ModelChoiceField(label=gettext_lazy("Reference (GPU) curve"), queryset=LossCurve.objects.none())
    npu = forms.ModelChoiceField(label=gettext_lazy("NPU curve"), queryset=LossCurve.objects.none())

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].queryset = engagement.loss_curves.filter(platform=LossCurve.Platform.GPU)
        self.fields["npu"].queryset = engagement.loss_curves.filter(platform=LossCurve.Platform.NPU)


class ScoreBaselineForm(forms.Form):
    dataset = forms.CharField(label=gettext_lazy("Data set"), max_length=200)
    score = forms.FloatField(label=gettext_lazy("Pre-migration score"))
    mode = forms.ChoiceField(label=gettext_lazy("Compare as"), choices=ScoreBaseline.Mode.choices)


def _staff_engagement(request, uuid) -> Engagement:
    """An engagement in scope (404 otherwise) whose assessments the user may read (403 otherwise)."""
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "view_internal", engagement, _("Assessments are internal to the service provider."))
    return engagement


@login_required
def engagement_assessments(request, uuid, forms_with_errors=None, status=200):
    engagement = _staff_engagement(request, uuid)
    curves = list(engagement.loss_curves.select_related("job", "model")[:20])
    context_forms = {"upload_form": CurveUploadForm(), "pair_form": PairForm(engagement=engagement),
                     "score_form": ScoreBaselineForm(), **(forms_with_errors or {})}
    return render(request, "assessments/engagement_assessments.html", {
        **context_forms,
        "engagement": engagement,
        "can_edit": access.can(request.user, "change", engagement),
        "figures": services.acceptance_figures(engagement),
        "analyses": engagement.analyses.select_related("job__host").all()[:20],
        "curves": [(curve, curve_chart(curve, width=320, height=80)) for curve in curves],
        "benchmarks": engagement.benchmark_runs.select_related("job")[:20],
        "evaluations": engagement.evaluation_runs.select_related("job")[:20],
    }, status=status)


def _post(request, uuid, form_name, form, action):
    """Validate ``form``, run ``action(engagement, data)``; on an error show the page again
    with the form's errors and what was typed."""
    engagement = _staff_engagement(request, uuid)
    if form.is_valid():
        try:
            action(engagement, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("engagement_assessments", uuid=engagement.uuid)
    return engagement_assessments(request, uuid, forms_with_errors={form_name: form}, status=400)


@login_required
@require_POST
def curve_upload(request, uuid):
    def action(engagement, data):
        upload = data["log"]
        if upload.size > services.max_log_bytes():  # before reading a byte of it
            raise ValidationError({"log": _("The log is larger than %(mb)s MB.") % {"mb": services.max_log_bytes() // 2**20}})
        curve = services.check_add_curve_from_log(request.user, engagement, upload.read(), platform=data["platform"],
                                                  label=data["label"], pattern=data["pattern"] or None,
                                                  filename=upload.name)
        if curve.first_nan_step is not None:
            messages.warning(request, _("The log holds NaN or infinite losses, first at step %(step)s: a comparison "
                                        "over those steps fails.") % {"step": curve.first_nan_step})
    return _post(request, uuid, "upload_form", CurveUploadForm(request.POST, request.FILES), action)


@login_required
@require_POST
def curve_pair(request, uuid):
    engagement = _staff_engagement(request, uuid)
    return _post(request, uuid, "pair_form", PairForm(request.POST, engagement=engagement),
                 lambda eng, data: services.check_pair_curves(request.user, eng, data["reference"], data["npu"]))


@login_required
@require_POST
def curve_unpair(request, uuid, pk):
    engagement = _staff_engagement(request, uuid)
    services.check_unpair_curves(request.user, get_object_or_404(engagement.curve_pairs, pk=pk))
    messages.success(request, _("The comparison is removed; the curves stay."))
    return redirect("engagement_assessments", uuid=engagement.uuid)


@login_required
@require_POST
def score_baseline(request, uuid):
    return _post(request, uuid, "score_form", ScoreBaselineForm(request.POST),
                 lambda eng, data: services.check_set_score_baseline(request.user, eng, data["dataset"], data["score"],
                                                                     data["mode"]))


@login_required
def analysis_detail(request, uuid, pk):
    engagement = _staff_engagement(request, uuid)
    analysis = get_object_or_404(MigrationAnalysis.objects.select_related("job__host"), pk=pk, engagement=engagement)
    findings = analysis.findings.all()
    filters = {name: request.GET.get(name, "").strip() for name in ("source", "category", "fix", "file")}
    if filters["source"]:
        findings = findings.filter(source=filters["source"])
    if filters["category"]:
        findings = findings.filter(category=filters["category"])
    if filters["fix"]:
        findings = findings.filter(fix=filters["fix"])
    if filters["file"]:
        findings = findings.filter(file__icontains=filters["file"])
    page = Paginator(findings, 100).get_page(request.GET.get("page"))
    counts = finding_counts(analysis)
    return render(request, "assessments/analysis_detail.html", {
        "engagement": engagement, "analysis": analysis, "page": page, "filters": filters, "counts": counts,
        "categories": sorted({row["category"] for row in counts}), "fixes": Finding.Fix.choices,
        "sources": Finding.Source.choices, "total": sum(row["count"] for row in counts),
        "query": urlencode({k: v for k, v in filters.items() if v}),
    })
