"""ATC (Ascend Tensor Compiler) conversions: the console output of a run and the command line itself.

The console output (``parse_atc_output``): ``ATC start working now, please wait for a moment.``,
then ``ATC run success, welcome to the next use.`` or ``ATC run failed, Please check the detail
log, Try 'atc --help' for more information``, and coded messages, each on a line that starts with
its code: ``W11001: Op [Slice_29] does not hit the high-priority operator information library,
...``, ``E10054: ...``, ``EZ3003: ...`` (E = error, W = warning; the second character may be a
letter: EZ, EE, EB, ...). An error's indented lines that follow (``Possible Cause:``,
``Solution:``, ``TraceBack ...``) are its details. The ``[PID: n] <time>`` that some messages
start with is taken off the message.

The command line (``parse_atc_command``): ``--model``, ``--framework`` (0 Caffe, 1 MindSpore,
3 TensorFlow, 5 ONNX), ``--output`` (the ``.om`` is ``<output>.om``), ``--soc_version``,
``--input_shape`` (``"name:1,3,224,224;name2:1,10"``; a dimension may be -1 or a range ``1~8``),
``--input_format`` and every other ``--option=value`` as it is.
"""

import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath


class AtcParseError(ValueError):
    """Not ATC output or not an ATC command; the message says why."""


FRAMEWORKS = {0: "Caffe", 1: "MindSpore", 3: "TensorFlow", 5: "ONNX"}
MODEL_SUFFIXES = {".prototxt": 0, ".caffemodel": 0, ".air": 1, ".mindir": 1, ".pb": 3, ".onnx": 5}
START = "ATC start working now"
SUCCESS = "ATC run success"
FAILURE = "ATC run failed"
CODE = re.compile(r"^\s*([EW][A-Z0-9]\d{4})\s*:\s?(.*)$")
PID_TIME = re.compile(r"^\[PID:\s*\d+\]\s*(?:\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}(?:\.\d+)*\s*)?")
SUBJECT = re.compile(r"\[([^\]]+)\]")
PROMPT = re.compile(r"^\s*(?:[\w.@:~/-]*[$#]\s+)?((?:\S+=\S+\s+)*(?:\S*/)?atc(?:\.bin)?(?:\s+.*)?)$")


@dataclass(slots=True)
class AtcMessage:
    code: str  # W11001, E10054, EZ3003, ...
    level: str  # error | warning
    message: str  # the first line, without the code and the [PID: n] <time> prefix
    subject: str = ""  # the first [bracketed] name: an op, an option (--model), an op type
    details: list[str] = field(default_factory=list)  # the indented lines that follow

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class AtcCommand:
    model: str | None = None
    framework: int | None = None
    framework_name: str | None = None  # Caffe | MindSpore | TensorFlow | ONNX
    output: str | None = None
    output_file: str | None = None  # <output>.om
    soc_version: str | None = None
    input_shape: str | None = None  # as written
    input_shapes: dict[str, list] = field(default_factory=dict)  # name -> dims (int, or "1~8" for a range)
    input_format: str | None = None
    mode: int | None = None  # 0 (default): model -> .om; 1: .om -> json; 3: pre-check; 5: graph txt -> json
    options: dict[str, str] = field(default_factory=dict)  # every --option (value "" for a bare flag)
    argv: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class AtcResult:
    status: str = "unknown"  # success | failure | unknown
    started: bool = False  # "ATC start working now" was printed
    messages: list[AtcMessage] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)  # distinct, in order of appearance
    warning_codes: list[str] = field(default_factory=list)
    code_counts: dict[str, int] = field(default_factory=dict)
    command: AtcCommand | None = None  # when the output shows the command (a "$ atc ..." line)
    runs: int = 0  # success/failure lines seen
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[AtcMessage]:
        return [m for m in self.messages if m.level == "error"]

    def as_dict(self) -> dict:
        return {"status": self.status, "started": self.started, "messages": [m.as_dict() for m in self.messages],
                "error_codes": list(self.error_codes), "warning_codes": list(self.warning_codes),
                "code_counts": dict(self.code_counts),
                "command": self.command.as_dict() if self.command else None, "runs": self.runs,
                "warnings": list(self.warnings)}


def parse_atc_output(text) -> AtcResult:
    """The outcome and the coded messages of ATC's console output (text or bytes)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not str(text).strip():
        raise AtcParseError("The ATC output is empty: paste or upload what atc printed "
                            "(it starts with 'ATC start working now').")
    result = AtcResult()
    current: AtcMessage | None = None
    for raw in str(text).splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        match = CODE.match(line)
        if match:
            code, message = match.groups()
            message = PID_TIME.sub("", message.strip())
            subject = SUBJECT.search(message)
            current = AtcMessage(code=code, level="error" if code[0] == "E" else "warning", message=message,
                                 subject=subject.group(1) if subject else "")
            result.messages.append(current)
            result.code_counts[code] = result.code_counts.get(code, 0) + 1
            codes = result.error_codes if current.level == "error" else result.warning_codes
            if code not in codes:
                codes.append(code)
            continue
        if current is not None and stripped and raw[:1] in (" ", "\t"):
            current.details.append(stripped)
            continue
        current = None
        if START in line:
            result.started = True
        elif SUCCESS in line:
            result.status, result.runs = "success", result.runs + 1
        elif FAILURE in line:
            result.status, result.runs = "failure", result.runs + 1
        elif result.command is None and _looks_like_command(stripped):
            try:
                result.command = parse_atc_command(stripped)
            except AtcParseError as exc:
                result.warnings.append(f"The command line could not be read: {exc}")
    if result.runs > 1:
        result.warnings.append(f"This output holds {result.runs} ATC runs; the status is the last one's.")
    if result.status == "unknown":
        if result.error_codes:
            result.status = "failure"
            result.warnings.append("No 'ATC run success/failed' line, but error codes: counted as a failure.")
        elif not result.started:
            result.warnings.append("This does not look like ATC output: no 'ATC start working now', "
                                   "'ATC run success' or 'ATC run failed' line.")
        else:
            result.warnings.append("ATC started but printed neither 'ATC run success' nor 'ATC run failed': "
                                   "was the output cut short?")
    return result


def _looks_like_command(line: str) -> bool:
    match = PROMPT.match(line)
    return bool(match) and ("--" in line or line.rstrip().endswith("atc"))


def _dims(text: str) -> list:
    dims: list = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            dims.append(int(part))
        except ValueError:
            dims.append(part)  # a range such as 1~8, or a symbol
    return dims


def parse_input_shape(text: str) -> dict[str, list]:
    """``"images:1, 3, 416, 416;mask:1,-1"`` -> ``{"images": [1, 3, 416, 416], "mask": [1, -1]}``.
    A name may itself hold colons (TensorFlow's ``x:0``): the dimensions follow the last one."""
    shapes: dict[str, list] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, dims = item.rpartition(":")
        if not sep:
            raise AtcParseError(f"--input_shape entry {item!r} has no 'name:' before its dimensions "
                                "(write it as \"input_name:1,3,224,224\").")
        shapes[name.strip()] = _dims(dims)
    return shapes


def parse_atc_command(command) -> AtcCommand:
    """An ``atc ...`` command line (a string as typed, prompt and ``\\`` line continuations allowed,
    or an argv list)."""
    if isinstance(command, (list, tuple)):
        argv = [str(arg) for arg in command]
    else:
        text = re.sub(r"\\\r?\n", " ", str(command)).strip()
        text = re.sub(r"^[\w.@:~/-]*[$#]\s+", "", text)
        try:
            argv = shlex.split(text)
        except ValueError as exc:
            raise AtcParseError(f"The ATC command cannot be split into words ({exc}): check its quotes.") from None
    start = next((i for i, arg in enumerate(argv) if PurePosixPath(arg).name in ("atc", "atc.bin")), None)
    if start is None:
        program = next((arg for arg in argv if "=" not in arg), argv[0] if argv else "")
        raise AtcParseError(f"This is not an ATC command: it runs {program or 'nothing'!r}, not atc.")
    out = AtcCommand(argv=argv[start:])
    args = argv[start + 1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and len(arg) > 2:
            key, sep, value = arg[2:].partition("=")
            if not sep and i + 1 < len(args) and not args[i + 1].startswith("-"):
                value, i = args[i + 1], i + 1
                out.warnings.append(f"--{key} {value}: ATC expects --{key}={value}.")
            out.options[key] = value
        else:
            out.warnings.append(f"Argument {arg!r} is not an --option=value.")
        i += 1
    opts = out.options
    out.model = opts.get("model") or None
    out.output = opts.get("output") or None
    out.soc_version = opts.get("soc_version") or None
    out.input_format = opts.get("input_format") or None
    out.input_shape = opts.get("input_shape") or None
    if out.output:
        out.output_file = out.output if out.output.endswith(".om") else out.output + ".om"
    if out.input_shape:
        try:
            out.input_shapes = parse_input_shape(out.input_shape)
        except AtcParseError as exc:
            out.warnings.append(str(exc))
    for key in ("framework", "mode"):
        value = opts.get(key)
        if value is None:
            continue
        try:
            setattr(out, key, int(value))
        except ValueError:
            out.warnings.append(f"--{key}={value} is not a number.")
    if out.framework is not None:
        out.framework_name = FRAMEWORKS.get(out.framework)
        if out.framework_name is None:
            out.warnings.append(f"--framework={out.framework} is not one ATC accepts: "
                                "0 (Caffe), 1 (MindSpore), 3 (TensorFlow) or 5 (ONNX).")
    suffix = PurePosixPath(out.model).suffix.lower() if out.model else ""
    expected = MODEL_SUFFIXES.get(suffix)
    if out.framework is None and (out.mode or 0) == 0:
        out.warnings.append("No --framework: ATC requires it to convert a model"
                            + (f" ({FRAMEWORKS[expected]} is --framework={expected})." if expected is not None
                               else "."))
    elif expected is not None and out.framework_name and out.framework != expected:
        out.warnings.append(f"--framework={out.framework} ({out.framework_name}) but the model is a {suffix} "
                            f"file ({FRAMEWORKS[expected]}, --framework={expected}).")
    if out.model is None and (out.mode or 0) == 0:
        out.warnings.append("No --model: ATC stops with E10054.")
    return out
