"""Migration analysis: the portal's scanner on the training code, and the official
``pytorch_analyse.sh`` too where the host has it. Its findings become a ``MigrationAnalysis``.

Chosen per job: the PyTorch version whose unsupported-API list the scanner applies (the lists
in ``assessments/scanner/data/``), and the official tool's analysis mode (``-m``) and PyTorch
version (``-v``). The tool's modes and the versions its releases accept are listed below
(Ascend/msprobe and Ascend/mstt ``msfmktransplt``; the host's release accepts some of them
and fails on the others, which the job reports while the scanner's findings still count).
"""

import csv
import io
import json
import re
import shlex
from decimal import Decimal
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from workers.commands import shell_path
from workers.errors import PermanentError, Reason
from workers.kinds import (
    SECTION_MARK,
    JobKind,
    Plan,
    path_param,
    register,
    split_sections,
    timeout_field,
    timeout_param,
)

from .. import findings as identity
from ..models import Finding, MigrationAnalysis
from ..parsers.analysis_csv import parse_official_csv
from ..scanner import ascend_scan

SCANNER = Path(ascend_scan.__file__).resolve()
SCANNER_DATA = Path(ascend_scan.default_data_dir())

# The official tool's analysis modes (-m) and what each writes: CSV file -> (kind, fix).
# dynamic_shape writes no CSV: it makes an instrumented copy of the code to train with.
OFFICIAL_MODES = {
    "torch_apis": {
        "unsupported_api.csv": ("unsupported", Finding.Fix.MANUAL),
        "unknown_api.csv": ("unknown", Finding.Fix.REVIEW),
        "api_precision_advice.csv": ("precision_advice", Finding.Fix.REVIEW),
        "api_performance_advice.csv": ("performance_advice", Finding.Fix.REVIEW),
        "cuda_op_list.csv": ("cuda_op", Finding.Fix.AUTO),
    },
    "third_party": {
        # full_unsupported_results.csv repeats these per third-party API, for -api: not read.
        "framework_unsupported_op.csv": ("third_party_unsupported", Finding.Fix.MANUAL),
        "cuda_op.csv": ("third_party_cuda_op", Finding.Fix.PORT_CUSTOM_OP),
        "migration_needed_op.csv": ("third_party_migration", Finding.Fix.AUTO),
        "unknown_op.csv": ("third_party_unknown", Finding.Fix.REVIEW),
    },
    "affinity_apis": {
        "affinity_api_call.csv": ("affinity_api", Finding.Fix.REVIEW),
    },
    "dynamic_shape": {},
}
OFFICIAL_MODE_CHOICES = [
    ("torch_apis", gettext_lazy("torch_apis: unsupported torch and CUDA APIs, precision and performance advice")),
    ("third_party", gettext_lazy("third_party: unsupported APIs of third-party library sources")),
    ("affinity_apis", gettext_lazy("affinity_apis: calls replaceable by Ascend affinity APIs")),
    ("dynamic_shape", gettext_lazy("dynamic_shape: prepare a dynamic-shape analysis (no findings)")),
]
# The PyTorch versions the tool's releases accept (-v): 2.1.0, 2.6.0, 2.7.1 and 2.8.0 in the
# current one (its argparse choices); 1.11.0, 2.2.0, 2.3.1, 2.4.0 and 2.5.1 in older ones (its
# documentation's API table for Ascend Extension for PyTorch 6.0-7.1, its op_list resources).
OFFICIAL_VERSIONS = ("1.11.0", "2.1.0", "2.2.0", "2.3.1", "2.4.0", "2.5.1", "2.6.0", "2.7.1", "2.8.0")
DEFAULT_OFFICIAL_VERSION = "2.1.0"
DEFAULT_OFFICIAL_MODE = "torch_apis"
# Column names of the third_party and affinity_apis files, read as the torch_apis ones' OP and Tips.
HEADER_AS = {"torch api": "OP", "op name": "OP", "api call name": "OP", "affected 3rd-party api": "Tips",
             "affinity api name": "Tips"}
TIPS_PREFIX = {"affinity_api": "Affinity API: ",
               **{kind: "Affected third-party APIs: " for kind, _fix in OFFICIAL_MODES["third_party"].values()}}
EXIT_LINE = re.compile(r"^official tool exit code (\d+)\s*$", re.MULTILINE)


def scanner_versions() -> list[str]:
    """The PyTorch versions the scanner has an unsupported-API list for (its data files)."""
    return ascend_scan.torch_versions(str(SCANNER_DATA))


def _default_scanner_version() -> str:
    versions = scanner_versions()
    return ascend_scan.DEFAULT_TORCH_VERSION if ascend_scan.DEFAULT_TORCH_VERSION in versions else versions[-1]


def _choice_param(params: dict, name: str, choices, default: str) -> str:
    value = str(params.get(name) or default).strip()
    if value not in choices:
        raise ValidationError({name: _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}})
    return value


def clean(params: dict) -> dict:
    return {
        "code_dir": path_param(params, "code_dir"),
        "torch_version": _choice_param(params, "torch_version", scanner_versions(), _default_scanner_version()),
        "official_mode": _choice_param(params, "official_mode", list(OFFICIAL_MODES), DEFAULT_OFFICIAL_MODE),
        "official_version": _choice_param(params, "official_version", OFFICIAL_VERSIONS, DEFAULT_OFFICIAL_VERSION),
        "timeout_s": timeout_param(params),
    }


def _settings(params: dict) -> tuple[str, str, str]:
    """(scanner version, official mode, official version) of a job, with defaults for jobs
    stored before they were chosen."""
    return (params.get("torch_version") or _default_scanner_version(),
            params.get("official_mode") or DEFAULT_OFFICIAL_MODE,
            params.get("official_version") or DEFAULT_OFFICIAL_VERSION)


def plan(params: dict, host) -> Plan:
    """The portal's scanner always (with its data files beside it); the official tool too when
    the host has it. The tool's CSV files of the chosen mode are printed into the log as
    sections, so they come back with it, and so does its exit code."""
    version, mode, official_version = _settings(params)
    code_dir = shell_path(params["code_dir"])
    official = shlex.quote(
        f"{host.ascend_home.rstrip('/')}/ascend-toolkit/latest/tools/ms_fmk_transplt/pytorch_analyse.sh")
    collect = ""
    if OFFICIAL_MODES[mode]:
        collect = (f"for f in {' '.join(f'official/*/{name}' for name in OFFICIAL_MODES[mode])}; do "
                   f"[ -f \"$f\" ] || continue; echo \"{SECTION_MARK}official:$(basename \"$f\")\"; cat \"$f\"; echo; "
                   "done; ")
    list_file = Path(ascend_scan.unsupported_list_path(str(SCANNER_DATA), version))
    script = (
        f"python3 ascend_scan.py {code_dir} --json --torch-version {shlex.quote(version)} --data-dir . > scan.json; "
        "rc=$?; echo 'scanner exit code' $rc; "
        f"tool=$(command -v pytorch_analyse.sh || {{ [ -x {official} ] && echo {official}; }}); "
        'if [ -n "$tool" ]; then mkdir -p official && '
        f'"$tool" -i {code_dir} -o official -v {shlex.quote(official_version)} -m {shlex.quote(mode)}; '
        f'echo "official tool exit code $?"; {collect}fi; exit $rc'
    )
    uploads = {"ascend_scan.py": SCANNER.read_bytes(), list_file.name: list_file.read_bytes()}
    precision = SCANNER_DATA / ascend_scan.PRECISION_FILE
    if precision.exists():
        uploads[precision.name] = precision.read_bytes()
    return Plan(argv=["sh", "-c", script], timeout_s=params["timeout_s"], uploads=uploads, result_files=["scan.json"])


def _as_torch_apis_csv(text: str) -> str:
    """A third_party or affinity_apis CSV with its header renamed to the torch_apis columns."""
    text = text.lstrip("\ufeff")
    header, newline, rest = text.partition("\n")
    cells = next(csv.reader([header]), [])
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([HEADER_AS.get(cell.strip().lower(), cell) for cell in cells])
    return out.getvalue() + newline + rest


def _official_rows(mode: str, sections: dict) -> list[dict]:
    files = OFFICIAL_MODES.get(mode, OFFICIAL_MODES[DEFAULT_OFFICIAL_MODE])
    rows = []
    for name, text in sections.items():
        if name not in files:
            continue
        kind, _fix = files[name]
        for row in parse_official_csv(name, _as_torch_apis_csv(text)):
            row["kind"] = kind
            if row["tips"] and kind in TIPS_PREFIX:
                row["tips"] = TIPS_PREFIX[kind] + row["tips"]
            rows.append(row)
    return rows


def parse(log: str, files: dict, params: dict) -> dict:
    try:
        report = json.loads(files["scan.json"].decode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(N_("The scanner's report cannot be read: %(error)s"), Reason.PARSE,
                             error=str(exc)) from None
    version, mode, official_version = _settings(params)
    sections = {name.split(":", 1)[1]: text
                for name, text in split_sections(log).items() if name.startswith("official:")}
    exits = EXIT_LINE.findall(log)
    return {"summary": report.get("summary", {}), "effort": report.get("effort", {}),
            "findings": report.get("findings", []), "files_scanned": report.get("files_scanned", 0),
            "torch_version": report.get("torch_version") or version, "lists": report.get("lists", {}),
            "extensions": report.get("extensions", []),
            "official_tool_ran": bool(sections) or (bool(exits) and exits[-1] == "0"), "official_mode": mode,
            "official_version": official_version, "official_exit_code": int(exits[-1]) if exits else None,
            "official": _official_rows(mode, sections)}


def record(job, result: dict) -> dict:
    """The analysis and its findings, each with its identity (the scanner's fingerprint, see
    ``assessments.findings``), and the resolutions of the analysis it re-runs carried over; the
    job keeps the counts."""
    effort = result.get("effort") or {}
    analysis = MigrationAnalysis.objects.create(
        engagement=job.engagement, stage=job.stage, job=job, code_dir=job.parameters.get("code_dir", ""),
        files_scanned=result.get("files_scanned") or 0,
        effort_person_days=Decimal(str(effort.get("person_days") or 0)).quantize(Decimal("0.1")),
        effort_basis=str(effort.get("basis", "")), official_tool_ran=bool(result.get("official_tool_ran")),
    )
    fixes = set(Finding.Fix.values)
    scanned = result.pop("findings", [])
    findings = [
        Finding(analysis=analysis, source=Finding.Source.SCANNER, category=str(f.get("category", ""))[:40],
                fix=f.get("fix") if f.get("fix") in fixes else Finding.Fix.REVIEW, file=str(f.get("file", ""))[:500],
                line=f.get("line") if isinstance(f.get("line"), int) and f["line"] >= 0 else None,
                api=str(f.get("api", ""))[:300], message=str(f.get("message", "")),
                message_zh=str(f.get("message_zh", "")))
        for f in scanned
    ]
    given = [str(f.get("fingerprint") or "") or None for f in scanned]
    kinds = {kind: fix for files in OFFICIAL_MODES.values() for kind, fix in files.values()}
    official = result.pop("official", [])
    findings += [
        Finding(analysis=analysis, source=Finding.Source.OFFICIAL, category=f"official_{row['kind']}"[:40],
                fix=kinds.get(row["kind"], Finding.Fix.REVIEW), file=(row.get("file") or "")[:500],
                line=row.get("start_line"), api=row.get("api", "")[:300], message=row.get("tips", ""))
        for row in official
    ]
    given += [None] * len(official)  # the official tool gives no context: source, category, file, API and order
    identity.identify(findings, given)
    Finding.objects.bulk_create(findings, batch_size=1000)
    result["analysis_id"] = analysis.pk
    result["findings_count"] = len(findings)
    result["findings_carried_over"] = identity.carry_over(analysis)
    return result


MIGRATION_ANALYSIS = register(JobKind(
    key="migration_analysis",
    label=gettext_lazy("Migration analysis"),
    fields={
        "code_dir": forms.CharField(label=gettext_lazy("Code directory"),
                                    help_text=gettext_lazy("The training code on the host, e.g. /home/user/project.")),
        "torch_version": forms.ChoiceField(
            label=gettext_lazy("Unsupported-API list"), initial=_default_scanner_version,
            choices=lambda: [(version, f"PyTorch {version}") for version in scanner_versions()],
            help_text=gettext_lazy("The PyTorch version whose official list of unsupported APIs the portal's "
                                   "scanner applies.")),
        "official_mode": forms.ChoiceField(
            label=gettext_lazy("Official tool: analysis mode"), choices=OFFICIAL_MODE_CHOICES,
            initial=DEFAULT_OFFICIAL_MODE,
            help_text=gettext_lazy("What pytorch_analyse.sh analyses (-m), where the host has the tool.")),
        "official_version": forms.ChoiceField(
            label=gettext_lazy("Official tool: PyTorch version"), choices=[(v, v) for v in OFFICIAL_VERSIONS],
            initial=DEFAULT_OFFICIAL_VERSION,
            help_text=gettext_lazy("The PyTorch version of the code (-v); the tool's release on the host accepts "
                                   "only some (the current one: 2.1.0, 2.6.0, 2.7.1, 2.8.0).")),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse=parse,
    record=record,
    result_template="assessments/kinds/migration_analysis.html",
    parser="assessments.scanner.ascend_scan, assessments.parsers.analysis_csv",
))
