"""Training run: the customer's training command on the NPUs. Its log gives the NPU loss
curve, throughput and the checkpoints written during the run."""

import hashlib
import shlex
from pathlib import Path

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.errors import PermanentError, Reason
from workers.kinds import (
    ITERATION,
    SECTION_MARK,
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
from workers.ssh import as_text

from ..models import LossCurve
from ..parsers.training_log import parse_training_lines

CHECKPOINT_SECTION = "checkpoints"


def clean(params: dict) -> dict:
    return {
        "command": text_param(params, "command"),
        "workdir": path_param(params, "workdir"),
        "loss_pattern": pattern_param(params, "loss_pattern"),
        "checkpoint_dir": path_param(params, "checkpoint_dir", required=False),
        "timeout_s": timeout_param(params),
        "argv": command_param(params),
    }


def plan(params: dict, host) -> Plan:
    argv = list(params["argv"])
    # Only checkpoint files written during this run count (newer than its start).
    script = f"start=$(date +%s); {shlex.join(argv)}; rc=$?; echo '{SECTION_MARK}{CHECKPOINT_SECTION}'; "
    checkpoint_dir = params.get("checkpoint_dir") or "."
    script += f"find {shlex.quote(checkpoint_dir)} -maxdepth 3 -type f -newermt \"@$start\" \\( -name '*.pt' " \
              f"-o -name '*.pth' -o -name '*.ckpt' -o -name '*.npz' -o -name '*.safetensors' -o -name '*.bin' \\) " \
              f"2>/dev/null | head -100; exit $rc"
    return Plan(argv=["sh", "-c", script], workdir=params["workdir"], timeout_s=params["timeout_s"])


def progress(chunk: bytes) -> int | None:
    matches = ITERATION.findall(chunk)
    if not matches:
        return None
    step, total = (int(v) for v in matches[-1])
    return min(99, int(step * 100 / total)) if total else None


def parse_file(path: Path, files: dict, params: dict) -> dict:
    """The loss curve, throughput and checkpoints of a training log, read from its file a line
    (a record) at a time: a log of hundreds of MB is never held whole."""
    marker = (SECTION_MARK + CHECKPOINT_SECTION).encode()
    digest, marker_at, tail, position = hashlib.sha256(), None, [], 0
    with open(path, "rb") as fh:
        for raw in fh:
            digest.update(raw)
            if marker in raw:  # the wrapper's own line; the last one counts
                cut = raw.rindex(marker)
                marker_at, tail = position + cut, [raw[cut + len(marker):]]
            elif marker_at is not None:
                tail.append(raw)
            position += len(raw)

    def body():
        with open(path, "rb") as fh:
            offset = 0
            for raw in fh:
                if marker_at is not None and offset + len(raw) > marker_at:
                    yield as_text(raw[:marker_at - offset])
                    return
                yield as_text(raw)
                offset += len(raw)

    parsed = parse_training_lines(body, pattern=params.get("loss_pattern") or None)
    if not parsed.steps:
        raise PermanentError(N_("No loss values were found in the training log: give a loss pattern for this log "
                                "format."), Reason.PARSE)
    checkpoints = [line.strip() for line in as_text(b"".join(tail)).splitlines() if line.strip()]
    return {
        "format": parsed.format,
        "loss_key": parsed.loss_key,
        "log_sha256": digest.hexdigest(),
        "steps": list(parsed.steps),
        "losses": [None if v != v or v in (float("inf"), float("-inf")) else v for v in parsed.losses],
        "points": len(parsed.steps),
        "first_loss": parsed.losses[0],
        "last_loss": parsed.losses[-1],
        "throughput": parsed.throughput_dict(),
        "checkpoints": checkpoints,
        "checkpoints_written": bool(checkpoints),
    }


def record(job, result: dict) -> dict:
    """The NPU loss curve; the job keeps the summary without the series."""
    curve = LossCurve(engagement=job.engagement, model=job.model, platform=LossCurve.Platform.NPU,
                      source=LossCurve.Source.JOB, job=job, label=f"{job.get_kind_display()} #{job.pk}",
                      log_format=result.get("format", ""),
                      loss_key=result.get("loss_key", ""), throughput=result.get("throughput") or {},
                      checkpoints=result.get("checkpoints") or [], raw_sha256=result.get("log_sha256", ""),
                      created_by=job.started_by)
    losses = [float("nan") if v is None else v for v in result.pop("losses", [])]
    curve.set_series(result.pop("steps", []), losses)
    curve.save()
    result["loss_curve"] = str(curve.uuid)
    result["loss_changed"] = curve.loss_changed
    return result


TRAINING_RUN = register(JobKind(
    key="training_run",
    label=_("Training run"),
    fields={
        "command": command_field(),
        "workdir": workdir_field(required=True),
        "loss_pattern": pattern_field(_("Loss pattern (regular expression)")),
        "checkpoint_dir": forms.CharField(label=_("Checkpoint directory"), required=False,
                                     help_text=_("Where the run writes checkpoints (default: the working directory).")),
        "timeout_s": timeout_field(),
    },
    clean=clean,
    plan=plan,
    parse_file=parse_file,
    record=record,
    progress=progress,
    exclusive=True,
    per_model=True,
    result_template="assessments/kinds/training_run.html",
    parser="assessments.parsers.training_log",
))
