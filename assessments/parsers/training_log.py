"""Loss per step (and throughput) from training logs.

Recognised without help:
- MindSpeed-LLM / Megatron(-mcore) / ModelLink / FlagScale iteration records:
  ``iteration  N/ M | key: value | ... | lm loss: 1.3E+00 | ...``; a record may wrap lines,
  and may carry a timestamp or a torchrun ``[default0]:`` prefix. MindSpeed-LLM's FSDP2
  backend prints the same record with ``consumed tokens`` and ``max_memory_allocated(GB)``.
- ``step 10 ... loss: 2.3`` / ``Step [10/100] Loss = 2.3`` lines of plain PyTorch loops;
- Hugging Face Trainer dicts: ``{'loss': 2.3, ..., 'epoch': 0.1}`` (steps counted).
For anything else the caller gives a regular expression: named groups ``step`` and ``loss``,
or two groups (step, loss), or one group (the loss; steps are counted from 1).
A step logged twice (a resumed run) keeps its last value.
"""

import ast
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from statistics import median

from common.patterns import compile_user_pattern

from . import NUMBER, to_number

ITERATION = re.compile(r"iteration\s+(\d+)\s*/\s*(\d+)\s*\|")
STEP_LOSS = re.compile(
    rf"\bstep\b\s*[\[:=]?\s*(\d+)(?:\s*/\s*\d+)?\]?.*?\bloss\b\s*[:=]?\s*({NUMBER})", re.I)
HF_DICT = re.compile(r"^\s*\{.*'loss':\s*(" + NUMBER + r").*\}\s*$")


@dataclass
class TrainingLog:
    format: str = "unknown"
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    loss_key: str = ""
    total_steps: int | None = None
    duplicates: int = 0
    ms_per_iteration: list[float] = field(default_factory=list)
    samples_per_s: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    tflops: list[float] = field(default_factory=list)

    def throughput_dict(self) -> dict:
        """Medians, leaving out the first iteration (compilation and warm-up) when there are more."""
        def mid(values):
            values = [v for v in values[1:] or values if v is not None and math.isfinite(v)]
            return round(median(values), 4) if values else None
        return {"ms_per_iteration": mid(self.ms_per_iteration), "samples_per_s": mid(self.samples_per_s),
                "tokens_per_s": mid(self.tokens_per_s), "tflops_per_device": mid(self.tflops)}


def _float(text: str):
    try:
        return float(text)  # the common case first: a plain decimal, nan or inf
    except ValueError:
        value = to_number(text)
        return None if value is None else float(value)


# The fields of an iteration record that are read (besides the loss, found on the first one).
WANTED = {"elapsed time per iteration (ms)", "global batch size", "gloabl batch size", "samples per second",
          "consumed tokens", "throughput per GPU (TFLOP/s/GPU)", "TFLOPs"}


def _fields(segment: str, wanted: set | None = None) -> dict[str, float]:
    """``key: number`` pairs of a ``|``-separated record; only ``wanted`` keys when given."""
    out = {}
    for part in segment.split("|"):
        key, sep, value = part.rpartition(":")
        if not sep:
            continue
        key = " ".join(key.split())
        if not key or key in out or (wanted is not None and key not in wanted):
            continue
        number = _float(value)
        if number is not None:
            out[key] = number
    return out


def _loss_key(fields: dict) -> str:
    if "lm loss" in fields:
        return "lm loss"
    return next((k for k in fields if k.lower().endswith("loss") and "scale" not in k.lower()), "")


def _finish(log: TrainingLog, pairs: dict[int, float]) -> TrainingLog:
    log.steps = sorted(pairs)
    log.losses = [pairs[s] for s in log.steps]
    return log


def _records(lines: Iterable[str]):
    """(match, the text up to the next iteration) for each iteration record, one at a time.

    A record runs from its ``iteration N/M |`` to the next one, across lines (records wrap);
    only the record being read is held, never the whole log."""
    previous, segment = None, []
    for line in lines:
        start = 0
        for match in ITERATION.finditer(line):
            if previous is not None:
                segment.append(line[start:match.start()])
                yield previous, "".join(segment)
            previous, segment, start = match, [], match.end()
        if previous is not None:
            segment.append(line[start:])
    if previous is not None:
        yield previous, "".join(segment)


def _megatron(lines: Iterable[str]) -> TrainingLog | None:
    log = TrainingLog(format="megatron")
    pairs: dict[int, float] = {}
    previous_tokens = None
    wanted = None
    found = False
    for match, segment in _records(lines):
        found = True
        fields = _fields(segment, wanted)
        if not log.loss_key:
            log.loss_key = _loss_key(fields)
            if log.loss_key:
                wanted = WANTED | {log.loss_key}
            if "consumed tokens" in fields and any(k.startswith("max_memory_allocated") for k in fields):
                log.format = "mindspeed_fsdp2"
            elif "gloabl batch size" in fields or "samples per second" in fields:
                log.format = "modellink"
        if log.loss_key not in fields:
            continue
        step = int(match.group(1))
        log.total_steps = int(match.group(2))
        if step in pairs:
            log.duplicates += 1
        pairs[step] = fields[log.loss_key]
        ms = fields.get("elapsed time per iteration (ms)")
        batch = fields.get("global batch size", fields.get("gloabl batch size"))
        tokens = fields.get("consumed tokens")
        log.ms_per_iteration.append(ms)
        seconds = ms / 1000 if ms else None
        log.samples_per_s.append(fields.get("samples per second") or (batch / seconds if batch and seconds else None))
        gained = tokens - previous_tokens if tokens is not None and previous_tokens is not None else None
        log.tokens_per_s.append(gained / seconds if gained and gained > 0 and seconds else None)
        previous_tokens = tokens
        log.tflops.append(fields.get("throughput per GPU (TFLOP/s/GPU)", fields.get("TFLOPs")))
    return _finish(log, pairs) if found else None


def _split(lines: Iterable[str]):
    """Lines as ``str.splitlines`` makes them (a ``\\r`` of a progress bar ends a line too)."""
    for chunk in lines:
        yield from chunk.splitlines()


def _by_lines(lines: Iterable[str], regex: re.Pattern, fmt: str) -> TrainingLog:
    log = TrainingLog(format=fmt)
    pairs: dict[int, float] = {}
    counter = 0
    for line in _split(lines):
        match = regex.search(line)
        if not match:
            continue
        names = regex.groupindex
        if "loss" in names:
            loss_text = match.group("loss")
            step_text = match.group("step") if "step" in names else None
        elif regex.groups >= 2:
            step_text, loss_text = match.group(1), match.group(2)
        else:
            step_text, loss_text = None, match.group(1)
        loss = _float(loss_text or "")
        if loss is None:
            continue
        counter += 1
        step = int(to_number(step_text) or counter) if step_text else counter
        if step in pairs:
            log.duplicates += 1
        pairs[step] = loss
    return _finish(log, pairs)


def _hf_trainer(lines: Iterable[str]) -> TrainingLog:
    log = TrainingLog(format="hf_trainer", loss_key="loss")
    pairs, counter = {}, 0
    for line in _split(lines):
        if "'loss'" not in line or not HF_DICT.match(line):
            continue
        try:
            record = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError):
            continue
        if isinstance(record, dict) and isinstance(record.get("loss"), (int, float)):
            counter += 1
            pairs[counter] = float(record["loss"])
    return _finish(log, pairs)


def parse_training_log(text: str, pattern: str | None = None) -> TrainingLog:
    return parse_training_lines(lambda: iter((text,)), pattern)


def parse_training_lines(open_lines: Callable[[], Iterable[str]], pattern: str | None = None) -> TrainingLog:
    """The same, over a log read piece by piece: ``open_lines()`` gives its text from the start
    each time it is called (once per format tried), in pieces that end at line ends."""
    if pattern:
        return _by_lines(open_lines(), compile_user_pattern(pattern), "pattern")
    for parser in (_megatron, lambda lines: _by_lines(lines, STEP_LOSS, "step_loss"), _hf_trainer):
        log = parser(open_lines())
        if log is not None and log.steps:
            return log
    return TrainingLog()
