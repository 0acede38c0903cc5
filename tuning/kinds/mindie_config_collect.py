"""MindIE configuration: the service's ``config.json`` read from the host and kept as the
model's next configuration version (``ServiceConfig``)."""

import hashlib

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.commands import shell_path
from workers.errors import PermanentError, Reason
from workers.kinds import JobKind, Plan, path_param, register, text_param

from .. import services
from ..models import Source

DEFAULT_PATH = "/usr/local/Ascend/mindie/latest/mindie-service/conf/config.json"
CONFIG_LIMIT = 4 * 1024 * 1024


def clean(params: dict) -> dict:
    return {"config_path": path_param(params, "config_path", required=False) or DEFAULT_PATH,
            "label": text_param(params, "label", required=False, max_len=200)}


def plan(params: dict, host) -> Plan:
    return Plan(argv=["sh", "-c", f"cat {shell_path(params['config_path'])}"], timeout_s=120)


def parse(log: str, files: dict, params: dict) -> dict:
    try:
        config, fields = services.parse_config_text(log)
    except ValidationError as exc:
        raise PermanentError(N_("The MindIE configuration cannot be read: %(error)s"), Reason.PARSE,
                             error=" ".join(exc.messages)) from None
    return {"config": config, "fields": fields, "sha256": hashlib.sha256(log.encode()).hexdigest()}


def record(job, result: dict) -> dict:
    config = services.do_add_service_config(
        job.engagement, result.get("config") or {}, result.get("fields") or {}, model=job.model, stage=job.stage,
        job=job, source=Source.JOB, label=(job.parameters.get("label") or "")[:200],
        filename=job.parameters.get("config_path", "")[-255:], sha256=result.get("sha256", ""),
        created_by=job.started_by)
    return {"config": str(config.uuid), "version": config.version,
            "fields": {k: v for k, v in (result.get("fields") or {}).items() if k in services.KEY_FIELDS}}


MINDIE_CONFIG = register(JobKind(
    key="mindie_config",
    label=_("MindIE service configuration"),
    fields={
        "config_path": forms.CharField(label=_("config.json path"), required=False, initial=DEFAULT_PATH),
        "label": forms.CharField(label=_("Label"), required=False, max_length=200),
    },
    clean=clean,
    plan=plan,
    parse=parse,
    record=record,
    tail_bytes=CONFIG_LIMIT,
    per_model=True,
    result_template="tuning/kinds/mindie_config.html",
    parser="assessments.parsers.mindie_config",
))
