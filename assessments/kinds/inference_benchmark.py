"""Inference benchmark: MindIE's ``benchmark`` (or any command printing its tables); the
tables' figures are compared with the performance baselines in acceptance."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.errors import PermanentError, Reason
from workers.kinds import JobKind, command_field, register, timeout_field, workdir_field

from ..models import BenchmarkRun
from ..parsers.mindie_benchmark import parse_mindie_benchmark
from .evaluation import RESULT_TAIL_BYTES, clean_command, plan_command


def parse(log: str, files: dict, params: dict) -> dict:
    data = parse_mindie_benchmark(log).as_dict()
    if not data.get("performance") and not data.get("common"):
        raise PermanentError(N_("No MindIE benchmark tables were found in the output."), Reason.PARSE)
    return data


def record(job, result: dict) -> dict:
    BenchmarkRun.objects.create(engagement=job.engagement, model=job.model, job=job,
                                summary=result.get("summary") or {}, performance=result.get("performance") or {},
                                common=result.get("common") or {})
    return result


INFERENCE_BENCHMARK = register(JobKind(
    key="inference_benchmark",
    label=_("Inference benchmark"),
    fields={"command": command_field(), "workdir": workdir_field(), "timeout_s": timeout_field()},
    clean=clean_command,
    plan=plan_command,
    parse=parse,
    record=record,
    tail_bytes=RESULT_TAIL_BYTES,
    exclusive=True,
    per_model=True,
    result_template="assessments/kinds/inference_benchmark.html",
    parser="assessments.parsers.mindie_benchmark",
))
