"""The fast import path of an accuracy comparison (one pass, rows stored with PostgreSQL COPY)
stores exactly what the parser reads: every row as ``msprobe.iter_compare_rows`` gives it, and
the summary ``msprobe.parse_compare`` gives; NaN, infinities, NULLs, quotes and newlines
survive; an upload is read as a stream and refused above ``TUNING_TABLE_MAX_BYTES`` unread."""

import csv
import io
import math

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from assessments.parsers import msprobe
from common.jsonsafe import jsonable
from tuning import services
from tuning.models import AccuracyComparison, AccuracyRow

from .conftest import SAMPLES, SIM

pytestmark = pytest.mark.django_db

CURRENT = ["NPU Name", "Bench Name", "NPU Dtype", "Bench Dtype", "NPU Tensor Shape", "Bench Tensor Shape", "Cosine",
           "EucDist", "MaxAbsErr", "MaxRelativeErr", "One Thousandth Err Ratio", "Five Thousandths Err Ratio",
           "NPU max", "NPU min", "NPU mean", "NPU l2norm", "Result", "Err_message", "NPU_Stack_Info"]
MSACCUCMP = ["Index", "OpType", "NPUDump", "DataType", "Address", "GroundTruth", "DataType", "Address", "TensorIndex",
             "Shape", "OverFlow", "CosineSimilarity", "MaxAbsoluteError", "AccumulatedRelativeError",
             "RelativeEuclideanDistance", "MaxRelativeError", "MeanRelativeError", "CompareFailReason"]
STORED = ("position", "npu_name", "op", "bench_name", "npu_dtype", "npu_shape", "cosine", "max_abs_err", "max_rel_err",
          "mean_rel_err", "one_thousandth", "five_thousandths", "result", "raw_result", "overflow", "message", "stack")


def to_csv(header, rows, crlf=False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def current_rows(n: int = 3000) -> list[list[str]]:
    """A tensor-mode comparison with every kind of cell the parser and COPY must agree on."""
    specials = ["inf", "-inf", "nan", "NaN", "N/A", "", "None", "1e-300", "-0.0", "12.5%"]
    rows = []
    for i in range(n):
        name = f"Functional.linear.{i // 4}.forward.{'input' if i % 2 else 'output'}.{i % 3}"
        result = ["pass", "pass", "pass", "warning", "error", "pass", "Warning", " pass "][i % 8]
        bench = "N/A" if i % 97 == 5 else name
        cosine = specials[i % 10] if i % 7 == 0 else f"{0.9 + (i % 100) / 1000:.6f}"
        rel = specials[(i // 7) % 10] if i % 11 == 0 else f"{(i % 50) / 7:.17g}%"
        stack = ("None" if i % 3 == 0 else "N/A" if i % 3 == 1 else
                 f"['File \"train.py\", line {i}, in forward',\n 'out = self.fc(x), 张量 \"引号\"']")
        message = "" if i % 5 else f"Need double check, row {i}; \\N and \\. kept"
        dtype = "torch.bfloat16" if i % 400 else "x" * 60  # longer than the column: cut to 40
        npu_max = "inf\t" if i % 250 == 3 else "nan\t" if i % 250 == 4 else f"{i % 9}.5"
        rows.append([name, bench, dtype, "torch.bfloat16", "[8, 4096]", "[8, 4096]", cosine, "0.01",
                     f"{i % 13 * 1e-4:g}", rel, "0.9991", "", npu_max, "-3.2", "0.01", "45.1", result, message,
                     stack])
    rows.append(["Tensor.view.9.forward.output.0", "Tensor.view.9.forward.output.0"])  # a short row: padded
    return rows


def msaccucmp_rows() -> list[list[str]]:
    def row(index, name, truth, overflow, cos, max_abs):
        return [index, "Conv2D", name, "DT_FLOAT16", "0x1", truth, "float32", "NaN", f"{name}:output:0",
                "[1,64,56,56]", overflow, cos, max_abs, "0.1", "0.01", "0.3", "0.05", ""]
    return [row("7", "conv7", "conv7", "NO", "0.5", "2.0"), row("3", "conv3", "conv3", "YES", "0.98", "0.01"),
            row("5", "relu5", "*", "NaN", "NaN", "NaN"), row("1", "conv1", "conv1", "NO", "0.99999", "0.0001"),
            row("3", "conv3b", "conv3b", "YES", "-inf", "inf")]


def same(value):
    """A value comparable with ==: NaN equals NaN."""
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def parsed_rows(content: bytes) -> list[tuple]:
    """The parser's rows in execution order (msaccucmp's Index; ties in file order), as stored."""
    return sorted([tuple(same(v) for v in (
        r.order, r.name, r.op, r.bench_name, r.npu_dtype[:40], r.npu_shape[:200], r.cosine, r.max_abs_err,
        r.max_rel_err, r.mean_rel_err, r.one_thousandth_ratio, r.five_thousandths_ratio, r.result, r.raw_result[:40],
        r.overflow, r.message, r.stack)) for r in msprobe.iter_compare_rows(content)], key=lambda row: row[0])


def stored_rows(comparison) -> list[tuple]:
    return [tuple(same(v) for v in row) for row in
            AccuracyRow.objects.filter(comparison=comparison).order_by("position", "pk").values_list(*STORED)]


def assert_stored_as_parsed(comparison: AccuracyComparison, content: bytes) -> None:
    assert stored_rows(comparison) == parsed_rows(content)
    summary = jsonable(msprobe.parse_compare(content, keep="none").summary.as_dict(), "summary")
    stored = {"format": comparison.format, "mode": comparison.mode, "rows": comparison.rows,
              "counts": comparison.counts, "overflows": comparison.overflows,
              "overflow_checked": comparison.overflow_checked, "first_mismatch": comparison.first_mismatch,
              "first_warning": comparison.first_warning, "first_overflow": comparison.first_overflow,
              "warnings": comparison.notes}
    assert stored == {key: summary[key] for key in stored}


@pytest.mark.parametrize("name, content", [
    ("compare_result_mixed.csv", to_csv(CURRENT, current_rows())),
    ("compare_result_mixed_crlf.csv", b"\xef\xbb\xbf# a note\n" + to_csv(CURRENT[::-1], [r[::-1] + [""] * (
        len(CURRENT) - len(r)) for r in current_rows(500)], crlf=True)),
    ("result_msaccucmp.csv", to_csv(MSACCUCMP, msaccucmp_rows())),
    ("msprobe_compare_result.csv", (SIM / "msprobe_compare_result.csv").read_bytes()),
    ("legacy.csv", (SAMPLES / "msprobe_compare_result_legacy_20230703104808.csv").read_bytes()),
])
def test_the_stored_rows_and_summary_are_the_parsers(consultant, engagement, name, content):
    comparison = services.check_add_accuracy_upload(consultant, engagement, SimpleUploadedFile(name, content))
    assert_stored_as_parsed(comparison, content)


def test_counts_first_mismatch_and_sampled_values_of_a_stored_comparison(consultant, engagement):
    content = to_csv(CURRENT, current_rows())
    comparison = services.check_add_accuracy_upload(consultant, engagement,
                                                    SimpleUploadedFile("compare_result.csv", content))
    summary = msprobe.parse_compare(content, keep="none").summary
    per_result = {r: AccuracyRow.objects.filter(comparison=comparison, result=r).count() for r in msprobe.RESULTS}
    assert per_result == summary.counts == comparison.counts and comparison.rows == len(current_rows()) == 3001
    first = services.accuracy_rows(comparison, result="error").first()
    assert (first.position, first.npu_name) == (summary.first_mismatch.order, summary.first_mismatch.name) == \
        (5, "Functional.linear.1.forward.output.1")
    assert comparison.first_mismatch_op == "Functional.linear.1.forward"

    def at(position):
        return AccuracyRow.objects.get(comparison=comparison, position=position)

    row = at(1)  # i = 0: cosine "inf", stack "None", a message with a comma and backslashes
    assert (row.cosine, row.max_abs_err, row.max_rel_err, row.five_thousandths) == (math.inf, 0.0, math.inf, None)
    assert (row.stack, row.message, row.result) == ("", "Need double check, row 0; \\N and \\. kept", "pass")
    assert at(22).cosine == -math.inf  # i = 21: "-inf"
    assert at(43).cosine is None and at(64).cosine is None  # "nan", "NaN": no measurement (NULL)
    assert at(15).cosine is None and at(36).cosine is None and at(57).cosine is None  # "N/A", "", "None": NULL
    assert at(8).cosine == 1e-300 and at(50).cosine == 12.5
    assert at(29).cosine == 0 and math.copysign(1, at(29).cosine) == -1  # "-0.0" keeps its sign
    assert at(3).stack == "['File \"train.py\", line 2, in forward',\n 'out = self.fc(x), 张量 \"引号\"']"
    assert at(4).overflow is True and at(5).overflow is True and at(6).overflow is False  # inf / nan NPU max
    assert at(401).npu_dtype == "x" * 40
    assert (at(7).raw_result, at(7).result, at(8).raw_result, at(8).result) == ("Warning", "warning", "pass", "pass")
    assert at(6).result == "unmatched" and at(6).bench_name == "N/A"
    last = at(3001)
    assert (last.cosine, last.result, last.message, last.overflow) == (None, "unknown", "", None)


class ReadSizes:
    """A file whose reads are recorded (how the service reads an upload)."""

    def __init__(self, file):
        self.file, self.sizes = file, []

    def read(self, size=-1):
        self.sizes.append(size)
        return self.file.read(size)

    def __getattr__(self, name):
        return getattr(self.file, name)


def temporary_upload(content: bytes, name="compare_result.csv") -> TemporaryUploadedFile:
    upload = TemporaryUploadedFile(name, "text/csv", len(content), "utf-8")
    upload.write(content)
    upload.seek(0)
    return upload


def test_a_large_upload_is_read_as_a_stream_from_its_temporary_file(consultant, engagement):
    content = to_csv(CURRENT, current_rows(6000))
    upload = temporary_upload(content)
    recorder = ReadSizes(upload.file)
    upload.file = recorder
    try:
        comparison = services.check_add_accuracy_upload(consultant, engagement, upload)
    finally:
        upload.close()
    assert comparison.rows == 6001 and AccuracyRow.objects.filter(comparison=comparison).count() == 6001
    assert recorder.sizes and all(size is not None and 0 <= size <= 1 << 20 for size in recorder.sizes), \
        f"the whole file was read at once: {sorted(set(recorder.sizes))}"
    assert len(content) > 1 << 20  # so reading in chunks of at most 1 MiB is not reading it whole


def test_the_table_limit_refuses_a_temporary_upload_unread(consultant, engagement, settings):
    content = to_csv(CURRENT, current_rows(200))
    settings.TUNING_TABLE_MAX_BYTES = len(content) - 1
    upload = temporary_upload(content)
    recorder = ReadSizes(upload.file)
    upload.file = recorder
    try:
        with pytest.raises(ValidationError, match="limit"):
            services.check_add_accuracy_upload(consultant, engagement, upload)
    finally:
        upload.close()
    assert recorder.sizes == [] and not AccuracyComparison.objects.exists()
    settings.TUNING_TABLE_MAX_BYTES = len(content)
    comparison = services.check_add_accuracy_upload(consultant, engagement, SimpleUploadedFile("c.csv", content))
    assert comparison.rows == 201


@pytest.mark.parametrize("tail, message", [
    (b"Functional.relu.0.forward.input.0,\xff\xfe,bf16\n", "not UTF-8"),  # after many good rows (several chunks)
    (b"Functional.relu.0.forward.input.0,a\x00b,bf16\n", "cannot be stored|NUL"),  # PostgreSQL text holds no NUL
])
def test_a_file_broken_part_way_is_refused_and_nothing_is_written(consultant, engagement, tail, message):
    content = to_csv(CURRENT, current_rows(5000)) + tail
    with pytest.raises(ValidationError, match=message):
        services.check_add_accuracy_upload(consultant, engagement, SimpleUploadedFile("c.csv", content))
    assert not AccuracyComparison.objects.exists() and not AccuracyRow.objects.exists()
    good = services.check_add_accuracy_upload(consultant, engagement,
                                              SimpleUploadedFile("c.csv", to_csv(CURRENT, current_rows(10))))
    assert good.rows == 11  # the connection is usable after the failed COPY


def test_a_header_without_rows_is_refused(consultant, engagement):
    with pytest.raises(ValidationError, match="header but no rows"):
        services.check_add_accuracy_upload(consultant, engagement,
                                           SimpleUploadedFile("c.csv", to_csv(CURRENT, [])))
    assert not AccuracyComparison.objects.exists()
