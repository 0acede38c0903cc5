"""The burn chart: cumulative logged person-days over time against the planned total."""

from datetime import timedelta

from assessments.charts import polyline

LEFT, BOTTOM, TOP, RIGHT = 44, 22, 8, 10  # room for the axis labels


def burn_chart(series: dict, width: int = 640, height: int = 220) -> dict:
    start, end, planned = series["start"], series["end"], float(series["planned"] or 0)
    points = series["points"]
    last_day = max([end] + [day for day, _v in points])
    span = max((last_day - start).days, 1)
    top = max([planned] + [float(v) for _d, v in points] + [1.0])
    xs = [(day - start).days for day, _v in points]
    ys = [float(v) for _d, v in points]
    bounds = (0, span, 0, top)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    x_ticks = [{"x": LEFT + plot_w * f, "label": (start + timedelta(days=round(span * f))).strftime("%Y-%m-%d")}
               for f in (0, 0.5, 1)]
    y_ticks = [{"y": TOP + plot_h * (1 - f), "label": f"{top * f:g}"} for f in (0, 0.5, 1)]
    return {
        "width": width, "height": height, "planned": planned, "logged": ys[-1] if ys else 0.0, "top": top,
        "left": LEFT, "top_pad": TOP, "plot_w": plot_w, "plot_h": plot_h, "x_axis_y": TOP + plot_h,
        "x_ticks": x_ticks, "y_ticks": y_ticks,
        "actual": polyline(xs, ys, plot_w, plot_h, 0, bounds) if xs else "",
        "plan": polyline([0, (end - start).days], [0, planned], plot_w, plot_h, 0, bounds),
        "start": start, "end": last_day,
    }
