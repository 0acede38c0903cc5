"""Migration analysis: the portal's scanner on the training code, and the official
``pytorch_analyse.sh`` too where the host has it. Its findings become a ``MigrationAnalysis``."""

import json
import shlex
from decimal import Decimal
from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

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

from ..models import Finding, MigrationAnalysis
from ..parsers.analysis_csv import parse_official_csv

SCANNER = Path(__file__).resolve().parent.parent / "scanner" / "ascend_scan.py"
OFFICIAL_FIX = {"unsupported": Finding.Fix.MANUAL, "cuda_op": Finding.Fix.AUTO}


def clean(params: dict) -> dict:
    return {"code_dir": path_param(params, "code_dir"), "timeout_s": timeout_param(params)}


def plan(params: dict, host) -> Plan:
    """The portal's scanner always; the official tool too when the host has it. The official
    tool's CSV files are printed into the log as sections, so they come back with it."""
    code_dir = shlex.quote(params["code_dir"])
    official = shlex.quote(
        f"{host.ascend_home.rstrip('/')}/ascend-toolkit/latest/tools/ms_fmk_transplt/pytorch_analyse.sh")
    script = (
        f"python3 ascend_scan.py {code_dir} --json > scan.json; rc=$?; "
        "echo 'scanner exit code' $rc; "
        f"tool=$(command -v pytorch_analyse.sh || {{ [ -x {official} ] && echo {official}; }}); "
        'if [ -n "$tool" ]; then mkdir -p official && '
        f'"$tool" -i {code_dir} -o official -v 2.1.0 -m torch_apis; '
        "for f in official/*/*.csv; do [ -f \"$f\" ] || continue; "
        f"echo \"{SECTION_MARK}official:$(basename \"$f\")\"; cat \"$f\"; echo; done; fi; exit $rc"
    )
    return Plan(argv=["sh", "-c", script], timeout_s=params["timeout_s"],
                uploads={"ascend_scan.py": SCANNER.read_bytes()}, result_files=["scan.json"])


def parse(log: str, files: dict, params: dict) -> dict:
    try:
        report = json.loads(files["scan.json"].decode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(N_("The scanner's report cannot be read: %(error)s"), Reason.PARSE,
                             error=str(exc)) from None
    sections = {name.split(":", 1)[1]: text
                for name, text in split_sections(log).items() if name.startswith("official:")}
    official = [row for name, text in sections.items() for row in parse_official_csv(name, text)]
    return {"summary": report.get("summary", {}), "effort": report.get("effort", {}),
            "findings": report.get("findings", []), "files_scanned": report.get("files_scanned", 0),
            "official_tool_ran": bool(sections),
            "official": official}


def record(job, result: dict) -> dict:
    """The analysis and its findings; the job keeps the counts."""
    effort = result.get("effort") or {}
    analysis = MigrationAnalysis.objects.create(
        engagement=job.engagement, stage=job.stage, job=job, code_dir=job.parameters.get("code_dir", ""),
        files_scanned=result.get("files_scanned") or 0,
        effort_person_days=Decimal(str(effort.get("person_days") or 0)).quantize(Decimal("0.1")),
        effort_basis=str(effort.get("basis", "")), official_tool_ran=bool(result.get("official_tool_ran")),
    )
    fixes = set(Finding.Fix.values)
    findings = [
        Finding(analysis=analysis, source=Finding.Source.SCANNER, category=str(f.get("category", ""))[:40],
                fix=f.get("fix") if f.get("fix") in fixes else Finding.Fix.REVIEW, file=str(f.get("file", ""))[:500],
                line=f.get("line") if isinstance(f.get("line"), int) and f["line"] >= 0 else None,
                api=str(f.get("api", ""))[:300], message=str(f.get("message", "")),
                message_zh=str(f.get("message_zh", "")))
        for f in result.pop("findings", [])
    ]
    findings += [
        Finding(analysis=analysis, source=Finding.Source.OFFICIAL, category=f"official_{row['kind']}",
                fix=OFFICIAL_FIX.get(row["kind"], Finding.Fix.REVIEW), file=(row.get("file") or "")[:500],
                line=row.get("start_line"), api=row.get("api", "")[:300], message=row.get("tips", ""))
        for row in result.pop("official", [])
    ]
    Finding.objects.bulk_create(findings, batch_size=1000)
    result["analysis_id"] = analysis.pk
    result["findings_count"] = len(findings)
    return result


MIGRATION_ANALYSIS = register(JobKind(
    key="migration_analysis",
    label=_("Migration analysis"),
    fields={
        "code_dir": forms.CharField(label=_("Code directory"),
                                    help_text=_("The training code on the host, e.g. /home/user/project.")),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse=parse,
    record=record,
    result_template="assessments/kinds/migration_analysis.html",
    parser="assessments.scanner.ascend_scan, assessments.parsers.analysis_csv",
))
