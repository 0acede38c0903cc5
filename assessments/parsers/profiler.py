"""The Ascend PyTorch Profiler's ``ASCEND_PROFILER_OUTPUT`` tables and msprof-analyze's cluster step trace.

- ``kernel_details.csv`` (``parse_kernel_details``): one row per kernel launch, often hundreds of
  MB. Read as a stream with flat memory: only a running total per kernel name is kept (names
  repeat; their number is bounded by the graph, not by the file), then the top N by total time,
  with their share of all kernel time, type and accelerator core. CANN's ``op_summary_*.csv``
  spells the same columns ``Op Name``, ``OP Type``, ``Task Type``, ``Task Duration(us)`` and
  is read too.
- ``step_trace_time.csv`` and msprof-analyze's ``cluster_step_trace_time.csv``
  (``parse_step_trace``): computing, communication, overlap and free time per step and rank,
  in microseconds. The cluster file adds ``Type`` (``rank`` rows, and ``stage`` rows whose
  ``Index`` is the stage's ranks, e.g. ``(0, 1, 2, 3)``) and optionally DP/PP/TP indexes.
- ``analyse_cluster``: the slow rank and the slow stage, by msprof-analyze's rule (a dimension
  is uneven when max - min exceeds 5 % of the mean step time).
- ``bottleneck_summary``: compute-, communication- or idle-bound, MFU when the model's FLOPs
  per step and the device's peak FLOPS are given; ``compare_profiles``: before/after.

Columns are found by their header, in any order; unknown ones are ignored, missing optional
ones reported in ``warnings``. A file that is not one of these tables raises
``ProfilerFileError`` (a ``ValueError``) saying what was expected.
"""

import csv
import heapq
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

ZIP_MAGIC = b"PK\x03\x04"


class ProfilerFileError(ValueError):
    """Not a profiler table this module reads, or unusable arguments; the message says what to do."""


# --- reading text from whatever the caller has ---------------------------------------------

def text_lines(source, error: type[ValueError] = ValueError, what: str = "file") -> Iterator[str]:
    """The lines of ``source`` with their line ends: a ``str``, ``bytes``, a binary or text stream
    (read lazily, never whole), or an iterable of lines. UTF-8, a BOM dropped. An Excel
    workbook or text that is not UTF-8 raises ``error`` with a message a person can act on."""
    if isinstance(source, str):
        yield from io.StringIO(source.removeprefix("\ufeff"), newline="")
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        probe = source.read(0)
        if isinstance(probe, bytes):
            yield from _binary_lines(source, error, what)
            return
        first = True
        for line in source:
            yield line.removeprefix("\ufeff") if first else line
            first = False
        return
    first = True
    for line in source:
        if isinstance(line, bytes):
            line = line.decode("utf-8-sig" if first else "utf-8")
        yield line.removeprefix("\ufeff") if first else line
        first = False


class _Rewound(io.RawIOBase):
    """A binary stream whose first bytes were already read (to look at them): those, then the rest."""

    def __init__(self, head: bytes, stream):
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n], self.head = self.head[:n], self.head[n:]
            return n
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _binary_lines(stream, error, what) -> Iterator[str]:
    head = stream.read(4)
    if head.startswith(ZIP_MAGIC):
        raise error(f"This {what} is an Excel workbook (.xlsx) or another zip archive, not CSV text: "
                    "upload the .csv the tool writes (or save the sheet as CSV UTF-8).")
    text = io.TextIOWrapper(io.BufferedReader(_Rewound(head, stream), 1 << 20), encoding="utf-8-sig", newline="")
    count = 0
    try:
        for line in text:
            count += 1
            yield line
    except UnicodeDecodeError:
        raise error(f"This {what} is not UTF-8 text (after line {count}): upload the CSV the tool wrote, "
                    "unchanged, or re-save it as CSV UTF-8.") from None
    finally:
        text.detach()  # leave the caller's stream open


def skip_preamble(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` without the blank and ``#`` lines before the header (a note someone added)."""
    lines = iter(lines)
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield line
            break
    yield from lines


def normalise_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


def to_float(text) -> float | None:
    """A number from a cell; None for '', 'N/A', 'NA', 'NaN', 'None', '-', '/'. Infinities stay."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        text = str(text or "").strip().rstrip("%")
        try:
            value = float(text)
        except ValueError:
            return None
    return None if value != value else value  # NaN is no measurement


def _int(text) -> int | None:
    value = to_float(text)
    return int(value) if value is not None and math.isfinite(value) and value == int(value) else None


# --- kernel_details.csv ------------------------------------------------------------------------

KERNEL_COLUMNS = {  # normalised header -> field
    "name": "name", "op name": "name",
    "type": "type", "op type": "type",
    "accelerator core": "core", "task type": "core",
    "duration(us)": "duration", "task duration(us)": "duration",
    "step id": "step", "device_id": "device",
}


@dataclass(slots=True)
class KernelStat:
    name: str
    type: str
    accelerator_core: str
    count: int
    total_us: float
    min_us: float
    max_us: float
    share: float = 0.0  # of all kernel time in the file, 0..1

    @property
    def avg_us(self) -> float:
        return self.total_us / self.count if self.count else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "avg_us": self.avg_us}


@dataclass
class KernelSummary:
    rows: int = 0  # kernel rows counted
    total_us: float = 0.0  # sum of all durations
    distinct_kernels: int = 0
    top: list[KernelStat] = field(default_factory=list)  # by total time, largest first
    by_type: dict[str, float] = field(default_factory=dict)  # type -> total us, largest first
    by_core: dict[str, float] = field(default_factory=dict)  # accelerator core -> total us
    by_step: dict[str, float] = field(default_factory=dict)  # step id -> total us (when the file has steps)
    devices: list[str] = field(default_factory=list)
    skipped_rows: int = 0  # rows without a name or a duration
    chars_read: int = 0  # characters of text read (the header and preamble included)
    columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "total_us": self.total_us, "distinct_kernels": self.distinct_kernels,
                "top": [k.as_dict() for k in self.top], "by_type": dict(self.by_type), "by_core": dict(self.by_core),
                "by_step": dict(self.by_step), "devices": list(self.devices), "skipped_rows": self.skipped_rows,
                "columns": list(self.columns), "warnings": list(self.warnings)}


def _header_index(header: list[str], aliases: dict[str, str]) -> dict[str, int]:
    index = {}
    for position, name in enumerate(header):
        key = aliases.get(normalise_header(name))
        if key and key not in index:
            index[key] = position
    return index


def parse_kernel_details(source, top_n: int = 20) -> KernelSummary:
    """Top ``top_n`` kernels of a ``kernel_details.csv`` (or ``op_summary_*.csv``) by total time.

    ``source``: text, bytes, a binary or text stream, or an iterable of lines; a stream is read
    in chunks and never held whole. Rows whose duration is not a number (N/A) are counted in
    ``skipped_rows``."""
    counted = _CountingLines(text_lines(source, ProfilerFileError, "kernel_details file"))
    lines = skip_preamble(counted)
    header_line = next(lines, None)
    if header_line is None:
        raise ProfilerFileError("The kernel_details file is empty: it needs at least its header line "
                                "(Name, Type, Accelerator Core, Duration(us), ...).")
    header = next(csv.reader([header_line]))
    index = _header_index(header, KERNEL_COLUMNS)
    missing = [label for key, label in (("name", "Name"), ("duration", "Duration(us)")) if key not in index]
    if missing:
        raise ProfilerFileError(
            f"This is not a kernel_details.csv: its header has no {' or '.join(missing)} column "
            f"(it starts {', '.join(header[:6])!s}). Upload ASCEND_PROFILER_OUTPUT/kernel_details.csv "
            "or a CANN op_summary_*.csv.")
    summary = KernelSummary(columns=[h.strip() for h in header])
    for key, label in (("type", "Type"), ("core", "Accelerator Core")):
        if key not in index:
            summary.warnings.append(f"No {label} column: kernels are listed without it.")
    name_i, dur_i = index["name"], index["duration"]
    type_i, core_i = index.get("type"), index.get("core")
    step_i, dev_i = index.get("step"), index.get("device")
    used = [i for i in (name_i, dur_i, type_i, core_i, step_i, dev_i) if i is not None]
    width = max(used) + 1  # split only as far as the last column read
    stats: dict[str, list] = {}
    steps: dict[str, float] = {}
    devices: dict[str, None] = {}
    rows = skipped = 0
    total = 0.0
    split = str.split
    pending = None
    for line in lines:
        if pending is not None:  # inside a quoted cell that spans lines
            pending += line
            if pending.count('"') % 2:
                continue
            line, pending = pending, None
        quote = line.find('"')
        if quote >= 0 and line.count('"') % 2:
            pending = line
            continue
        line = line.rstrip("\r\n")
        parts = split(line, ",", width)
        if quote >= 0 and quote < len(line) - (len(parts[width]) if len(parts) > width else 0):
            parts = next(csv.reader([line]), [])  # a quoted cell among the columns read
        if len(parts) < width:
            if line.strip():
                skipped += 1
            continue
        try:
            duration = float(parts[dur_i])
        except ValueError:
            duration = to_float(parts[dur_i])
        name = parts[name_i]
        if duration is None or not name or duration != duration:
            skipped += 1
            continue
        rows += 1
        total += duration
        stat = stats.get(name)
        if stat is None:
            stats[name] = [1, duration, duration, duration,
                           parts[type_i] if type_i is not None else "", parts[core_i] if core_i is not None else ""]
        else:
            stat[0] += 1
            stat[1] += duration
            if duration < stat[2]:
                stat[2] = duration
            elif duration > stat[3]:
                stat[3] = duration
        if step_i is not None:
            step = parts[step_i]
            steps[step] = steps.get(step, 0.0) + duration
        if dev_i is not None:
            devices[parts[dev_i]] = None
    if pending is not None:
        summary.warnings.append("The file ends inside a quoted cell: its last row was not read.")
    summary.rows, summary.total_us, summary.skipped_rows = rows, total, skipped
    summary.distinct_kernels = len(stats)
    summary.chars_read = counted.chars
    best = heapq.nlargest(max(0, top_n), stats.items(), key=lambda item: item[1][1])
    summary.top = [KernelStat(name=name, type=s[4], accelerator_core=s[5], count=s[0], total_us=s[1], min_us=s[2],
                              max_us=s[3], share=s[1] / total if total else 0.0) for name, s in best]
    by_type: dict[str, float] = {}
    by_core: dict[str, float] = {}
    for s in stats.values():
        by_type[s[4]] = by_type.get(s[4], 0.0) + s[1]
        by_core[s[5]] = by_core.get(s[5], 0.0) + s[1]
    summary.by_type = dict(sorted(by_type.items(), key=lambda kv: -kv[1]))
    summary.by_core = dict(sorted(by_core.items(), key=lambda kv: -kv[1]))
    summary.by_step = {k: steps[k] for k in sorted(steps, key=_step_key) if k.strip() not in ("", "N/A")} if steps \
        else {}
    summary.devices = sorted((d for d in devices if d.strip() not in ("", "N/A")), key=_step_key)
    if skipped:
        summary.warnings.append(f"{skipped} rows had no kernel name or no numeric duration and were not counted.")
    if not rows:
        summary.warnings.append("The file has a header but no kernel rows.")
    return summary


def _step_key(text: str):
    value = to_float(text)
    return (0, value, "") if value is not None else (1, 0.0, text)


class _CountingLines:
    """Iterates lines and counts their characters (what the benchmark divides by)."""

    def __init__(self, lines: Iterator[str]):
        self.lines, self.chars = lines, 0

    def __iter__(self):
        for line in self.lines:
            self.chars += len(line)
            yield line


# --- step_trace_time.csv / cluster_step_trace_time.csv ----------------------------------------------

STEP_COLUMNS = {
    "step": "step", "device_id": "rank", "rank": "rank", "rank id": "rank", "type": "type", "index": "index",
    "computing": "computing",
    "communication(not overlapped)": "communication_not_overlapped",
    "overlapped": "overlapped",
    "communication": "communication",
    "free": "free",
    "stage": "stage",
    "bubble": "bubble",
    "communication(not overlapped and exclude receive)": "communication_exclude_receive",
    "preparing": "preparing",
    "dp index": "dp_index", "pp index": "pp_index", "tp index": "tp_index",
}
TIME_FIELDS = ("computing", "communication_not_overlapped", "overlapped", "communication", "free", "stage", "bubble",
               "communication_exclude_receive", "preparing")


@dataclass(slots=True)
class StepTime:
    """One row, times in microseconds (None when the column is absent or not a number)."""
    step: int | None = None
    rank: int | None = None  # the cluster file's Index on rank rows; step_trace_time.csv's Device_id
    computing: float | None = None
    communication_not_overlapped: float | None = None
    overlapped: float | None = None
    communication: float | None = None
    free: float | None = None
    stage: float | None = None
    bubble: float | None = None
    communication_exclude_receive: float | None = None
    preparing: float | None = None
    dp_index: int | None = None
    pp_index: int | None = None
    tp_index: int | None = None

    @property
    def step_time_us(self) -> float | None:
        """Computing + communication not overlapped + free (msprof-analyze's step duration)."""
        parts = (self.computing, self.communication_not_overlapped, self.free)
        return sum(parts) if all(p is not None for p in parts) else None

    def as_dict(self) -> dict:
        return {**asdict(self), "step_time_us": self.step_time_us}


@dataclass(slots=True)
class StageTime:
    """A ``stage`` row of the cluster file: the stage's ranks and, per column, the largest of their times."""
    ranks: tuple[int, ...]
    step: int | None = None
    computing: float | None = None
    communication_not_overlapped: float | None = None
    free: float | None = None
    stage: float | None = None
    bubble: float | None = None

    def as_dict(self) -> dict:
        return {**asdict(self), "ranks": list(self.ranks)}


@dataclass
class StepTrace:
    steps: list[StepTime] = field(default_factory=list)  # the rank rows (all rows of step_trace_time.csv)
    stages: list[StageTime] = field(default_factory=list)  # the stage rows of a cluster file
    cluster: bool = False  # a cluster_step_trace_time.csv (it has Type and Index)
    columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"steps": [s.as_dict() for s in self.steps], "stages": [s.as_dict() for s in self.stages],
                "cluster": self.cluster, "columns": list(self.columns), "warnings": list(self.warnings)}


def parse_step_trace(source) -> StepTrace:
    """``step_trace_time.csv`` (per device) or msprof-analyze's ``cluster_step_trace_time.csv``."""
    reader = csv.reader(skip_preamble(text_lines(source, ProfilerFileError, "step trace file")))
    header = next(reader, None)
    if not header:
        raise ProfilerFileError("The step trace file is empty: it needs its header line (Step, Computing, "
                                "Communication(Not Overlapped), Overlapped, Communication, Free, ...).")
    index = _header_index(header, STEP_COLUMNS)
    if "computing" not in index or "free" not in index:
        raise ProfilerFileError(
            "This is not a step_trace_time.csv or cluster_step_trace_time.csv: its header has no "
            f"Computing and Free columns (it starts {', '.join(header[:6])}). Upload the file from "
            "ASCEND_PROFILER_OUTPUT/ or msprof-analyze's cluster_analysis_output/.")
    trace = StepTrace(columns=[h.strip() for h in header], cluster="type" in index and "index" in index)
    for key, label in (("communication_not_overlapped", "Communication(Not Overlapped)"),
                       ("overlapped", "Overlapped"), ("communication", "Communication")):
        if key not in index:
            trace.warnings.append(f"No {label} column.")
    bad = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        values = {key: row[i] if i < len(row) else "" for key, i in index.items()}
        times = {key: to_float(values.get(key)) for key in TIME_FIELDS}
        if times["computing"] is None and times["free"] is None:
            bad += 1
            continue
        kind = values.get("type", "rank").strip().lower() or "rank"
        step = _int(values.get("step"))
        if kind == "stage":
            ranks = tuple(sorted(int(n) for n in re.findall(r"\d+", values.get("index", ""))))
            trace.stages.append(StageTime(ranks=ranks, step=step, computing=times["computing"],
                                          communication_not_overlapped=times["communication_not_overlapped"],
                                          free=times["free"], stage=times["stage"], bubble=times["bubble"]))
            continue
        rank = _int(values.get("index")) if trace.cluster else _int(values.get("rank"))
        trace.steps.append(StepTime(step=step, rank=rank, **times, dp_index=_int(values.get("dp_index")),
                                    pp_index=_int(values.get("pp_index")), tp_index=_int(values.get("tp_index"))))
    if bad:
        trace.warnings.append(f"{bad} rows had no numeric Computing or Free time and were skipped.")
    if not trace.steps:
        trace.warnings.append("The file has a header but no step rows.")
    return trace


# --- the cluster: slow rank, slow stage ----------------------------------------------------------

DIMENSIONS = ("computing", "communication_not_overlapped", "free")
SLOW_RATIO = 0.05  # msprof-analyze's advisor: uneven when (max - min) / mean step time > 5 %


@dataclass(slots=True)
class RankTimes:
    rank: int | None
    steps: int
    computing: float  # means per step, us
    communication_not_overlapped: float
    free: float

    @property
    def step_time_us(self) -> float:
        return self.computing + self.communication_not_overlapped + self.free

    def as_dict(self) -> dict:
        return {**asdict(self), "step_time_us": self.step_time_us}


@dataclass(slots=True)
class DimensionGap:
    dimension: str  # computing | communication_not_overlapped | free
    max_rank: int | None
    max_us: float
    min_rank: int | None
    min_us: float
    gap_us: float
    gap_ratio: float  # gap / mean step time
    uneven: bool  # gap_ratio > threshold

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ClusterAnalysis:
    ranks: list[RankTimes] = field(default_factory=list)
    gaps: list[DimensionGap] = field(default_factory=list)
    mean_step_time_us: float = 0.0
    slow_rank: int | None = None
    slow_rank_cause: str | None = None  # computing | free: what the slow rank spends more on than the others
    slow_rank_excess_us: float | None = None  # its computing + free over the cluster's mean
    stages: list[dict] = field(default_factory=list)  # ranks, computing, stage_time_us (means over steps)
    slow_stage: tuple[int, ...] | None = None
    slow_stage_gap_ratio: float | None = None
    threshold: float = SLOW_RATIO
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ranks": [r.as_dict() for r in self.ranks], "gaps": [g.as_dict() for g in self.gaps],
                "mean_step_time_us": self.mean_step_time_us, "slow_rank": self.slow_rank,
                "slow_rank_cause": self.slow_rank_cause, "slow_rank_excess_us": self.slow_rank_excess_us,
                "stages": [{**s, "ranks": list(s["ranks"])} for s in self.stages],
                "slow_stage": list(self.slow_stage) if self.slow_stage is not None else None,
                "slow_stage_gap_ratio": self.slow_stage_gap_ratio, "threshold": self.threshold,
                "notes": list(self.notes)}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def analyse_cluster(trace: StepTrace, threshold: float = SLOW_RATIO) -> ClusterAnalysis:
    """Per rank (means over its steps): which dimension is uneven across ranks, the slow rank and stage.

    In a synchronous job the others wait for the slow rank inside their collectives, so its own
    work (computing + free) is the largest and its not-overlapped communication the smallest.
    Stages come from the file's ``stage`` rows, else from the ``PP Index`` column."""
    out = ClusterAnalysis(threshold=threshold)
    per_rank: dict[int | None, list[StepTime]] = {}
    for row in trace.steps:
        if all(getattr(row, d) is not None for d in ("computing", "free")):
            per_rank.setdefault(row.rank, []).append(row)
    for rank, rows in sorted(per_rank.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        out.ranks.append(RankTimes(
            rank=rank, steps=len(rows), computing=_mean([r.computing for r in rows]),
            communication_not_overlapped=_mean([r.communication_not_overlapped or 0.0 for r in rows]),
            free=_mean([r.free for r in rows])))
    if not out.ranks:
        out.notes.append("No rank rows with computing and free times.")
        return out
    out.mean_step_time_us = _mean([r.step_time_us for r in out.ranks])
    for dim in DIMENSIONS:
        values = [(getattr(r, dim), r.rank) for r in out.ranks]
        (hi, hi_rank), (lo, lo_rank) = max(values, key=lambda v: v[0]), min(values, key=lambda v: v[0])
        ratio = (hi - lo) / out.mean_step_time_us if out.mean_step_time_us else 0.0
        out.gaps.append(DimensionGap(dimension=dim, max_rank=hi_rank, max_us=hi, min_rank=lo_rank, min_us=lo,
                                     gap_us=hi - lo, gap_ratio=ratio, uneven=ratio > threshold))
    if len(out.ranks) < 2:
        out.notes.append("One rank only: no slow-rank analysis.")
    elif any(g.uneven for g in out.gaps):
        slow = max(out.ranks, key=lambda r: r.computing + r.free)
        out.slow_rank = slow.rank
        mean_computing = _mean([r.computing for r in out.ranks])
        mean_free = _mean([r.free for r in out.ranks])
        out.slow_rank_cause = "computing" if slow.computing - mean_computing >= slow.free - mean_free else "free"
        out.slow_rank_excess_us = (slow.computing + slow.free) - (mean_computing + mean_free)
    else:
        out.notes.append(f"No dimension differs across ranks by more than {threshold:.0%} of the step time: "
                         "no slow rank.")
    _stages(trace, out, threshold)
    return out


def _stages(trace: StepTrace, out: ClusterAnalysis, threshold: float) -> None:
    groups: dict[tuple[int, ...], list[tuple[float, float]]] = {}
    if trace.stages:
        for s in trace.stages:
            if s.computing is not None:
                stage_time = s.stage if s.stage is not None else s.computing + (s.communication_not_overlapped or 0) \
                    + (s.free or 0)
                groups.setdefault(s.ranks, []).append((s.computing, stage_time))
    else:
        by_pp: dict[int, list[int | None]] = {}
        for row in trace.steps:
            if row.pp_index is not None:
                by_pp.setdefault(row.pp_index, []).append(row.rank)
        means = {r.rank: r for r in out.ranks}
        for ranks in by_pp.values():
            members = [means[r] for r in sorted(set(ranks), key=lambda r: r or 0) if r in means]
            if members:
                key = tuple(sorted(m.rank for m in members if m.rank is not None))
                groups[key] = [(max(m.computing for m in members), max(m.step_time_us for m in members))]
    out.stages = [{"ranks": ranks, "computing": _mean([v[0] for v in values]),
                   "stage_time_us": _mean([v[1] for v in values])} for ranks, values in sorted(groups.items())]
    if len(out.stages) < 2:
        return
    slow = max(out.stages, key=lambda s: s["computing"])
    low = min(s["computing"] for s in out.stages)
    mean_time = _mean([s["stage_time_us"] for s in out.stages])
    ratio = (slow["computing"] - low) / mean_time if mean_time else 0.0
    out.slow_stage_gap_ratio = ratio
    if ratio > threshold:
        out.slow_stage = slow["ranks"]
    else:
        out.notes.append(f"Stages compute within {threshold:.0%} of the stage time of each other: no slow stage.")


# --- bottleneck and MFU; before/after ---------------------------------------------------------

COMPONENTS = ("computing", "communication_not_overlapped", "overlapped", "communication", "free", "bubble",
              "preparing")
BOUNDS = {"computing": "compute", "communication_not_overlapped": "communication", "free": "idle"}
NOTABLE_SHARE = 0.10


@dataclass
class ProfileSummary:
    step_time_us: float | None = None  # mean over the steps (and ranks) read
    records: int = 0  # step rows averaged
    ranks: int = 0
    components: dict[str, float] = field(default_factory=dict)  # COMPONENTS -> mean us per step
    shares: dict[str, float] = field(default_factory=dict)  # computing, communication_not_overlapped, free: of the step
    bound: str = "unknown"  # compute | communication | idle | unknown
    mfu: float | None = None  # 0..1
    achieved_tflops: float | None = None  # per device
    step_time_source: str = ""  # "step trace" or "given"
    top_kernels: list[dict] = field(default_factory=list)  # name, type, accelerator_core, total_us, share, count
    kernel_total_us: float | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"step_time_us": self.step_time_us, "records": self.records, "ranks": self.ranks,
                "components": dict(self.components), "shares": dict(self.shares), "bound": self.bound,
                "mfu": self.mfu, "achieved_tflops": self.achieved_tflops, "step_time_source": self.step_time_source,
                "top_kernels": [dict(k) for k in self.top_kernels], "kernel_total_us": self.kernel_total_us,
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict) -> "ProfileSummary":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def _positive(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProfilerFileError(f"{name} must be a number, not {value!r}.") from None
    if not math.isfinite(number) or number <= 0:
        raise ProfilerFileError(f"{name} must be a positive number, not {value!r}.")
    return number


def bottleneck_summary(trace: StepTrace | Iterable[StepTime] | None = None, *, kernels: KernelSummary | None = None,
                       flops_per_step=None, peak_flops=None, step_time_s=None, devices: int = 1,
                       skip_first_step: bool = False) -> ProfileSummary:
    """Compute-, communication- or idle-bound from the step trace: the largest of computing,
    not-overlapped communication and free time in the mean step.

    MFU = ``flops_per_step`` / (step time x ``peak_flops`` x ``devices``): ``flops_per_step`` is the
    model's FLOPs for one step of the ``devices`` devices together (per device with the default
    1), ``peak_flops`` one device's peak in FLOP/s. The step time is ``step_time_s`` when given
    (e.g. from the training log), else the step trace's mean. ``skip_first_step`` leaves out the
    lowest step number (warm-up) when there are several."""
    flops = _positive(flops_per_step, "FLOPs per step")
    peak = _positive(peak_flops, "Peak FLOPS")
    given = _positive(step_time_s, "Step time")
    if devices is None or int(devices) < 1:
        raise ProfilerFileError("The number of devices must be at least 1.")
    rows = list(trace.steps if isinstance(trace, StepTrace) else trace or [])
    rows = [r for r in rows if r.step_time_us is not None]
    if skip_first_step:
        numbered = sorted({r.step for r in rows if r.step is not None})
        if len(numbered) > 1:
            rows = [r for r in rows if r.step != numbered[0]]
    out = ProfileSummary(records=len(rows), ranks=len({r.rank for r in rows}))
    if rows:
        for name in COMPONENTS:
            values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
            if values:
                out.components[name] = _mean(values)
        out.step_time_us = _mean([r.step_time_us for r in rows])
        out.step_time_source = "step trace"
        if out.step_time_us:
            out.shares = {name: out.components.get(name, 0.0) / out.step_time_us for name in BOUNDS}
            largest = max(BOUNDS, key=lambda name: out.shares[name])
            out.bound = BOUNDS[largest]
            for name, share in out.shares.items():
                if name != largest and share >= NOTABLE_SHARE:
                    out.notes.append(f"{BOUNDS[name].capitalize()} time is also {share:.0%} of the step.")
            if out.shares.get("free", 0) >= NOTABLE_SHARE:
                out.notes.append("Idle (free) time: the device waits for the host - data loading, Python "
                                 "overhead, synchronisation or launch gaps.")
    else:
        out.notes.append("No step rows with computing, communication and free times: the bound is unknown.")
    seconds = given if given is not None else (out.step_time_us / 1e6 if out.step_time_us else None)
    if given is not None:
        out.step_time_source = "given"
    if flops is not None and seconds:
        out.achieved_tflops = flops / seconds / int(devices) / 1e12
        if peak is not None:
            out.mfu = flops / (seconds * peak * int(devices))
            if out.mfu > 1:
                out.notes.append(f"MFU {out.mfu:.0%} is above 100 %: check the FLOPs per step (for how many "
                                 "devices?) and the peak FLOPS (per device, in FLOP/s).")
    elif flops is not None or peak is not None:
        out.notes.append("MFU needs the FLOPs per step, the peak FLOPS and a step time.")
    if kernels is not None:
        out.kernel_total_us = kernels.total_us
        out.top_kernels = [{"name": k.name, "type": k.type, "accelerator_core": k.accelerator_core,
                            "total_us": k.total_us, "share": k.share, "count": k.count} for k in kernels.top]
    return out


@dataclass(slots=True)
class Delta:
    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return self.after - self.before if self.before is not None and self.after is not None else None

    @property
    def delta_pct(self) -> float | None:
        """Change in % of ``before`` (negative: less time)."""
        d = self.delta
        return d / self.before * 100 if d is not None and self.before else None

    def as_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "delta": self.delta,
                "delta_pct": self.delta_pct}


@dataclass
class ProfileComparison:
    step_time_before_us: float | None
    step_time_after_us: float | None
    gain_pct: float | None  # (before - after) / before x 100: positive when the step got faster
    speedup: float | None  # before / after
    components: list[Delta] = field(default_factory=list)  # mean us per step
    kernels: list[Delta] = field(default_factory=list)  # total us of the kernels in either top list
    bound_before: str = "unknown"
    bound_after: str = "unknown"
    mfu_before: float | None = None
    mfu_after: float | None = None

    def as_dict(self) -> dict:
        return {"step_time_before_us": self.step_time_before_us, "step_time_after_us": self.step_time_after_us,
                "gain_pct": self.gain_pct, "speedup": self.speedup,
                "components": [d.as_dict() for d in self.components], "kernels": [d.as_dict() for d in self.kernels],
                "bound_before": self.bound_before, "bound_after": self.bound_after,
                "mfu_before": self.mfu_before, "mfu_after": self.mfu_after}


def compare_profiles(before: ProfileSummary | dict, after: ProfileSummary | dict) -> ProfileComparison:
    """Before/after of two ``bottleneck_summary`` results (or their ``as_dict``, as stored)."""
    if isinstance(before, dict):
        before = ProfileSummary.from_dict(before)
    if isinstance(after, dict):
        after = ProfileSummary.from_dict(after)
    b, a = before.step_time_us, after.step_time_us
    out = ProfileComparison(step_time_before_us=b, step_time_after_us=a,
                            gain_pct=(b - a) / b * 100 if b and a is not None else None,
                            speedup=b / a if b and a else None,
                            bound_before=before.bound, bound_after=after.bound,
                            mfu_before=before.mfu, mfu_after=after.mfu)
    for name in COMPONENTS:
        if name in before.components or name in after.components:
            out.components.append(Delta(name, before.components.get(name), after.components.get(name)))
    if out.components:
        out.components.append(Delta("step_time", b, a))
    totals_b = {k["name"]: k["total_us"] for k in before.top_kernels}
    totals_a = {k["name"]: k["total_us"] for k in after.top_kernels}
    names = list(dict.fromkeys([*totals_b, *totals_a]))
    out.kernels = sorted((Delta(n, totals_b.get(n), totals_a.get(n)) for n in names),
                         key=lambda d: -max(d.before or 0.0, d.after or 0.0))
    return out
