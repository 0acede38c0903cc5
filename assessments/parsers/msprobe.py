"""Accuracy comparison results: msprobe ``compare`` (current and legacy headers), CANN's
msaccucmp network comparison and msprobe's API accuracy checker.

Recognised by their headers, in any column order, with or without the ``NPU_Stack_Info`` column:

- msprobe, current (``compare_result_*.csv``): ``NPU Name, Bench Name, ...`` and ``Result``
  (``pass`` / ``warning`` / ``error``; ``Different`` in md5 mode; empty in statistics mode when
  nothing was flagged); modes tensor (``Cosine, EucDist, MaxAbsErr, MaxRelativeErr, One
  Thousandth Err Ratio, ...``), statistics (``Max diff, ..., MaxRelativeErr, MeanRelativeErr``,
  relative errors written as percentages) and md5 (``NPU MD5, BENCH MD5``);
- msprobe, legacy: ``Accuracy Reached or Not`` (``Yes`` / ``No`` / ``Unmatched`` / ``Warning``)
  instead of ``Result``, ``NPU Tensor Dtype``;
- msaccucmp (``result_*.csv``): ``Index, OpType, NPUDump, ..., OverFlow, CosineSimilarity,
  MaxAbsoluteError, AccumulatedRelativeError, ..., MeanRelativeError``: no result column, so the
  result is derived with msprobe's own rule (``check_accuracy``: error when cosine < 0.99 and max
  absolute error > 0.001, or cosine < 0.9, or max absolute error > 1);
- the API accuracy checker: ``accuracy_checking_result_*.csv`` (``API name, Forward Test Success,
  Backward Test Success, Message``) and ``accuracy_checking_details_*.csv`` (``Status``).

Every row's result is normalised to one of ``RESULTS``. Overflow: msaccucmp's ``OverFlow``
column (YES / NO / NaN = not checked); for msprobe, an ``inf``, ``-inf`` or ``nan`` among the NPU
statistics (``NPU max/min/mean/l2norm``), the values msprobe itself treats as overflow. Execution
order is the file's row order (msprobe writes rows in the order the APIs ran), or msaccucmp's
``Index`` (the operator's ID in the network).

Large files (a million rows) are read as a stream: rows are counted as they pass and only the
rows asked for are kept (``keep``). Cells with ``N/A``, ``NaN``, ``None`` or nothing read as None.
"""

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from operator import itemgetter

from .profiler import normalise_header, skip_preamble, text_lines, to_float


class CompareFileError(ValueError):
    """Not an accuracy comparison file this module reads; the message says what was expected."""


RESULTS = ("pass", "warning", "error", "unmatched", "skipped", "unknown")
RESULT_WORDS = {
    "pass": "pass", "passed": "pass", "yes": "pass", "true": "pass", "ok": "pass",
    "warning": "warning", "warn": "warning",
    "error": "error", "no": "error", "false": "error", "different": "error", "diff": "error", "fail": "error",
    "failed": "error",
    "unmatched": "unmatched", "n/a": "unmatched", "no bench data matched.": "unmatched",
    "skip": "skipped", "skipped": "skipped", "unsupported": "skipped",
}
NOT_A_NAME = {"", "n/a", "nan", "none", "*"}  # a bench name meaning "no bench data"
NO_BENCH = {"", "N/A", "n/a", "*", "NaN", "nan", "None"}
COS_THRESHOLD, MAX_ABS_ERR_THRESHOLD = 0.99, 0.001  # msprobe CompareConst
COS_MAX_THRESHOLD, MAX_ABS_ERR_MAX_THRESHOLD = 0.9, 1.0

COLUMNS = {  # normalised header -> field
    "npu name": "name", "npudump": "name", "api name": "name",
    "bench name": "bench_name", "groundtruth": "bench_name",
    "npu dtype": "npu_dtype", "npu tensor dtype": "npu_dtype", "datatype": "npu_dtype", "device dtype": "npu_dtype",
    "npu tensor shape": "npu_shape", "shape": "npu_shape",
    "cosine": "cosine", "cosinesimilarity": "cosine", "余弦相似度": "cosine",
    "maxabserr": "max_abs_err", "maxabsoluteerror": "max_abs_err", "最大绝对误差": "max_abs_err",
    "maxrelativeerr": "max_rel_err", "maxrelativeerror": "max_rel_err", "相对误差最大值": "max_rel_err",
    "meanrelativeerr": "mean_rel_err", "meanrelativeerror": "mean_rel_err", "相对误差平均值": "mean_rel_err",
    "eucdist": "euc_dist", "relativeeuclideandistance": "euc_dist",
    "one thousandth err ratio": "one_thousandth_ratio", "双千指标": "one_thousandth_ratio",
    "five thousandths err ratio": "five_thousandths_ratio",
    "result": "result", "accuracy reached or not": "result", "status": "result",
    "forward test success": "forward", "backward test success": "backward",
    "err_message": "message", "message": "message", "comparefailreason": "message",
    "overflow": "overflow", "index": "index", "npu_stack_info": "stack",
    "npu max": "npu_max", "npu min": "npu_min", "npu mean": "npu_mean", "npu l2norm": "npu_norm",
}
KNOWN_OTHER = {  # read by no field, but expected in one of the formats (not reported as unknown)
    "bench dtype", "bench tensor dtype", "npu tensor shape", "bench tensor shape", "npu requires_grad",
    "bench requires_grad", "max diff", "min diff", "mean diff", "l2norm diff", "minrelativeerr", "normrelativeerr",
    "bench max", "bench min", "bench mean", "bench l2norm", "requires_grad consistent", "npu md5", "bench md5",
    "optype", "address", "tensorindex", "opsequence", "accumulatedrelativeerror", "kullbackleiblerdivergence",
    "standarddeviation", "meanabsoluteerror", "rootmeansquareerror", "advisor", "data_name",
}
ROLE = re.compile(r"^(.*)[._](?:input|output|kwargs|parameters_grad|parameters|grad_input|grad_output)(?:[._][\w.]*)?$")
FLOAT_FIELDS = ("cosine", "max_abs_err", "max_rel_err", "mean_rel_err", "euc_dist", "one_thousandth_ratio",
                "five_thousandths_ratio")


@dataclass(slots=True)
class CompareRow:
    order: int  # execution order: the row's position (1-based), or msaccucmp's Index
    name: str  # the NPU tensor (msprobe), operator (msaccucmp) or API (accuracy checker)
    op: str  # the API / operator the tensor belongs to (name without .input.0 / _output ...)
    bench_name: str = ""
    npu_dtype: str = ""
    npu_shape: str = ""
    cosine: float | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None  # relative errors as fractions (msprobe's "12.5%" -> 0.125)
    mean_rel_err: float | None = None
    euc_dist: float | None = None
    one_thousandth_ratio: float | None = None
    five_thousandths_ratio: float | None = None
    result: str = "unknown"  # one of RESULTS
    raw_result: str = ""  # as written: pass, Yes, No, Different, ... ("derived" for msaccucmp)
    overflow: bool | None = None  # None: not checked / no data
    message: str = ""
    stack: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CompareSummary:
    format: str = ""  # msprobe | msprobe_legacy | msaccucmp | api_accuracy_checker
    mode: str = ""  # tensor | statistics | md5 | legacy | msaccucmp | api_result | api_details
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))
    first_mismatch: CompareRow | None = None  # the first row in execution order whose result is error
    first_warning: CompareRow | None = None
    overflows: int = 0
    overflow_checked: bool = False  # some row carried overflow information
    first_overflow: CompareRow | None = None
    has_stack: bool = False
    columns: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def first_mismatch_op(self) -> str | None:
        return self.first_mismatch.op if self.first_mismatch else None

    def as_dict(self) -> dict:
        return {"format": self.format, "mode": self.mode, "rows": self.rows, "counts": dict(self.counts),
                "first_mismatch": self.first_mismatch.as_dict() if self.first_mismatch else None,
                "first_mismatch_op": self.first_mismatch_op,
                "first_warning": self.first_warning.as_dict() if self.first_warning else None,
                "overflows": self.overflows, "overflow_checked": self.overflow_checked,
                "first_overflow": self.first_overflow.as_dict() if self.first_overflow else None,
                "has_stack": self.has_stack, "columns": list(self.columns),
                "unknown_columns": list(self.unknown_columns), "warnings": list(self.warnings)}


@dataclass
class CompareResult:
    summary: CompareSummary
    rows: list[CompareRow] = field(default_factory=list)  # the rows kept (see ``keep``), in file order
    truncated: bool = False  # more rows matched ``keep`` than ``limit``

    def as_dict(self) -> dict:
        return {"summary": self.summary.as_dict(), "rows": [r.as_dict() for r in self.rows],
                "truncated": self.truncated}


def op_of(name: str) -> str:
    """``Functional.linear.0.forward.input.0`` -> ``Functional.linear.0.forward``;
    ``Torch_relu_0_forward_output`` -> ``Torch_relu_0_forward``; anything else unchanged."""
    match = ROLE.match(name)
    return match.group(1) if match and match.group(1) else name


def derive_result(cosine: float | None, max_abs_err: float | None) -> str:
    """msprobe's ``check_accuracy`` on a cosine and a max absolute error: pass or error (unknown without them)."""
    if cosine is None or max_abs_err is None:
        return "unknown"
    if cosine < COS_THRESHOLD and max_abs_err > MAX_ABS_ERR_THRESHOLD:
        return "error"
    if cosine < COS_MAX_THRESHOLD or max_abs_err > MAX_ABS_ERR_MAX_THRESHOLD:
        return "error"
    return "pass"


# --- reading a comparison: one pass ---------------------------------------------------------------

ROW_FIELDS = tuple(f.name for f in fields(CompareRow))  # a scanned row: a tuple of these, CompareRow(*row)
TEXT_FIELDS = ("name", "bench_name", "npu_dtype", "npu_shape", "message", "stack")
STAT_FIELDS = ("npu_max", "npu_min", "npu_mean", "npu_norm")  # msprobe's NPU statistics: overflow
KEEPS = ("problems", "all", "none")
CHUNK_ROWS = 2000


def _fraction(text: str) -> float | None:
    value = to_float(text)
    if value is not None and text.strip().endswith("%"):
        return value / 100
    return value


def _picker(indexes: list[int | None], default) -> Callable[[list[str]], tuple]:
    """A function cells -> the tuple of the cells at ``indexes``, ``default`` where an index is None."""
    present = [i for i in indexes if i is not None]
    if len(present) > 1:
        get = itemgetter(*present)
    elif present:
        only = present[0]

        def get(cells):
            return (cells[only],)
    else:
        def get(cells):
            return ()
    if len(present) == len(indexes):
        return get
    slots, n = [], 0
    for i in indexes:
        slots.append(n if i is not None else len(present))
        n += i is not None
    place, tail = itemgetter(*slots), (default,)

    def pick(cells):
        return place(get(cells) + tail)
    return pick


class _Table:
    """The header read and understood; ``reader`` is left at the first data row."""

    def __init__(self, source):
        self.reader = csv.reader(skip_preamble(text_lines(source, CompareFileError, "comparison file")))
        try:
            header = next(self.reader, None)
        except csv.Error as exc:
            raise CompareFileError(f"The comparison file is not valid CSV: {exc}.") from None
        if not header or not any(cell.strip() for cell in header):
            raise CompareFileError("The comparison file is empty: it needs its header line "
                                   "(NPU Name, Bench Name, ..., Result, Err_message).")
        self.header = [cell.strip() for cell in header]
        names = [normalise_header(cell) for cell in header]
        self.index: dict[str, int] = {}
        unknown = []
        for position, name in enumerate(names):
            key = COLUMNS.get(name)
            if key and key not in self.index:
                self.index[key] = position
            elif not key and name not in KNOWN_OTHER and name:
                unknown.append(self.header[position])
        self.unknown = unknown
        if "name" not in self.index:
            raise CompareFileError(
                "This is not an accuracy comparison result: its header has no NPU Name (msprobe), NPUDump "
                f"(msaccucmp) or API name (accuracy checker) column; it starts {', '.join(self.header[:5])}. "
                "Upload compare_result_*.csv from msprobe compare, or msaccucmp's result_*.csv.")
        cols = set(names)
        if "npudump" in cols:
            self.format, self.mode = "msaccucmp", "msaccucmp"
        elif "forward test success" in cols:
            self.format, self.mode = "api_accuracy_checker", "api_result"
        elif "api name" in cols:
            self.format, self.mode = "api_accuracy_checker", "api_details"
        elif "accuracy reached or not" in cols:
            self.format, self.mode = "msprobe_legacy", "legacy"
        else:
            self.format = "msprobe"
            self.mode = ("md5" if "npu md5" in cols else "tensor" if "cosine" in cols
                         else "statistics" if "max diff" in cols else "unknown")
        # msprobe leaves Result empty in statistics mode when nothing was flagged.
        self.empty_is_pass = "max diff" in cols and "cosine" not in cols
        self.width = len(header)


def _classifier(table: _Table):
    """A function cells -> (result, raw result) for this table's format."""
    idx = table.index
    bench_i = idx.get("bench_name")
    if table.mode == "api_result":
        fwd_i, bwd_i = idx.get("forward"), idx.get("backward")
        rank = {"error": 3, "warning": 2, "pass": 1}

        def classify(cells):
            words = [cells[i].strip() for i in (fwd_i, bwd_i) if i is not None]
            found = [RESULT_WORDS.get(w.lower(), "unknown") for w in words if w]
            graded = [r for r in found if r in rank]
            result = max(graded, key=rank.get) if graded else (found[0] if found else "unknown")
            return (result if result != "unmatched" else "skipped"), "/".join(words)
        return classify
    result_i = idx.get("result")
    if result_i is None:
        cos_i, abs_i = idx.get("cosine"), idx.get("max_abs_err")

        def classify(cells):
            if bench_i is not None and cells[bench_i].strip().lower() in NOT_A_NAME:
                return "unmatched", "derived"
            cosine = to_float(cells[cos_i]) if cos_i is not None else None
            max_abs = to_float(cells[abs_i]) if abs_i is not None else None
            return derive_result(cosine, max_abs), "derived"
        return classify
    empty_is_pass = table.empty_is_pass
    words = RESULT_WORDS

    def classify(cells):
        raw = cells[result_i]
        if bench_i is not None and cells[bench_i] in NO_BENCH:
            return "unmatched", raw
        result = words.get(raw) or words.get(raw.strip().lower())
        if result is None:
            result = "pass" if empty_is_pass and not raw.strip() else "unknown"
        return result, raw
    return classify


def _overflow_reader(table: _Table):
    """A function cells -> overflow: True, False, or None (not checked)."""
    idx = table.index
    if "overflow" in idx:
        col = idx["overflow"]

        def overflow(cells):
            word = cells[col].strip().upper()
            return True if word == "YES" else False if word == "NO" else None
        return overflow
    stats = [idx[k] for k in STAT_FIELDS if k in idx]
    if not stats:
        return lambda cells: None
    get = _picker(stats, "")

    def exact(cells):
        seen = False
        for i in stats:
            try:
                value = float(cells[i])  # msprobe writes "inf\t", "-inf\t", "nan\t": float() reads them
            except ValueError:
                continue
            if value != value or value in (math.inf, -math.inf):
                return True
            seen = True
        return False if seen else None

    def overflow(cells):
        try:
            total = sum(map(float, get(cells)))
        except ValueError:  # a cell that is no number: cell by cell
            return exact(cells)
        # every statistic read: finite sum, none is inf or nan (else, or a sum too large: exact())
        return False if total - total == 0 else exact(cells)
    return overflow


def _order_reader(table: _Table):
    """A function (cells, position) -> execution order: msaccucmp's Index; None without an Index column."""
    i = table.index.get("index")
    if i is None:
        return None

    def order(cells, position):
        value = to_float(cells[i])
        return int(value) if value is not None and math.isfinite(value) else position
    return order


def _row_maker(table: _Table):
    """A function (cells, order, result, raw result, overflow) -> the row as a tuple of ``ROW_FIELDS``."""
    idx = table.index
    texts = _picker([idx.get(key) for key in TEXT_FIELDS], "")
    present = [key for key in FLOAT_FIELDS if key in idx]
    converters = [_fraction if key in ("max_rel_err", "mean_rel_err") else to_float for key in present]
    complete = len(present) == len(FLOAT_FIELDS)
    place = itemgetter(*[present.index(key) if key in idx else len(present) for key in FLOAT_FIELDS])
    get_numbers = _picker([idx[key] for key in present], "")
    tail = (None,)
    match = ROLE.match if table.format.startswith("msprobe") else None  # op_of, inlined
    strip, none_stack = str.strip, ("None", "N/A")

    def make(cells, order, result, raw, overflow) -> tuple:
        name, bench, dtype, shape, message, stack = map(strip, texts(cells))
        found = get_numbers(cells)
        try:
            values = tuple(map(float, found))
        except ValueError:  # N/A, None, 12.5%, ...: cell by cell
            values = tuple([convert(text) for convert, text in zip(converters, found, strict=True)])
        else:
            # float() read every cell, so none ends with % (not a fraction); NaN is no measurement
            total = sum(values)
            if total != total:
                values = tuple([value if value == value else None for value in values])
        if not complete:
            values = place(values + tail)
        if match is None:
            op = name
        else:
            role = match(name)
            op = (role[1] or name) if role else name
        return (order, name, op, bench, dtype, shape, *values, result, raw.strip(), overflow, message,
                "" if stack in none_stack else stack)
    return make


class CompareScan:
    """One pass over a comparison file (``scan_compare``).

    The header is read when the scan is made (``CompareFileError`` when it is not a comparison):
    ``format``, ``mode``, ``columns``, ``unknown_columns`` and ``has_stack`` are known at once.
    Iterating the scan (once) yields the rows asked for (``keep``) in file order, in lists of at
    most ``chunk_rows`` rows, each row a tuple of ``ROW_FIELDS`` (``CompareRow(*row)`` makes it a
    ``CompareRow``); every row is classified and counted as it passes, whether kept or not. Once
    the iteration has ended, ``summary`` is the file's ``CompareSummary``. Memory stays flat:
    one chunk at a time."""

    def __init__(self, source, keep: str = "all", chunk_rows: int = CHUNK_ROWS):
        if keep not in KEEPS:
            raise ValueError(f"keep must be 'problems', 'all' or 'none', not {keep!r}")
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows!r}")
        self._table = table = _Table(source)
        self.format, self.mode = table.format, table.mode
        self.columns, self.unknown_columns = list(table.header), list(table.unknown)
        self.has_stack = "stack" in table.index
        self._summary: CompareSummary | None = None
        self._chunks = self._scan(keep, chunk_rows)

    def __iter__(self) -> Iterator[list[tuple]]:
        return self._chunks

    def rows(self) -> Iterator[tuple]:
        """The rows one at a time (the same single pass)."""
        for chunk in self._chunks:
            yield from chunk

    @property
    def summary(self) -> CompareSummary:
        if self._summary is None:
            raise RuntimeError("The summary of a comparison is known once its scan has been read to the end.")
        return self._summary

    def _scan(self, keep: str, size: int) -> Iterator[list[tuple]]:
        table = self._table
        classify, overflow_of, make = _classifier(table), _overflow_reader(table), _row_maker(table)
        order_of = _order_reader(table)
        has_index = order_of is not None
        keep_all, keep_problems = keep == "all", keep == "problems"
        counts = dict.fromkeys(RESULTS, 0)
        first_error = first_warning = first_overflow = None  # (order, cells, result, raw, overflow)
        overflows = position = 0
        checked = False
        reader, width = table.reader, table.width
        pad = [""] * width
        chunk: list[tuple] = []
        try:
            for cells in reader:
                if len(cells) < width:
                    if not cells or not any(c.strip() for c in cells):
                        continue  # a blank line
                    cells = cells + pad[len(cells):]
                position += 1
                result, raw = classify(cells)
                counts[result] += 1
                overflow = overflow_of(cells)
                if overflow is not None:
                    checked = True
                    if overflow:
                        overflows += 1
                order = order_of(cells, position) if has_index else position
                if result == "error":
                    if first_error is None or (has_index and order < first_error[0]):
                        first_error = (order, cells, result, raw, overflow)
                elif result == "warning" and (first_warning is None or (has_index and order < first_warning[0])):
                    first_warning = (order, cells, result, raw, overflow)
                if overflow and (first_overflow is None or (has_index and order < first_overflow[0])):
                    first_overflow = (order, cells, result, raw, overflow)
                if keep_all or (keep_problems and (result != "pass" or overflow)):
                    chunk.append(make(cells, order, result, raw, overflow))
                    if len(chunk) >= size:
                        yield chunk
                        chunk = []
        except csv.Error as exc:
            raise CompareFileError(f"The comparison file is not valid CSV near line {reader.line_num}: "
                                   f"{exc}.") from None
        if chunk:
            yield chunk
        summary = CompareSummary(format=table.format, mode=table.mode, rows=position, counts=counts,
                                 overflows=overflows, overflow_checked=checked, has_stack=self.has_stack,
                                 columns=list(self.columns), unknown_columns=list(self.unknown_columns))
        for attr, found in (("first_mismatch", first_error), ("first_warning", first_warning),
                            ("first_overflow", first_overflow)):
            if found is not None:
                order, cells, result, raw, overflow = found
                setattr(summary, attr, CompareRow(*make(cells, order, result, raw, overflow)))
        summary.warnings.extend(_notes(table, position))
        self._summary = summary


def _notes(table: _Table, rows: int) -> list[str]:
    notes = []
    if table.mode == "unknown":
        notes.append("Neither Cosine, Max diff nor NPU MD5 columns: the comparison mode is unknown.")
    if "result" not in table.index and table.mode not in ("msaccucmp", "api_result"):
        notes.append("No Result column: results are unknown.")
    if table.mode == "msaccucmp" and "result" not in table.index:
        notes.append("msaccucmp writes no result: pass/error derived from cosine similarity and max absolute "
                     "error with msprobe's thresholds (cosine 0.99 / 0.9, max abs error 0.001 / 1).")
    if table.unknown:
        notes.append("Columns not read: " + ", ".join(table.unknown))
    if not rows:
        notes.append("The file has a header but no rows.")
    return notes


def scan_compare(source, keep: str = "all", chunk_rows: int = CHUNK_ROWS) -> CompareScan:
    """Read a comparison file in one pass: its rows as tuples, in chunks, then its summary.

    ``source``: text, bytes, a binary or text stream (read in chunks), or an iterable of lines.
    ``keep``: the rows yielded: ``"all"``, ``"problems"`` (rows whose result is not pass, and
    overflowing rows) or ``"none"`` (only the summary). See ``CompareScan``."""
    return CompareScan(source, keep=keep, chunk_rows=chunk_rows)


def iter_compare_rows(source) -> Iterator[CompareRow]:
    """Every row of a comparison file as a ``CompareRow``, one at a time (for storing the full table)."""
    for chunk in scan_compare(source):
        for values in chunk:
            yield CompareRow(*values)


def parse_compare(source, keep: str = "problems", limit: int = 10_000) -> CompareResult:
    """The summary of a comparison file and the rows asked for.

    ``source``: text, bytes, a binary or text stream (read in chunks), or an iterable of lines.
    ``keep``: ``"problems"`` (rows whose result is not pass, and overflowing rows), ``"all"`` or
    ``"none"``; at most ``limit`` rows are kept (``truncated`` says when more matched)."""
    scan = scan_compare(source, keep=keep)
    kept: list[CompareRow] = []
    truncated = False
    for chunk in scan:
        room = limit - len(kept)
        if len(chunk) > room:
            truncated = True
            chunk = chunk[:max(room, 0)]
        kept.extend([CompareRow(*values) for values in chunk])
    return CompareResult(summary=scan.summary, rows=kept, truncated=truncated)
