"""The tuning evidence in the browser: uploads of the tools' files, accuracy comparisons with
their filterable rows, profiles and their before/after comparison, MindIE configurations with
the benchmarks side by side, ATC conversions, and a tuning measure with its evidence.
Internal to the service provider (a customer's contact reads what the acceptance report shows)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments.models import BenchmarkRun
from common import access
from common.forms import apply_errors
from engagements.models import Engagement, Stage

from . import services
from .forms import (
    AccuracyUploadForm,
    AtcUploadForm,
    BenchmarkConfigForm,
    MeasureEvidenceForm,
    ProfileCompareForm,
    ProfileUploadForm,
    RowFilterForm,
    ServiceConfigForm,
)
from .models import AccuracyComparison, AtcConversion, Profile, ServiceConfig


def _staff_engagement(request, uuid) -> Engagement:
    """An engagement in scope (404 otherwise) whose tuning evidence the user may read (403 otherwise)."""
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "view_internal", engagement,
                   _("Tuning evidence is internal to the service provider; the acceptance report shows what it "
                     "proves."))
    return engagement


def _record(request, model, uuid, related=("engagement",)):
    """One evidence record in scope (404), readable by the user (403)."""
    record = access.get_or_404(request.user, model, related=related, uuid=uuid)
    access.require(request.user, "view", record)
    return record


UPLOAD_FORMS = {"accuracy_form": AccuracyUploadForm, "profile_form": ProfileUploadForm,
                "config_form": ServiceConfigForm, "atc_form": AtcUploadForm}


@login_required
def tuning_evidence(request, uuid, forms_with_errors=None, status=200):
    """The engagement's tuning evidence, with the upload forms."""
    engagement = _staff_engagement(request, uuid)
    can_edit = access.can(request.user, "change", engagement)
    forms = {name: form_class(engagement=engagement) for name, form_class in UPLOAD_FORMS.items()}
    forms.update(forms_with_errors or {})
    return render(request, "tuning/evidence.html", {
        **forms,
        "engagement": engagement, "can_edit": can_edit,
        "comparisons": AccuracyComparison.objects.filter(engagement=engagement).select_related("model", "stage", "job"),
        "profiles": Profile.objects.filter(engagement=engagement).select_related("model", "stage", "job"),
        "configs": ServiceConfig.objects.filter(engagement=engagement).select_related("model", "job"),
        "conversions": AtcConversion.objects.filter(engagement=engagement).select_related("model", "job"),
        "compare_form": ProfileCompareForm(engagement=engagement),
        "benchmarks": BenchmarkRun.objects.filter(engagement=engagement).count(),
    }, status=status)


def _upload(request, uuid, form_name, action, anchor):
    """Validate the upload form and run ``action(engagement, data)``; on an error show the page
    again with the form's errors and what was chosen (the file must be chosen again)."""
    engagement = _staff_engagement(request, uuid)
    form = UPLOAD_FORMS[form_name](request.POST, request.FILES, engagement=engagement)
    if form.is_valid():
        try:
            record = action(engagement, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(record_url(record) if record is not None else
                            reverse("tuning_evidence", args=[engagement.uuid]) + anchor)
    return tuning_evidence(request, uuid, forms_with_errors={form_name: form}, status=400)


def record_url(record) -> str:
    names = {AccuracyComparison: "accuracy_detail", Profile: "profile_detail", ServiceConfig: "service_config_detail",
             AtcConversion: "atc_detail"}
    return reverse(names[type(record)], args=[record.uuid])


def _common(data) -> dict:
    return {"stage": data.get("stage"), "model": data.get("model"), "label": data.get("label") or ""}


@login_required
@require_POST
def accuracy_upload(request, uuid):
    return _upload(request, uuid, "accuracy_form", lambda engagement, data: services.check_add_accuracy_upload(
        request.user, engagement, data["file"], **_common(data)), "#accuracy")


@login_required
@require_POST
def profile_upload(request, uuid):
    def action(engagement, data):
        return services.check_add_profile_upload(
            request.user, engagement, {name: data.get(name) for name in services.PROFILE_FILES},
            flops_per_step=data.get("flops_per_step"), peak_tflops=data.get("peak_tflops"),
            devices=data.get("devices") or 1, **_common(data))
    return _upload(request, uuid, "profile_form", action, "#profiles")


@login_required
@require_POST
def service_config_upload(request, uuid):
    return _upload(request, uuid, "config_form", lambda engagement, data: services.check_add_service_config(
        request.user, engagement, data["file"], **_common(data)), "#configs")


@login_required
@require_POST
def atc_upload(request, uuid):
    return _upload(request, uuid, "atc_form", lambda engagement, data: services.check_add_atc_upload(
        request.user, engagement, data["file"], command=data.get("command") or "", **_common(data)), "#atc")


def _delete(request, model, uuid, anchor):
    record = access.get_or_404(request.user, model, related=("engagement",), uuid=uuid)
    try:
        services.check_delete_evidence(request.user, record)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(record_url(record))
    messages.success(request, _("Removed."))
    return redirect(reverse("tuning_evidence", args=[record.engagement.uuid]) + anchor)


@login_required
@require_POST
def accuracy_delete(request, uuid):
    return _delete(request, AccuracyComparison, uuid, "#accuracy")


@login_required
@require_POST
def profile_delete(request, uuid):
    return _delete(request, Profile, uuid, "#profiles")


@login_required
@require_POST
def service_config_delete(request, uuid):
    return _delete(request, ServiceConfig, uuid, "#configs")


@login_required
@require_POST
def atc_delete(request, uuid):
    return _delete(request, AtcConversion, uuid, "#atc")


# --- accuracy comparisons --------------------------------------------------------------------

ROWS_PER_PAGE = 100


@login_required
def accuracy_detail(request, uuid):
    """A comparison: its summary, and its rows filtered by result, name or only the mismatches
    (the table alone is sent back to htmx requests)."""
    comparison = _record(request, AccuracyComparison, uuid, related=("engagement", "model", "stage", "job"))
    form = RowFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = services.accuracy_rows(comparison, result=filters.get("result") or "", q=filters.get("q") or "",
                                  mismatches=bool(filters.get("mismatches")))
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (filters or {}).items() if v})
    context = {"comparison": comparison, "engagement": comparison.engagement, "page": page, "form": form,
               "query": query, "can_edit": access.can(request.user, "change", comparison)}
    if request.htmx:
        return render(request, "tuning/partials/accuracy_rows.html", context)
    return render(request, "tuning/accuracy_detail.html", context)


# --- profiles ---------------------------------------------------------------------------------

@login_required
def profile_detail(request, uuid):
    profile = _record(request, Profile, uuid, related=("engagement", "model", "stage", "job"))
    return render(request, "tuning/profile_detail.html", {
        "profile": profile, "engagement": profile.engagement,
        "can_edit": access.can(request.user, "change", profile),
        "compare_form": ProfileCompareForm(engagement=profile.engagement, initial={"before": profile.uuid}),
    })


@login_required
def profile_compare(request, uuid):
    """Two profiles before/after: the step time split, the kernels, the bound and MFU."""
    engagement = _staff_engagement(request, uuid)
    form = ProfileCompareForm(request.GET or None, engagement=engagement)
    comparison = None
    if form.is_valid():
        comparison = services.compare_profiles(form.cleaned_data["before"], form.cleaned_data["after"])
    return render(request, "tuning/profile_compare.html", {
        "engagement": engagement, "form": form, "comparison": comparison,
        "before": form.cleaned_data.get("before") if form.is_bound and form.is_valid() else None,
        "after": form.cleaned_data.get("after") if form.is_bound and form.is_valid() else None,
    }, status=400 if form.is_bound and not form.is_valid() else 200)


# --- MindIE configurations and benchmarks ------------------------------------------------------

@login_required
def service_config_detail(request, uuid):
    config = _record(request, ServiceConfig, uuid, related=("engagement", "model", "job"))
    previous = (ServiceConfig.objects.filter(engagement=config.engagement, model=config.model,
                                             version__lt=config.version).order_by("-version").first())
    changes = []
    if previous is not None:
        now, before = services.flat_settings(config), services.flat_settings(previous)
        changes = [{"name": name, "before": before.get(name), "after": now.get(name)}
                   for name in sorted(set(now) | set(before)) if now.get(name) != before.get(name)]
    return render(request, "tuning/service_config_detail.html", {
        "config": config, "engagement": config.engagement, "previous": previous, "changes": changes,
        "settings": services.flat_settings(config), "can_edit": access.can(request.user, "change", config),
    })


@login_required
def benchmark_compare(request, uuid):
    """The engagement's inference benchmarks side by side, with the configuration each ran under
    and the settings that differ between them marked (the inference tuning stage's evidence)."""
    engagement = _staff_engagement(request, uuid)
    benchmarks = BenchmarkRun.objects.filter(engagement=engagement).select_related("job", "model")
    model = request.GET.get("model") or ""
    if model:
        benchmarks = benchmarks.filter(model__uuid=model) if _is_uuid(model) else benchmarks.none()
    chosen = [pk for pk in request.GET.getlist("b") if pk.isdigit()]
    if chosen:
        benchmarks = benchmarks.filter(pk__in=chosen)
    benchmarks = list(benchmarks.order_by("created_at")[:8])
    table = services.benchmark_side_by_side(benchmarks)
    can_edit = access.can(request.user, "change", engagement)
    for column in table["columns"]:
        column["form"] = BenchmarkConfigForm(engagement=engagement, prefix=f"b{column['benchmark'].pk}",
                                             initial={"config": column["config"]}) if can_edit else None
    return render(request, "tuning/benchmark_compare.html", {
        "engagement": engagement, "table": table, "can_edit": can_edit, "model": model,
        "models": engagement.migration_models.all(),
    })


def _is_uuid(text: str) -> bool:
    import uuid as uuid_module

    try:
        uuid_module.UUID(text)
    except ValueError:
        return False
    return True


@login_required
@require_POST
def benchmark_config(request, pk):
    benchmark = access.get_or_404(request.user, BenchmarkRun, related=("engagement",), pk=pk)
    access.require(request.user, "change", benchmark)
    form = BenchmarkConfigForm(request.POST, engagement=benchmark.engagement, prefix=f"b{benchmark.pk}")
    if form.is_valid():
        try:
            services.check_link_benchmark(request.user, benchmark, form.cleaned_data["config"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose a configuration of this engagement."))
    return redirect("benchmark_compare", uuid=benchmark.engagement.uuid)


# --- ATC conversions ----------------------------------------------------------------------------

@login_required
def atc_detail(request, uuid):
    conversion = _record(request, AtcConversion, uuid, related=("engagement", "model", "job"))
    return render(request, "tuning/atc_detail.html", {
        "conversion": conversion, "engagement": conversion.engagement,
        "can_edit": access.can(request.user, "change", conversion),
    })


# --- tuning measures with evidence ------------------------------------------------------------

@login_required
@require_POST
def measure_evidence(request, uuid):
    """Record a tuning measure whose figures come from its evidence (the form is on the stage page)."""
    stage = access.get_or_404(request.user, Stage, related=("engagement",), uuid=uuid)
    access.require(request.user, "view_internal", stage.engagement)
    form = MeasureEvidenceForm(request.POST, engagement=stage.engagement)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.check_save_measure_with_evidence(
                request.user, stage, {"model": data.get("model"), "change": data["change"]},
                {name: data.get(name) for name in ("figure", "profile_before", "profile_after", "benchmark_before",
                                                    "benchmark_after", "accuracy_before", "accuracy_after")})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The tuning measure is recorded with its evidence."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("stage_detail", args=[stage.uuid]) + "#tuning")
