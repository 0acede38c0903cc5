"""The burn chart: cumulative logged person-days over time against the planned total."""

from assessments.charts import polyline


def burn_chart(series: dict, width: int = 640, height: int = 200) -> dict:
    start, end, planned = series["start"], series["end"], float(series["planned"] or 0)
    points = series["points"]
    last_day = max([end] + [day for day, _v in points])
    span = max((last_day - start).days, 1)
    top = max([planned] + [float(v) for _d, v in points] + [1.0])
    xs = [(day - start).days for day, _v in points]
    ys = [float(v) for _d, v in points]
    bounds = (0, span, 0, top)
    return {
        "width": width, "height": height, "planned": planned, "logged": ys[-1] if ys else 0.0, "top": top,
        "actual": polyline(xs, ys, width, height, 10, bounds) if xs else "",
        "plan": polyline([0, (end - start).days], [0, planned], width, height, 10, bounds),
        "start": start, "end": last_day,
    }
