"""What each job kind runs and how its output is read.

Each kind is a fixed command template; user values (paths, commands, patterns) are checked
here and only ever reach the host as quoted argv words. ``parse`` turns the job's log (and
fetched files) into a JSON-safe result; it raises ``PermanentError`` (reason parse) when
the output holds nothing it can read.
"""

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .errors import PermanentError, Reason

SCANNER = Path(__file__).resolve().parent / "scanner" / "ascend_scan.py"
PROBE_MARK = "@@@ascend-portal-section "
ITERATION = re.compile(rb"iteration\s+(\d+)\s*/\s*(\d+)")


@dataclass
class Plan:
    """What a job runs: argv in workdir, with a time limit, plus files to upload first."""

    argv: list[str]
    workdir: str = ""
    timeout_s: int = 3600
    uploads: dict[str, bytes] = field(default_factory=dict)
    result_files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    """A job kind. Its result comes from ``parse`` (the log's text, or only its last
    ``tail_bytes``) or, for logs read whole that may be long, ``parse_file`` (the log file,
    read piece by piece)."""

    clean: Callable[[dict], dict]
    plan: Callable[[dict, object], Plan]
    parse: Callable[[str, dict, dict], dict] | None = None
    parse_file: Callable[[Path, dict, dict], dict] | None = None
    progress: Callable[[bytes], int | None] = lambda chunk: None
    tail_bytes: int | None = None  # parse only the end of the log (None: all of it)


# --- parameter checks ---------------------------------------------------------------------

def _text(params: dict, name: str, *, required: bool = True, max_len: int = 2000) -> str:
    value = str(params.get(name) or "").strip()
    if required and not value:
        raise ValidationError({name: _("This field is required.")})
    if len(value) > max_len or any(ch in value for ch in "\x00\r"):
        raise ValidationError({name: _("This value is too long or holds control characters.")})
    return value


def _path(params: dict, name: str, *, required: bool = True) -> str:
    value = _text(params, name, required=required, max_len=500)
    if "\n" in value:
        raise ValidationError({name: _("A path is one line.")})
    return value


def _command(params: dict, name: str = "command") -> list[str]:
    value = _text(params, name)
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise ValidationError({name: _("The command cannot be split into words: %(error)s") % {"error": exc}}) from None
    if not argv:
        raise ValidationError({name: _("This field is required.")})
    return argv


def _timeout(params: dict) -> int:
    try:
        value = int(params.get("timeout_s") or 3600)
    except (TypeError, ValueError):
        raise ValidationError({"timeout_s": _("Enter a whole number of seconds.")}) from None
    if not 1 <= value <= 3 * 24 * 3600:
        raise ValidationError({"timeout_s": _("The time limit must be between 1 second and 3 days.")})
    return value


def _pattern(params: dict, name: str = "loss_pattern") -> str:
    value = _text(params, name, required=False, max_len=300)
    if value:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValidationError({name: _("Not a valid regular expression: %(error)s") % {"error": exc}}) from None
        if compiled.groups < 1:
            raise ValidationError({name: _("The pattern needs a group that captures the number.")})
    return value


# --- env_probe ----------------------------------------------------------------------------

def _probe_script(ascend_home: str) -> str:
    home = shlex.quote(ascend_home)
    sections = [
        ("npu_smi", "npu-smi info"),
        ("npu_smi_board", "npu-smi info -t board -i 0"),
        ("driver", f"cat {home}/driver/version.info"),
        ("firmware", f"cat {home}/firmware/version.info"),
        ("cann_version_cfg", f"cat {home}/ascend-toolkit/latest/version.cfg"),
        # Either place (older and newer layouts); whichever is missing is no error in the log.
        ("cann_install_info", f"for f in {home}/ascend-toolkit/latest/*-linux/ascend_toolkit_install.info "
                              f"{home}/cann/*-linux/ascend_toolkit_install.info; do "
                              '[ -f "$f" ] && cat "$f"; done; true'),
        ("os_release", "cat /etc/os-release"),
        ("uname", "uname -srm"),
        ("python", "python3 --version"),
        ("torch", "python3 -c 'import torch; print(torch.__version__)'"),
        ("torch_npu", "python3 -c 'import torch_npu; print(torch_npu.__version__)'"),
    ]
    return "\n".join(f"echo '{PROBE_MARK}{name}'; {command} 2>&1" for name, command in sections) + "\nexit 0"


def split_sections(text: str) -> dict[str, str]:
    sections, name, lines = {}, None, []
    for line in text.splitlines():
        if line.startswith(PROBE_MARK):
            if name:
                sections[name] = "\n".join(lines)
            name, lines = line[len(PROBE_MARK):].strip(), []
        elif name:
            lines.append(line)
    if name:
        sections[name] = "\n".join(lines)
    return sections


def parse_probe(log: str, files: dict, params: dict) -> dict:
    from .snapshots import snapshot_from_sections

    sections = split_sections(log)
    if not sections:
        raise PermanentError(N_("The probe printed nothing the portal can read."), Reason.PARSE)
    return snapshot_from_sections(sections)


ENV_PROBE = Kind(
    clean=lambda params: {},
    plan=lambda params, host: Plan(argv=["sh", "-c", _probe_script(host.ascend_home)], timeout_s=300),
    parse=parse_probe,
)


# --- training_run ---------------------------------------------------------------------------

def clean_training(params: dict) -> dict:
    return {
        "command": _text(params, "command"),
        "workdir": _path(params, "workdir"),
        "loss_pattern": _pattern(params),
        "checkpoint_dir": _path(params, "checkpoint_dir", required=False),
        "timeout_s": _timeout(params),
        "argv": _command(params),
    }


def plan_training(params: dict, host) -> Plan:
    argv = list(params["argv"])
    # Only checkpoint files written during this run count (newer than its start).
    script = f"start=$(date +%s); {shlex.join(argv)}; rc=$?; echo '{PROBE_MARK}checkpoints'; "
    checkpoint_dir = params.get("checkpoint_dir") or "."
    script += f"find {shlex.quote(checkpoint_dir)} -maxdepth 3 -type f -newermt \"@$start\" \\( -name '*.pt' " \
              f"-o -name '*.pth' -o -name '*.ckpt' -o -name '*.npz' -o -name '*.safetensors' -o -name '*.bin' \\) " \
              f"2>/dev/null | head -100; exit $rc"
    return Plan(argv=["sh", "-c", script], workdir=params["workdir"], timeout_s=params["timeout_s"])


def training_progress(chunk: bytes) -> int | None:
    matches = ITERATION.findall(chunk)
    if not matches:
        return None
    step, total = (int(v) for v in matches[-1])
    return min(99, int(step * 100 / total)) if total else None


def parse_training(path: Path, files: dict, params: dict) -> dict:
    """The loss curve, throughput and checkpoints of a training log, read from its file a line
    (a record) at a time: a log of hundreds of MB is never held whole."""
    from .parsers.training_log import parse_training_lines
    from .ssh import as_text

    marker = (PROBE_MARK + "checkpoints").encode()
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


TRAINING_RUN = Kind(clean=clean_training, plan=plan_training, parse_file=parse_training, progress=training_progress)


# --- generic command kinds ---------------------------------------------------------------

def clean_command(params: dict) -> dict:
    return {
        "command": _text(params, "command"),
        "workdir": _path(params, "workdir", required=False),
        "timeout_s": _timeout(params),
        "argv": _command(params),
        "score_pattern": _pattern(params, "score_pattern"),
        "score_key": _text(params, "score_key", required=False, max_len=100),
        "dataset": _text(params, "dataset", required=False, max_len=200),
    }


def plan_command(params: dict, host) -> Plan:
    return Plan(argv=list(params["argv"]), workdir=params.get("workdir", ""), timeout_s=params["timeout_s"])


def parse_benchmark(log: str, files: dict, params: dict) -> dict:
    from .parsers.mindie_benchmark import parse_mindie_benchmark

    result = parse_mindie_benchmark(log)
    data = result.as_dict()
    if not data.get("performance") and not data.get("common"):
        raise PermanentError(N_("No MindIE benchmark tables were found in the output."), Reason.PARSE)
    return data


def parse_evaluation(log: str, files: dict, params: dict) -> dict:
    from .parsers.evaluation import extract_score

    score = extract_score(log, pattern=params.get("score_pattern") or None, json_key=params.get("score_key") or None)
    if score is None:
        raise PermanentError(N_("No score was found in the evaluation output: give a score pattern or JSON key."),
                             Reason.PARSE)
    return {"score": score}


# Scores and MindIE's result tables come at the end of their output.
INFERENCE_BENCHMARK = Kind(clean=clean_command, plan=plan_command, parse=parse_benchmark, tail_bytes=4 * 1024 * 1024)
EVALUATION = Kind(clean=clean_command, plan=plan_command, parse=parse_evaluation, tail_bytes=4 * 1024 * 1024)


# --- migration_analysis ---------------------------------------------------------------------

def clean_analysis(params: dict) -> dict:
    return {"code_dir": _path(params, "code_dir"), "timeout_s": _timeout(params)}


def plan_analysis(params: dict, host) -> Plan:
    """The portal's scanner always; the official tool too when the host has it. The official
    tool's CSV files are printed into the log as sections, so they come back with it."""
    code_dir = shlex.quote(params["code_dir"])
    official = shlex.quote(f"{host.ascend_home.rstrip('/')}/ascend-toolkit/latest/tools/ms_fmk_transplt/pytorch_analyse.sh")
    script = (
        f"python3 ascend_scan.py {code_dir} --json > scan.json; rc=$?; "
        "echo 'scanner exit code' $rc; "
        f"tool=$(command -v pytorch_analyse.sh || {{ [ -x {official} ] && echo {official}; }}); "
        'if [ -n "$tool" ]; then mkdir -p official && '
        f'"$tool" -i {code_dir} -o official -v 2.1.0 -m torch_apis; '
        "for f in official/*/*.csv; do [ -f \"$f\" ] || continue; "
        f"echo \"{PROBE_MARK}official:$(basename \"$f\")\"; cat \"$f\"; echo; done; fi; exit $rc"
    )
    return Plan(argv=["sh", "-c", script], timeout_s=params["timeout_s"],
                uploads={"ascend_scan.py": SCANNER.read_bytes()}, result_files=["scan.json"])


def parse_analysis(log: str, files: dict, params: dict) -> dict:
    import json

    from .parsers.analysis_csv import parse_official_csv

    try:
        report = json.loads(files["scan.json"].decode("utf-8"))
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(N_("The scanner's report cannot be read: %(error)s"), Reason.PARSE,
                             error=str(exc)) from None
    sections = {name.split(":", 1)[1]: text for name, text in split_sections(log).items() if name.startswith("official:")}
    official = [row for name, text in sections.items() for row in parse_official_csv(name, text)]
    return {"summary": report.get("summary", {}), "effort": report.get("effort", {}),
            "findings": report.get("findings", []), "files_scanned": report.get("files_scanned", 0),
            "official_tool_ran": bool(sections),
            "official": official}


MIGRATION_ANALYSIS = Kind(clean=clean_analysis, plan=plan_analysis, parse=parse_analysis)

KINDS = {
    "env_probe": ENV_PROBE,
    "migration_analysis": MIGRATION_ANALYSIS,
    "training_run": TRAINING_RUN,
    "inference_benchmark": INFERENCE_BENCHMARK,
    "evaluation": EVALUATION,
}
