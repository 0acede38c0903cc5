"""The stage timeline: planned and actual bars on one date axis, laid out for an SVG."""

import datetime
from dataclasses import dataclass

WIDTH = 640  # drawing units of the bar area


@dataclass(frozen=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True)
class TimelineRow:
    stage: object
    planned: Bar | None
    actual: Bar | None
    late: bool
    y: int


@dataclass(frozen=True)
class Timeline:
    start: datetime.date
    end: datetime.date
    rows: list
    today_x: float | None
    height: int
    width: int = WIDTH


def _bar(start, end, first, days) -> Bar | None:
    if start is None:
        return None
    end = end or start
    x = (start - first).days / days * WIDTH
    width = max(((end - start).days + 1) / days * WIDTH, 2)
    return Bar(round(x, 1), round(width, 1))


def build_timeline(engagement, stages, today: datetime.date) -> Timeline:
    """Planned bars from the plan, actual bars from the recorded start/finish (or today)."""
    dates = [engagement.start_date, engagement.end_date, today]
    for stage in stages:
        dates += [d for d in (stage.planned_start, stage.planned_end, stage.actual_start, stage.actual_end) if d]
    first, last = min(dates), max(dates)
    days = max((last - first).days + 1, 1)
    rows = []
    for index, stage in enumerate(stages):
        actual_end = stage.actual_end or (today if stage.actual_start else None)
        rows.append(
            TimelineRow(
                stage=stage,
                planned=_bar(stage.planned_start, stage.planned_end, first, days),
                actual=_bar(stage.actual_start, actual_end, first, days),
                late=stage.is_late(today),
                y=index * 28,
            )
        )
    today_x = round((today - first).days / days * WIDTH, 1)
    return Timeline(start=first, end=last, rows=rows, today_x=today_x, height=len(stages) * 28)
