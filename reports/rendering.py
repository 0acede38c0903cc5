"""The acceptance test report: data gathered from the engagement's records (JSON-safe, stored
with every version), HTML from a Jinja2 template (autoescaped, strict undefined), and PDF
from the HTML with WeasyPrint. Charts are SVG drawn here, server-side.

Every figure carries its source: the job (uuid), the raw log's SHA-256 and the parser.
"""

from pathlib import Path

import jinja2
import numpy as np
from django.conf import settings
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from assessments.charts import downsample, polyline
from assessments.comparison import LOSS_FORMULA, PASS
from assessments.models import Finding
from assessments.services import acceptance_figures, finding_counts
from engagements.models import Deliverable
from workers import kinds
from workers.models import EnvSnapshot

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "reports" / "pdf"  # Jinja2, not Django
CHART_W, CHART_H, ERR_H = 640, 220, 110


def _source(curve) -> dict:
    if curve is None:
        return {}
    # A job's curve is named after the job in the report's language; an upload keeps its label.
    label = f"{curve.job.get_kind_display()} #{curve.job_id}" if curve.job_id else curve.label
    return {"label": label, "platform": curve.platform, "source": curve.get_source_display(), "sha256": curve.raw_sha256,
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


def _loss_chart(pair, skip: int) -> dict:
    """Both curves on common axes, and the relative error beneath, on the compared steps."""
    ref_steps, ref_losses = pair.reference.series()  # each curve is decoded once
    npu_steps, npu_losses = pair.npu.series()
    ref_s, ref_l = downsample(ref_steps, ref_losses)
    npu_s, npu_l = downsample(npu_steps, npu_losses)
    if not ref_s.size or not npu_s.size:
        return {}
    both_s, both_l = np.r_[ref_s, npu_s], np.r_[ref_l, npu_l]
    bounds = (float(both_s.min()), float(both_s.max()), float(both_l.min()), float(both_l.max()))
    common, ri, ni = np.intersect1d(ref_steps, npu_steps, assume_unique=True, return_indices=True)
    ref_c, npu_c = ref_losses[ri], npu_losses[ni]
    keep = (common > skip) & np.isfinite(ref_c) & np.isfinite(npu_c) & (ref_c != 0)
    err = np.abs(npu_c[keep] - ref_c[keep]) / np.abs(ref_c[keep])
    err_s, err = downsample(common[keep], err)
    err_max = float(err.max()) if err.size else 0.0
    return {
        "width": CHART_W, "height": CHART_H, "err_height": ERR_H, "bounds": bounds,
        "ref": polyline(ref_s, ref_l, CHART_W, CHART_H, 8, bounds),
        "npu": polyline(npu_s, npu_l, CHART_W, CHART_H, 8, bounds),
        "err": polyline(err_s, err, CHART_W, ERR_H, 8, (bounds[0], bounds[1], 0.0, err_max or 1.0)),
        "err_max": err_max,
    }


def _environment(engagement) -> dict | None:
    snapshot = (EnvSnapshot.objects.filter(job__engagement=engagement).select_related("host", "job")
                .order_by("-created_at").first())
    if snapshot is None:
        return None
    data = snapshot.data
    npus = data.get("npus") or []
    return {
        "host": snapshot.host.name, "taken_at": timezone.localtime(snapshot.created_at).isoformat(), "job": str(snapshot.job.uuid),
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
    version it renders."""
    with translation.override(language):
        return _report_data(engagement, number, language)


def _report_data(engagement, number: int, language: str) -> dict:
    figures = acceptance_figures(engagement)
    losses = []
    for item in figures["losses"]:
        pair, result = item["pair"], item["result"]
        losses.append({
            "model": pair.model.name if pair.model else "", "reference": _source(pair.reference),
            "npu": _source(pair.npu), "result": result.as_dict(), "chart": _loss_chart(pair, engagement.loss_warmup_steps),
        })
    scores = [{
        "dataset": item["baseline"].dataset, "baseline": item["baseline"].score, "mode": item["baseline"].mode,
        "migrated": item["run"].score if item["run"] else None, "job": str(item["run"].job.uuid) if item["run"] else None,
        "reason": item["result"].reason if item["result"] else gettext("No evaluation of this data set yet."),
        "result": item["result"].as_dict() if item["result"] else None,
        **_job_source(item["run"].job if item["run"] else None, "evaluation"),
    } for item in figures["scores"]]
    performance = [{
        "metric": item["baseline"].metric, "unit": item["baseline"].unit, "direction": item["baseline"].direction,
        "result": item["result"].as_dict(),
        "source": (str(item["source"].job.uuid) if getattr(item["source"], "job_id", None) else None),
        **_measurement_source(item["source"]),
    } for item in figures["performance"]]
    training = figures["training"]
    analyses = []
    for analysis in engagement.analyses.select_related("job")[:5]:
        analyses.append({
            "code_dir": analysis.code_dir, "files_scanned": analysis.files_scanned,
            "effort_person_days": str(analysis.effort_person_days), "job": str(analysis.job.uuid) if analysis.job_id else None,
            "counts": [{**row, "source": str(Finding.Source(row["source"]).label), "fix": str(Finding.Fix(row["fix"]).label)}
                       for row in finding_counts(analysis)],
            "resolutions": [{"resolution": str(Finding.Resolution(row["resolution"]).label), "count": row["count"]}
                            for row in analysis.findings.values("resolution").annotate(count=Count("id"))
                            .order_by("resolution")],
            "resolved": analysis.findings.filter(resolution="resolved").count(),
            "total": analysis.findings.count(),
            **_job_source(analysis.job, "migration_analysis"),
        })
    deliverables = [{"stage": d.stage.key, "name": d.original_name, "size": d.size, "sha256": d.sha256,
                     "description": d.description}
                    for d in Deliverable.objects.filter(stage__engagement=engagement).select_related("stage")
                    .order_by("stage__order", "original_name")]
    return {
        "version": number, "language": language, "rendered_at": timezone.localtime().isoformat(),
        "engagement": {
            "code": engagement.code, "title": engagement.title, "contract_number": engagement.contract_number,
            "customer": engagement.customer.name, "source_platform": engagement.source_platform,
            "target_platform": engagement.target_platform, "framework": engagement.get_target_framework_display(),
            "start_date": engagement.start_date.isoformat(), "end_date": engagement.end_date.isoformat(),
            "loss_threshold": float(engagement.loss_mre_threshold), "score_threshold": float(engagement.score_diff_threshold),
            "warmup_steps": engagement.loss_warmup_steps,
        },
        "models": [{"name": m.name, "task_type": m.get_task_type_display(), "size": m.size, "scope": m.get_scope_display()}
                   for m in engagement.migration_models.all()],
        "environment": _environment(engagement),
        "analyses": analyses,
        "loss_formula": gettext(LOSS_FORMULA),
        "losses": losses, "scores": scores, "performance": performance,
        "training": {"verdict": training["verdict"], "loss_changed": training["loss_changed"],
                     "checkpoints": training["checkpoints"][:20], "curve": _source(training["curve"])},
        "deliverables": deliverables,
        "overall": figures["overall"],
        "passed": figures["overall"] == PASS,
    }


def _environment_jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters["pct"] = lambda value, digits=3: "—" if value is None else f"{value * 100:.{digits}f}%"
    return env


JINJA = _environment_jinja()


def render_html(data: dict, signoff: dict | None = None, template: str = "acceptance.html") -> str:
    with translation.override(data["language"]):
        return JINJA.get_template(template).render(data=data, signoff=signoff)


def render_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
