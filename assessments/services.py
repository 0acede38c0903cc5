"""The engagement's assessment records from uploaded logs and baselines, and the acceptance
figures computed from them. (A finished job's records are made by its kind's ``record``, in
``assessments/kinds/``.)"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Count
from django.utils.translation import gettext as _

from common import access

from .comparison import FAIL, PASS, compare_loss, compare_performance, compare_score
from .models import CurvePair, LossCurve, MigrationAnalysis, ScoreBaseline
from .parsers.training_log import parse_training_log


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

    access.require(user, "change", engagement)
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
    access.require(user, "change", engagement)
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
    access.require(user, "change", pair)
    pair.delete()


def check_set_score_baseline(user, engagement, dataset: str, score, mode: str = "relative") -> ScoreBaseline:
    access.require(user, "change", engagement)
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
