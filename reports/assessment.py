"""The migration assessment report (迁移评估报告): what the survey stage found, for the customer.

Its data is gathered here from the engagement's records, as plain JSON in the report's language
(stored with every version, like the acceptance report's), and rendered by the same pipeline
(``reports.services.render_version``) from ``templates/reports/pdf/assessment.html``:

- the scope and the models under migration;
- the environment findings: the latest environment probe of each host of the customer;
- the analysis summary of the latest migration analysis (by category, fix and file);
- the unsupported operators and advisories, grouped by category, with their planned handling
  (each finding's resolution and note);
- the custom operators to port (``fix == port_custom_op``), per file;
- the effort estimate with its formula;
- the risks (the risk register);
- the recommended plan (the stage plan: dates and person-days of the stages in scope).
"""

from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from assessments.models import Finding, MigrationAnalysis
from assessments.scanner import ascend_scan
from common.jsonsafe import jsonable
from engagements.models import MigrationModel, Stage
from workers.models import AscendHost, EnvSnapshot

from .rendering import CATEGORIES as OFFICIAL_CATEGORIES
from .rendering import firm_data

TEMPLATE = "assessment.html"
# The most findings the report lists one by one (the rest are counted, and shown in the portal).
LISTED_FINDINGS = 300
TOP_FILES = 10

# The scanner's categories in the reader's language (its keys are internal; an unknown key is
# shown as it is, with spaces). Groups whose key names unsupported APIs come first, then
# precision advisories, then the rest.
CATEGORIES = {
    **OFFICIAL_CATEGORIES,
    "cuda_api": gettext_noop("CUDA API"),
    "device_string": gettext_noop("CUDA device string"),
    "distributed": gettext_noop("Distributed communication (NCCL)"),
    "data_parallel": gettext_noop("Data parallel"),
    "amp_apex": gettext_noop("Mixed precision (AMP / apex)"),
    "jit": gettext_noop("TorchScript (jit)"),
    "memory_format": gettext_noop("Memory format"),
    "custom_op": gettext_noop("Custom operator (CUDA source or C/C++ extension)"),
    "cuda_library": gettext_noop("CUDA-only library"),
    "cudnn": gettext_noop("cuDNN setting"),
    "unparsable": gettext_noop("File that could not be parsed"),
    "unsupported_api": gettext_noop("API on the official unsupported list"),
    "precision_advice": gettext_noop("Precision advisory"),
    "custom_op_call": gettext_noop("Call of a custom operator"),
}

# Fixes as the customer reads them (the scanner's own keys are internal).
FIX_LABELS = {
    "auto": gettext_noop("Automatic migration covers it"),
    "manual": gettext_noop("Change by hand"),
    "replace_library": gettext_noop("Replace the library"),
    "port_custom_op": gettext_noop("Port the custom operator"),
    "review": gettext_noop("Review"),
}

# What each unit of the effort estimate counts, per fix (``ascend_scan.estimate_effort``).
EFFORT_UNITS = {
    "auto": gettext_noop("findings covered by automatic migration"),
    "manual": gettext_noop("findings changed by hand"),
    "replace_library": gettext_noop("distinct libraries to replace"),
    "port_custom_op": gettext_noop("distinct files with custom operators to port"),
    "review": gettext_noop("advisories to review"),
}


def effort_formula() -> str:
    """The scanner's effort formula in the reader's language, from its own weights."""
    terms = " + ".join(
        f"{ascend_scan.WEIGHTS[fix]} × {gettext(EFFORT_UNITS[fix]) if fix in EFFORT_UNITS else fix}"
        for fix in ascend_scan.FIXES if fix in ascend_scan.WEIGHTS)
    return gettext("Effort (person-days) = %(base)s base when there is any finding + %(terms)s, rounded up to the "
                   "nearest 0.5 person-day.") % {"base": ascend_scan.BASE_DAYS, "terms": terms}


def category_label(key: str) -> str:
    return gettext(CATEGORIES[key]) if key in CATEGORIES else key.replace("_", " ")


def fix_label(key: str) -> str:
    return gettext(FIX_LABELS[key]) if key in FIX_LABELS else key.replace("_", " ")


def _category_order(key: str) -> tuple:
    """Unsupported APIs first, then precision advisories, then the rest, each by name."""
    rank = 0 if "unsupported" in key else 1 if "precision" in key else 2
    return (rank, key)


def build_assessment_data(engagement, *, number: int, language: str) -> dict:
    """Everything the assessment report shows, as plain JSON in the report's language; stored
    with the version it renders. JSON-safe by construction: ``jsonable`` refuses anything else."""
    with translation.override(language):
        return jsonable({**_data(engagement, number, language), "firm": firm_data(language)})


def _data(engagement, number: int, language: str) -> dict:
    analysis = (MigrationAnalysis.objects.filter(engagement=engagement).select_related("job")
                .order_by("-created_at", "-pk").first())
    return {
        "kind": "assessment", "version": number, "language": language,
        "rendered_at": timezone.localtime().isoformat(),
        "engagement": _engagement(engagement),
        "models": [_model(model) for model in engagement.migration_models.order_by("name")],
        "environment": _environments(engagement),
        "analysis": _analysis(analysis, language) if analysis else None,
        "risks": _risks(engagement),
        "plan": _plan(engagement),
    }


def _engagement(engagement) -> dict:
    return {
        "code": engagement.code, "title": engagement.title, "contract_number": engagement.contract_number,
        "customer": engagement.customer.name, "source_platform": engagement.source_platform,
        "target_platform": engagement.target_platform, "framework": engagement.get_target_framework_display(),
        "start_date": engagement.start_date.isoformat(), "end_date": engagement.end_date.isoformat(),
        "scope": [str(label) for label in engagement.scope_labels()],
        "scope_flags": [
            {"label": str(engagement._meta.get_field(name).verbose_name), "in_scope": bool(getattr(engagement, name))}
            for name in ("scope_training_migration", "scope_inference_migration", "scope_tuning")
        ],
    }


# The fields of a model under migration every report shows in its table; any other filled-in
# field (framework and versions, weights, data sets, inference route, ...) is listed beneath
# with its label, whatever fields the model has.
MODEL_COLUMNS = {"id", "uuid", "engagement", "name", "task_type", "size", "scope", "excluded_reason"}


def _model(model: MigrationModel) -> dict:
    details = []
    for field in model._meta.concrete_fields:
        if field.name in MODEL_COLUMNS or field.is_relation:
            continue
        value = getattr(model, field.name)
        if value in (None, "", [], {}):
            continue
        if field.choices:
            value = getattr(model, f"get_{field.name}_display")()
        elif isinstance(value, bool):
            value = gettext("yes") if value else gettext("no")
        elif isinstance(value, (list, tuple)):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{key}: {item}" for key, item in value.items())
        details.append({"label": str(field.verbose_name), "value": str(value)})
    return {
        "name": model.name, "task_type": model.get_task_type_display(), "size": model.size,
        "scope": model.get_scope_display(), "excluded_reason": model.excluded_reason, "details": details,
    }


# --- environment ------------------------------------------------------------------------------

def _environments(engagement) -> list[dict]:
    """The latest probe snapshot of every host of the engagement's customer, with what it flags."""
    result = []
    for host in AscendHost.objects.filter(customer_id=engagement.customer_id).order_by("name", "pk"):
        snapshot = (EnvSnapshot.objects.filter(host=host).select_related("job")
                    .order_by("-created_at", "-pk").first())
        if snapshot is None:
            result.append({"host": host.name, "probed": False, "flags": [gettext("Not probed yet.")]})
            continue
        data = snapshot.data or {}
        npus = [npu for npu in data.get("npus") or [] if isinstance(npu, dict)]
        names = sorted({npu.get("name") or "" for npu in npus} - {""})
        result.append({
            "host": host.name, "probed": True, "taken_at": timezone.localtime(snapshot.created_at).isoformat(),
            "job": str(snapshot.job.uuid) if snapshot.job_id else None,
            "npu_model": ", ".join(names), "npu_count": len(npus),
            "hbm_total_mb": npus[0].get("hbm_total_mb") if npus else None,
            "driver": (data.get("driver") or {}).get("Version"),
            "firmware": (data.get("firmware") or {}).get("Version"),
            "cann": (data.get("cann") or {}).get("version"), "os": data.get("os"), "arch": data.get("arch"),
            "python": data.get("python"), "torch": data.get("torch"), "torch_npu": data.get("torch_npu"),
            "flags": _flags(data, npus),
        })
    return result


def _flags(data: dict, npus: list[dict]) -> list[str]:
    """What the probe found that needs attention before migration, in the report's language."""
    flags = []
    if not npus:
        flags.append(gettext("npu-smi reported no NPU."))
    for npu in npus:
        health = npu.get("health") or ""
        if health and health.upper() != "OK":
            flags.append(gettext("NPU %(id)s (%(name)s) reports health %(health)s.")
                         % {"id": npu.get("npu_id"), "name": npu.get("name") or "—", "health": health})
    if not (data.get("driver") or {}).get("Version"):
        flags.append(gettext("No NPU driver version was found."))
    if not (data.get("firmware") or {}).get("Version"):
        flags.append(gettext("No NPU firmware version was found."))
    if not (data.get("cann") or {}).get("version"):
        flags.append(gettext("No CANN toolkit was found."))
    if not data.get("torch"):
        flags.append(gettext("PyTorch could not be imported."))
    if not data.get("torch_npu"):
        flags.append(gettext("torch_npu is not installed or could not be imported."))
    processes = data.get("processes") or []
    if processes:
        flags.append(gettext("%(count)s processes were using the NPUs during the probe.") % {"count": len(processes)})
    return flags


# --- migration analysis -----------------------------------------------------------------------

def _where(finding) -> str:
    return f"{finding.file}:{finding.line}" if finding.line else finding.file


def _finding(finding, language: str) -> dict:
    message = finding.message_zh if language.startswith("zh") and finding.message_zh else finding.message
    return {"where": _where(finding), "api": finding.api, "message": message,
            "fix": fix_label(finding.fix), "resolution": finding.get_resolution_display(),
            "resolution_key": finding.resolution, "note": finding.resolution_note}


def _analysis(analysis: MigrationAnalysis, language: str) -> dict:
    findings = analysis.findings.all()
    by_category = list(findings.values("category").annotate(count=Count("id")).order_by("-count", "category"))
    by_fix = list(findings.values("fix").annotate(count=Count("id")).order_by("-count", "fix"))
    by_file = list(findings.exclude(file="").values("file").annotate(count=Count("id")).order_by("-count", "file"))
    resolutions = list(findings.values("resolution").annotate(count=Count("id")).order_by("resolution"))

    # Unsupported APIs, advisories and everything else automatic migration does not cover,
    # grouped by category: each with its planned handling. Custom operators have their own section.
    listed = (findings.exclude(fix__in=[Finding.Fix.AUTO, Finding.Fix.PORT_CUSTOM_OP])
              .order_by("category", "file", "line", "id"))
    groups: dict[str, dict] = {}
    shown = 0
    for finding in listed.iterator():
        group = groups.setdefault(finding.category, {"key": finding.category,
                                                     "label": category_label(finding.category),
                                                     "findings": [], "total": 0})
        group["total"] += 1
        if shown < LISTED_FINDINGS:
            group["findings"].append(_finding(finding, language))
            shown += 1

    custom: dict[str, dict] = {}
    for finding in findings.filter(fix=Finding.Fix.PORT_CUSTOM_OP).order_by("file", "line", "id"):
        item = custom.setdefault(finding.file, {"file": finding.file, "apis": [], "categories": [], "count": 0,
                                                "resolutions": [], "notes": []})
        item["count"] += 1
        for key, value in (("apis", finding.api), ("categories", category_label(finding.category)),
                           ("resolutions", finding.get_resolution_display()), ("notes", finding.resolution_note)):
            if value and value not in item[key] and len(item[key]) < 12:
                item[key].append(value)

    job = analysis.job
    return {
        "code_dir": analysis.code_dir, "files_scanned": analysis.files_scanned,
        "created_at": timezone.localtime(analysis.created_at).isoformat(),
        "official_tool_ran": analysis.official_tool_ran,
        "job": str(job.uuid) if job else None,
        "source_kind": str(job.job_kind.label) if job else "", "parser": job.job_kind.parser if job else "",
        "total": findings.count(),
        "open": findings.filter(resolution=Finding.Resolution.OPEN).count(),
        "by_category": [{"key": row["category"], "label": category_label(row["category"]), "count": row["count"]}
                        for row in by_category],
        "by_fix": [{"key": row["fix"], "label": fix_label(row["fix"]), "count": row["count"]} for row in by_fix],
        "files_with_findings": len(by_file),
        "top_files": by_file[:TOP_FILES],
        "resolutions": [{"label": str(Finding.Resolution(row["resolution"]).label)
                         if row["resolution"] in Finding.Resolution.values else row["resolution"],
                         "count": row["count"]} for row in resolutions],
        "groups": sorted(groups.values(), key=lambda group: _category_order(group["key"])),
        "listed": shown, "unlisted": max(0, listed.count() - shown),
        "custom_ops": list(custom.values()),
        "effort": {"person_days": float(analysis.effort_person_days), "basis": analysis.effort_basis,
                   "formula": effort_formula()},
    }


# --- risks and plan ---------------------------------------------------------------------------

def _risks(engagement) -> list[dict]:
    return [{"category": risk.get_category_display(), "description": risk.description,
             "likelihood": risk.get_likelihood_display(), "impact": risk.get_impact_display(), "score": risk.score,
             "mitigation": risk.mitigation, "status": risk.get_status_display(),
             "owner": (risk.owner.get_full_name() or risk.owner.username) if risk.owner_id else ""}
            for risk in engagement.risks.select_related("owner")]


def _plan(engagement) -> dict:
    """The stages in scope (not skipped), with their planned dates and person-days."""
    stages = []
    total = 0.0
    for stage in engagement.stages.order_by("order"):
        if stage.status == Stage.Status.SKIPPED:
            continue
        days = float(stage.planned_person_days or 0)
        total += days
        stages.append({"stage": stage.get_key_display(), "status": stage.get_status_display(),
                       "planned_start": stage.planned_start.isoformat() if stage.planned_start else None,
                       "planned_end": stage.planned_end.isoformat() if stage.planned_end else None,
                       "person_days": days})
    return {"stages": stages, "total_person_days": total}
