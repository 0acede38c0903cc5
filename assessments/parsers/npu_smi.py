"""``npu-smi info`` tables and the ``key : value`` output of ``npu-smi info -t ...``.

The NPU table is read by its header rows: each header cell names one or more columns, and
each data cell holds the same number of values ("3445 / 65536" counts as one value). Data
come in blocks between borders: the first row of a block is the card, the following rows its
chips. Unknown columns are kept in ``extra``; expected ones that are missing are reported.
"""

import re
from dataclasses import asdict, dataclass, field

from . import key_values, to_number

TITLE = re.compile(r"npu-smi\s+(\S+)(?:\s+Version:\s*(\S+))?")
SLASH = re.compile(r"\s*/\s*")

# Normalised header -> field name. Usage columns "used / total" fill two fields.
COLUMNS = {
    "npu": "npu_id", "name": "name", "health": "health", "power(w)": "power_w", "temp(c)": "temp_c",
    "chip": "chip", "bus-id": "bus_id", "aicore(%)": "aicore_pct", "device": "device",
}
USAGE_COLUMNS = {
    "memory-usage(mb)": ("memory_used_mb", "memory_total_mb"),
    "hbm-usage(mb)": ("hbm_used_mb", "hbm_total_mb"),
    "hugepages-usage(page)": ("hugepages_used", "hugepages_total"),
}
EXPECTED = ("npu_id", "name", "health", "power_w", "temp_c", "aicore_pct", "hbm_used_mb", "hbm_total_mb")


@dataclass
class Npu:
    npu_id: int | None = None
    chip: int | None = None
    name: str = ""
    health: str = ""
    power_w: float | None = None
    temp_c: float | None = None
    aicore_pct: float | None = None
    hbm_used_mb: int | None = None
    hbm_total_mb: int | None = None
    memory_used_mb: int | None = None
    memory_total_mb: int | None = None
    hugepages_used: int | None = None
    hugepages_total: int | None = None
    bus_id: str = ""
    device: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class NpuProcess:
    npu_id: int | None
    chip: int | None
    pid: int | None
    name: str
    memory_mb: float | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class NpuSmiInfo:
    version: str | None = None
    npus: list[Npu] = field(default_factory=list)
    processes: list[NpuProcess] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"version": self.version, "npus": [n.as_dict() for n in self.npus],
                "processes": [p.as_dict() for p in self.processes], "warnings": list(self.warnings)}


@dataclass
class _Table:
    headers: list[list[str]] = field(default_factory=list)
    blocks: list[list[list[str]]] = field(default_factory=list)
    in_body: bool = False


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _tables(text: str) -> tuple[list[_Table], str | None]:
    tables: list[_Table] = []
    version = None
    table = None
    last_border = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("+"):
            double = "=" in line
            if table is None or (not double and last_border == "="):
                # A plain border right after a double one opens the next table.
                table = _Table()
                tables.append(table)
            if double:
                table.in_body = True
                table.blocks.append([])
            elif table.in_body and table.blocks and table.blocks[-1]:
                table.blocks.append([])
            last_border = "=" if double else "-"
            continue
        if not line.startswith("|") or table is None:
            continue
        last_border = ""
        match = TITLE.search(line)
        if match and not table.in_body:
            version = match.group(2) or match.group(1)
            continue
        if table.in_body:
            table.blocks[-1].append(_cells(line))
        else:
            table.headers.append(_cells(line))
    return tables, version


def _split_header(cell: str) -> list[str]:
    return [name for name in re.split(r"\s{2,}", cell.strip()) if name]


def _split_values(cell: str, count: int) -> list[str]:
    values = SLASH.sub("/", cell.strip()).split()
    if len(values) > count > 0:
        values = values[: count - 1] + [" ".join(values[count - 1:])]
    return values + [""] * (count - len(values))


def _row_values(header: list[str], row: list[str]) -> dict[str, str]:
    out = {}
    for head_cell, value_cell in zip(header, row, strict=False):
        names = _split_header(head_cell)
        for name, value in zip(names, _split_values(value_cell, len(names)), strict=False):
            out[name] = value
    return out


def _apply(npu: Npu, values: dict[str, str]) -> None:
    for name, value in values.items():
        key = name.lower().replace(" ", "")
        if key in USAGE_COLUMNS:
            used, _sep, total = value.partition("/")
            setattr(npu, USAGE_COLUMNS[key][0], to_number(used))
            setattr(npu, USAGE_COLUMNS[key][1], to_number(total))
        elif key in COLUMNS:
            attr = COLUMNS[key]
            if attr in ("name", "health", "bus_id", "device"):
                setattr(npu, attr, value)
            else:
                setattr(npu, attr, to_number(value))
        elif value:
            npu.extra[name] = value


def parse_npu_smi_info(text: str) -> NpuSmiInfo:
    tables, version = _tables(text)
    info = NpuSmiInfo(version=version)
    for table in tables:
        flat = " ".join(" ".join(row) for row in table.headers).lower()
        if "health" in flat and len(table.headers) >= 1:
            _read_npus(table, info)
        elif "process" in flat:
            _read_processes(table, info)
    if not info.npus:
        info.warnings.append("No NPU table was found in the npu-smi output.")
    else:
        missing = sorted({name for npu in info.npus for name in EXPECTED if getattr(npu, name) in (None, "")})
        if missing:
            info.warnings.append("Fields missing for some NPUs: " + ", ".join(missing))
    return info


def _read_npus(table: _Table, info: NpuSmiInfo) -> None:
    card_header = table.headers[0]
    chip_header = table.headers[1] if len(table.headers) > 1 else table.headers[0]
    for block in table.blocks:
        if not block:
            continue
        card = _row_values(card_header, block[0])
        for chip_row in block[1:] or [[]]:
            npu = Npu()
            _apply(npu, card)
            _apply(npu, _row_values(chip_header, chip_row))
            info.npus.append(npu)


def _read_processes(table: _Table, info: NpuSmiInfo) -> None:
    header = table.headers[0]
    for block in table.blocks:
        for row in block:
            if len(row) < 2 or not any(row[1:]):
                continue  # "No running processes found in NPU n"
            values = {name.lower(): value for name, value in _row_values(header, row).items()}
            info.processes.append(NpuProcess(
                npu_id=to_number(values.get("npu", "")), chip=to_number(values.get("chip", "")),
                pid=to_number(values.get("process id", "")), name=values.get("process name", ""),
                memory_mb=to_number(values.get("process memory(mb)", "")),
            ))


def parse_board(text: str) -> dict[str, str]:
    """``npu-smi info -t board -i N`` (and the other ``-t`` outputs): every ``key : value`` line."""
    return key_values(text, separators=":")
