"""The acceptance comparisons, as pure functions of numbers.

Loss curves (DOMAIN.md "Acceptance"; FlagPerf / MindSpeed-LLM practice): the NPU curve is
compared with the GPU reference on the steps both logged, after the warm-up (steps up to
``skip`` are left out, so ``skip=20`` compares from step 21 on):

    relative error at step s  = |npu(s) - ref(s)| / |ref(s)|
    mean relative error (MRE) = mean over the compared steps
    verdict                   = PASS when MRE < threshold, else FAIL

NaN or inf in a compared step is a FAIL with its step (in the warm-up too: a curve that
diverged early is no match); a zero reference value, or fewer than ``min_points`` common
steps, means the curves cannot be compared. Never a silent number. Reasons and formulas are
in the active language (``translation.override`` around a call picks it).
"""

from dataclasses import asdict, dataclass, field

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from common.units import convert

PASS, FAIL, CANNOT = "pass", "fail", "cannot_compare"
LOSS_FORMULA = gettext_noop("MRE = mean(|npu(s) - ref(s)| / |ref(s)|) over common steps s > skip")
SCORE_FORMULAS = {
    "relative": gettext_noop("deviation = |migrated - baseline| / |baseline|, in per cent"),
    "absolute": gettext_noop("deviation = |migrated - baseline|, in points"),
}


@dataclass
class LossComparison:
    verdict: str
    reason: str = ""
    skip: int = 20
    threshold: float = 0.02
    formula: str = LOSS_FORMULA
    compared_points: int = 0
    first_step: int | None = None
    last_step: int | None = None
    ref_points: int = 0
    npu_points: int = 0
    ref_interval: int | None = None
    npu_interval: int | None = None
    interval_note: str = ""
    mean_relative_error: float | None = None
    max_relative_error: float | None = None
    max_relative_error_step: int | None = None
    mean_absolute_error: float | None = None
    windows: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _interval(steps: np.ndarray) -> int | None:
    if steps.size < 2:
        return None
    return int(np.median(np.diff(steps)))


def _series(steps, losses) -> tuple[np.ndarray, np.ndarray]:
    steps = np.asarray(steps, dtype=np.int64)
    losses = np.asarray(losses, dtype=np.float64)
    if steps.shape != losses.shape:
        raise ValueError("steps and losses differ in length")
    order = np.argsort(steps, kind="stable")
    steps, losses = steps[order], losses[order]
    last = np.r_[steps[1:] != steps[:-1], True]  # a step logged twice keeps its last value
    return steps[last], losses[last]


def compare_loss(ref_steps, ref_losses, npu_steps, npu_losses, *, skip: int = 20, threshold: float = 0.02,
                 min_points: int = 10, windows: int = 10) -> LossComparison:
    ref_s, ref_l = _series(ref_steps, ref_losses)
    npu_s, npu_l = _series(npu_steps, npu_losses)
    result = LossComparison(verdict=CANNOT, skip=skip, threshold=float(threshold), ref_points=int(ref_s.size),
                            npu_points=int(npu_s.size), ref_interval=_interval(ref_s), npu_interval=_interval(npu_s),
                            formula=_(LOSS_FORMULA))
    if result.ref_interval and result.npu_interval and result.ref_interval != result.npu_interval:
        result.interval_note = _("The curves were logged at different intervals (reference every %(ref)s steps, NPU "
                                 "every %(npu)s); compared on the steps both logged.") % {
            "ref": result.ref_interval, "npu": result.npu_interval}
    common, ref_at, npu_at = np.intersect1d(ref_s, npu_s, assume_unique=True, return_indices=True)
    all_ref, all_npu = ref_l[ref_at], npu_l[npu_at]
    keep = common > skip
    all_common, common, ref_v, npu_v = common, common[keep], all_ref[keep], all_npu[keep]
    result.compared_points = int(common.size)
    if common.size:
        result.first_step, result.last_step = int(common[0]), int(common[-1])
    if common.size < min_points:
        result.reason = _("Only %(n)s common steps after step %(skip)s; at least %(min)s are needed to compare.") % {
            "n": common.size, "skip": skip, "min": min_points}
        return result
    bad = ~np.isfinite(all_ref) | ~np.isfinite(all_npu)  # the warm-up counts here
    if bad.any():
        first = int(np.argmax(bad))
        step = int(all_common[first])
        result.verdict = FAIL
        if not np.isfinite(all_ref[first]):
            result.reason = _("The reference loss is NaN or infinite at step %(step)s (%(n)s steps in all).")
        else:
            result.reason = _("The NPU loss is NaN or infinite at step %(step)s (%(n)s steps in all).")
        result.reason %= {"step": step, "n": int(bad.sum())}
        return result
    zero = ref_v == 0
    if zero.any():
        result.reason = _("The reference loss is 0 at step %(step)s: the relative error is undefined there.") % {
            "step": int(common[np.argmax(zero)])}
        return result
    absolute = np.abs(npu_v - ref_v)
    relative = absolute / np.abs(ref_v)
    worst = int(np.argmax(relative))
    result.mean_relative_error = float(relative.mean())
    result.max_relative_error = float(relative[worst])
    result.max_relative_error_step = int(common[worst])
    result.mean_absolute_error = float(absolute.mean())
    for chunk in np.array_split(np.arange(common.size), min(windows, common.size)):
        result.windows.append({"from_step": int(common[chunk[0]]), "to_step": int(common[chunk[-1]]),
                               "points": int(chunk.size), "mean_relative_error": float(relative[chunk].mean())})
    result.verdict = PASS if result.mean_relative_error < threshold else FAIL
    if result.verdict == FAIL:
        result.reason = _("The mean relative error %(mre)s is not below the threshold %(threshold)s.") % {
            "mre": f"{result.mean_relative_error:.3%}", "threshold": f"{threshold:.2%}"}
    return result


@dataclass
class ScoreComparison:
    verdict: str
    baseline: float
    migrated: float
    mode: str
    threshold: float  # in the mode's unit: per cent (relative) or points (absolute)
    direction: str = "higher"
    difference: float | None = None  # in the mode's unit, signed (migrated - baseline)
    better_than_baseline: bool = False
    formula: str = ""
    worked: str = ""  # the formula with the figures put in
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


SCORE_DIRECTIONS = ("higher", "lower", "two_sided")


def _figure(value: float) -> str:
    return f"{value:.4g}"


def compare_score(baseline: float, migrated: float, *, threshold: float = 2.0, mode: str = "relative",
                  direction: str = "higher") -> ScoreComparison:
    """The migrated evaluation score against the pre-migration (or GPU) score.

    - relative: deviation = |migrated - baseline| / |baseline|, in per cent;
    - absolute: deviation = |migrated - baseline|, in points.
    ``threshold`` is in that unit (2.0 = 2% or 2 points). With ``direction="higher"`` (the
    default: higher is better) only a drop counts: a score better than the baseline by more
    than the threshold passes, marked so; "lower" is the mirror (a rise counts); "two_sided"
    fails any deviation of the threshold or more.
    """
    if mode not in SCORE_FORMULAS:
        raise ValueError(f"unknown mode {mode!r}")
    if direction not in SCORE_DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    result = ScoreComparison(verdict=CANNOT, baseline=float(baseline), migrated=float(migrated), mode=mode,
                             threshold=float(threshold), direction=direction, formula=_(SCORE_FORMULAS[mode]))
    if not (np.isfinite(result.baseline) and np.isfinite(result.migrated)):
        result.verdict, result.reason = FAIL, _("A score is NaN or infinite.")
        return result
    unit = "%" if mode == "relative" else _(" points")
    if mode == "relative":
        if result.baseline == 0:
            result.reason = _("The baseline score is 0: a relative difference is undefined; compare in points.")
            return result
        difference = (result.migrated - result.baseline) / abs(result.baseline) * 100
        result.worked = (f"|{_figure(result.migrated)} - {_figure(result.baseline)}| / |{_figure(result.baseline)}| "
                         f"= {abs(difference):.3g}%")
    else:
        difference = result.migrated - result.baseline
        result.worked = f"|{_figure(result.migrated)} - {_figure(result.baseline)}| = {abs(difference):.3g}{unit}"
    result.difference = difference
    worse = {"higher": -difference, "lower": difference, "two_sided": abs(difference)}[direction]
    result.verdict = PASS if worse < result.threshold else FAIL
    result.better_than_baseline = direction != "two_sided" and -worse >= result.threshold
    result.worked += f" {'<' if abs(difference) < result.threshold else '≥'} {_figure(result.threshold)}{unit}"
    if result.better_than_baseline:
        result.reason = _("Better than the baseline.")
    elif result.verdict == FAIL:
        result.reason = _(
            "The score is %(diff)s%(unit)s from the baseline; the threshold is %(threshold)s%(unit)s."
        ) % {"diff": f"{difference:+.3g}", "threshold": _figure(result.threshold), "unit": unit}
    return result


NOT_COMPARABLE = "not_comparable"


@dataclass
class PerformanceComparison:
    verdict: str
    metric: str
    direction: str
    baseline: float
    unit: str
    measured: float | None = None  # in the baseline's unit
    measured_raw: float | None = None  # as measured, in ``measured_unit``
    measured_unit: str = ""
    required_fraction: float = 1.0
    ratio: float | None = None  # measured / baseline
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def compare_performance(metric: str, direction: str, baseline, measured, *, unit: str = "", measured_unit: str = "",
                        required_fraction: float = 1.0) -> PerformanceComparison:
    """A contract baseline against the measured value, in comparable units.

    higher is better: PASS when measured >= required_fraction x baseline;
    lower is better:  PASS when measured <= baseline / required_fraction.
    ``ratio`` is measured / baseline. A measurement whose unit does not measure what the
    baseline's does is "not comparable" (never a FAIL); a missing one "cannot compare".
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"unknown direction {direction!r}")
    result = PerformanceComparison(verdict=CANNOT, metric=metric, direction=direction, baseline=float(baseline),
                                   unit=unit or "", measured_unit=measured_unit or "",
                                   required_fraction=float(required_fraction))
    if measured is None:
        result.reason = _("No measurement of this metric yet.")
        return result
    result.measured_raw = float(measured)
    if not np.isfinite(result.measured_raw):
        result.verdict, result.reason = FAIL, _("The measurement is not a number.")
        return result
    converted = convert(result.measured_raw, measured_unit, unit) if (unit or measured_unit) else result.measured_raw
    if converted is None:
        result.verdict = NOT_COMPARABLE
        result.reason = _("The measurement is in %(measured)s and the baseline in %(baseline)s: they cannot be "
                          "compared. Choose the metric that measures the baseline's unit.") % {
            "measured": measured_unit or "?", "baseline": unit or "?"}
        return result
    result.measured = converted
    if not np.isfinite(result.baseline) or result.baseline <= 0 or result.required_fraction <= 0:
        result.reason = _("The baseline must be a positive number.")
        return result
    result.ratio = converted / result.baseline
    if direction == "higher":
        result.verdict = PASS if converted >= result.required_fraction * result.baseline else FAIL
    else:
        result.verdict = PASS if converted <= result.baseline / result.required_fraction else FAIL
    return result
