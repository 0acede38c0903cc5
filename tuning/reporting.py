"""What the acceptance report shows of the tuning evidence, as plain JSON in the report's
language (``reports.rendering`` calls ``report_section`` inside ``translation.override``):
a summary of the accuracy comparisons for the precision results, and the tuning measures
with the evidence their figures were computed from."""

from django.utils.translation import gettext

from common.jsonsafe import jsonable

from .models import AccuracyComparison, MeasureEvidence, Source

REPORT_COMPARISONS = 20


def _source(record, parser: str) -> dict:
    if record.job_id:
        return {"source_kind": str(record.job.job_kind.label), "job": str(record.job.uuid), "file": "",
                "sha256": record.sha256, "parser": parser}
    return {"source_kind": gettext("uploaded file"), "job": None, "file": record.filename, "sha256": record.sha256,
            "parser": parser}


def _comparison(c: AccuracyComparison) -> dict:
    first = c.first_mismatch or {}
    return {
        "label": str(c), "model": c.model.name if c.model else "", "format": c.format, "mode": c.mode,
        "rows": c.rows, "passed": c.count("pass"), "warnings": c.count("warning"), "errors": c.count("error"),
        "unmatched": c.count("unmatched"), "pass_share": c.pass_share,
        "first_mismatch": {"op": c.first_mismatch_op, "name": first.get("name", ""), "order": first.get("order"),
                           "cosine": first.get("cosine"), "max_abs_err": first.get("max_abs_err")} if first else None,
        "overflows": c.overflows if c.overflow_checked else None,
        "first_overflow": (c.first_overflow or {}).get("name") if c.first_overflow else None,
        **_source(c, "assessments.parsers.msprobe"),
    }


def _evidence_records(e: MeasureEvidence) -> list[dict]:
    out = []
    for role, record, parser in (
            ("before", e.profile_before, "assessments.parsers.profiler"),
            ("after", e.profile_after, "assessments.parsers.profiler"),
            ("before", e.accuracy_before, "assessments.parsers.msprobe"),
            ("after", e.accuracy_after, "assessments.parsers.msprobe")):
        if record is not None:
            out.append({"role": gettext("before") if role == "before" else gettext("after"), "label": str(record),
                        **_source(record, parser)})
    for role, run in (("before", e.benchmark_before), ("after", e.benchmark_after)):
        if run is not None:
            out.append({"role": gettext("before") if role == "before" else gettext("after"),
                        "label": f"{run.job.job_kind.label} #{run.job_id}", "source_kind": str(run.job.job_kind.label),
                        "job": str(run.job.uuid), "file": "", "sha256": "", "parser": run.job.job_kind.parser})
    return out


def _measure(e: MeasureEvidence) -> dict:
    m = e.measure
    details = e.details or {}
    return {
        "stage": m.stage.get_key_display(), "model": m.model.name if m.model else "", "change": m.change,
        "evidence": str(e.get_kind_display()), "metric": m.metric, "unit": m.unit, "direction": m.direction,
        "before": m.before, "after": m.after, "gain": m.gain, "records": _evidence_records(e),
        "bound_before": details.get("bound_before"), "bound_after": details.get("bound_after"),
    }


def report_section(engagement) -> dict:
    """``{"accuracy": [...], "measures": [...]}`` for the acceptance report (JSON-safe)."""
    comparisons = (AccuracyComparison.objects.filter(engagement=engagement)
                   .select_related("model", "job").order_by("created_at")[:REPORT_COMPARISONS])
    evidence = (MeasureEvidence.objects.filter(measure__engagement=engagement)
                .select_related("measure__stage", "measure__model", "profile_before__job", "profile_after__job",
                                "accuracy_before__job", "accuracy_after__job", "benchmark_before__job",
                                "benchmark_after__job")
                .order_by("measure__stage__order", "measure__created_at"))
    return jsonable({"accuracy": [_comparison(c) for c in comparisons],
                     "measures": [_measure(e) for e in evidence],
                     "sources": {"upload": str(Source.UPLOAD.label), "job": str(Source.JOB.label)}},
                    "tuning_evidence")
