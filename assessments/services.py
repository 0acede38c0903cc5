"""Turning a finished job's parsed result into the engagement's records.

``record_job_result`` runs inside the transaction that marks the job succeeded. Bulky parts
of the result (findings, the loss series) move into their records; the job keeps a summary.
"""

from decimal import Decimal

from django.db.models import Count

from .models import BenchmarkRun, EvaluationRun, Finding, LossCurve, MigrationAnalysis

OFFICIAL_FIX = {"unsupported": Finding.Fix.MANUAL, "cuda_op": Finding.Fix.AUTO}


def record_job_result(job) -> dict:
    """Create the records of a succeeded job; returns the summary the job keeps as its result."""
    recorder = RECORDERS.get(job.kind)
    return recorder(job, dict(job.result or {})) if recorder else job.result


def _record_analysis(job, result: dict) -> dict:
    effort = result.get("effort") or {}
    analysis = MigrationAnalysis.objects.create(
        engagement=job.engagement, stage=job.stage, job=job, code_dir=job.parameters.get("code_dir", ""),
        files_scanned=result.get("files_scanned") or 0,
        effort_person_days=Decimal(str(effort.get("person_days") or 0)).quantize(Decimal("0.1")),
        effort_basis=str(effort.get("basis", "")), official_tool_ran=bool(result.get("official_tool_ran")),
    )
    fixes = set(Finding.Fix.values)
    findings = [
        Finding(analysis=analysis, source=Finding.Source.SCANNER, category=str(f.get("category", ""))[:40],
                fix=f.get("fix") if f.get("fix") in fixes else Finding.Fix.REVIEW, file=str(f.get("file", ""))[:500],
                line=f.get("line") if isinstance(f.get("line"), int) and f["line"] >= 0 else None,
                api=str(f.get("api", ""))[:300], message=str(f.get("message", "")), message_zh=str(f.get("message_zh", "")))
        for f in result.pop("findings", [])
    ]
    findings += [
        Finding(analysis=analysis, source=Finding.Source.OFFICIAL, category=f"official_{row['kind']}",
                fix=OFFICIAL_FIX.get(row["kind"], Finding.Fix.REVIEW), file=(row.get("file") or "")[:500],
                line=row.get("start_line"), api=row.get("api", "")[:300], message=row.get("tips", ""))
        for row in result.pop("official", [])
    ]
    Finding.objects.bulk_create(findings, batch_size=1000)
    result["analysis_id"] = analysis.pk
    result["findings_count"] = len(findings)
    return result


def _record_training(job, result: dict) -> dict:
    curve = LossCurve(engagement=job.engagement, platform=LossCurve.Platform.NPU, source=LossCurve.Source.JOB,
                      job=job, label=f"{job.get_kind_display()} #{job.pk}", log_format=result.get("format", ""),
                      loss_key=result.get("loss_key", ""), throughput=result.get("throughput") or {},
                      checkpoints=result.get("checkpoints") or [], raw_sha256=result.get("log_sha256", ""),
                      created_by=job.started_by)
    losses = [float("nan") if v is None else v for v in result.pop("losses", [])]
    curve.set_series(result.pop("steps", []), losses)
    curve.save()
    result["loss_curve"] = str(curve.uuid)
    result["loss_changed"] = curve.loss_changed
    return result


def _record_benchmark(job, result: dict) -> dict:
    BenchmarkRun.objects.create(engagement=job.engagement, job=job, summary=result.get("summary") or {},
                                performance=result.get("performance") or {}, common=result.get("common") or {})
    return result


def _record_evaluation(job, result: dict) -> dict:
    EvaluationRun.objects.create(engagement=job.engagement, job=job, dataset=job.parameters.get("dataset", "")[:200],
                                 score=result["score"])
    return result


RECORDERS = {
    "migration_analysis": _record_analysis,
    "training_run": _record_training,
    "inference_benchmark": _record_benchmark,
    "evaluation": _record_evaluation,
}


def finding_counts(analysis: MigrationAnalysis) -> list[dict]:
    """Rows of (source, category, fix, count), like the official tool's summary table."""
    return list(analysis.findings.values("source", "category", "fix").annotate(count=Count("id"))
                .order_by("source", "category", "fix"))
