"""The job-kind registry: what the worker needs to run a kind, declared by the kind itself.

A kind is one module of ``assessments/kinds/`` that builds a ``JobKind`` and passes it to
``register``. The workers layer runs any kind the same way (plan -> detached remote run ->
parse -> record) and knows nothing of what its result means: the kind's own ``parse`` reads
the output, its ``record`` files the result, its ``result_template`` shows it.

User values (paths, commands, patterns) are checked by the ``*_param`` helpers here and only
ever reach the host as quoted argv words. A parser raises ``PermanentError`` (reason parse)
when the output holds nothing it can read.
"""

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common.patterns import PatternError, compile_user_pattern

# The line a kind's script prints before each section of its output (``split_sections``).
SECTION_MARK = "@@@ascend-portal-section "


@dataclass
class Plan:
    """What a job runs: argv in workdir, with a time limit, plus files to upload first."""

    argv: list[str]
    workdir: str = ""
    timeout_s: int = 3600
    uploads: dict[str, bytes] = field(default_factory=dict)
    result_files: list[str] = field(default_factory=list)


def _no_progress(chunk: bytes) -> int | None:
    return None


def _keep(job, result: dict) -> dict:
    return result


@dataclass(frozen=True)
class JobKind:
    """A job kind, declared in one module.

    - ``fields``: the job form's fields for this kind (the form shows only the chosen kind's);
    - ``clean``: the parameters as stored, checked (raises ``ValidationError``);
    - ``plan``: the remote run for the parameters and host;
    - ``parse`` (the log's text, or only its last ``tail_bytes``) or ``parse_file`` (the
      log file, for logs that may be long): the JSON-safe result;
    - ``record``: files the result (inside the transaction that marks the job succeeded) and
      returns the summary the job keeps;
    - ``result_template``: the Django template that shows the result on the job page;
    - ``parser``: the name of the parser, printed beside every figure it produced;
    - ``exclusive``: the kind occupies the NPUs, so one such job at a time runs on a host;
    - ``per_model``: its result is evidence about one model under migration (the form asks which).
    """

    key: str
    label: str
    clean: Callable[[dict], dict]
    plan: Callable[[dict, object], Plan]
    fields: dict[str, forms.Field] = field(default_factory=dict)
    parse: Callable[[str, dict, dict], dict] | None = None
    parse_file: Callable[[Path, dict, dict], dict] | None = None
    record: Callable[[object, dict], dict] = _keep
    result_template: str = "workers/partials/job_result_raw.html"
    parser: str = ""
    exclusive: bool = False
    per_model: bool = False
    progress: Callable[[bytes], int | None] = _no_progress
    tail_bytes: int | None = None


_REGISTRY: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if kind.key in _REGISTRY and _REGISTRY[kind.key] is not kind:
        raise ValueError(f"Job kind {kind.key!r} is registered twice.")
    if (kind.parse is None) == (kind.parse_file is None):
        raise ValueError(f"Job kind {kind.key!r} needs exactly one of parse and parse_file.")
    _REGISTRY[kind.key] = kind
    return kind


def get(key: str) -> JobKind:
    """The kind of that key; ``KeyError`` when none is registered."""
    return _REGISTRY[key]


def all_kinds() -> list[JobKind]:
    return list(_REGISTRY.values())


def choices() -> list[tuple[str, str]]:
    """``Job.kind``'s choices: every registered kind (a callable, so adding one needs no migration)."""
    return [(kind.key, kind.label) for kind in _REGISTRY.values()]


def exclusive_keys() -> list[str]:
    return [kind.key for kind in _REGISTRY.values() if kind.exclusive]


def split_sections(text: str) -> dict[str, str]:
    """A script's output cut at its ``SECTION_MARK`` lines: section name -> text."""
    sections, name, lines = {}, None, []
    for line in text.splitlines():
        if line.startswith(SECTION_MARK):
            if name:
                sections[name] = "\n".join(lines)
            name, lines = line[len(SECTION_MARK):].strip(), []
        elif name:
            lines.append(line)
    if name:
        sections[name] = "\n".join(lines)
    return sections


# --- parameter checks, shared by the kinds -----------------------------------------------------

def text_param(params: dict, name: str, *, required: bool = True, max_len: int = 2000) -> str:
    value = str(params.get(name) or "").strip()
    if required and not value:
        raise ValidationError({name: _("This field is required.")})
    if len(value) > max_len or any(ch in value for ch in "\x00\r"):
        raise ValidationError({name: _("This value is too long or holds control characters.")})
    return value


def path_param(params: dict, name: str, *, required: bool = True) -> str:
    value = text_param(params, name, required=required, max_len=500)
    if "\n" in value:
        raise ValidationError({name: _("A path is one line.")})
    return value


def command_param(params: dict, name: str = "command") -> list[str]:
    value = text_param(params, name)
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise ValidationError({name: _("The command cannot be split into words: %(error)s") % {"error": exc}}) from None
    if not argv:
        raise ValidationError({name: _("This field is required.")})
    return argv


def timeout_param(params: dict) -> int:
    try:
        value = int(params.get("timeout_s") or 3600)
    except (TypeError, ValueError):
        raise ValidationError({"timeout_s": _("Enter a whole number of seconds.")}) from None
    if not 1 <= value <= 3 * 24 * 3600:
        raise ValidationError({"timeout_s": _("The time limit must be between 1 second and 3 days.")})
    return value


def pattern_param(params: dict, name: str) -> str:
    value = text_param(params, name, required=False, max_len=300)
    if value:
        try:
            compiled = compile_user_pattern(value)
        except PatternError as exc:
            raise ValidationError({name: _("Not a valid regular expression: %(error)s") % {"error": exc}}) from None
        if compiled.groups < 1:
            raise ValidationError({name: _("The pattern needs a group that captures the number.")})
    return value


# The form fields the kinds share (each kind lists the ones it takes).
def timeout_field() -> forms.Field:
    return forms.IntegerField(label=gettext_lazy("Time limit (s)"), initial=3600, min_value=1)


def command_field(help_text="") -> forms.Field:
    return forms.CharField(label=gettext_lazy("Command"), help_text=help_text)


def workdir_field(required: bool = False) -> forms.Field:
    return forms.CharField(label=gettext_lazy("Working directory"), required=required)


def pattern_field(label) -> forms.Field:
    return forms.CharField(label=label, required=False)


# ``ITERATION`` progress: "iteration 12/100" in Megatron-style logs.
ITERATION = re.compile(rb"iteration\s+(\d+)\s*/\s*(\d+)")
