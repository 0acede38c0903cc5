"""Profiler collection: the tables of an ``ASCEND_PROFILER_OUTPUT`` folder on the host
(``kernel_details.csv``, ``step_trace_time.csv``) and msprof-analyze's
``cluster_step_trace_time.csv`` when the folder holds one, summarised as a ``Profile``."""

import shlex
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.commands import shell_path
from workers.errors import PermanentError, Reason
from workers.kinds import SECTION_MARK, JobKind, Plan, path_param, register, text_param, timeout_field, timeout_param

from .. import services
from ..models import Profile, Source
from ._log import file_sha256, section_lines, section_names, section_text

TABLES = {"kernel_details": "kernel_details.csv", "step_trace": "step_trace_time.csv",
          "cluster_step_trace": "cluster_step_trace_time.csv"}


def _number(params: dict, name: str, *, integer: bool = False):
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _gettext("Enter a number.")}) from None
    if not number > 0 or number != number or number == float("inf"):
        raise ValidationError({name: _gettext("Enter a positive number.")})
    return number


def clean(params: dict) -> dict:
    return {
        "profiler_dir": path_param(params, "profiler_dir"),
        "flops_per_step": _number(params, "flops_per_step"),
        "peak_tflops": _number(params, "peak_tflops"),
        "devices": _number(params, "devices", integer=True) or 1,
        "label": text_param(params, "label", required=False, max_len=200),
        "timeout_s": timeout_param(params),
    }


def plan(params: dict, host) -> Plan:
    folder = shell_path(params["profiler_dir"])
    lines = [f"[ -d {folder} ] || {{ echo \"No such directory: \"{folder} >&2; exit 2; }}"]
    for name, filename in TABLES.items():
        lines.append(f"f=$(find {folder} -maxdepth 5 -type f -name {shlex.quote(filename)} 2>/dev/null | sort | "
                     f"head -1); if [ -n \"$f\" ]; then echo '{SECTION_MARK}{name}_file'; echo \"$f\"; "
                     f"echo '{SECTION_MARK}{name}'; cat \"$f\"; fi")
    lines.append("exit 0")
    return Plan(argv=["sh", "-c", "\n".join(lines)], timeout_s=params["timeout_s"])


def parse_file(path: Path, files: dict, params: dict) -> dict:
    found = [name for name in TABLES if name in section_names(path)]
    if not found:
        raise PermanentError(N_("No kernel_details.csv, step_trace_time.csv or cluster_step_trace_time.csv was "
                                "found under %(dir)s."), Reason.PARSE, dir=params.get("profiler_dir", ""))
    try:
        built = services.build_profile({name: (lambda name=name: section_lines(path, name)) for name in found},
                                       flops_per_step=params.get("flops_per_step"),
                                       peak_tflops=params.get("peak_tflops"), devices=params.get("devices") or 1)
    except ValidationError as exc:
        raise PermanentError(N_("The profiler output cannot be read: %(error)s"), Reason.PARSE,
                             error=" ".join(exc.messages)) from None
    built["files"] = [{"table": name, "name": section_text(path, f"{name}_file").strip()} for name in found]
    built["log_sha256"] = file_sha256(path)
    return built


def record(job, result: dict) -> dict:
    params = job.parameters
    files = result.get("files") or []
    profile = Profile.objects.create(
        engagement=job.engagement, stage=job.stage, model=job.model, job=job, source=Source.JOB,
        label=(params.get("label") or "")[:200], filename=", ".join(Path(f["name"]).name for f in files)[:255],
        sha256=result.get("log_sha256", ""), files=files, summary=result.get("summary") or {},
        kernels=result.get("kernels") or {}, cluster=result.get("cluster") or {}, notes=result.get("notes") or [],
        flops_per_step=params.get("flops_per_step"), peak_tflops=params.get("peak_tflops"),
        devices=params.get("devices") or 1, created_by=job.started_by)
    return {"profile": str(profile.uuid), "summary": profile.summary, "cluster": profile.cluster, "files": files}


PROFILER_COLLECT = register(JobKind(
    key="profiler_collect",
    label=_("Profiler collection"),
    fields={
        "profiler_dir": forms.CharField(label=_("Profiler output folder"),
                                        help_text=_("The *_ascend_pt folder or its ASCEND_PROFILER_OUTPUT")),
        "flops_per_step": forms.FloatField(label=_("Model FLOPs per step"), required=False, min_value=0),
        "peak_tflops": forms.FloatField(label=_("Peak TFLOPS per device"), required=False, min_value=0, initial=313),
        "devices": forms.IntegerField(label=_("Devices"), required=False, min_value=1, initial=1),
        "label": forms.CharField(label=_("Label"), required=False, max_length=200),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse_file=parse_file,
    record=record,
    per_model=True,
    result_template="tuning/kinds/profiler_collect.html",
    parser="assessments.parsers.profiler",
))
