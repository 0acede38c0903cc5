"""The acceptance test report: data gathered from the engagement's records (JSON-safe, stored
with every version), HTML from a Jinja2 template (autoescaped, strict undefined), and PDF
from the HTML with WeasyPrint. Charts are SVG drawn here, server-side.

Every figure carries its source: the job (uuid), the raw log's SHA-256 and the parser.
"""

import base64
from pathlib import Path

import jinja2
from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop, ngettext

from assessments.acceptance import acceptance, blocking
from assessments.charts import loss_chart_svg
from assessments.comparison import LOSS_FORMULA, PASS
from assessments.models import Finding
from assessments.services import finding_counts
from common.jsonsafe import jsonable
from common.numbers import percent, readable
from engagements.models import Deliverable
from tuning.reporting import report_section as tuning_evidence
from workers import kinds
from workers.models import EnvSnapshot

from .models import FirmProfile

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "reports" / "pdf"  # Jinja2, not Django


def _source(curve) -> dict:
    if curve is None:
        return {}
    # A job's curve is named after the job in the report's language; an upload keeps its label.
    label = f"{curve.job.get_kind_display()} #{curve.job_id}" if curve.job_id else curve.label
    return {"label": label, "platform": curve.platform, "source": curve.get_source_display(),
            "sha256": curve.raw_sha256,
            "parser": f"assessments.parsers.training_log ({curve.log_format}, {curve.loss_key or 'loss'})",
            "job": str(curve.job.uuid) if curve.job_id else None, "points": curve.points}


def _job_source(job, default_kind: str = "") -> dict:
    """The kind of job a figure came from and its parser, in the report's language: the kind says."""
    if job is None:
        kind = kinds.get(default_kind) if default_kind else None
        return {"source_kind": str(kind.label) if kind else "", "parser": kind.parser if kind else ""}
    return {"source_kind": str(job.job_kind.label), "parser": job.job_kind.parser}


def _measurement_source(record) -> dict:
    """Which kind of job a performance figure came from, and the parser that read it: the
    job's kind says. A figure from an uploaded log names the training-log parser."""
    if record is None:
        return {"source_kind": "", "parser": ""}
    job = getattr(record, "job", None)
    if job is None:
        return {"source_kind": gettext("uploaded log"), "parser": "assessments.parsers.training_log"}
    return _job_source(job)


def _loss_chart(pair, skip: int, threshold: float) -> str:
    """Both curves on common axes (the reference dashed, on top) and the relative error beneath
    with the threshold, as one SVG, labelled in the report's language."""
    ref_steps, ref_losses = pair.reference.series()  # each curve is decoded once
    npu_steps, npu_losses = pair.npu.series()
    labels = {"step": gettext("Step"), "loss": gettext("Loss"), "reference": gettext("GPU reference"),
              "npu": gettext("NPU"), "error": gettext("Relative error"),
              "threshold": gettext("Threshold %(t)s") % {"t": percent(threshold)},
              "no_data": gettext("No loss values."), "no_common": gettext("No common steps to compare."),
              "no_compared": gettext("No compared steps after the warm-up.")}
    return loss_chart_svg(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, threshold=threshold, labels=labels)


def _environment(engagement) -> dict | None:
    snapshot = (EnvSnapshot.objects.filter(job__engagement=engagement).select_related("host", "job")
                .order_by("-created_at").first())
    if snapshot is None:
        return None
    data = snapshot.data
    npus = data.get("npus") or []
    return {
        "host": snapshot.host.name, "taken_at": timezone.localtime(snapshot.created_at).isoformat(),
        "job": str(snapshot.job.uuid),
        "driver": (data.get("driver") or {}).get("Version"), "firmware": (data.get("firmware") or {}).get("Version"),
        "cann": (data.get("cann") or {}).get("version"), "torch": data.get("torch"), "torch_npu": data.get("torch_npu"),
        "python": data.get("python"), "os": data.get("os"), "arch": data.get("arch"),
        "npu_count": len(npus), "npu_names": sorted({n.get("name") or "" for n in npus}),
        "npus_healthy": sum(1 for n in npus if n.get("health") == "OK"),
        "hbm_total_mb": (npus[0].get("hbm_total_mb") if npus else None),
        **_job_source(snapshot.job),
    }


def build_report_data(engagement, *, number: int, language: str) -> dict:
    """Everything the report shows, as plain JSON in the report's language; stored with the
    version it renders. JSON-safe by construction: ``jsonable`` refuses anything else."""
    with translation.override(language):
        return jsonable({**_report_data(engagement, number, language), "firm": firm_data(language)})


def firm_data(language: str) -> dict:
    """The issuing firm as a PDF prints it, its logo inlined (a version keeps it as it was)."""
    firm = FirmProfile.current()
    data = firm.as_data(language)
    data["logo_uri"] = ""
    if firm.logo:
        try:
            with firm.logo.open("rb") as fh:
                raw = fh.read(2 * 1024 * 1024)
        except OSError:
            raw = b""
        kind = "png" if raw.startswith(b"\x89PNG") else "jpeg" if raw.startswith(b"\xff\xd8") else ""
        if kind:
            data["logo_uri"] = f"data:image/{kind};base64,{base64.b64encode(raw).decode()}"
    return data


CRITERION_LABELS = {
    "loss": gettext_noop("Loss curve against the GPU reference"),
    "training_function": gettext_noop("Training function (loss changes, weights written)"),
    "score": gettext_noop("Evaluation score"),
    "performance": gettext_noop("Performance"),
}
SCOPE_LABELS = {"training": gettext_noop("training"), "inference": gettext_noop("inference"),
                "tuning": gettext_noop("tuning")}


def _criterion(engagement, criterion) -> dict:
    """One criterion as the report shows it: its label, figures, verdict and source."""
    item = {"kind": criterion.kind, "label": gettext(CRITERION_LABELS[criterion.kind]), "verdict": criterion.verdict,
            "reason": criterion.reason, "result": criterion.result.as_dict() if criterion.result else None}
    subject, evidence = criterion.subject, criterion.evidence
    if criterion.kind == "loss" and subject is not None:
        item.update(reference=_source(subject.reference), npu=_source(subject.npu),
                    chart=_loss_chart(subject, engagement.loss_warmup_steps, float(engagement.loss_mre_threshold)))
    elif criterion.kind == "training_function":
        item.update(loss_changed=criterion.details.get("loss_changed"),
                    checkpoints=(criterion.details.get("checkpoints") or [])[:20], curve=_source(subject))
    elif criterion.kind == "score":
        item.update(dataset=subject.dataset, mode=subject.mode, direction=subject.get_direction_display(),
                    threshold=float(subject.threshold), baseline=subject.score,
                    migrated=evidence.score if evidence else None,
                    job=str(evidence.job.uuid) if evidence and evidence.job_id else None,
                    **_job_source(evidence.job if evidence else None, "evaluation"))
    elif criterion.kind == "performance":
        item.update(metric=subject.metric, unit=subject.unit, direction=subject.direction,
                    category=subject.get_category_display(),
                    source=(str(evidence.job.uuid) if getattr(evidence, "job_id", None) else None),
                    context=_benchmark_context(evidence), **_measurement_source(evidence))
    return item


def _benchmark_context(record) -> dict:
    """How a benchmark was run (concurrency, batch sizes, input/output lengths), when it was one."""
    common, performance = getattr(record, "common", None), getattr(record, "performance", None)
    if not isinstance(common, dict):
        return {}
    average = {name: (row or {}).get("average") for name, row in (performance or {}).items()}
    context = {"concurrency": common.get("Concurrency"), "requests": common.get("Total"),
               "prefill_batch": average.get("PrefillBatchsize"), "decode_batch": average.get("DecoderBatchsize"),
               "input_tokens": average.get("InputTokens"), "output_tokens": average.get("GeneratedTokens"),
               "data_source": common.get("DataSource"), "model_name": common.get("ModelName")}
    return {key: value for key, value in context.items() if value not in (None, "", "/")}


def _model(engagement, item) -> dict:
    model = item.model
    return {
        "name": model.name if model else engagement.code,
        "task_type": model.get_task_type_display() if model else "",
        "size": model.size if model else "",
        "precision": model.precision if model else "",
        "scope": [gettext(SCOPE_LABELS[key]) for key, on in item.scope.items() if on],
        "verdict": item.verdict,
        "criteria": [_criterion(engagement, criterion) for criterion in item.criteria],
        "out_of_scope": [{"label": gettext(CRITERION_LABELS[c.kind]),
                          "subject": str(c.subject) if c.subject is not None else ""} for c in item.out_of_scope],
    }


def _analyses(engagement) -> list[dict]:
    analyses = []
    for analysis in engagement.analyses.select_related("job")[:5]:
        handled = analysis.findings.exclude(fix=Finding.Fix.AUTO).order_by("file", "line", "id")
        analyses.append({
            "code_dir": analysis.code_dir, "files_scanned": analysis.files_scanned,
            "effort_person_days": float(analysis.effort_person_days),
            "job": str(analysis.job.uuid) if analysis.job_id else None,
            "counts": [{**row, "source": str(Finding.Source(row["source"]).label),
                        "category": _category(row["category"]), "fix": str(Finding.Fix(row["fix"]).label)}
                       for row in finding_counts(analysis)],
            "resolutions": [{"resolution": str(Finding.Resolution(row["resolution"]).label), "count": row["count"]}
                            for row in analysis.findings.values("resolution").annotate(count=Count("id"))
                            .order_by("resolution")],
            "open": analysis.findings.filter(resolution=Finding.Resolution.OPEN).count(),
            "total": analysis.findings.count(),
            "handled": [{"where": f"{f.file}:{f.line}" if f.line else f.file, "api": f.api,
                         "category": _category(f.category), "resolution": f.get_resolution_display(),
                         "note": f.resolution_note} for f in handled[:REPORT_FINDINGS]],
            "handled_total": handled.count(),
            **_job_source(analysis.job, "migration_analysis"),
        })
    return analyses


# Finding categories in the reader's language (the scanner's own keys are internal).
CATEGORIES = {
    "official_unsupported": gettext_noop("Unsupported API (official tool)"),
    "official_unknown": gettext_noop("Unknown API (official tool)"),
    "official_precision_advice": gettext_noop("Precision advice (official tool)"),
    "official_performance_advice": gettext_noop("Performance advice (official tool)"),
    "official_cuda_op": gettext_noop("CUDA operator (official tool)"),
    "official_other": gettext_noop("Other (official tool)"),
}
REPORT_FINDINGS = 300


def _category(key: str) -> str:
    return gettext(CATEGORIES[key]) if key in CATEGORIES else key.replace("_", " ")


def _tuning(engagement) -> list[dict]:
    return [{"stage": measure.stage.get_key_display(), "model": measure.model.name if measure.model else "",
             "change": measure.change, "metric": measure.metric, "unit": measure.unit,
             "direction": measure.direction, "before": measure.before, "after": measure.after, "gain": measure.gain}
            for measure in engagement.tuning_measures.select_related("stage", "model")]


def _checklist(engagement) -> list[dict]:
    """Per stage: its status, its required checklist items done or waived, and its deliverables."""
    stages = []
    deliverables = Deliverable.objects.filter(stage__engagement=engagement).order_by("original_name")
    by_stage: dict[int, list] = {}
    for d in deliverables:
        by_stage.setdefault(d.stage_id, []).append({"name": d.original_name, "size": d.size, "sha256": d.sha256,
                                                    "description": d.description})
    for stage in engagement.stages.order_by("order").prefetch_related("checklist"):
        items = [item for item in stage.checklist.all() if item.required]
        stages.append({"stage": stage.get_key_display(), "status": stage.get_status_display(),
                       "required": len(items), "closed": sum(1 for item in items if item.state != "open"),
                       "open_items": [item.title for item in items if item.state == "open"][:10],
                       "deliverables": by_stage.get(stage.pk, [])})
    return stages


def _report_data(engagement, number: int, language: str) -> dict:
    result = acceptance(engagement)
    models = [_model(engagement, item) for item in result["models"]]
    return {
        "version": number, "language": language, "rendered_at": timezone.localtime().isoformat(),
        "criteria_version": engagement.criteria_version,
        "engagement": {
            "code": engagement.code, "title": engagement.title, "contract_number": engagement.contract_number,
            "customer": engagement.customer.name, "source_platform": engagement.source_platform,
            "target_platform": engagement.target_platform, "framework": engagement.get_target_framework_display(),
            "start_date": engagement.start_date.isoformat(), "end_date": engagement.end_date.isoformat(),
            "loss_threshold": float(engagement.loss_mre_threshold), "warmup_steps": engagement.loss_warmup_steps,
            "scope": [str(label) for label in engagement.scope_labels()],
            "test_method": engagement.test_method, "reference_environment": engagement.reference_environment,
            "conclusions": engagement.conclusions,
        },
        "models": models,
        "excluded": [{"name": model.name, "reason": model.excluded_reason} for model in result["excluded"]],
        "datasets": sorted({c["dataset"] for m in models for c in m["criteria"] if c["kind"] == "score"}),
        "environment": _environment(engagement),
        "analyses": _analyses(engagement),
        "tuning": _tuning(engagement),
        "tuning_evidence": tuning_evidence(engagement),
        "checklist": _checklist(engagement),
        "loss_formula": gettext(LOSS_FORMULA),
        "blocking": blocking(result),
        "overall": result["overall"],
        "passed": result["overall"] == PASS,
    }


def _environment_jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters["pct"] = percent
    env.filters["readable"] = readable
    return env


JINJA = _environment_jinja()


def render_html(data: dict, signoff: dict | None = None, template: str = "acceptance.html") -> str:
    with translation.override(data["language"]):
        return JINJA.get_template(template).render(data=data, signoff=signoff)


def render_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
