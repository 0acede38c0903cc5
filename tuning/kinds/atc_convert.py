"""ATC conversion (the offline route): ``atc`` on the host; its console output gives the
outcome and the warning and error codes, kept with the command as an ``AtcConversion``. A
failed conversion is a result (recorded with its codes), not a failed job."""

import shlex
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from assessments.parsers import atc
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
from ._log import before_first_section, file_sha256, section_text

EXIT = "atc_exit"


def clean(params: dict) -> dict:
    argv = command_param(params)
    try:
        atc.parse_atc_command(argv)
    except atc.AtcParseError as exc:
        raise ValidationError({"command": _gettext("Not an atc command: %(error)s") % {"error": exc}}) from None
    return {
        "command": text_param(params, "command"),
        "workdir": path_param(params, "workdir", required=False),
        "label": text_param(params, "label", required=False, max_len=200),
        "timeout_s": timeout_param(params),
        "argv": argv,
    }


def plan(params: dict, host) -> Plan:
    script = f"{shlex.join(params['argv'])} 2>&1; rc=$?; echo '{SECTION_MARK}{EXIT}'; echo $rc; exit 0"
    return Plan(argv=["sh", "-c", script], workdir=params.get("workdir", ""), timeout_s=params["timeout_s"])


def parse_file(path: Path, files: dict, params: dict) -> dict:
    console = before_first_section(path)
    exit_text = section_text(path, EXIT).strip()
    try:
        fields = services.atc_fields(console, params.get("command") or "")
    except (ValidationError, atc.AtcParseError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise PermanentError(N_("The ATC output cannot be read: %(error)s"), Reason.PARSE, error=message) from None
    exit_code = int(exit_text) if exit_text.lstrip("-").isdigit() else None
    if fields["success"] is None and exit_code is not None:
        fields["success"] = exit_code == 0
    fields["details"]["exit_code"] = exit_code
    return {"fields": fields, "log_sha256": file_sha256(path)}


def record(job, result: dict) -> dict:
    conversion = services.do_add_atc(job.engagement, result["fields"], stage=job.stage, model=job.model, job=job,
                                     source=Source.JOB, label=(job.parameters.get("label") or "")[:200],
                                     sha256=result.get("log_sha256", ""), created_by=job.started_by)
    fields = result["fields"]
    return {"conversion": str(conversion.uuid), "success": fields["success"], "soc_version": fields["soc_version"],
            "output": fields["output"], "codes": [c["code"] for c in fields["codes"]],
            "exit_code": fields["details"].get("exit_code")}


ATC_CONVERT = register(JobKind(
    key="atc_convert",
    label=_("ATC model conversion"),
    fields={
        "command": command_field(help_text=_("e.g. atc --model=resnet50.onnx --framework=5 --output=resnet50 "
                                             "--soc_version=Ascend910B3")),
        "workdir": workdir_field(),
        "label": forms.CharField(label=_("Label"), required=False, max_length=200),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse_file=parse_file,
    record=record,
    per_model=True,
    result_template="tuning/kinds/atc_convert.html",
    parser="assessments.parsers.atc",
))
