"""The engagement's assessment records from uploaded logs and baselines, and the acceptance
figures computed from them. (A finished job's records are made by its kind's ``record``, in
``assessments/kinds/``.)"""


from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from common import access
from common.patterns import PatternError, compile_user_pattern
from engagements.services import criteria_changed

from .acceptance import acceptance
from .models import CurvePair, Finding, LossCurve, MigrationAnalysis, ScoreBaseline, TuningMeasure
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
            if compile_user_pattern(pattern).groups < 1:
                raise ValidationError({"pattern": _("The pattern needs a group that captures the number.")})
        except PatternError as exc:
            raise ValidationError(
                {"pattern": _("Not a valid regular expression: %(error)s") % {"error": exc}}
            ) from None
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


def check_set_score_baseline(user, engagement, dataset: str, score, mode: str = "relative", *, model=None,
                             threshold=None, direction: str = "higher") -> ScoreBaseline:
    """The pre-migration (or GPU) score a model must keep on a data set. ``threshold`` is in
    per cent (relative) or points (absolute); by default the engagement's threshold."""
    access.require(user, "change", engagement)
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    dataset = (dataset or "").strip()
    baseline = ScoreBaseline.objects.filter(engagement=engagement, model=model, dataset=dataset).first() or \
        ScoreBaseline(engagement=engagement, model=model, dataset=dataset)
    baseline.score, baseline.mode, baseline.direction = score, mode, direction
    if threshold is not None:
        baseline.threshold = threshold
    elif baseline.pk is None and mode == ScoreBaseline.Mode.RELATIVE:
        baseline.threshold = engagement.score_diff_threshold * 100
    baseline.full_clean(validate_constraints=False)
    with transaction.atomic():
        baseline.save()
        criteria_changed(engagement)
    return baseline


def check_delete_score_baseline(user, baseline: ScoreBaseline) -> None:
    access.require(user, "change", baseline)
    with transaction.atomic():
        baseline.delete()
        criteria_changed(baseline.engagement)


# --- findings: how each was handled -------------------------------------------------------------

def check_resolve_findings(user, findings, resolution: str, note: str = "") -> int:
    """Set the resolution (and how it was handled) of one finding or many (a filtered list);
    returns how many changed. A finding closed other than "fixed" needs a note saying why."""
    findings = list(findings.select_related("analysis__engagement"))
    for engagement in {finding.analysis.engagement for finding in findings}:
        access.require(user, "change", engagement)
    if resolution not in Finding.Resolution.values:
        raise ValidationError({"resolution": _("Choose a resolution.")})
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    needs_note = resolution in (Finding.Resolution.WORKAROUND, Finding.Resolution.NOT_NEEDED,
                                Finding.Resolution.WONT_FIX)
    if needs_note and not note:
        raise ValidationError({"note": _("Say how it was handled or why it is not fixed.")})
    now = timezone.now()
    ids = [finding.pk for finding in findings]
    return Finding.objects.filter(pk__in=ids).update(
        resolution=resolution, resolution_note=note,
        resolved_by=None if resolution == Finding.Resolution.OPEN else user,
        resolved_at=None if resolution == Finding.Resolution.OPEN else now)


# --- tuning measures --------------------------------------------------------------------------

TUNING_FIELDS = ("model", "change", "metric", "unit", "direction", "before", "after")


def check_save_tuning_measure(user, stage, fields: dict, measure: TuningMeasure | None = None) -> TuningMeasure:
    """A tuning measure taken on a stage: what changed, for which model, the figure before and after."""
    access.require(user, "change", stage.engagement)
    model = fields.get("model")
    if model is not None and model.engagement_id != stage.engagement_id:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    measure = measure or TuningMeasure(engagement=stage.engagement, stage=stage, created_by=user)
    for name in TUNING_FIELDS:
        if name in fields:
            setattr(measure, name, fields[name])
    measure.full_clean()
    measure.save()
    return measure


def check_delete_tuning_measure(user, measure: TuningMeasure) -> None:
    access.require(user, "change", measure)
    measure.delete()


# --- acceptance figures -----------------------------------------------------------------------

def acceptance_figures(engagement) -> dict:
    """Every model's acceptance criteria with verdicts and their sources (``acceptance.acceptance``)."""
    return acceptance(engagement)
