"""Acceptance, per model under migration: which criteria are in scope, the evidence for each
and its verdict (DOMAIN.md "Acceptance"; the source documents accept each model).

A model's criteria follow from the engagement's scope and the model's own:

- training in scope (training migration, and the model is trained): every GPU-reference /
  NPU loss-curve pair of the model, MRE under the threshold after the warm-up; and training
  function verification (the NPU loss changes, weights are written);
- training or inference in scope: the evaluation scores against their baselines;
- performance baselines: a training figure when training or tuning is in scope, an
  inference figure when inference or tuning is;

A criterion out of scope is listed as such and never fails. A model excluded from acceptance
(with its reason) has no criteria. Evidence names its model; evidence that names none belongs
to the engagement's only model, when it has one. An engagement without models is accepted as
one whole ("the engagement").
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from common.units import METRICS, metric_key

from .comparison import CANNOT, FAIL, NOT_COMPARABLE, PASS, compare_loss, compare_performance, compare_score
from .models import LossCurve

INCOMPLETE = "incomplete"  # nothing failed, but some evidence is missing or not comparable
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Criterion:
    """One acceptance criterion of one model: its kind, what it compares, the verdict."""

    kind: str  # loss | training_function | score | performance
    verdict: str
    result: object = None  # the comparison (LossComparison, ScoreComparison, PerformanceComparison) or None
    subject: object = None  # the pair, baseline or curve it is about
    evidence: object = None  # the record the figure came from (curve, evaluation run, benchmark run)
    reason: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class ModelAcceptance:
    model: object  # a MigrationModel, or None for an engagement without models
    scope: dict
    criteria: list[Criterion] = field(default_factory=list)
    out_of_scope: list[Criterion] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return combined([criterion.verdict for criterion in self.criteria])


def combined(verdicts: list[str]) -> str:
    """PASS when every verdict passes; FAIL when any fails; else (none, or some missing) INCOMPLETE."""
    if not verdicts:
        return INCOMPLETE
    if FAIL in verdicts:
        return FAIL
    return PASS if all(v == PASS for v in verdicts) else INCOMPLETE


def model_scope(engagement, model) -> dict:
    """What is accepted of a model: its own scope within the engagement's."""
    trained = model is None or model.scope in ("training", "both")
    served = model is None or model.scope in ("inference", "both")
    return {"training": bool(engagement.scope_training_migration and trained),
            "inference": bool(engagement.scope_inference_migration and served),
            "tuning": bool(engagement.scope_tuning)}


class _Evidence:
    """The engagement's records, fetched once, handed out per model."""

    def __init__(self, engagement, included: list):
        self.sole = included[0] if len(included) == 1 else None
        self.whole = not included  # no models: everything is the engagement's
        self.pairs = list(engagement.curve_pairs.select_related("reference__job", "npu__job", "model"))
        self.npu_curves = list(engagement.loss_curves.filter(platform=LossCurve.Platform.NPU).select_related("job"))
        self.npu_job_curves = [curve for curve in self.npu_curves if curve.source == LossCurve.Source.JOB]
        self.score_baselines = list(engagement.score_baselines.all())
        self.evaluations = list(engagement.evaluation_runs.select_related("job").order_by("-created_at"))
        self.performance_baselines = list(engagement.baselines.all())
        self.benchmarks = list(engagement.benchmark_runs.select_related("job").order_by("-created_at"))

    def mine(self, record, model) -> bool:
        model_id = getattr(record, "model_id", None)
        if self.whole:
            return True
        return model_id == model.pk or (model_id is None and self.sole is not None and self.sole.pk == model.pk)

    def of(self, records, model) -> list:
        return [record for record in records if self.mine(record, model)]


def _measurement(metric: str, runs, curves) -> tuple[float | None, str, object]:
    """The latest measurement of a baseline's metric, its unit and the record it came from."""
    key = metric_key(metric)
    for run in runs:
        averages = {name: (row or {}).get("average") for name, row in (run.performance or {}).items()}
        for table in (run.summary, averages, run.common):
            value = table.get(key) if isinstance(table, dict) else None
            if isinstance(value, (int, float)):
                return float(value), METRICS.get(key, ""), run
    for curve in curves:
        value = (curve.throughput or {}).get(key)
        if isinstance(value, (int, float)):
            return float(value), METRICS.get(key, ""), curve
    return None, METRICS.get(key, ""), None


def _loss_criteria(engagement, pairs) -> list[Criterion]:
    threshold = float(engagement.loss_mre_threshold)
    criteria = []
    for pair in pairs:
        ref_steps, ref_losses = pair.reference.series()
        npu_steps, npu_losses = pair.npu.series()
        result = compare_loss(ref_steps, ref_losses, npu_steps, npu_losses, skip=engagement.loss_warmup_steps,
                              threshold=threshold)
        criteria.append(Criterion("loss", result.verdict, result, subject=pair, evidence=pair.npu,
                                  reason=result.reason))
    if not criteria:
        criteria.append(Criterion("loss", CANNOT, reason=_("No GPU reference curve is paired with an NPU curve yet.")))
    return criteria


def _training_function(curves) -> Criterion:
    curve = curves[0] if curves else None
    if curve is None:
        return Criterion("training_function", CANNOT, reason=_("No training run on the NPU yet."))
    loss_changed, checkpoints = curve.loss_changed, list(curve.checkpoints or [])
    verdict = PASS if loss_changed and checkpoints else FAIL
    reason = "" if verdict == PASS else (_("The loss did not change.") if not loss_changed
                                         else _("The run wrote no weight files."))
    return Criterion("training_function", verdict, subject=curve, evidence=curve, reason=reason,
                     details={"loss_changed": loss_changed, "checkpoints": checkpoints})


def _score_criteria(baselines, evaluations) -> list[Criterion]:
    criteria = []
    for baseline in baselines:
        run = next((run for run in evaluations if run.dataset == baseline.dataset), None)
        if run is None:
            criteria.append(Criterion("score", CANNOT, subject=baseline,
                                      reason=_("No evaluation of this data set yet.")))
            continue
        result = compare_score(baseline.score, run.score, threshold=float(baseline.threshold), mode=baseline.mode,
                               direction=baseline.direction)
        criteria.append(Criterion("score", result.verdict, result, subject=baseline, evidence=run,
                                  reason=result.reason))
    return criteria


def _performance_criterion(baseline, runs, curves) -> Criterion:
    value, unit, source = _measurement(baseline.metric, runs, curves)
    result = compare_performance(baseline.metric, baseline.direction, baseline.value, value, unit=baseline.unit,
                                 measured_unit=unit, required_fraction=float(baseline.required_fraction))
    return Criterion("performance", result.verdict, result, subject=baseline, evidence=source, reason=result.reason)


def acceptance(engagement) -> dict:
    """Every model's acceptance and the engagement's overall verdict.

    Returns ``{"models": [ModelAcceptance], "excluded": [MigrationModel], "overall": verdict}``
    where the overall verdict is PASS only when every accepted model passes.
    """
    models = list(engagement.migration_models.all())
    included = [model for model in models if not model.excluded_reason.strip()]
    excluded = [model for model in models if model.excluded_reason.strip()]
    evidence = _Evidence(engagement, included)
    results = []
    for model in (included or ([None] if not models else [])):
        scope = model_scope(engagement, model)
        item = ModelAcceptance(model=model, scope=scope)
        if scope["training"]:
            item.criteria += _loss_criteria(engagement, evidence.of(evidence.pairs, model))
            item.criteria.append(_training_function(evidence.of(evidence.npu_job_curves, model)))
        scores = _score_criteria(evidence.of(evidence.score_baselines, model), evidence.of(evidence.evaluations, model))
        (item.criteria if scope["training"] or scope["inference"] else item.out_of_scope).extend(scores)
        runs, curves = evidence.of(evidence.benchmarks, model), evidence.of(evidence.npu_curves, model)
        for baseline in evidence.of(evidence.performance_baselines, model):
            criterion = _performance_criterion(baseline, runs, curves)
            measured_in_scope = scope["tuning"] or scope[baseline.category]
            (item.criteria if measured_in_scope else item.out_of_scope).append(criterion)
        for criterion in item.out_of_scope:
            criterion.verdict = OUT_OF_SCOPE
        results.append(item)
    overall = combined([item.verdict for item in results]) if results else INCOMPLETE
    return {"models": results, "excluded": excluded, "overall": overall}


def blocking(result: dict) -> list[str]:
    """Why a report with this acceptance cannot be issued: missing or not comparable evidence."""
    reasons = []
    for item in result["models"]:
        for criterion in item.criteria:
            if criterion.verdict in (CANNOT, NOT_COMPARABLE):
                reasons.append(criterion.reason)
    return reasons
