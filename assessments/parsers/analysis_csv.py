"""CSV files of the official analysis tool (``pytorch_analyse.sh -m torch_apis``).

``unsupported_api.csv``, ``unknown_api.csv``, ``api_precision_advice.csv`` and
``api_performance_advice.csv`` share the header ``File,Start Line,End Line,OP,Tips`` (rows of
``unknown_api.csv`` may have only four fields); ``cuda_op_list.csv`` is ``File,Api``. Tips may
span lines inside quotes. 'NA' means not applicable.
"""

import csv
import io

KINDS = {
    "unsupported_api.csv": "unsupported",
    "unknown_api.csv": "unknown",
    "api_precision_advice.csv": "precision_advice",
    "api_performance_advice.csv": "performance_advice",
    "cuda_op_list.csv": "cuda_op",
}
HEADER_ALIASES = {"file": "file", "start line": "start_line", "end line": "end_line", "op": "api", "api": "api",
                  "tips": "tips"}


def _value(text: str | None):
    text = (text or "").strip()
    return None if text in ("", "NA") else text


def _line(text: str | None) -> int | None:
    value = _value(text)
    return int(value) if value and value.isdigit() else None


def parse_official_csv(name: str, text: str) -> list[dict]:
    """Rows of one of the tool's CSV files as dicts: kind, file, start_line, end_line, api, tips."""
    kind = KINDS.get(name.rsplit("/", 1)[-1], "other")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        return []
    columns = [HEADER_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        record = dict(zip(columns, cells, strict=False))
        rows.append({"kind": kind, "file": _value(record.get("file")), "start_line": _line(record.get("start_line")),
                     "end_line": _line(record.get("end_line")), "api": _value(record.get("api")) or "",
                     "tips": _value(record.get("tips")) or ""})
    return rows
