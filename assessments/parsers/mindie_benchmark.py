"""MindIE ``benchmark`` result tables: the performance metric table and the common metric table.

Read by their headers, so column order, added percentile columns (SLO_P90, P99, ...) and
renamed rows (GenerateSpeed -> OutputGenerateSpeed in newer releases) all parse. Numbers keep
their unit separately; '/' and 'NA' become None; unknown rows are kept as they are.
"""

import re
from dataclasses import dataclass, field

from . import to_number

VALUE = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s(\[][^(\[]*?)?\s*(?:[(\[].*)?$")
ALIASES = {  # summary key -> row names across releases (first found wins)
    "first_token_ms": ("FirstTokenTime", "TTFT"),
    "decode_ms": ("DecodeTime", "TPOT"),
    "generate_speed_token_s": ("GenerateSpeed", "OutputGenerateSpeed"),
    "generated_token_speed_token_s": ("GeneratedTokenSpeed",),
    "throughput_req_s": ("Throughput",),
    "accuracy": ("accuracy", "Accuracy"),
}


@dataclass
class BenchmarkResult:
    performance: dict[str, dict] = field(default_factory=dict)  # metric -> column -> number
    units: dict[str, str] = field(default_factory=dict)  # metric -> unit
    common: dict[str, object] = field(default_factory=dict)  # metric -> number or text
    common_units: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        out = {}
        for key, names in ALIASES.items():
            for name in names:
                if name in self.performance and self.performance[name].get("average") is not None:
                    out[key] = self.performance[name]["average"]
                    break
                if isinstance(self.common.get(name), (int, float)):
                    out[key] = self.common[name]
                    break
        return out

    def as_dict(self) -> dict:
        return {"performance": self.performance, "units": self.units, "common": self.common,
                "common_units": self.common_units, "summary": self.summary(), "warnings": self.warnings}


def split_value(text: str) -> tuple[object, str]:
    """'97.07 ms' -> (97.07, 'ms'); '0( 0.0% )' -> (0, ''); '/' -> (None, ''); text stays text."""
    text = text.strip()
    if text in ("", "/", "NA", "N/A", "-") or text.startswith("/ "):
        return None, text[2:].strip() if text.startswith("/ ") else ""
    match = VALUE.match(text)
    if match and not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return to_number(match.group(1)), (match.group(2) or "").strip()
    return text, ""


def _tables(text: str) -> list[list[list[str]]]:
    """Each ASCII table as a list of rows of cells (borders dropped)."""
    tables, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("+") and set(line) <= set("+-=| "):
            if current is None:
                current = []
                tables.append(current)
            continue
        if line.startswith("|") and current is not None:
            current.append([cell.strip() for cell in line.strip("|").split("|")])
        else:
            current = None
    return [table for table in tables if len(table) >= 2]


def parse_mindie_benchmark(text: str) -> BenchmarkResult:
    result = BenchmarkResult()
    for table in _tables(text):
        header, rows = table[0], table[1:]
        first = header[0].lower()
        if first == "metric" and len(header) > 2:
            columns = header[1:]
            for row in rows:
                metric, cells = row[0], row[1:]
                values = {}
                for column, cell in zip(columns, cells, strict=False):
                    value, unit = split_value(cell)
                    values[column.lower() if column.lower() in ("average", "max", "min") else column] = value
                    if unit and metric not in result.units:
                        result.units[metric] = unit
                result.performance[metric] = values
        elif "metric" in first and len(header) == 2:
            for row in rows:
                if len(row) < 2:
                    continue
                value, unit = split_value(row[1])
                result.common[row[0]] = value
                if unit:
                    result.common_units[row[0]] = unit
    if not result.performance:
        result.warnings.append("No performance metric table was found.")
    if not result.common:
        result.warnings.append("No common metric table was found.")
    return result
