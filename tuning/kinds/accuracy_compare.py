"""Accuracy comparison: msprobe ``compare`` (or msaccucmp) on the host; the newest comparison
result it wrote is printed into the log and stored row by row as an ``AccuracyComparison``."""

import shlex
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.commands import shell_path
from workers.errors import PermanentError, Reason
from workers.kinds import (
    SECTION_MARK,
    JobKind,
    Plan,
    command_field,
    command_param,
    path_param,
    register,
    text_param,
    timeout_field,
    timeout_param,
    workdir_field,
)

from .. import services
from ..models import Source
from ._log import file_sha256, section_lines, section_text

RESULT = "compare_result"
RESULT_FILE = "compare_result_file"


def clean(params: dict) -> dict:
    return {
        "command": text_param(params, "command"),
        "workdir": path_param(params, "workdir"),
        "output_dir": path_param(params, "output_dir", required=False) or "./output",
        "label": text_param(params, "label", required=False, max_len=200),
        "timeout_s": timeout_param(params),
        "argv": command_param(params),
    }


def plan(params: dict, host) -> Plan:
    out = shell_path(params["output_dir"])
    script = (f"start=$(date +%s); {shlex.join(params['argv'])}; rc=$?; "
              f"f=$(find {out} -maxdepth 2 -type f \\( -name 'compare_result_*.csv' -o -name 'result_*.csv' \\) "
              f"-newermt \"@$start\" -printf '%T@ %p\\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-); "
              f"if [ -n \"$f\" ]; then echo '{SECTION_MARK}{RESULT_FILE}'; echo \"$f\"; "
              f"echo '{SECTION_MARK}{RESULT}'; cat \"$f\"; fi; exit $rc")
    return Plan(argv=["sh", "-c", script], workdir=params["workdir"], timeout_s=params["timeout_s"])


def parse_file(path: Path, files: dict, params: dict) -> dict:
    name = section_text(path, RESULT_FILE).strip()
    if not name:
        raise PermanentError(N_("The comparison wrote no compare_result_*.csv under %(dir)s during this job."),
                             Reason.PARSE, dir=params.get("output_dir") or "./output")
    try:
        summary = services.accuracy_summary(lambda: section_lines(path, RESULT))
    except ValidationError as exc:
        raise PermanentError(N_("The comparison result cannot be read: %(error)s"), Reason.PARSE,
                             error=" ".join(exc.messages)) from None
    return {**summary, "file": name, "log_sha256": file_sha256(path)}


def record(job, result: dict) -> dict:
    from workers.runner import local_log_path

    path = local_log_path(job)
    comparison = services.do_add_accuracy(
        job.engagement, result, lambda: section_lines(path, RESULT), stage=job.stage, model=job.model, job=job,
        source=Source.JOB, label=(job.parameters.get("label") or "")[:200],
        filename=Path(result.get("file") or "").name[:255], sha256=result.get("log_sha256", ""),
        created_by=job.started_by)
    return {key: value for key, value in result.items() if key not in ("columns",)} | {
        "comparison": str(comparison.uuid)}


ACCURACY_COMPARE = register(JobKind(
    key="accuracy_compare",
    label=_("Accuracy comparison (msprobe)"),
    fields={
        "command": command_field(help_text=_("e.g. msprobe -f pytorch compare -i ./compare.json -o ./output")),
        "workdir": workdir_field(required=True),
        "output_dir": forms.CharField(label=_("Output directory"), required=False, initial="./output",
                                      help_text=_("Where the comparison writes compare_result_*.csv")),
        "label": forms.CharField(label=_("Label"), required=False, max_length=200),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse_file=parse_file,
    record=record,
    per_model=True,
    result_template="tuning/kinds/accuracy_compare.html",
    parser="assessments.parsers.msprobe",
))
