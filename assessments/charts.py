"""Down-sampling and SVG geometry for curves, drawn server-side.

``downsample`` keeps, for each of ``buckets`` equal step ranges, the first, the minimum, the
maximum and the last point, so a spike of one step in a million still shows.

``loss_chart_svg`` draws the acceptance report's loss chart (both curves, the relative error
and its threshold, axes with nice ticks, a legend) as one self-contained SVG string; it and
``nice_ticks`` are pure (numpy only, no Django).
"""

import html
import math
import re
from typing import NamedTuple

import numpy as np


def downsample(steps: np.ndarray, values: np.ndarray, buckets: int = 400) -> tuple[np.ndarray, np.ndarray]:
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    if steps.size <= buckets * 4:
        return steps, values
    edges = np.linspace(0, steps.size, buckets + 1).astype(int)
    keep = set()
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        if end <= start:
            continue
        chunk = values[start:end]
        keep.update((start, end - 1, start + int(np.argmin(chunk)), start + int(np.argmax(chunk))))
    index = np.array(sorted(keep))
    return steps[index], values[index]


def polyline(steps, values, width: float = 600, height: float = 160, pad: float = 4,
             bounds: tuple[float, float, float, float] | None = None) -> str:
    """The ``points`` attribute of an SVG polyline for the curve in a width x height box."""
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if steps.size == 0:
        return ""
    x0, x1, y0, y1 = bounds or (steps.min(), steps.max(), values.min(), values.max())
    xs = pad + (steps - x0) / ((x1 - x0) or 1) * (width - 2 * pad)
    ys = height - pad - (values - y0) / ((y1 - y0) or 1) * (height - 2 * pad)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=False))


def curve_chart(curve, width: float = 600, height: float = 160) -> dict:
    """What a template needs to draw one loss curve."""
    steps, losses = curve.series()
    small_steps, small_losses = downsample(steps, losses)
    finite = losses[np.isfinite(losses)]
    return {
        "width": width, "height": height, "points": polyline(small_steps, small_losses, width, height),
        "data": {"kind": "curve", "limit": 1600, "curve": points(small_steps, small_losses)},
        "drawn": int(small_steps.size), "total": int(steps.size),
        "min": float(finite.min()) if finite.size else None, "max": float(finite.max()) if finite.size else None,
        "first_step": curve.first_step, "last_step": curve.last_step,
    }


# --- The acceptance report's loss chart -------------------------------------------------------
#
# ``loss_chart_svg`` draws, in one self-contained ``<svg>``, the two loss curves on common axes
# (the NPU curve solid, the GPU reference dashed and drawn over it, so both show where they
# coincide) and, beneath it on the same step axis, the relative error |npu - ref| / |ref| on the
# compared steps with the acceptance threshold as a labelled horizontal line, plus a legend.
# Axes have "nice" ticks (1, 2 or 5 x 10^k apart). No Django: the caller passes the texts,
# already translated; they are escaped here.

FONT = "Noto Sans CJK SC, sans-serif"
# A light red band under near-black dashes: told apart by colour, by greyscale luma (about 47%
# against 10%), and by the dashes.
NPU_COLOUR, REF_COLOUR, ERR_COLOUR, THRESHOLD_COLOUR = "#ef4444", "#111827", "#1d4ed8", "#b45309"
NPU_WIDTH, REF_WIDTH = 2.2, 1.1
REF_DASH, THRESHOLD_DASH = "6 3", "7 3 2 3"
TICK_SIZE, TITLE_SIZE = 10, 10.5
_LARGEST = 1e300  # values beyond this are treated like inf (the tick arithmetic would overflow)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

DEFAULT_LABELS = {
    "step": "Step", "loss": "Loss", "reference": "GPU reference", "npu": "NPU", "error": "Relative error",
    "threshold": None,  # default: "Threshold 2%" from the threshold
    "no_data": "no data", "no_common": "no common steps", "no_compared": "no compared steps after the warm-up",
}


def _tick_value(k: int, mantissa: int, exponent: int) -> float:
    """k x mantissa x 10^exponent, correctly rounded (int / int is), so 3 x 0.1 is 0.3."""
    return float(k * mantissa * 10**exponent) if exponent >= 0 else (k * mantissa) / 10**-exponent


def _tick_range(lo: float, hi: float, mantissa: int, exponent: int) -> tuple[int, int]:
    """The first and last multiples k of the step with k x step <= lo and k x step >= hi."""
    step = mantissa * 10.0**exponent
    first, last = math.floor(lo / step), math.ceil(hi / step)
    while _tick_value(first, mantissa, exponent) > lo:
        first -= 1
    while _tick_value(first + 1, mantissa, exponent) <= lo:
        first += 1
    while _tick_value(last, mantissa, exponent) < hi:
        last += 1
    while _tick_value(last - 1, mantissa, exponent) >= hi:
        last -= 1
    return first, last


def nice_scale(lo: float, hi: float, target: int = 6, *, integer: bool = False,
               max_ticks: int = 10) -> tuple[list[float], int, int]:
    """Ticks covering [lo, hi], ``mantissa`` x 10^``exponent`` apart (mantissa 1, 2 or 5): the
    ticks, the mantissa and the exponent. Between 3 and ``max_ticks`` ticks, as near ``target``
    as the 1-2-5 steps allow; the first is <= lo and the last >= hi. A flat range (lo == hi) is
    widened around its value; ``integer`` keeps the step a whole number (training steps)."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or max(abs(lo), abs(hi)) > _LARGEST:
        raise ValueError(f"cannot scale an axis from {lo} to {hi}")
    if lo > hi:
        lo, hi = hi, lo
    scale = max(abs(lo), abs(hi))
    if hi - lo <= max(scale * 1e-9, 1e-300):  # flat, to within float noise
        centre = (lo + hi) / 2
        half = abs(centre) * 0.05 if abs(centre) > 1e-290 else 1.0
        lo, hi = centre - half, centre + half
    if integer and hi - lo < 2:
        centre = (lo + hi) / 2
        lo, hi = centre - 1, centre + 1
    top = math.floor(math.log10(hi - lo))
    best = None
    for exponent in range(top + 1, top - 3, -1):  # coarse to fine
        if integer and exponent < 0:
            continue
        for mantissa in (5, 2, 1):
            first, last = _tick_range(lo, hi, mantissa, exponent)
            count = last - first + 1
            # In range first, then as near the target as may be, then the tightest fit.
            span = _tick_value(last, mantissa, exponent) - _tick_value(first, mantissa, exponent)
            score = (not 3 <= count <= max_ticks, abs(count - target), span)
            if best is None or score < best[0]:
                best = (score, first, last, mantissa, exponent)
    _, first, last, mantissa, exponent = best
    return [_tick_value(k, mantissa, exponent) for k in range(first, last + 1)], mantissa, exponent


def nice_ticks(lo: float, hi: float, target: int = 6, *, integer: bool = False, max_ticks: int = 10) -> list[float]:
    """Tick values covering [lo, hi], 1, 2 or 5 x 10^k apart; see ``nice_scale``."""
    return nice_scale(lo, hi, target, integer=integer, max_ticks=max_ticks)[0]


def tick_label(value: float, exponent: int, suffix: str = "") -> str:
    """A tick value with as many decimals as the tick step needs, and thousands separators."""
    text = f"{value:,.{max(0, -exponent)}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # "-0.0" is "0.0"
    return text + suffix


def _esc(text) -> str:
    """Text safe in XML content and in double- or single-quoted attributes."""
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def _text_width(text: str, size: float) -> float:
    """A rough rendered width: CJK and other wide characters are square, Latin about half."""
    return sum(size if ord(char) >= 0x2E80 else size * 0.52 for char in text)


def _finite(steps, values) -> tuple[np.ndarray, np.ndarray]:
    """The curve's finite points as floats, ordered by step."""
    steps = np.asarray(steps, dtype=float).ravel()
    values = np.asarray(values, dtype=float).ravel()
    size = min(steps.size, values.size)
    steps, values = steps[:size], values[:size]
    keep = np.isfinite(steps) & np.isfinite(values) & (np.abs(values) <= _LARGEST) & (np.abs(steps) <= _LARGEST)
    steps, values = steps[keep], values[keep]
    if steps.size > 1 and np.any(np.diff(steps) < 0):
        order = np.argsort(steps, kind="stable")
        steps, values = steps[order], values[order]
    return steps, values


def _first_of_each_step(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sorted curve with one point a step: a repeated step keeps its first loss."""
    if steps.size > 1 and not np.all(np.diff(steps) > 0):
        steps, first = np.unique(steps, return_index=True)
        values = values[first]
    return steps, values


def relative_error(ref_steps, ref_losses, npu_steps, npu_losses, skip: int) -> tuple[np.ndarray, np.ndarray, int]:
    """|npu - ref| / |ref| on the steps both curves have, after ``skip``, where both losses are
    finite and the reference is not zero: the steps, the errors, and how many steps were common."""
    ref_s, ref_l = _finite(ref_steps, ref_losses)
    npu_s, npu_l = _finite(npu_steps, npu_losses)
    ref_s, ref_l = _first_of_each_step(ref_s, ref_l)
    npu_s, npu_l = _first_of_each_step(npu_s, npu_l)
    at = np.searchsorted(ref_s, npu_s).clip(max=max(ref_s.size - 1, 0))
    shared = ref_s[at] == npu_s if ref_s.size else np.zeros(npu_s.size, dtype=bool)
    common, ref_c, npu_c = npu_s[shared], ref_l[at[shared]], npu_l[shared]
    keep = (common > skip) & (ref_c != 0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        err = np.abs(npu_c[keep] - ref_c[keep]) / np.abs(ref_c[keep])
    finite = np.isfinite(err)
    return common[keep][finite], err[finite], int(common.size)


class _Axes:
    """One plot area: data coordinates to pixels, and its ticks."""

    def __init__(self, left, top, right, bottom, x_scale, y_scale):
        self.left, self.top, self.right, self.bottom = left, top, right, bottom
        self.x_ticks, _, self.x_exp = x_scale
        self.y_ticks, _, self.y_exp = y_scale
        self.x0, self.x1 = self.x_ticks[0], self.x_ticks[-1]
        self.y0, self.y1 = self.y_ticks[0], self.y_ticks[-1]

    def x(self, value):
        return self.left + (np.asarray(value, dtype=float) - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value):
        return self.bottom - (np.asarray(value, dtype=float) - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def _path(axes: _Axes, steps, values) -> str:
    """The ``d`` of an SVG path through the points."""
    if not len(steps):
        return ""
    xs, ys = axes.x(steps), axes.y(values)
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))


def _frame_and_ticks(out: list, axes: _Axes, name: str, *, x_title: str, y_title: str, y_suffix: str = ""):
    left, top, right, bottom = axes.left, axes.top, axes.right, axes.bottom
    out.append('<g data-role="grid" stroke="#e5e7eb" stroke-width="0.6">')
    out.extend(f'<line x1="{left:.1f}" y1="{axes.y(v):.1f}" x2="{right:.1f}" y2="{axes.y(v):.1f}"/>'
               for v in axes.y_ticks[1:-1])
    out.extend(f'<line x1="{axes.x(v):.1f}" y1="{top:.1f}" x2="{axes.x(v):.1f}" y2="{bottom:.1f}"/>'
               for v in axes.x_ticks[1:-1])
    out.append("</g>")
    out.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" height="{bottom - top:.1f}" '
               f'fill="none" stroke="#6b7280" stroke-width="0.8"/>')
    # Each axis group holds, tick by tick, the tick mark (a line) then its label (a text).
    out.append(f'<g data-axis="{name}-x" font-size="{TICK_SIZE}" fill="#374151" text-anchor="middle">')
    for v in axes.x_ticks:
        x = axes.x(v)
        out.append(f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 4:.1f}" stroke="#6b7280"/>'
                   f'<text x="{x:.1f}" y="{bottom + 4 + TICK_SIZE:.1f}">{tick_label(v, axes.x_exp)}</text>')
    out.append("</g>")
    out.append(f'<g data-axis="{name}-y" font-size="{TICK_SIZE}" fill="#374151" text-anchor="end">')
    for v in axes.y_ticks:
        y, label = axes.y(v), tick_label(v, axes.y_exp, y_suffix)
        out.append(f'<line x1="{left - 4:.1f}" y1="{y:.1f}" x2="{left:.1f}" y2="{y:.1f}" stroke="#6b7280"/>'
                   f'<text x="{left - 6:.1f}" y="{y + TICK_SIZE * 0.35:.1f}">{label}</text>')
    out.append("</g>")
    out.append(f'<text data-role="x-title" x="{(left + right) / 2:.1f}" y="{bottom + 8 + TICK_SIZE + TITLE_SIZE:.1f}" '
               f'font-size="{TITLE_SIZE}" text-anchor="middle" fill="#111827">{_esc(x_title)}</text>')
    cy = (top + bottom) / 2
    out.append(f'<text data-role="y-title" x="{TITLE_SIZE + 2:.1f}" y="{cy:.1f}" font-size="{TITLE_SIZE}" '
               f'text-anchor="middle" fill="#111827" transform="rotate(-90 {TITLE_SIZE + 2:.1f} {cy:.1f})">'
               f'{_esc(y_title)}</text>')


def _message(out: list, box: tuple[float, float, float, float], text: str, role: str):
    left, top, right, bottom = box
    out.append(f'<text data-role="{role}" x="{(left + right) / 2:.1f}" y="{(top + bottom) / 2 + 4:.1f}" '
               f'font-size="{TITLE_SIZE}" text-anchor="middle" fill="#6b7280">{_esc(text)}</text>')


def _legend(out: list, x: float, y: float, entries: list[tuple[str, str, str, float]]):
    out.append(f'<g data-role="legend" font-size="{TICK_SIZE}" fill="#111827">')
    for text, colour, dash, width in entries:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{x:.1f}" y1="{y - 3.5:.1f}" x2="{x + 22:.1f}" y2="{y - 3.5:.1f}" stroke="{colour}" '
                   f'stroke-width="{width}"{dash_attr}/><text x="{x + 27:.1f}" y="{y:.1f}">{_esc(text)}</text>')
        x += 27 + _text_width(text, TICK_SIZE) + 16
    out.append("</g>")


class LossSeries(NamedTuple):
    """The down-sampled points of a loss chart: (steps, values) of each curve and of the relative
    error in per cent, and how many steps the curves had in common."""
    reference: tuple[np.ndarray, np.ndarray]
    npu: tuple[np.ndarray, np.ndarray]
    error: tuple[np.ndarray, np.ndarray]
    common: int


def loss_chart_series(ref_steps, ref_losses, npu_steps, npu_losses, *, skip: int, buckets: int = 400) -> LossSeries:
    """The points ``loss_chart_svg`` draws, and the browser's chart too (``loss_chart_data``):
    the finite points of both curves and the relative error (in %) on the steps compared after
    ``skip``, each down-sampled to at most 4 x ``buckets`` points, extremes kept. Pure."""
    ref_s, ref_l = _finite(ref_steps, ref_losses)
    npu_s, npu_l = _finite(npu_steps, npu_losses)
    err_s, err, common = relative_error(ref_s, ref_l, npu_s, npu_l, skip)
    with np.errstate(over="ignore"):
        err_pct = err * 100
    err_s, err_pct = err_s[err_pct <= _LARGEST], err_pct[err_pct <= _LARGEST]
    return LossSeries(reference=downsample(ref_s, ref_l, buckets), npu=downsample(npu_s, npu_l, buckets),
                      error=downsample(err_s, err_pct, buckets), common=common)


def _texts(labels: dict | None, threshold) -> tuple[dict, float]:
    """The chart's texts (missing ones English) and the threshold as a float (nan if none)."""
    texts = {**DEFAULT_LABELS, **{k: v for k, v in (labels or {}).items() if v is not None}}
    threshold = float(threshold) if threshold is not None else math.nan
    if texts["threshold"] is None:
        texts["threshold"] = f"Threshold {threshold * 100:g}%" if math.isfinite(threshold) else "Threshold"
    return texts, threshold


def points(steps, values) -> list[list[float]]:
    """[[step, value], ...] for JSON: whole steps as integers."""
    return [[int(s) if float(s).is_integer() else float(s), float(v)]
            for s, v in zip(np.asarray(steps).tolist(), np.asarray(values).tolist(), strict=True)]


def loss_chart_data(ref_steps, ref_losses, npu_steps, npu_losses, *, skip: int, threshold: float,
                    labels: dict | None = None, buckets: int = 400) -> dict:
    """What the browser draws the loss chart from (``json_script``; static/js/portal.js draws it
    with dygraphs): the same down-sampled points as ``loss_chart_svg``, the threshold in per
    cent (None without one), the texts (already translated) and the colours and dashes."""
    texts, threshold = _texts(labels, threshold)
    series = loss_chart_series(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, buckets=buckets)
    return {
        "kind": "loss", "limit": 4 * buckets, "common": series.common,
        "npu": points(*series.npu), "reference": points(*series.reference), "error": points(*series.error),
        "threshold": threshold * 100 if math.isfinite(threshold) and threshold > 0 else None,
        "labels": {key: texts[key] for key in ("step", "loss", "reference", "npu", "error", "threshold")},
        "colours": {"npu": NPU_COLOUR, "reference": REF_COLOUR, "error": ERR_COLOUR, "threshold": THRESHOLD_COLOUR},
        "widths": {"npu": NPU_WIDTH, "reference": REF_WIDTH},
        "dashes": {"reference": [float(x) for x in REF_DASH.split()],
                   "threshold": [float(x) for x in THRESHOLD_DASH.split()]},
    }


def loss_chart_svg(ref_steps, ref_losses, npu_steps, npu_losses, *, skip: int, threshold: float,
                   labels: dict | None = None, width: float = 640, height: float = 220, err_height: float = 110,
                   buckets: int = 400) -> str:
    """One self-contained ``<svg>`` (``width`` x ``height + err_height`` px): the loss curves
    (top, ``height`` px) and the relative error on the steps compared after ``skip`` (below,
    ``err_height`` px) on the same step axis, the ``threshold`` (a fraction: 0.02 is 2%) drawn
    on the error chart, and a legend. ``labels`` are the texts, already translated (escaped
    here): step, loss, reference, npu, error, threshold, and the messages no_data, no_common,
    no_compared; missing ones are English. Each line is down-sampled to at most 4 x ``buckets``
    points, extremes kept. Non-finite losses and zero-reference steps are left out."""
    texts, threshold = _texts(labels, threshold)
    series = loss_chart_series(ref_steps, ref_losses, npu_steps, npu_losses, skip=skip, buckets=buckets)
    (ref_s, ref_l), (npu_s, npu_l), (err_s, err_pct) = series.reference, series.npu, series.error
    common = series.common

    all_s, all_l = np.r_[ref_s, npu_s], np.r_[ref_l, npu_l]
    has_data = bool(all_s.size)
    x_scale = nice_scale(all_s.min(), all_s.max(), integer=True) if has_data else None
    y_scale = nice_scale(all_l.min(), all_l.max()) if has_data else None
    threshold_pct = threshold * 100 if math.isfinite(threshold) and threshold > 0 else None
    # A quarter above the threshold, so its line never lies on the frame.
    err_top = max([float(err_pct.max()) if err_pct.size else 0.0, (threshold_pct or 0.0) * 1.25]) or 1.0
    e_scale = nice_scale(0.0, err_top, 4, max_ticks=6)

    # Room for the widest tick label on the left, the same for both charts so their x axes align.
    y_labels = [tick_label(v, y_scale[2]) for v in y_scale[0]] if has_data else []
    y_labels += [tick_label(v, e_scale[2], "%") for v in e_scale[0]]
    left = TITLE_SIZE + 10 + max(_text_width(t, TICK_SIZE) for t in y_labels) + 8
    right = width - max(14.0, _text_width(tick_label(x_scale[0][-1], 0), TICK_SIZE) / 2 + 4) if has_data else width - 14
    loss_box = (left, 26.0, right, height - 34.0)
    err_box = (left, height + 14.0, right, height + err_height - 34.0)
    total = height + err_height

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{total:g}" '
           f'viewBox="0 0 {width:g} {total:g}" font-family="{FONT}" role="img" data-chart="loss-and-error" '
           f'aria-label="{_esc(texts["loss"])} / {_esc(texts["error"])}">',
           f'<rect x="0" y="0" width="{width:g}" height="{total:g}" fill="#ffffff"/>']

    # The loss curves.
    out.append('<g data-chart="loss">')
    if has_data:
        axes = _Axes(*loss_box, x_scale, y_scale)
        _frame_and_ticks(out, axes, "loss", x_title=texts["step"], y_title=texts["loss"])
        # NPU first, solid; the reference after it (on top), dashed, so both show where they coincide.
        if npu_s.size:
            out.append(f'<path data-series="npu" d="{_path(axes, npu_s, npu_l)}" fill="none" stroke="{NPU_COLOUR}" '
                       f'stroke-width="{NPU_WIDTH}" stroke-linejoin="round"/>')
        if ref_s.size:
            out.append(f'<path data-series="reference" d="{_path(axes, ref_s, ref_l)}" fill="none" '
                       f'stroke="{REF_COLOUR}" stroke-width="{REF_WIDTH}" stroke-dasharray="{REF_DASH}" '
                       'stroke-linejoin="round"/>')
    else:
        out.append(f'<rect x="{left:.1f}" y="{loss_box[1]:.1f}" width="{right - left:.1f}" '
                   f'height="{loss_box[3] - loss_box[1]:.1f}" fill="none" stroke="#6b7280" stroke-width="0.8"/>')
        _message(out, loss_box, texts["no_data"], "no-data")
    out.append("</g>")

    # The relative error, on the same step axis.
    out.append('<g data-chart="relative-error">')
    if has_data:
        axes = _Axes(*err_box, x_scale, e_scale)
        _frame_and_ticks(out, axes, "error", x_title=texts["step"], y_title=texts["error"], y_suffix="%")
        if err_s.size:
            out.append(f'<path data-series="error" d="{_path(axes, err_s, err_pct)}" fill="none" '
                       f'stroke="{ERR_COLOUR}" stroke-width="1.1" stroke-linejoin="round"/>')
        if threshold_pct is not None:
            ty = float(axes.y(threshold_pct))
            out.append(f'<line data-series="threshold" data-value="{threshold!r}" x1="{left:.1f}" y1="{ty:.2f}" '
                       f'x2="{right:.1f}" y2="{ty:.2f}" stroke="{THRESHOLD_COLOUR}" stroke-width="1.3" '
                       f'stroke-dasharray="{THRESHOLD_DASH}"/>')
            out.append(f'<text data-role="threshold-label" x="{right - 4:.1f}" y="{ty - 3:.1f}" '
                       f'font-size="{TICK_SIZE}" text-anchor="end" fill="{THRESHOLD_COLOUR}">'
                       f'{_esc(texts["threshold"])}</text>')
        if not err_s.size:
            message = texts["no_common"] if not common else texts["no_compared"]
            _message(out, err_box, message, "no-common-steps" if not common else "no-compared-steps")
    else:
        out.append(f'<rect x="{left:.1f}" y="{err_box[1]:.1f}" width="{right - left:.1f}" '
                   f'height="{err_box[3] - err_box[1]:.1f}" fill="none" stroke="#6b7280" stroke-width="0.8"/>')
        _message(out, err_box, texts["no_common"], "no-common-steps")
    out.append("</g>")

    _legend(out, left, 15.0, [
        (texts["npu"], NPU_COLOUR, "", NPU_WIDTH), (texts["reference"], REF_COLOUR, REF_DASH, REF_WIDTH),
        (texts["error"], ERR_COLOUR, "", 1.1), (texts["threshold"], THRESHOLD_COLOUR, THRESHOLD_DASH, 1.3),
    ])
    out.append("</svg>")
    return "".join(out)
