"""The live loss chart of a running training job: the NPU curve parsed from the job's local log
as it arrives (the job's loss pattern, ``parsers.training_log``), the GPU reference of the same
engagement and model overlaid, the running mean relative error against the engagement's
threshold, and an early warning when the MRE of the last ``WINDOW`` compared steps crosses it.

The log is parsed again only when it has grown (a small per-process cache keyed by its size),
and the chart is down-sampled on the server like every other loss chart (``charts``): the page
draws the down-sampled points with dygraphs (static/js/portal.js), the SVG shown until then.
"""

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db.models import Case, IntegerField, Q, Value, When

from common.patterns import PatternError
from workers.runner import local_log_path
from workers.ssh import as_text

from .charts import loss_chart_data, loss_chart_svg, relative_error
from .models import CurvePair, LossCurve
from .parsers.training_log import parse_training_lines

# The kinds whose log is a training log with a loss per step.
LIVE_KINDS = {"training_run"}
WINDOW = 50  # compared steps in the early-warning window
MIN_WINDOW = 10  # fewer compared steps than this: too early to warn


@dataclass
class LiveComparison:
    compared: int = 0
    running_mre: float | None = None
    window_mre: float | None = None
    window: int = 0
    window_from: int | None = None
    window_to: int | None = None
    threshold: float = 0.02
    warning: bool = False
    nan_step: int | None = None  # the first step whose NPU loss is NaN or infinite


def compare_live(ref_steps, ref_losses, npu_steps, npu_losses, *, skip: int, threshold: float,
                 window: int = WINDOW, min_window: int = MIN_WINDOW) -> LiveComparison:
    """The running MRE (all compared steps after ``skip``) and the MRE of the last ``window``
    compared steps; ``warning`` when that window's MRE is not below ``threshold`` (the
    acceptance verdict's rule), or when the NPU loss went NaN/inf after the warm-up."""
    result = LiveComparison(threshold=float(threshold))
    npu_steps = np.asarray(npu_steps, dtype=float)
    npu_losses = np.asarray(npu_losses, dtype=float)
    bad = ~np.isfinite(npu_losses)
    if bad.any():
        result.nan_step = int(npu_steps[np.argmax(bad)])
    if ref_steps is None or not len(ref_steps):
        result.warning = result.nan_step is not None and result.nan_step > skip
        return result
    steps, errors, _common = relative_error(ref_steps, ref_losses, npu_steps, npu_losses, skip)
    result.compared = int(errors.size)
    if errors.size:
        result.running_mre = float(errors.mean())
        last = errors[-window:]
        result.window = int(last.size)
        result.window_from, result.window_to = int(steps[-last.size]), int(steps[-1])
        if last.size >= min(min_window, window):
            result.window_mre = float(last.mean())
    crossed = result.window_mre is not None and result.window_mre >= result.threshold
    result.warning = bool(crossed or (result.nan_step is not None and result.nan_step > skip))
    return result


# --- the NPU curve from the job's log ---------------------------------------------------------

_CACHE: "OrderedDict[tuple, tuple[np.ndarray, np.ndarray]]" = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def npu_series(path: Path, pattern: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(steps, losses) parsed from a training log file, read a line at a time; the same file
    at the same size is parsed once."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return np.array([], dtype=float), np.array([], dtype=float)
    key = (str(path), stat.st_size, stat.st_mtime_ns, pattern or "")
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]

    def lines():
        with open(path, "rb") as fh:
            for raw in fh:
                yield as_text(raw)

    try:
        parsed = parse_training_lines(lines, pattern=pattern or None)
    except (PatternError, FileNotFoundError):
        parsed = None
    series = (np.asarray(parsed.steps if parsed else [], dtype=float),
              np.asarray(parsed.losses if parsed else [], dtype=float))
    with _LOCK:
        _CACHE[key] = series
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return series


# --- the reference -----------------------------------------------------------------------------

def reference_choices(job):
    """The GPU curves of the job's engagement, those of its model (or of no model) first, paired ones first."""
    paired = CurvePair.objects.filter(engagement_id=job.engagement_id).values("reference")
    curves = LossCurve.objects.filter(engagement_id=job.engagement_id, platform=LossCurve.Platform.GPU)
    same_model = Q(model_id=job.model_id) if job.model_id else Q(model__isnull=True)
    return curves.annotate(
        fits=Case(When(same_model, then=Value(0)), When(model__isnull=True, then=Value(1)), default=Value(2),
                  output_field=IntegerField()),
        unpaired=Case(When(pk__in=paired, then=Value(0)), default=Value(1), output_field=IntegerField()),
    ).order_by("fits", "unpaired", "-created_at")


def reference_for(job, chosen: str = "") -> LossCurve | None:
    """The chosen GPU curve of the engagement, else the best fit: a paired reference of the same
    model, else any reference of the same model (or of none)."""
    choices = reference_choices(job)
    if chosen:
        try:
            picked = choices.filter(uuid=chosen).first()
        except (ValueError, TypeError):
            picked = None
        if picked is not None:
            return picked
    return choices.exclude(fits=2).first()


# --- the chart ----------------------------------------------------------------------------------

@dataclass
class LiveChart:
    svg: str  # the server-side drawing: the page shows it until dygraphs draws ``data`` (and without JS)
    data: dict  # the same down-sampled points for the browser (``charts.loss_chart_data``)
    points: int
    last_step: int | None
    last_loss: float | None
    reference: LossCurve | None
    comparison: LiveComparison
    skip: int


def live_chart(job, *, chosen_reference: str = "", labels: dict | None = None, width: float = 720) -> LiveChart | None:
    """The live chart of a training job (None for other kinds)."""
    if job.kind not in LIVE_KINDS:
        return None
    pattern = (job.parameters or {}).get("loss_pattern") or None
    npu_steps, npu_losses = npu_series(local_log_path(job), pattern)
    reference = reference_for(job, chosen_reference)
    ref_steps, ref_losses = reference.series() if reference is not None else (np.array([]), np.array([]))
    engagement = job.engagement
    threshold, skip = float(engagement.loss_mre_threshold), int(engagement.loss_warmup_steps)
    comparison = compare_live(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, threshold=threshold)
    svg = loss_chart_svg(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, threshold=threshold,
                         labels=labels, width=width)
    data = loss_chart_data(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, threshold=threshold,
                           labels=labels)
    finite = np.isfinite(npu_losses)
    last_loss = float(npu_losses[finite][-1]) if finite.any() else None
    return LiveChart(svg=svg, data=data, points=int(npu_steps.size),
                     last_step=int(npu_steps[-1]) if npu_steps.size else None,
                     last_loss=last_loss if last_loss is None or math.isfinite(last_loss) else None,
                     reference=reference, comparison=comparison, skip=skip)
