"""Evaluation: the customer's evaluation command; its output gives a score on a data set,
found by a pattern or a JSON key. The score is compared with the baseline in acceptance."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.errors import PermanentError, Reason
from workers.kinds import (
    JobKind,
    Plan,
    command_field,
    command_param,
    path_param,
    pattern_field,
    pattern_param,
    register,
    text_param,
    timeout_field,
    timeout_param,
    workdir_field,
)

from ..models import EvaluationRun
from ..parsers.evaluation import extract_score

# Scores and result tables come at the end of their output.
RESULT_TAIL_BYTES = 4 * 1024 * 1024


def clean_command(params: dict) -> dict:
    """A command in a working directory with a time limit (shared by the command kinds)."""
    return {
        "command": text_param(params, "command"),
        "workdir": path_param(params, "workdir", required=False),
        "timeout_s": timeout_param(params),
        "argv": command_param(params),
    }


def plan_command(params: dict, host) -> Plan:
    return Plan(argv=list(params["argv"]), workdir=params.get("workdir", ""), timeout_s=params["timeout_s"])


def clean(params: dict) -> dict:
    return {
        **clean_command(params),
        "score_pattern": pattern_param(params, "score_pattern"),
        "score_key": text_param(params, "score_key", required=False, max_len=100),
        "dataset": text_param(params, "dataset", required=False, max_len=200),
    }


def parse(log: str, files: dict, params: dict) -> dict:
    score = extract_score(log, pattern=params.get("score_pattern") or None, json_key=params.get("score_key") or None)
    if score is None:
        raise PermanentError(N_("No score was found in the evaluation output: give a score pattern or JSON key."),
                             Reason.PARSE)
    return {"score": score}


def record(job, result: dict) -> dict:
    EvaluationRun.objects.create(engagement=job.engagement, model=job.model, job=job,
                                 dataset=job.parameters.get("dataset", "")[:200], score=result["score"])
    return result


EVALUATION = register(JobKind(
    key="evaluation",
    label=_("Evaluation"),
    fields={
        "command": command_field(),
        "workdir": workdir_field(),
        "dataset": forms.CharField(label=_("Data set"), required=False),
        "score_pattern": pattern_field(_("Score pattern (regular expression)")),
        "score_key": forms.CharField(label=_("Score JSON key"), required=False),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan_command,
    parse=parse,
    record=record,
    tail_bytes=RESULT_TAIL_BYTES,
    exclusive=True,
    per_model=True,
    result_template="assessments/kinds/evaluation.html",
    parser="assessments.parsers.evaluation",
))
