"""The tuning evidence from uploads and jobs, and the tuning measures' figures computed from it.

``check_*`` functions confirm that the user may act and that the input is usable, then write;
the job kinds (``tuning/kinds/``) call the ``build_*`` / ``store_*`` helpers with what they read
from the host. Parsers are the pure ones of ``assessments.parsers``; a file they cannot read
becomes a ``ValidationError`` on the upload's field, and nothing is written.
"""

import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import BenchmarkRun, TuningMeasure
from assessments.parsers import atc, mindie_config, msprobe
from assessments.parsers import profiler as profiler_parser
from assessments.parsers.msprobe import CompareFileError, parse_compare
from assessments.services import check_save_tuning_measure
from common import access
from common.jsonsafe import jsonable
from engagements.models import Stage
from engagements.uploads import check_size

from .models import (
    AccuracyComparison,
    AccuracyRow,
    AtcConversion,
    BenchmarkConfig,
    MeasureEvidence,
    Profile,
    ServiceConfig,
    Source,
)

# --- uploads -------------------------------------------------------------------------------------

def _upload_text(upload, message: str, encodings=("utf-8-sig",)) -> tuple[bytes, str]:
    """A small text upload (config.json, ATC output): its bytes and their text in the first of
    ``encodings`` that reads them, else ``message`` on the file field."""
    check_size(upload, settings.TUNING_TEXT_MAX_BYTES)
    upload.seek(0)
    raw = upload.read()
    for encoding in encodings:
        try:
            return raw, raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": message})


def sha256_of(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _unreadable(field: str, exc: Exception) -> ValidationError:
    return ValidationError({field: _("This file cannot be read: %(reason)s") % {"reason": exc}})


def _reopen(upload) -> Callable:
    """A source factory for the parsers: the upload from its start, each time it is called."""
    def source():
        upload.seek(0)
        return upload
    return source


def _in_engagement(engagement, *, stage=None, model=None) -> None:
    if stage is not None and stage.engagement_id != engagement.pk:
        raise ValidationError({"stage": _("The stage belongs to another engagement.")})
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})


def check_delete_evidence(user, record) -> None:
    access.require(user, "change", record)
    try:
        with transaction.atomic():
            record.delete()
    except Exception as exc:  # ProtectedError: a tuning measure rests on it
        if type(exc).__name__ != "ProtectedError":
            raise
        raise ValidationError(_("A tuning measure rests on this evidence: remove the measure first.")) from None


# --- accuracy comparisons --------------------------------------------------------------------

def accuracy_summary(source_factory: Callable, field: str = "file") -> dict:
    """The summary of a comparison file (``parse_compare``), as stored; ``ValidationError`` when unreadable."""
    try:
        summary = parse_compare(source_factory(), keep="none").summary
    except (CompareFileError, UnicodeDecodeError) as exc:
        raise _unreadable(field, exc) from None
    if not summary.rows:
        raise ValidationError({field: _("The comparison file has a header but no rows.")})
    return jsonable(summary.as_dict(), "summary")


# AccuracyRow's columns as COPY reads them, in this order; the text columns are NOT NULL.
ROW_COLUMNS = ("comparison_id", "position", "npu_name", "op", "bench_name", "npu_dtype", "npu_shape", "cosine",
               "max_abs_err", "max_rel_err", "mean_rel_err", "one_thousandth", "five_thousandths", "result",
               "raw_result", "overflow", "message", "stack")
TEXT_COLUMNS = ("npu_name", "op", "bench_name", "npu_dtype", "npu_shape", "result", "raw_result", "message", "stack")
COPY_ROWS = 2000  # rows per chunk handed to COPY
COPY_SEPARATOR = "\x1f"  # the ASCII unit separator: no cell of a comparison holds it (else that row is quoted)
COPY_NULL = "None"  # what str(None) writes; in a text column (FORCE_NOT_NULL) it stays the text "None"
COPY_OPTIONS = (f"FORMAT csv, DELIMITER E'\\x{ord(COPY_SEPARATOR):02x}', NULL '{COPY_NULL}', "
                f"FORCE_NOT_NULL ({', '.join(TEXT_COLUMNS)})")


def _quoted(value) -> str:
    return '"' + value.replace('"', '""') + '"' if isinstance(value, str) else str(value)


class ComparisonRows:
    """A comparison file's rows (``msprobe.scan_compare``, one pass) as the CSV that ``COPY ...
    FROM STDIN`` reads, ``COPY_ROWS`` rows a chunk (memory stays flat for a million rows); once
    read to the end, ``summary()`` is the parser's summary of them.

    A row is its values as ``str()`` writes them, separated by ``COPY_SEPARATOR``: floats as
    Python writes them (``inf``, ``-inf``; NaN is already None), None as ``None`` (``COPY_NULL``:
    NULL, except in the text columns, which are ``FORCE_NOT_NULL``). A chunk holding a quote, a
    carriage return, a newline or the separator inside a value has those rows' text quoted.
    The text is cut to its column's length. An exception raised while reading is kept in
    ``error`` (psycopg2 reports it only as a cancelled COPY)."""

    def __init__(self, source, comparison_id: int):
        self.error: BaseException | None = None
        self.scan = msprobe.scan_compare(source, keep="all", chunk_rows=COPY_ROWS)
        self.chunks = iter(self.scan)
        self.prefix = f"{int(comparison_id)}{COPY_SEPARATOR}"

    def read(self, size: int = -1) -> bytes:
        """The next chunk of rows as CSV (psycopg2 asks for ``size`` bytes: it takes what it gets);
        b"" at the end."""
        try:
            return self._chunk().encode("utf-8")
        except BaseException as exc:
            self.error = exc
            raise

    def _chunk(self) -> str:
        chunk = next(self.chunks, None)
        if chunk is None:
            return ""
        sep, prefix = COPY_SEPARATOR, self.prefix
        rows = [(order, name, op, bench, dtype[:40], shape[:200], cosine, max_abs, max_rel, mean_rel, one, five,
                 result, raw[:40], overflow, message, stack)
                for (order, name, op, bench, dtype, shape, cosine, max_abs, max_rel, mean_rel, _euc, one, five,
                     result, raw, overflow, message, stack) in chunk]
        lines = [sep.join(map(str, row)) for row in rows]
        seps = len(ROW_COLUMNS) - 2  # per line, after the prefix
        body = ("\n" + prefix).join(lines)
        if ('"' in body or "\r" in body or body.count("\n") != len(lines) - 1
                or body.count(sep) != seps * len(lines) + len(lines) - 1):
            lines = [line if '"' not in line and "\r" not in line and "\n" not in line and line.count(sep) == seps
                     else sep.join(map(_quoted, row)) for line, row in zip(lines, rows, strict=True)]
            body = ("\n" + prefix).join(lines)
        return prefix + body + "\n"

    def summary(self) -> dict:
        """``parse_compare(...).summary.as_dict()`` of the rows read (jsonable, as stored)."""
        return jsonable(self.scan.summary.as_dict(), "summary")


def store_accuracy_rows(comparison: AccuracyComparison, source) -> dict:
    """Read the comparison file ``source`` once and store every row with one PostgreSQL COPY,
    streamed in chunks (inside the caller's transaction); the summary of the rows stored.
    ``CompareFileError`` / ``UnicodeDecodeError`` when the file is unreadable, also part-way."""
    rows = ComparisonRows(source, comparison.pk)
    statement = f"COPY {AccuracyRow._meta.db_table} ({', '.join(ROW_COLUMNS)}) FROM STDIN WITH ({COPY_OPTIONS})"
    try:
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.copy_expert(statement, rows, size=1 << 16)  # the psycopg2 cursor under Django's
    except DatabaseError as exc:
        if rows.error is not None:
            raise rows.error from None
        # a value PostgreSQL refuses (a NUL byte, an Index out of range): the file, not the server
        raise CompareFileError(f"a row cannot be stored ({str(exc).splitlines()[0]})") from None
    return rows.summary()


SUMMARY_FIELDS = ("format", "mode", "rows", "counts", "overflows", "overflow_checked", "first_mismatch",
                  "first_warning", "first_overflow", "notes")


def do_add_accuracy(engagement, summary: dict | None, source_factory: Callable, **fields) -> AccuracyComparison:
    """Write a comparison and all its rows in one transaction (trusts its caller), reading the file
    once: the comparison's figures are the summary of the rows stored. ``summary``, when given,
    is the caller's earlier reading of the same file: a different row count means the file
    changed in between (``CompareFileError``). A file with a header but no rows is refused."""
    with transaction.atomic():
        comparison = AccuracyComparison.objects.create(engagement=engagement, **fields)
        stored = store_accuracy_rows(comparison, source_factory())
        if not stored["rows"]:
            raise CompareFileError("The comparison file has a header but no rows.")
        if summary is not None and summary.get("rows") not in (None, stored["rows"]):
            raise CompareFileError(f"The file changed while it was read: {summary['rows']} rows, then "
                                   f"{stored['rows']}.")
        comparison.format, comparison.mode, comparison.rows = stored["format"], stored["mode"], stored["rows"]
        comparison.counts, comparison.overflows = stored["counts"], stored["overflows"]
        comparison.overflow_checked = bool(stored["overflow_checked"])
        comparison.first_mismatch, comparison.first_warning = stored["first_mismatch"], stored["first_warning"]
        comparison.first_overflow, comparison.notes = stored["first_overflow"], stored["warnings"]
        comparison.save(update_fields=SUMMARY_FIELDS)
    return comparison


def check_add_accuracy_upload(user, engagement, upload, *, stage=None, model=None, label="") -> AccuracyComparison:
    """An uploaded comparison: refused above ``TUNING_TABLE_MAX_BYTES`` before a byte is read, then
    read as a stream (a large upload is Django's temporary file): once for its SHA-256, once
    for its rows and summary."""
    access.require(user, "change", engagement)
    _in_engagement(engagement, stage=stage, model=model)
    check_size(upload, settings.TUNING_TABLE_MAX_BYTES)
    digest = sha256_of(upload)
    try:
        return do_add_accuracy(engagement, None, _reopen(upload), stage=stage, model=model, label=label[:200],
                               filename=upload.name[:255], sha256=digest, source=Source.UPLOAD, created_by=user)
    except (CompareFileError, UnicodeDecodeError) as exc:
        raise _unreadable("file", exc) from None


ROW_FILTERS = ("result", "q", "mismatches")


def accuracy_rows(comparison: AccuracyComparison, *, result: str = "", q: str = "", mismatches: bool = False):
    """The comparison's rows in execution order, filtered by result, a name search, or only mismatches."""
    rows = comparison.row_set.order_by("position", "pk")
    if mismatches:
        rows = rows.filter(result__in=AccuracyRow.MISMATCHES)
    elif result in AccuracyRow.Result.values:
        rows = rows.filter(result=result)
    if q:
        rows = rows.filter(Q(npu_name__icontains=q) | Q(bench_name__icontains=q))
    return rows


# --- profiles ---------------------------------------------------------------------------------

PROFILE_FILES = ("kernel_details", "step_trace", "cluster_step_trace")


def build_profile(sources: dict[str, Callable], *, flops_per_step=None, peak_tflops=None, devices: int = 1,
                  top_n: int = 20) -> dict:
    """The stored parts of a profile from its tables (name -> a source factory): the bottleneck
    summary with MFU, the top kernels, the cluster analysis. ``ValidationError`` keyed by the table."""
    kernels = trace = cluster_trace = None
    try:
        if "kernel_details" in sources:
            kernels = profiler_parser.parse_kernel_details(sources["kernel_details"](), top_n=top_n)
    except (profiler_parser.ProfilerFileError, UnicodeDecodeError) as exc:
        raise _unreadable("kernel_details", exc) from None
    for name in ("step_trace", "cluster_step_trace"):
        if name in sources:
            try:
                parsed = profiler_parser.parse_step_trace(sources[name]())
            except (profiler_parser.ProfilerFileError, UnicodeDecodeError) as exc:
                raise _unreadable(name, exc) from None
            if name == "step_trace":
                trace = parsed
            else:
                cluster_trace = parsed
    if kernels is None and trace is None and cluster_trace is None:
        raise ValidationError(_("Give at least one of kernel_details.csv, step_trace_time.csv or "
                                "cluster_step_trace_time.csv."))
    try:
        summary = profiler_parser.bottleneck_summary(
            trace or cluster_trace, kernels=kernels, flops_per_step=flops_per_step,
            peak_flops=peak_tflops * 1e12 if peak_tflops else None, devices=devices or 1)
    except profiler_parser.ProfilerFileError as exc:
        raise ValidationError({"flops_per_step": str(exc)}) from None
    ranks = cluster_trace or (trace if trace and len({s.rank for s in trace.steps}) > 1 else None)
    cluster = profiler_parser.analyse_cluster(ranks).as_dict() if ranks else {}
    notes = [*(kernels.warnings if kernels else []), *(trace.warnings if trace else []),
             *(cluster_trace.warnings if cluster_trace else []), *summary.notes]
    kernel_data = kernels.as_dict() if kernels else {}
    return jsonable({"summary": summary.as_dict(), "kernels": kernel_data, "cluster": cluster, "notes": notes},
                    "profile")


def check_add_profile_upload(user, engagement, uploads: dict, *, stage=None, model=None, label="",
                             flops_per_step=None, peak_tflops=None, devices: int = 1) -> Profile:
    """A profile from uploaded tables (``uploads``: name in ``PROFILE_FILES`` -> file)."""
    access.require(user, "change", engagement)
    _in_engagement(engagement, stage=stage, model=model)
    uploads = {name: upload for name, upload in uploads.items() if upload is not None}
    for name, upload in uploads.items():
        check_size(upload, settings.TUNING_TABLE_MAX_BYTES, name)
    built = build_profile({name: _reopen(upload) for name, upload in uploads.items()},
                          flops_per_step=flops_per_step, peak_tflops=peak_tflops, devices=devices)
    files = [{"name": upload.name[:255], "table": name, "size": upload.size, "sha256": sha256_of(upload)}
             for name, upload in uploads.items()]
    return Profile.objects.create(
        engagement=engagement, stage=stage, model=model, label=label[:200], source=Source.UPLOAD,
        filename=", ".join(f["name"] for f in files)[:255], sha256=files[0]["sha256"], files=files,
        flops_per_step=flops_per_step, peak_tflops=peak_tflops, devices=devices or 1, created_by=user, **built)


def compare_profiles(before: Profile, after: Profile) -> dict:
    """Before/after of two profiles (``assessments.parsers.profiler.compare_profiles``)."""
    return jsonable(profiler_parser.compare_profiles(before.summary, after.summary).as_dict(), "comparison")


# --- MindIE service configurations ------------------------------------------------------------

def parse_config_text(text, field: str = "file") -> tuple[dict, dict]:
    """(the file as JSON, the parser's fields) of a MindIE config.json; ``ValidationError`` when unreadable."""
    try:
        parsed = mindie_config.parse_mindie_config(text)
    except ValueError as exc:  # MindieConfigError
        raise _unreadable(field, exc) from None
    try:
        config = json.loads(text)
    except ValueError:
        config = {}
    return (config if isinstance(config, dict) else {}), jsonable(parsed.as_dict(), "config")


def do_add_service_config(engagement, config: dict, fields: dict, **attrs) -> ServiceConfig:
    """A new numbered version of the model's configuration (numbers never reused while kept)."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                type(engagement).objects.select_for_update().filter(pk=engagement.pk).first()  # one writer at a time
                last = (ServiceConfig.objects.filter(engagement=engagement, model=attrs.get("model"))
                        .aggregate(v=Max("version"))["v"]) or 0
                return ServiceConfig.objects.create(engagement=engagement, version=last + 1, config=config,
                                                    fields=fields, **attrs)
        except IntegrityError:
            continue
    raise ValidationError(_("Another version was saved at the same time; try again."))


def check_add_service_config(user, engagement, upload, *, model=None, stage=None, label="") -> ServiceConfig:
    access.require(user, "change", engagement)
    _in_engagement(engagement, stage=stage, model=model)
    raw, text = _upload_text(upload, _("The file is not UTF-8 text."))
    config, fields = parse_config_text(text)
    return do_add_service_config(engagement, config, fields, model=model, stage=stage, label=label[:200],
                                 filename=upload.name[:255], sha256=hashlib.sha256(raw).hexdigest(),
                                 source=Source.UPLOAD, created_by=user)


def check_link_benchmark(user, benchmark: BenchmarkRun, config: ServiceConfig | None) -> None:
    """Say which configuration a benchmark ran under (None: not known)."""
    access.require(user, "change", benchmark.engagement)
    if config is not None and config.engagement_id != benchmark.engagement_id:
        raise ValidationError({"config": _("The configuration belongs to another engagement.")})
    with transaction.atomic():
        BenchmarkConfig.objects.filter(benchmark=benchmark).delete()
        if config is not None:
            BenchmarkConfig.objects.create(benchmark=benchmark, config=config, created_by=user)


KEY_FIELDS = ("npu_device_ids", "world_size", "max_seq_len", "max_input_token_len", "max_prefill_tokens",
              "max_prefill_batch_size", "max_batch_size", "max_iter_times", "cache_block_size", "cpu_mem_size_gb",
              "npu_mem_size_gb", "quantization", "backend_type", "model_name")


def flat_settings(config: ServiceConfig | None) -> dict:
    """Every setting of the configuration as ``dotted.key -> value``."""
    if config is None:
        return {}
    return dict((config.fields or {}).get("flat") or {})


def key_settings(config: ServiceConfig | None) -> dict:
    """The settings that matter for tuning (the parser's key fields)."""
    if config is None:
        return {}
    fields = config.fields or {}
    return {name: fields.get(name) for name in KEY_FIELDS}


BENCHMARK_FIGURES = (  # summary key, label, unit, direction
    ("generate_speed_token_s", gettext_lazy("Generation speed"), "tokens/s", "higher"),
    ("throughput_req_s", gettext_lazy("Throughput"), "req/s", "higher"),
    ("first_token_ms", gettext_lazy("First-token time"), "ms", "lower"),
    ("decode_ms", gettext_lazy("Decode time"), "ms", "lower"),
)


def benchmark_side_by_side(benchmarks: list[BenchmarkRun]) -> dict:
    """Benchmarks in columns: their figures, concurrency, and the configuration each ran under:
    its key settings, then every other setting that differs between the configurations; the
    settings that differ are marked."""
    links = {link.benchmark_id: link.config for link in
             BenchmarkConfig.objects.filter(benchmark__in=benchmarks).select_related("config", "config__model")}
    columns = [{"benchmark": b, "config": links.get(b.pk), "concurrency": (b.common or {}).get("Concurrency")}
               for b in benchmarks]
    figures = [{"key": key, "label": label, "unit": unit, "direction": direction,
                "values": [(c["benchmark"].summary or {}).get(key) for c in columns]}
               for key, label, unit, direction in BENCHMARK_FIGURES]
    configured = [c for c in columns if c["config"] is not None]

    def row(name, values_of):
        values = [values_of(c["config"]).get(name) if c["config"] is not None else None for c in columns]
        seen = {json.dumps(values_of(c["config"]).get(name), sort_keys=True, default=str) for c in configured}
        return {"name": name, "values": values, "differs": len(seen) > 1}

    settings_rows = [row(name, key_settings) for name in KEY_FIELDS]
    flat_names = sorted({name for c in configured for name in flat_settings(c["config"])})
    settings_rows += [r for r in (row(name, flat_settings) for name in flat_names) if r["differs"]]
    return {"columns": columns, "figures": figures, "settings": settings_rows,
            "differences": sum(1 for r in settings_rows if r["differs"])}


# --- ATC conversions --------------------------------------------------------------------------

def atc_fields(console: str, command: str = "") -> dict:
    """The conversion from its console output and, when given, its command line (else the
    command the output shows): ``AtcConversion``'s fields."""
    result = atc.parse_atc_output(console)
    parsed_command = result.command
    notes = list(result.warnings)
    if command:
        try:
            parsed_command = atc.parse_atc_command(command)
        except ValueError as exc:  # AtcParseError
            raise ValidationError({"command": str(exc)}) from None
    cmd = parsed_command.as_dict() if parsed_command else {}
    notes += cmd.get("warnings") or []
    framework = cmd.get("framework_name") or (str(cmd["framework"]) if cmd.get("framework") is not None else "")
    return jsonable({
        "command": command or " ".join(cmd.get("argv") or []), "input_model": cmd.get("model") or "",
        "framework": framework, "output": cmd.get("output_file") or cmd.get("output") or "",
        "soc_version": cmd.get("soc_version") or "", "input_shape": cmd.get("input_shape") or "",
        "success": {"success": True, "failure": False}.get(result.status),
        "codes": [{"code": m.code, "level": m.level, "message": m.message, "subject": m.subject,
                   "details": m.details[:20]} for m in result.messages[:500]],
        "details": {"status": result.status, "started": result.started, "error_codes": result.error_codes,
                    "warning_codes": result.warning_codes, "code_counts": result.code_counts,
                    "input_shapes": cmd.get("input_shapes") or {}, "options": cmd.get("options") or {},
                    "notes": notes},
    }, "atc")


def do_add_atc(engagement, fields: dict, **attrs) -> AtcConversion:
    return AtcConversion.objects.create(
        engagement=engagement, command=fields["command"][:5000], input_model=fields["input_model"][:500],
        framework=fields["framework"][:40], output=fields["output"][:500], soc_version=fields["soc_version"][:60],
        input_shape=fields["input_shape"][:1000], success=fields["success"], codes=fields["codes"],
        details=fields["details"], **attrs)


def check_add_atc_upload(user, engagement, upload, *, command="", stage=None, model=None, label="") -> AtcConversion:
    access.require(user, "change", engagement)
    _in_engagement(engagement, stage=stage, model=model)
    raw, text = _upload_text(upload, _("The file is not text."), encodings=("utf-8-sig", "gb18030"))
    if "\x00" in text:
        raise ValidationError({"file": _("The file is not text.")})
    try:
        fields = atc_fields(text, command)
    except atc.AtcParseError as exc:
        raise _unreadable("file", exc) from None
    if fields["success"] is None and not fields["codes"]:
        raise ValidationError({"file": _("No ATC output was found in this file (neither “ATC run success” nor "
                                         "“ATC run failed”, nor an error code).")})
    return do_add_atc(engagement, fields, stage=stage, model=model, label=label[:200],
                      filename=upload.name[:255], sha256=hashlib.sha256(raw).hexdigest(), source=Source.UPLOAD,
                      created_by=user)


# --- tuning measures with evidence ------------------------------------------------------------

# kind -> figure -> (label, unit, direction)
FIGURES = {
    MeasureEvidence.Kind.PROFILE_PAIR: {
        "step_time_ms": (gettext_lazy("Step time"), "ms", "lower"),
        "mfu": (gettext_lazy("MFU"), "MFU %", "higher"),
        "computing_ms": (gettext_lazy("Computing time per step"), "ms", "lower"),
        "communication_ms": (gettext_lazy("Communication (not overlapped) per step"), "ms", "lower"),
        "free_ms": (gettext_lazy("Free (idle) time per step"), "ms", "lower"),
    },
    MeasureEvidence.Kind.BENCHMARK_PAIR: {key: (label, unit, direction)
                                          for key, label, unit, direction in BENCHMARK_FIGURES},
    MeasureEvidence.Kind.ACCURACY: {
        "pass_share": (gettext_lazy("Compared tensors passing (%)"), "", "higher"),
        "errors": (gettext_lazy("Compared tensors in error"), "", "lower"),
    },
}
COMPONENT_OF = {"computing_ms": "computing", "communication_ms": "communication_not_overlapped", "free_ms": "free"}


def figure_choices() -> list[tuple[str, str]]:
    return [(f"{kind}:{key}", f"{MeasureEvidence.Kind(kind).label} · {label}")
            for kind, figures in FIGURES.items() for key, (label, _unit, _d) in figures.items()]


def _profile_figure(profile: Profile | None, figure: str) -> float | None:
    if profile is None:
        return None
    summary = profile.summary or {}
    if figure == "step_time_ms":
        return profile.step_time_ms
    if figure == "mfu":
        return summary["mfu"] * 100 if summary.get("mfu") is not None else None
    value = (summary.get("components") or {}).get(COMPONENT_OF[figure])
    return value / 1000 if value is not None else None


def _accuracy_figure(comparison: AccuracyComparison | None, figure: str) -> float | None:
    if comparison is None:
        return None
    if figure == "pass_share":
        share = comparison.pass_share
        return share * 100 if share is not None else None
    return float(comparison.count("error"))


def evidence_figures(evidence: MeasureEvidence) -> tuple[float | None, float | None, dict]:
    """The figure before and after, from the evidence, and the comparison behind them."""
    kind, figure = evidence.kind, evidence.figure
    if kind == MeasureEvidence.Kind.PROFILE_PAIR:
        before = _profile_figure(evidence.profile_before, figure)
        after = _profile_figure(evidence.profile_after, figure)
        details = {}
        if evidence.profile_before and evidence.profile_after:
            details = compare_profiles(evidence.profile_before, evidence.profile_after)
        return before, after, details
    if kind == MeasureEvidence.Kind.BENCHMARK_PAIR:
        before = (evidence.benchmark_before.summary or {}).get(figure) if evidence.benchmark_before else None
        after = (evidence.benchmark_after.summary or {}).get(figure) if evidence.benchmark_after else None
        return before, after, {}
    before = _accuracy_figure(evidence.accuracy_before, figure)
    after = _accuracy_figure(evidence.accuracy_after, figure)
    return before, after, {}


EVIDENCE_FIELDS = {
    MeasureEvidence.Kind.PROFILE_PAIR: ("profile_before", "profile_after"),
    MeasureEvidence.Kind.BENCHMARK_PAIR: ("benchmark_before", "benchmark_after"),
    MeasureEvidence.Kind.ACCURACY: ("accuracy_before", "accuracy_after"),
}


def check_save_measure_with_evidence(user, stage: Stage, fields: dict, evidence: dict) -> TuningMeasure:
    """A tuning measure (``assessments.TuningMeasure``) whose figures come from its evidence.

    ``evidence``: ``figure`` ("kind:key" of ``FIGURES``) and the records before/after of that
    kind. The measure's figure, unit, direction, before and after are computed, not typed."""
    access.require(user, "change", stage.engagement)
    kind, _sep, key = (evidence.get("figure") or "").partition(":")
    if kind not in FIGURES or key not in FIGURES[kind]:
        raise ValidationError({"figure": _("Choose what the evidence measures.")})
    before_name, after_name = EVIDENCE_FIELDS[kind]
    records = {name: evidence.get(name) for name in (before_name, after_name)}
    if records[after_name] is None or (kind != MeasureEvidence.Kind.ACCURACY and records[before_name] is None):
        raise ValidationError(_("Choose the evidence before and after the change."))
    for name, record in records.items():
        if record is not None and record.engagement_id != stage.engagement_id:
            raise ValidationError({name: _("The evidence belongs to another engagement.")})
    label, unit, direction = FIGURES[kind][key]
    record = MeasureEvidence(kind=kind, figure=key, **records)
    before, after, details = evidence_figures(record)
    with transaction.atomic():
        measure = check_save_tuning_measure(user, stage, {
            **fields, "metric": str(label), "unit": unit, "direction": direction, "before": before, "after": after})
        record.measure = measure
        record.details = details
        record.save()
    return measure


def refresh_measure(evidence: MeasureEvidence) -> None:
    """Recompute the measure's figures from its evidence (after the evidence changed)."""
    before, after, details = evidence_figures(evidence)
    with transaction.atomic():
        TuningMeasure.objects.filter(pk=evidence.measure_id).update(before=before, after=after)
        evidence.details = details
        evidence.save(update_fields=["details"])


def evidence_choices(engagement, stage=None) -> dict:
    """The engagement's evidence records a measure may rest on, newest first."""
    return {
        "profiles": Profile.objects.filter(engagement=engagement).select_related("model"),
        "benchmarks": BenchmarkRun.objects.filter(engagement=engagement).select_related("job", "model"),
        "accuracy": AccuracyComparison.objects.filter(engagement=engagement).select_related("model"),
    }
