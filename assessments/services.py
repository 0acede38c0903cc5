"""The engagement's assessment records: from finished jobs, from uploaded logs, and the
acceptance figures computed from them.

``record_job_result`` runs inside the transaction that marks the job succeeded. Bulky parts
of the result (findings, the loss series) move into their records; the job keeps a summary.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db.models import Count
from django.utils.translation import gettext as _

from workers.parsers.training_log import parse_training_log

from .comparison import FAIL, PASS, compare_loss, compare_performance, compare_score
from .models import BenchmarkRun, CurvePair, EvaluationRun, Finding, LossCurve, MigrationAnalysis, ScoreBaseline

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


# --- acceptance inputs ------------------------------------------------------------------------

def max_log_bytes() -> int:
    return settings.CURVE_LOG_MAX_BYTES


def check_add_curve_from_log(user, engagement, raw: bytes, *, platform: str, label: str, source: str = "upload",
                             pattern: str | None = None, filename: str = "training.log", model=None) -> LossCurve:
    """A loss curve from an uploaded or pushed training log, parsed like a training job's log.
    The raw log is kept with its SHA-256."""

    if not engagement.is_editable_by(user):
        raise PermissionDenied(_("You can view this engagement but not change it."))
    if platform not in LossCurve.Platform.values:
        raise ValidationError({"platform": _("Choose NPU or GPU.")})
    if not raw:
        raise ValidationError({"log": _("The log is empty.")})
    if len(raw) > max_log_bytes():
        raise ValidationError({"log": _("The log is larger than %(mb)s MB.") % {"mb": max_log_bytes() // 2**20}})
    if b"\x00" in raw[:65536]:
        raise ValidationError({"log": _("This is a binary file, not a training log.")})
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    if pattern:
        try:
            if re.compile(pattern).groups < 1:
                raise ValidationError({"pattern": _("The pattern needs a group that captures the number.")})
        except re.error as exc:
            raise ValidationError({"pattern": _("Not a valid regular expression: %(error)s") % {"error": exc}}) from None
    parsed = parse_training_log(raw.decode("utf-8", errors="replace"), pattern=pattern or None)
    if not parsed.steps:
        raise ValidationError({"log": _("No loss values were found in the log: give a loss pattern for this format.")})
    curve = LossCurve(engagement=engagement, model=model, platform=platform, source=source, label=label[:200],
                      log_format=parsed.format, loss_key=parsed.loss_key, throughput=parsed.throughput_dict(),
                      raw_sha256=LossCurve.sha256(raw), created_by=user)
    curve.set_series(parsed.steps, parsed.losses)
    curve.raw_log.save(filename.rsplit("/", 1)[-1][:100] or "training.log", ContentFile(raw), save=False)
    curve.save()
    return curve


def check_pair_curves(user, engagement, reference: LossCurve, npu: LossCurve, model=None) -> CurvePair:
    if not engagement.is_editable_by(user):
        raise PermissionDenied(_("You can view this engagement but not change it."))
    if reference.engagement_id != engagement.pk or npu.engagement_id != engagement.pk:
        raise ValidationError(_("Both curves must belong to this engagement."))
    if reference.platform != LossCurve.Platform.GPU or npu.platform != LossCurve.Platform.NPU:
        raise ValidationError(_("Pair a GPU reference curve with an NPU curve."))
    pair, _created = CurvePair.objects.get_or_create(engagement=engagement, reference=reference, npu=npu,
                                                     defaults={"created_by": user, "model": model})
    return pair


def check_unpair_curves(user, pair: CurvePair) -> None:
    """Remove a comparison paired by mistake; the curves themselves stay. Reports already
    rendered keep the figures they were rendered with."""
    if not pair.engagement.is_editable_by(user):
        raise PermissionDenied(_("You can view this engagement but not change it."))
    pair.delete()


def check_set_score_baseline(user, engagement, dataset: str, score, mode: str = "relative") -> ScoreBaseline:
    if not engagement.is_editable_by(user):
        raise PermissionDenied(_("You can view this engagement but not change it."))
    baseline = ScoreBaseline.objects.filter(engagement=engagement, dataset=dataset.strip()).first() or \
        ScoreBaseline(engagement=engagement, dataset=dataset.strip())
    baseline.score, baseline.mode = score, mode
    baseline.full_clean(validate_constraints=False)
    baseline.save()
    return baseline


# --- acceptance figures -----------------------------------------------------------------------

def _measured(metric: str, engagement) -> tuple[float | None, object]:
    """The latest measurement of a baseline's metric, and the record it came from."""
    key = metric.split("(")[0].strip()
    for run in engagement.benchmark_runs.select_related("job").order_by("-created_at"):
        for table in (run.summary, {k: (v or {}).get("average") for k, v in run.performance.items()}, run.common):
            value = table.get(key) if isinstance(table, dict) else None
            if isinstance(value, (int, float)):
                return float(value), run
    for curve in engagement.loss_curves.filter(platform=LossCurve.Platform.NPU).order_by("-created_at"):
        value = (curve.throughput or {}).get(key)
        if isinstance(value, (int, float)):
            return float(value), curve
    return None, None


def acceptance_figures(engagement) -> dict:
    """Every comparison of the engagement's acceptance, with verdicts and their sources."""

    threshold = float(engagement.loss_mre_threshold)
    losses = []
    for pair in engagement.curve_pairs.select_related("reference__job", "npu__job", "model"):
        ref_steps, ref_losses = pair.reference.series()
        npu_steps, npu_losses = pair.npu.series()
        result = compare_loss(ref_steps, ref_losses, npu_steps, npu_losses, skip=engagement.loss_warmup_steps,
                              threshold=threshold)
        losses.append({"pair": pair, "result": result})
    scores = []
    for baseline in engagement.score_baselines.all():
        run = engagement.evaluation_runs.filter(dataset=baseline.dataset).select_related("job").first()
        result = compare_score(baseline.score, run.score, threshold=float(engagement.score_diff_threshold),
                               mode=baseline.mode) if run else None
        scores.append({"baseline": baseline, "run": run, "result": result})
    performance = []
    for baseline in engagement.baselines.all():
        value, source = _measured(baseline.metric, engagement)
        performance.append({"baseline": baseline, "source": source,
                            "result": compare_performance(baseline.metric, baseline.direction, baseline.value, value)})
    npu_curve = engagement.loss_curves.filter(platform=LossCurve.Platform.NPU, source=LossCurve.Source.JOB).first()
    training = {"curve": npu_curve, "loss_changed": bool(npu_curve and npu_curve.loss_changed),
                "checkpoints": list(npu_curve.checkpoints) if npu_curve else []}
    training["verdict"] = PASS if training["loss_changed"] and training["checkpoints"] else FAIL
    verdicts = [item["result"].verdict for item in losses + performance] + \
               [item["result"].verdict if item["result"] else "cannot_compare" for item in scores] + [training["verdict"]]
    overall = PASS if verdicts and all(v == PASS for v in verdicts) and losses else FAIL
    return {"losses": losses, "scores": scores, "performance": performance, "training": training, "overall": overall}
