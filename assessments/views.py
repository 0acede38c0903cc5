"""The engagement's assessment records in the browser: analyses with their findings, loss
curves, benchmark and evaluation results. Internal to the service provider."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors
from common.units import METRICS
from engagements import services as engagement_services
from engagements.models import Engagement, MigrationModel, PerformanceBaseline, Stage

from . import services
from .charts import curve_chart, loss_chart_data, loss_chart_svg
from .forms import TuningMeasureForm
from .models import Finding, LossCurve, MigrationAnalysis, ScoreBaseline, TuningMeasure
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
        curves = engagement.loss_curves.select_related("job")
        self.fields["reference"].queryset = curves.filter(platform=LossCurve.Platform.GPU)
        self.fields["npu"].queryset = curves.filter(platform=LossCurve.Platform.NPU)


class ScoreBaselineForm(forms.Form):
    model = forms.ModelChoiceField(label=gettext_lazy("Model"), queryset=MigrationModel.objects.none(), required=False)
    dataset = forms.CharField(label=gettext_lazy("Data set"), max_length=200)
    score = forms.FloatField(label=gettext_lazy("Pre-migration score"))
    mode = forms.ChoiceField(label=gettext_lazy("Compare as"), choices=ScoreBaseline.Mode.choices)
    threshold = forms.DecimalField(label=gettext_lazy("Threshold"), required=False, min_value=0, max_digits=6,
                                   decimal_places=3, help_text=gettext_lazy("In per cent (relative) or points "
                                                                            "(absolute); empty: the engagement's."))
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), choices=ScoreBaseline.Direction.choices)

    def __init__(self, *args, engagement=None, **kwargs):
        super().__init__(*args, **kwargs)
        if engagement is not None:
            self.fields["model"].queryset = engagement.migration_models.all()


class PerformanceBaselineForm(forms.ModelForm):
    """A contract performance baseline of a model: the measured figure's key and its unit."""

    class Meta:
        model = PerformanceBaseline
        fields = ["model", "category", "metric", "unit", "direction", "value", "required_fraction"]

    def __init__(self, *args, engagement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].required = True
        self.fields["metric"].widget.attrs["list"] = "metric-keys"
        if engagement is not None:
            self.fields["model"].queryset = engagement.migration_models.all()


class ModelAcceptanceForm(forms.ModelForm):
    """What of a model is accepted: its scope, inference precision, or its exclusion."""

    class Meta:
        model = MigrationModel
        fields = ["scope", "precision", "excluded_reason"]
        widgets = {"excluded_reason": forms.TextInput()}


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(label=gettext_lazy("Resolution"), choices=Finding.Resolution.choices)
    note = forms.CharField(label=gettext_lazy("How it was handled"), required=False, max_length=2000)


def _staff_engagement(request, uuid) -> Engagement:
    """An engagement in scope (404 otherwise) whose assessments the user may read (403 otherwise)."""
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "view_internal", engagement, _("Assessments are internal to the service provider."))
    return engagement


def _curve_chart(curve) -> dict:
    """One curve's small chart: the SVG's points, and the same points for dygraphs (labelled)."""
    chart = curve_chart(curve, width=320, height=80)
    chart["data"]["labels"] = {"step": _("Step"), "loss": _("Loss")}
    return chart


def _pair_charts(engagement, limit: int = 10) -> list[tuple]:
    """Each compared pair drawn as in the acceptance report: (pair, SVG, the same points for dygraphs)."""
    threshold, skip = float(engagement.loss_mre_threshold), int(engagement.loss_warmup_steps)
    labels = {"step": _("Step"), "loss": _("Loss"), "reference": _("GPU reference"), "npu": _("NPU"),
              "error": _("Relative error"),
              "threshold": _("Threshold %(t)s") % {"t": f"{number_format(threshold * 100, 2)}%"},
              "no_data": _("No loss values."), "no_common": _("No common steps to compare."),
              "no_compared": _("No compared steps after the warm-up.")}
    charts = []
    for pair in engagement.curve_pairs.select_related("reference", "npu")[:limit]:
        ref_steps, ref_losses = pair.reference.series()
        npu_steps, npu_losses = pair.npu.series()
        args = (ref_steps, ref_losses, npu_steps, npu_losses)
        charts.append((pair, loss_chart_svg(*args, skip=skip, threshold=threshold, labels=labels),
                       loss_chart_data(*args, skip=skip, threshold=threshold, labels=labels)))
    return charts


@login_required
def engagement_assessments(request, uuid, forms_with_errors=None, status=200):
    engagement = _staff_engagement(request, uuid)
    curves = list(engagement.loss_curves.select_related("job", "model")[:20])
    context_forms = {"upload_form": CurveUploadForm(), "pair_form": PairForm(engagement=engagement),
                     "score_form": ScoreBaselineForm(engagement=engagement),
                     "baseline_form": PerformanceBaselineForm(engagement=engagement), **(forms_with_errors or {})}
    return render(request, "assessments/engagement_assessments.html", {
        **context_forms,
        "engagement": engagement,
        "can_edit": access.can(request.user, "change", engagement),
        "figures": services.acceptance_figures(engagement),
        "analyses": engagement.analyses.select_related("job__host").all()[:20],
        "curves": [(curve, _curve_chart(curve)) for curve in curves],
        "pair_charts": _pair_charts(engagement),
        "benchmarks": engagement.benchmark_runs.select_related("job")[:20],
        "evaluations": engagement.evaluation_runs.select_related("job")[:20],
        "models": [(model, ModelAcceptanceForm(instance=model, prefix=f"m{model.pk}"))
                   for model in engagement.migration_models.all()],
        "score_baselines": engagement.score_baselines.select_related("model"),
        "performance_baselines": engagement.baselines.select_related("model"),
        "metric_keys": sorted(METRICS),
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
            raise ValidationError(
                {"log": _("The log is larger than %(mb)s MB.") % {"mb": services.max_log_bytes() // 2**20}}
            )
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
    return _remove(request, uuid, "curve_pairs", pk, services.check_unpair_curves,
                   _("The comparison is removed; the curves stay."))


def _remove(request, uuid, related: str, pk, remove, message: str):
    """Remove one of the engagement's records (``related``) through its service; back to the page."""
    engagement = _staff_engagement(request, uuid)
    remove(request.user, get_object_or_404(getattr(engagement, related), pk=pk))
    messages.success(request, message)
    return redirect("engagement_assessments", uuid=engagement.uuid)


@login_required
@require_POST
def score_baseline(request, uuid):
    engagement = _staff_engagement(request, uuid)
    return _post(request, uuid, "score_form", ScoreBaselineForm(request.POST, engagement=engagement),
                 lambda eng, data: services.check_set_score_baseline(
                     request.user, eng, data["dataset"], data["score"], data["mode"], model=data["model"],
                     threshold=data["threshold"], direction=data["direction"]))


@login_required
@require_POST
def score_baseline_delete(request, uuid, pk):
    return _remove(request, uuid, "score_baselines", pk, services.check_delete_score_baseline,
                   _("The baseline is removed."))


@login_required
@require_POST
def performance_baseline(request, uuid):
    engagement = _staff_engagement(request, uuid)
    return _post(request, uuid, "baseline_form", PerformanceBaselineForm(request.POST, engagement=engagement),
                 lambda eng, data: engagement_services.check_save_performance_baseline(request.user, eng, data))


@login_required
@require_POST
def performance_baseline_delete(request, uuid, pk):
    return _remove(request, uuid, "baselines", pk, engagement_services.check_delete_performance_baseline,
                   _("The baseline is removed."))


@login_required
@require_POST
def model_acceptance(request, uuid, model_uuid):
    engagement = _staff_engagement(request, uuid)
    model = get_object_or_404(engagement.migration_models, uuid=model_uuid)
    form = ModelAcceptanceForm(request.POST, instance=MigrationModel.objects.get(pk=model.pk), prefix=f"m{model.pk}")
    if form.is_valid():
        try:
            engagement_services.check_set_model_acceptance(request.user, model, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("engagement_assessments", uuid=engagement.uuid)
    messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("engagement_assessments", uuid=engagement.uuid)


@login_required
@require_POST
def findings_resolve(request, uuid, pk):
    """Set how findings were handled: one (``finding``) or every finding the list's filter shows."""
    engagement = _staff_engagement(request, uuid)
    analysis = get_object_or_404(MigrationAnalysis, pk=pk, engagement=engagement)
    form = ResolveForm(request.POST)
    # The list's filters come back as f_<name> (the resolution chosen is not a filter).
    filters = _filters({name[2:]: value for name, value in request.POST.items() if name.startswith("f_")})
    findings = _filtered(analysis.findings.all(), filters)
    if request.POST.get("finding"):
        findings = analysis.findings.filter(pk=request.POST["finding"])
    if form.is_valid():
        try:
            count = services.check_resolve_findings(request.user, findings, form.cleaned_data["resolution"],
                                                    form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, ngettext("%(n)s finding updated.", "%(n)s findings updated.", count)
                             % {"n": count})
    else:
        messages.error(request, _("Choose a resolution."))
    query = urlencode({k: v for k, v in filters.items() if v})
    return redirect(reverse("analysis_detail", args=[engagement.uuid, analysis.pk]) + (f"?{query}" if query else ""))


@login_required
@require_POST
def tuning_measure(request, uuid):
    """Record a tuning measure on a stage (the form is on the stage's page)."""
    stage = access.get_or_404(request.user, Stage, related=("engagement",), uuid=uuid)
    access.require(request.user, "view_internal", stage.engagement)
    form = TuningMeasureForm(request.POST, engagement=stage.engagement)
    if form.is_valid():
        try:
            services.check_save_tuning_measure(request.user, stage, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The tuning measure is recorded."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("stage_detail", args=[stage.uuid]) + "#tuning")


@login_required
@require_POST
def tuning_measure_delete(request, uuid):
    measure = access.get_or_404(request.user, TuningMeasure, related=("stage",), uuid=uuid)
    services.check_delete_tuning_measure(request.user, measure)
    return redirect(reverse("stage_detail", args=[measure.stage.uuid]) + "#tuning")


@login_required
def analysis_detail(request, uuid, pk):
    engagement = _staff_engagement(request, uuid)
    analysis = get_object_or_404(MigrationAnalysis.objects.select_related("job__host"), pk=pk, engagement=engagement)
    findings = analysis.findings.all()
    filters = _filters(request.GET)
    findings = _filtered(findings, filters)
    page = Paginator(findings, 100).get_page(request.GET.get("page"))
    counts = finding_counts(analysis)
    return render(request, "assessments/analysis_detail.html", {
        "engagement": engagement, "analysis": analysis, "page": page, "filters": filters, "counts": counts,
        "categories": sorted({row["category"] for row in counts}), "fixes": Finding.Fix.choices,
        "sources": Finding.Source.choices, "total": sum(row["count"] for row in counts),
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "resolve_form": ResolveForm(), "resolutions": Finding.Resolution.choices,
        "can_edit": access.can(request.user, "change", engagement),
    })


FINDING_FILTERS = ("source", "category", "fix", "file", "resolution")


def _filters(data) -> dict:
    return {name: data.get(name, "").strip() for name in FINDING_FILTERS}


def _filtered(findings, filters: dict):
    """The findings the list's filters show (the same for the page and for a bulk change)."""
    exact = {name: filters[name] for name in ("source", "category", "fix", "resolution") if filters.get(name)}
    findings = findings.filter(**exact)
    if filters.get("file"):
        findings = findings.filter(file__icontains=filters["file"])
    return findings
