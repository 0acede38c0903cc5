"""Down-sampling and SVG geometry for curves, drawn server-side.

``downsample`` keeps, for each of ``buckets`` equal step ranges, the first, the minimum, the
maximum and the last point, so a spike of one step in a million still shows.
"""

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
    for start, end in zip(edges[:-1], edges[1:]):
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
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))


def curve_chart(curve, width: float = 600, height: float = 160) -> dict:
    """What a template needs to draw one loss curve."""
    steps, losses = curve.series()
    small_steps, small_losses = downsample(steps, losses)
    finite = losses[np.isfinite(losses)]
    return {
        "width": width, "height": height, "points": polyline(small_steps, small_losses, width, height),
        "drawn": int(small_steps.size), "total": int(steps.size),
        "min": float(finite.min()) if finite.size else None, "max": float(finite.max()) if finite.size else None,
        "first_step": curve.first_step, "last_step": curve.last_step,
    }
