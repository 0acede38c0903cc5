"""The tuning-evidence parsers (msprobe, profiler, MindIE config.json, ATC) on the real samples in
../shared/ascend_samples and on variants built here: reordered and optional columns, the stack
column, empty files, CRLF, streams. Pure tests: no database.

The shared samples sit beside the repository; a missing copy fails these tests (it does not skip them).
"""

import csv
import io
import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.parsers import atc, mindie_config, msprobe, profiler

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ascend_samples"


def sample(name: str) -> str:
    path = SAMPLES / name
    if not path.is_file():
        pytest.fail(f"Missing shared sample {path}: the samples must sit at ../shared/ascend_samples beside the repo.")
    return path.read_text(encoding="utf-8")


def header_after(text: str, marker: str) -> list[str]:
    """The header line that follows the line starting with ``marker`` in a headers file, as cells."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(marker):
            following = next(li for li in lines[i + 1:] if li.strip() and not li.startswith("#"))
            return next(csv.reader([following]))
    pytest.fail(f"No {marker!r} section in the headers file")


def to_csv(header: list[str], rows: list[dict], newline: str = "\n") -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(col, "") for col in header])
    return out.getvalue()


def without_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))


# === msprobe / msaccucmp ===========================================================================

LEGACY = "msprobe_compare_result_legacy_20230703104808.csv"
HEADERS = "msprobe_compare_result_headers_current.txt"


def test_legacy_sample_all_rows_pass():
    result = msprobe.parse_compare(sample(LEGACY), keep="all")
    s = result.summary
    assert (s.format, s.mode, s.rows) == ("msprobe_legacy", "legacy", 7)
    assert s.counts == {"pass": 7, "warning": 0, "error": 0, "unmatched": 0, "skipped": 0, "unknown": 0}
    assert s.first_mismatch is None and s.first_warning is None
    assert (s.overflow_checked, s.overflows) == (True, 0)
    assert s.unknown_columns == [] and s.warnings == []
    first, last = result.rows[0], result.rows[-1]
    assert (first.order, first.name, first.op) == (1, "Functional_linear_0_forward_input.0",
                                                   "Functional_linear_0_forward")
    assert (first.npu_dtype, first.npu_shape, first.cosine, first.max_abs_err) == ("torch.float32", "[3, 2]", 1.0, 0.0)
    assert (first.raw_result, first.result, first.overflow) == ("Yes", "pass", False)
    assert (last.order, last.name, last.op) == (7, "Functional_relu_0_forward_input.0", "Functional_relu_0_forward")
    assert [r.op for r in result.rows].count("Functional_linear_0_forward") == 4


def test_legacy_sample_same_from_bytes_stream_crlf_bom_and_reordered_columns():
    text = sample(LEGACY)
    expected = msprobe.parse_compare(text, keep="all")
    rows = list(csv.reader(io.StringIO(without_comments(text))))
    order = list(reversed(range(len(rows[0]))))
    reordered = "\r\n".join(",".join(f'"{row[i]}"' for i in order) for row in rows) + "\r\n"
    variants = [
        io.BytesIO(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()),  # BOM + CRLF, binary stream
        io.StringIO(text),
        text.splitlines(keepends=True),
        text.encode(),
        reordered,
    ]
    for variant in variants:
        got = msprobe.parse_compare(variant, keep="all")
        assert got.summary.counts == expected.summary.counts
        assert [r.as_dict() for r in got.rows] == [r.as_dict() for r in expected.rows]


def test_legacy_yes_no_unmatched_and_first_mismatch():
    text = without_comments(sample(LEGACY))
    lines = text.splitlines()
    header, rows = lines[0], [next(csv.reader([line])) for line in lines[1:]]
    result_at = next(csv.reader([header])).index("Accuracy Reached or Not")
    rows[2][result_at], rows[4][result_at], rows[5][result_at] = "No", "Unmatched", "No"
    rows[3][1] = "N/A"  # no bench data
    body = to_csv(next(csv.reader([header])), [dict(zip(next(csv.reader([header])), r, strict=True)) for r in rows])
    s = msprobe.parse_compare(body).summary
    assert s.counts["error"] == 2 and s.counts["unmatched"] == 2 and s.counts["pass"] == 3
    assert s.first_mismatch.order == 3 and s.first_mismatch.name == "Functional_linear_0_forward_input.2"
    assert s.first_mismatch_op == "Functional_linear_0_forward"


def _tensor_rows(header):
    base = {"NPU Dtype": "torch.bfloat16", "Bench Dtype": "torch.bfloat16", "NPU Tensor Shape": "[8, 16]",
            "Bench Tensor Shape": "[8, 16]", "NPU Requires_grad": "True", "Bench Requires_grad": "True",
            "NPU max": "3.5", "NPU min": "-1", "NPU mean": "0.1", "NPU l2norm": "12.5", "Bench max": "3.5",
            "Bench min": "-1", "Bench mean": "0.1", "Bench l2norm": "12.5", "Requires_grad Consistent": "True"}
    rows = []
    for i, (result, cos, npu_max) in enumerate([("pass", "0.99999", "3.5"), ("warning", "0.995", "3.5"),
                                                ("error", "0.5", "3.5"), ("pass", "1.0", "inf\t"),
                                                ("error", "0.1", "nan\t"), ("N/A", "N/A", "N/A")]):
        name = f"Functional.linear.{i}.forward.output.0"
        rows.append({**base, "NPU Name": name, "Bench Name": "N/A" if result == "N/A" else name, "Cosine": cos,
                     "EucDist": "0.01", "MaxAbsErr": "NaN" if i == 1 else "0.002", "MaxRelativeErr": "",
                     "One Thousandth Err Ratio": "0.999", "Five Thousandths Err Ratio": "1.0", "NPU max": npu_max,
                     "Result": result, "Err_message": "No bench data matched." if result == "N/A" else ""})
    return rows


def test_current_tensor_mode_results_overflow_and_stack_column():
    header = header_after(sample(HEADERS), "## tensor")
    assert header[0] == "NPU Name" and "Result" in header and "NPU_Stack_Info" not in header
    rows = _tensor_rows(header)
    plain = msprobe.parse_compare(to_csv(header, rows), keep="all")
    s = plain.summary
    assert (s.format, s.mode, s.rows, s.has_stack) == ("msprobe", "tensor", 6, False)
    assert s.counts == {"pass": 2, "warning": 1, "error": 2, "unmatched": 1, "skipped": 0, "unknown": 0}
    assert (s.first_mismatch.order, s.first_mismatch.op) == (3, "Functional.linear.2.forward")
    assert s.first_warning.order == 2
    assert (s.overflows, s.first_overflow.order) == (2, 4)
    by_order = {r.order: r for r in plain.rows}
    assert by_order[2].max_abs_err is None and by_order[1].max_rel_err is None and by_order[1].euc_dist == 0.01
    assert by_order[4].overflow is True and by_order[1].overflow is False
    assert by_order[6].overflow is False  # no bench data, but the NPU statistics are there
    assert by_order[6].result == "unmatched" and by_order[6].cosine is None
    # The optional trailing stack column (COMPARE_RESULT_HEADER_STACK) and reordered columns read the same.
    stacked = [*header, "NPU_Stack_Info"]
    rows[0]["NPU_Stack_Info"] = "['File \"train.py\", line 10, in forward, x = self.fc(x)']"
    shuffled = stacked[::-1]
    again = msprobe.parse_compare(to_csv(shuffled, rows, newline="\r\n"), keep="all")
    assert again.summary.has_stack and again.summary.counts == s.counts
    assert again.rows[0].stack.startswith("['File") and again.rows[1].stack == ""
    assert [(r.order, r.result, r.overflow) for r in again.rows] == \
        [(r.order, r.result, r.overflow) for r in plain.rows]


def test_current_statistics_mode_empty_result_is_pass_and_percentages_are_fractions():
    header = header_after(sample(HEADERS), "## statistics")
    rows = [{"NPU Name": "Tensor.add.0.forward.input.0", "Bench Name": "Tensor.add.0.forward.input.0",
             "MaxRelativeErr": "4460.480981749501%", "MeanRelativeErr": "12.5%", "Result": "", "NPU max": "1.0"},
            {"NPU Name": "Tensor.add.0.forward.output.0", "Bench Name": "Tensor.add.0.forward.output.0",
             "MaxRelativeErr": "N/A", "Result": "Warning", "Err_message": "Need double check api accuracy."}]
    result = msprobe.parse_compare(to_csv(header, rows), keep="all")
    assert (result.summary.mode, result.summary.counts["pass"], result.summary.counts["warning"]) == \
        ("statistics", 1, 1)
    first, second = result.rows
    assert first.max_rel_err == pytest.approx(44.60480981749501) and first.mean_rel_err == 0.125
    assert second.max_rel_err is None and second.message == "Need double check api accuracy."


def test_current_md5_mode_different_is_error():
    header = header_after(sample(HEADERS), "## md5")
    rows = [{"NPU Name": "a.0.forward.input.0", "Bench Name": "a.0.forward.input.0", "Result": "pass"},
            {"NPU Name": "a.0.forward.output.0", "Bench Name": "a.0.forward.output.0", "Result": "Different"}]
    s = msprobe.parse_compare(to_csv(header, rows)).summary
    assert (s.mode, s.counts["pass"], s.counts["error"], s.first_mismatch.name) == \
        ("md5", 1, 1, "a.0.forward.output.0")
    assert s.overflow_checked is False  # md5 mode has no NPU statistics


def test_api_accuracy_checker_result_and_details():
    text = sample(HEADERS)
    header = header_after(text, "## api accuracy checker")
    rows = [{"API name": "Functional.conv2d.0", "Forward Test Success": "pass", "Backward Test Success": "pass"},
            {"API name": "Functional.gelu.0", "Forward Test Success": "pass", "Backward Test Success": "error"},
            {"API name": "Torch.matmul.1", "Forward Test Success": "warning", "Backward Test Success": "N/A"},
            {"API name": "Tensor.view.3", "Forward Test Success": "SKIP", "Backward Test Success": "SKIP"}]
    s = msprobe.parse_compare(to_csv(header, rows)).summary
    assert (s.format, s.mode) == ("api_accuracy_checker", "api_result")
    assert s.counts == {"pass": 1, "warning": 1, "error": 1, "unmatched": 0, "skipped": 1, "unknown": 0}
    assert s.first_mismatch.name == s.first_mismatch.op == "Functional.gelu.0"
    details = header_after(text, "## accuracy_checking_details")
    assert "余弦相似度" in details
    rows = [{"API Name": "Functional.gelu.0.forward.output.0", "余弦相似度": "0.9999", "最大绝对误差": "0.0001",
             "相对误差最大值": "0.01", "Status": "pass"},
            {"API Name": "Functional.gelu.0.backward.output.0", "余弦相似度": "0.8", "Status": "error"}]
    result = msprobe.parse_compare(to_csv(details, rows), keep="all")
    assert result.summary.mode == "api_details" and [r.result for r in result.rows] == ["pass", "error"]
    assert (result.rows[0].cosine, result.rows[0].max_abs_err, result.rows[0].max_rel_err) == (0.9999, 0.0001, 0.01)


MSACCUCMP_HEADER = ["Index", "OpType", "NPUDump", "DataType", "Address", "GroundTruth", "DataType", "Address",
                    "TensorIndex", "Shape", "OverFlow", "CosineSimilarity", "MaxAbsoluteError",
                    "AccumulatedRelativeError", "RelativeEuclideanDistance", "KullbackLeiblerDivergence",
                    "StandardDeviation", "MeanAbsoluteError", "RootMeanSquareError", "MaxRelativeError",
                    "MeanRelativeError", "CompareFailReason"]


def test_msaccucmp_result_derived_overflow_decoded_and_order_by_index():
    def row(index, name, truth, overflow, cos, max_abs):
        return dict(zip(MSACCUCMP_HEADER, [index, "Conv2D", name, "DT_FLOAT16", "0x1", truth, "float32", "NaN",
                                           f"{name}:output:0", "[1,64,56,56]", overflow, cos, max_abs, "0.1", "0.01",
                                           "0.0", "(0.1;1.0),(0.1;1.0)", "0.001", "0.002", "0.3", "0.05", ""],
                        strict=True))
    rows = [row("7", "conv7", "conv7", "NO", "0.5", "2.0"), row("3", "conv3", "conv3", "YES", "0.98", "0.01"),
            row("5", "relu5", "*", "NaN", "NaN", "NaN"), row("1", "conv1", "conv1", "NO", "0.99999", "0.0001")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MSACCUCMP_HEADER)
    writer.writerows([[r[c] for c in MSACCUCMP_HEADER] for r in rows])  # StandardDeviation holds commas
    text = out.getvalue()
    result = msprobe.parse_compare(text, keep="all")
    s = result.summary
    assert (s.format, s.mode, s.rows) == ("msaccucmp", "msaccucmp", 4)
    assert s.counts["error"] == 2 and s.counts["unmatched"] == 1 and s.counts["pass"] == 1
    assert (s.first_mismatch.order, s.first_mismatch.name) == (3, "conv3")  # by Index, not by file position
    assert (s.overflows, s.first_overflow.name) == (1, "conv3")
    assert any("derived" in w for w in s.warnings)
    by_name = {r.name: r for r in result.rows}
    assert by_name["relu5"].overflow is None and by_name["conv7"].overflow is False
    assert by_name["conv1"].mean_rel_err == 0.05 and by_name["conv1"].raw_result == "derived"


def test_derive_result_follows_msprobe_check_accuracy():
    assert msprobe.derive_result(0.995, 0.5) == "pass"
    assert msprobe.derive_result(0.98, 0.002) == "error"
    assert msprobe.derive_result(0.98, 0.0005) == "pass"
    assert msprobe.derive_result(0.89, 0.0) == "error"
    assert msprobe.derive_result(1.0, 1.5) == "error"
    assert msprobe.derive_result(None, 0.1) == "unknown"


def test_compare_keep_modes_limit_and_iter_rows():
    header = header_after(sample(HEADERS), "## tensor")
    text = to_csv(header, _tensor_rows(header))
    problems = msprobe.parse_compare(text)
    assert [r.order for r in problems.rows] == [2, 3, 4, 5, 6]  # not pass, or overflowing
    limited = msprobe.parse_compare(text, keep="all", limit=2)
    assert len(limited.rows) == 2 and limited.truncated
    assert msprobe.parse_compare(text, keep="none").rows == []
    assert [r.as_dict() for r in msprobe.iter_compare_rows(text)] == \
        [r.as_dict() for r in msprobe.parse_compare(text, keep="all").rows]
    with pytest.raises(ValueError):
        msprobe.parse_compare(text, keep="some")


def test_compare_header_only_and_bad_input():
    header = header_after(sample(HEADERS), "## tensor")
    empty_table = msprobe.parse_compare(",".join(header) + "\r\n")
    assert empty_table.summary.rows == 0 and "no rows" in empty_table.summary.warnings[-1]
    with pytest.raises(msprobe.CompareFileError, match="empty"):
        msprobe.parse_compare("")
    with pytest.raises(msprobe.CompareFileError, match="empty"):
        msprobe.parse_compare(io.BytesIO(b"\n\n"))
    with pytest.raises(msprobe.CompareFileError, match="NPU Name"):
        msprobe.parse_compare(sample("profiler_kernel_details_fixture.csv"))
    with pytest.raises(msprobe.CompareFileError, match="Excel"):
        msprobe.parse_compare(io.BytesIO(b"PK\x03\x04" + b"\x00" * 100))
    with pytest.raises(msprobe.CompareFileError, match="UTF-8"):
        msprobe.parse_compare(io.BytesIO(sample(LEGACY).encode() + "NPU名".encode("gbk") + b"\n"))
    assert issubclass(msprobe.CompareFileError, ValueError)


def test_scan_compare_yields_row_tuples_in_chunks_then_the_summary():
    header = header_after(sample(HEADERS), "## tensor") + ["NPU_Stack_Info"]
    rows = _tensor_rows(header) * 3
    text = to_csv(header, rows)
    scan = msprobe.scan_compare(io.BytesIO(text.encode()), chunk_rows=4)
    assert (scan.format, scan.mode, scan.has_stack, scan.columns) == ("msprobe", "tensor", True, header)
    with pytest.raises(RuntimeError):
        scan.summary  # noqa: B018  (known only once the scan is read to the end)
    chunks = list(scan)
    assert [len(chunk) for chunk in chunks] == [4, 4, 4, 4, 2]
    assert all(type(row) is tuple and len(row) == len(msprobe.ROW_FIELDS) for chunk in chunks for row in chunk)
    assert msprobe.ROW_FIELDS[:3] == ("order", "name", "op") and len(msprobe.ROW_FIELDS) == 18
    rows_read = [msprobe.CompareRow(*row) for chunk in chunks for row in chunk]
    assert [r.order for r in rows_read] == list(range(1, 19))  # file order
    assert [r.as_dict() for r in rows_read] == [r.as_dict() for r in msprobe.iter_compare_rows(text)]
    parsed = msprobe.parse_compare(text, keep="all")
    assert scan.summary.as_dict() == parsed.summary.as_dict() and scan.summary.rows == 18
    assert list(scan) == []  # one pass


@pytest.mark.parametrize("keep", ["problems", "all", "none"])
def test_scan_compare_keeps_the_rows_asked_for_and_counts_every_row(keep):
    header = header_after(sample(HEADERS), "## tensor")
    text = to_csv(header, _tensor_rows(header))
    scan = msprobe.scan_compare(text, keep=keep)
    kept = list(scan.rows())
    expected = msprobe.parse_compare(text, keep=keep)
    assert [msprobe.CompareRow(*row).as_dict() for row in kept] == [r.as_dict() for r in expected.rows]
    assert len(kept) == {"problems": 5, "all": 6, "none": 0}[keep]
    assert scan.summary.as_dict() == expected.summary.as_dict() and scan.summary.rows == 6


def test_scan_compare_refuses_a_bad_header_or_argument_at_once():
    with pytest.raises(ValueError, match="keep"):
        msprobe.scan_compare("NPU Name,Result\n", keep="some")
    with pytest.raises(ValueError, match="chunk_rows"):
        msprobe.scan_compare("NPU Name,Result\n", chunk_rows=0)
    with pytest.raises(msprobe.CompareFileError, match="NPU Name"):
        msprobe.scan_compare(sample("profiler_kernel_details_fixture.csv"))
    empty = msprobe.scan_compare("NPU Name,Result\n")
    assert list(empty) == [] and empty.summary.rows == 0 and "no rows" in empty.summary.warnings[-1]


def test_scan_compare_reads_every_kind_of_number_cell_as_the_cell_by_cell_rule():
    """The fast path (every number cell read at once) and the cell-by-cell one agree."""
    cells = ["0.5", " 0.25 ", "12.5%", "inf", "-inf", "nan", "NaN", "N/A", "", "None", "1e400", "-0.0", "x"]
    header = ["NPU Name", "Bench Name", "Cosine", "MaxAbsErr", "MaxRelativeErr", "MeanRelativeErr", "NPU max",
              "NPU min", "Max diff", "Result"]
    lines = [",".join(header)]
    for i, cell in enumerate(cells):
        for j, other in enumerate(cells):
            lines.append(f"Torch.a.{i}.{j}.forward.input.0,b,{cell},{other},{other},{cell},{cell},{other},1,pass")
    rows = [msprobe.CompareRow(*row) for row in msprobe.scan_compare("\n".join(lines) + "\n").rows()]

    def fraction(text):  # msprobe's "12.5%" -> 0.125
        value = profiler.to_float(text)
        return value / 100 if value is not None and text.strip().endswith("%") else value
    assert len(rows) == len(cells) ** 2
    for row, (cell, other) in zip(rows, [(c, o) for c in cells for o in cells], strict=True):
        assert (row.cosine, row.max_abs_err) == (profiler.to_float(cell), profiler.to_float(other))
        assert (row.max_rel_err, row.mean_rel_err) == (fraction(other), fraction(cell))
        assert row.euc_dist is None and row.one_thousandth_ratio is None
        stats = [cell, other]
        read = [float(v) for v in stats if v.strip() and v.strip() not in ("N/A", "None", "x", "12.5%")]
        expected = any(v != v or v in (float("inf"), float("-inf")) for v in read) if read else None
        assert row.overflow == expected, (cell, other)


def test_compare_tolerates_short_rows_and_odd_cells():
    header = header_after(sample(HEADERS), "## tensor")
    name = "Functional.a.0.forward.input.0"
    text = ",".join(header) + f"\n{name},{name},x,x,x,x,x,x, nan ,None,\n"
    row = msprobe.parse_compare(text, keep="all").rows[0]
    assert (row.cosine, row.euc_dist, row.max_abs_err, row.result) == (None, None, None, "unknown")


RESULT_CELLS = {"pass": ["pass", "Yes"], "warning": ["warning", "Warning"], "error": ["error", "No", "Different"],
                "unmatched": ["N/A"], "skipped": ["SKIP"], "unknown": ["None", "Nan", "what"]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(RESULT_CELLS)), st.integers(0, 9), st.booleans(),
                          st.floats(-1, 1, allow_nan=False)), max_size=40),
       st.randoms(use_true_random=False), st.booleans(), st.booleans())
def test_compare_property_counts_first_mismatch_and_overflows(rows, rnd, crlf, stacked):
    header = header_after(sample(HEADERS), "## tensor") + (["NPU_Stack_Info"] if stacked else [])
    records, expected_first, overflows = [], None, 0
    for i, (kind, pick, overflow, cos) in enumerate(rows, start=1):
        cells = RESULT_CELLS[kind]
        name = f"Torch.op{i}.0.forward.output.0"
        records.append({"NPU Name": name, "Bench Name": name, "Cosine": repr(cos), "NPU max": "inf\t" if overflow
                        else "1.5", "Result": cells[pick % len(cells)], "NPU_Stack_Info": "None"})
        if kind == "error" and expected_first is None:
            expected_first = name
        overflows += overflow
    shuffled = header[:]
    rnd.shuffle(shuffled)
    s = msprobe.parse_compare(to_csv(shuffled, records, "\r\n" if crlf else "\n")).summary
    assert s.rows == len(rows) and sum(s.counts.values()) == len(rows)
    for kind in RESULT_CELLS:
        assert s.counts[kind] == sum(1 for r in rows if r[0] == kind)
    assert (s.first_mismatch.name if s.first_mismatch else None) == expected_first
    assert s.overflows == overflows and s.has_stack == stacked


# === profiler: kernel_details ======================================================================

KERNELS = "profiler_kernel_details_fixture.csv"


def test_kernel_details_fixture():
    k = profiler.parse_kernel_details(sample(KERNELS))
    assert (k.rows, k.distinct_kernels, k.skipped_rows, k.warnings) == (3, 3, 0, [])
    assert k.total_us == pytest.approx(607.98 + 308926.68 + 62.94)
    top = k.top[0]
    assert (top.name, top.type, top.accelerator_core, top.count) == ("hcom_broadcast__445_0", "hcom_broadcast_",
                                                                     "HCCL", 1)
    assert top.share == pytest.approx(308926.68 / k.total_us)
    assert [t.name for t in k.top] == ["hcom_broadcast__445_0", "ZerosLike46", "hcom_broadcast__445_1"]
    assert sum(t.share for t in k.top) == pytest.approx(1.0)
    assert k.by_core == {"HCCL": pytest.approx(308989.62), "AI_VECTOR_CORE": pytest.approx(607.98)}
    assert list(k.by_type) == ["hcom_broadcast_", "ZerosLike"]
    assert k.by_step == {"1": pytest.approx(k.total_us)}
    assert k.columns[0] == "Step Id" and "Block Dim" in k.columns  # the fixture's older "Block Dim" spelling


def test_kernel_details_stream_crlf_reordered_and_quoted_cells():
    text = sample(KERNELS)
    expected = profiler.parse_kernel_details(text).as_dict()
    for variant in (io.BytesIO(text.replace("\n", "\r\n").encode()), io.StringIO(text), text.encode(),
                    iter(text.splitlines(keepends=True))):
        assert profiler.parse_kernel_details(variant).as_dict() == expected
    rows = list(csv.reader(io.StringIO(without_comments(text))))
    order = [8, 4, 6, 5, *[i for i in range(len(rows[0])) if i not in (4, 5, 6, 8)]]
    reordered = to_csv([rows[0][i] for i in order], [dict(zip([rows[0][i] for i in order], [r[i] for i in order],
                                                               strict=True)) for r in rows[1:]])
    got = profiler.parse_kernel_details(reordered).as_dict()
    assert got["top"] == expected["top"] and got["by_core"] == expected["by_core"]
    # A name with a comma (quoted), a cell spanning two lines after the columns read, N/A durations.
    header = ["Step ID", "Device_id", "Name", "Type", "Accelerator Core", "Duration(us)", "Input Shapes"]
    tricky = to_csv(header, [
        {"Step ID": "2", "Device_id": "0", "Name": "MatMul,fused", "Type": "MatMulV2", "Accelerator Core": "AI_CORE",
         "Duration(us)": "10", "Input Shapes": "1,2\n3,4"},
        {"Step ID": "2", "Device_id": "1", "Name": "Add", "Type": "Add", "Accelerator Core": "AI_VECTOR_CORE",
         "Duration(us)": "N/A", "Input Shapes": "\"x\""},
        {"Step ID": "3", "Device_id": "1", "Name": "MatMul,fused", "Type": "MatMulV2", "Accelerator Core": "AI_CORE",
         "Duration(us)": "30", "Input Shapes": ""},
    ])
    k = profiler.parse_kernel_details(io.BytesIO(tricky.encode()))
    assert (k.rows, k.skipped_rows, k.distinct_kernels) == (2, 1, 1)
    assert (k.top[0].name, k.top[0].total_us, k.top[0].min_us, k.top[0].max_us) == ("MatMul,fused", 40.0, 10.0, 30.0)
    assert k.by_step == {"2": 10.0, "3": 30.0} and k.devices == ["0", "1"]


def test_op_summary_header_is_read_too():
    line = next(li for li in sample("profiler_csv_headers.txt").splitlines() if li.startswith("Device_id,Model Name"))
    header = [cell for cell in line.split(",") if cell != "..."]
    assert {"Op Name", "OP Type", "Task Type", "Task Duration(us)"} <= set(header)
    rows = [{"Op Name": "Conv2D_1", "OP Type": "Conv2D", "Task Type": "AI_CORE", "Task Duration(us)": "12.5"},
            {"Op Name": "Conv2D_1", "OP Type": "Conv2D", "Task Type": "AI_CORE", "Task Duration(us)": "7.5"}]
    k = profiler.parse_kernel_details(to_csv(header, rows))
    assert (k.top[0].name, k.top[0].type, k.top[0].accelerator_core, k.top[0].total_us, k.top[0].avg_us) == \
        ("Conv2D_1", "Conv2D", "AI_CORE", 20.0, 10.0)


def test_kernel_details_bad_input():
    with pytest.raises(profiler.ProfilerFileError, match="empty"):
        profiler.parse_kernel_details("")
    with pytest.raises(profiler.ProfilerFileError, match="Duration"):
        profiler.parse_kernel_details(sample(LEGACY))
    with pytest.raises(profiler.ProfilerFileError, match="Excel"):
        profiler.parse_kernel_details(io.BytesIO(b"PK\x03\x04rest"))
    header_only = profiler.parse_kernel_details("Name,Type,Accelerator Core,Duration(us)\r\n")
    assert header_only.rows == 0 and header_only.top == [] and header_only.warnings
    no_type = profiler.parse_kernel_details("Name,Duration(us)\nA,1\n")
    assert no_type.top[0].type == "" and any("Type" in w for w in no_type.warnings)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["MatMul", "Add,1", "Cast\"x\"", "hcom_allReduce_", "Ω"]),
                          st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))),
                max_size=60),
       st.integers(1, 5), st.randoms(use_true_random=False), st.booleans())
def test_kernel_details_property_totals_and_top(rows, top_n, rnd, crlf):
    header = ["Step Id", "Name", "Type", "Accelerator Core", "Start Time(us)", "Duration(us)", "Wait Time(us)"]
    shuffled = header[:]
    rnd.shuffle(shuffled)
    records = [{"Step Id": "1", "Name": name, "Type": name.upper(), "Accelerator Core": "AI_CORE",
                "Start Time(us)": str(i), "Duration(us)": repr(d), "Wait Time(us)": "0"}
               for i, (name, d) in enumerate(rows)]
    k = profiler.parse_kernel_details(io.BytesIO(to_csv(shuffled, records, "\r\n" if crlf else "\n").encode()),
                                      top_n=top_n)
    totals: dict[str, float] = {}
    for name, d in rows:
        totals[name] = totals.get(name, 0.0) + d
    assert k.rows == len(rows) and k.distinct_kernels == len(totals)
    assert k.total_us == pytest.approx(sum(d for _, d in rows))
    assert len(k.top) == min(top_n, len(totals))
    assert [t.total_us for t in k.top] == sorted((t.total_us for t in k.top), reverse=True)
    for t in k.top:
        assert t.total_us == pytest.approx(totals[t.name]) and t.type == t.name.upper()
        assert 0 <= t.share <= 1 + 1e-9
    if k.top:
        assert k.top[0].total_us == pytest.approx(max(totals.values()))


# === profiler: step trace, cluster, bottleneck, before/after ===========================================

CLUSTER = "msprof_analyze_cluster_step_trace_time_fixture.csv"


def _step_trace_text(values: dict[tuple[int, int], tuple[float, float, float]]) -> str:
    header = header_after(sample("profiler_csv_headers.txt"), "## step_trace_time.csv")
    assert header[:3] == ["Device_id", "Step", "Computing"]
    rows = [{"Device_id": str(dev), "Step": str(step), "Computing": str(c), "Communication(Not Overlapped)": str(m),
             "Overlapped": "5", "Communication": str(m + 5), "Free": str(f), "Stage": str(c + m + f), "Bubble": "0",
             "Communication(Not Overlapped and Exclude Receive)": str(m), "Preparing": "1"}
            for (dev, step), (c, m, f) in values.items()]
    return to_csv(header, rows)


def test_step_trace_time_per_device_and_bottleneck_with_mfu():
    text = _step_trace_text({(0, 1): (900.0, 50.0, 50.0), (0, 2): (800.0, 100.0, 100.0),
                             (1, 1): (850.0, 100.0, 50.0), (1, 2): (800.0, 150.0, 50.0)})
    trace = profiler.parse_step_trace(io.BytesIO(text.encode()))
    assert (trace.cluster, len(trace.steps), trace.warnings) == (False, 4, [])
    first = trace.steps[0]
    assert (first.rank, first.step, first.computing, first.overlapped, first.preparing, first.step_time_us) == \
        (0, 1, 900.0, 5.0, 1.0, 1000.0)
    summary = profiler.bottleneck_summary(trace, flops_per_step=1.6e11, peak_flops=320e12)
    assert (summary.bound, summary.step_time_us, summary.records, summary.ranks) == ("compute", 1000.0, 4, 2)
    assert summary.shares == {"computing": 0.8375, "communication_not_overlapped": 0.1, "free": 0.0625}
    assert summary.mfu == pytest.approx(1.6e11 / (1e-3 * 320e12))  # 0.5
    assert summary.achieved_tflops == pytest.approx(160.0)
    given_time = profiler.bottleneck_summary(trace, flops_per_step=1.6e11, peak_flops=320e12, step_time_s=0.002)
    assert given_time.mfu == pytest.approx(0.25) and given_time.step_time_source == "given"
    later = profiler.bottleneck_summary(trace, skip_first_step=True)
    assert later.records == 2 and later.components["computing"] == 800.0
    assert profiler.bottleneck_summary(trace).mfu is None
    with pytest.raises(profiler.ProfilerFileError, match="positive"):
        profiler.bottleneck_summary(trace, flops_per_step=1e9, peak_flops=-1)


def test_cluster_fixture_slow_rank_and_idle_bound():
    trace = profiler.parse_step_trace(sample(CLUSTER))
    assert trace.cluster and len(trace.steps) == 5 and trace.stages == []
    assert [s.rank for s in trace.steps] == [0, 1, 2, 3, 4] and trace.steps[0].step is None
    assert trace.steps[0].preparing is None and trace.steps[0].communication_exclude_receive == pytest.approx(
        683731.2897031249)
    analysis = profiler.analyse_cluster(trace)
    gaps = {g.dimension: g for g in analysis.gaps}
    assert not gaps["computing"].uneven and gaps["communication_not_overlapped"].uneven and gaps["free"].uneven
    assert (gaps["communication_not_overlapped"].max_rank, gaps["communication_not_overlapped"].min_rank) == (0, 1)
    # Rank 1 waits least in its collectives and idles most: the others wait for it.
    assert (analysis.slow_rank, analysis.slow_rank_cause) == (1, "free")
    assert analysis.slow_stage is None
    summary = profiler.bottleneck_summary(trace)
    assert summary.bound == "idle" and summary.shares["free"] == pytest.approx(0.709, abs=1e-3)


def test_cluster_stage_rows_and_pp_index_give_the_slow_stage():
    header = ["Step", "Type", "Index", "Computing", "Communication(Not Overlapped)", "Overlapped", "Communication",
              "Free", "Stage", "Bubble", "Communication(Not Overlapped and Exclude Receive)", "Preparing", "DP Index",
              "PP Index", "TP Index"]
    ranks = {0: (100.0, 40.0, 10.0), 1: (100.0, 40.0, 10.0), 2: (130.0, 10.0, 10.0), 3: (131.0, 9.0, 10.0)}
    rows = [{"Step": "5", "Type": "rank", "Index": str(r), "Computing": str(c), "Communication(Not Overlapped)": str(m),
             "Free": str(f), "Stage": str(c + m + f), "PP Index": str(r // 2), "DP Index": "0", "TP Index": str(r % 2)}
            for r, (c, m, f) in ranks.items()]
    with_pp = profiler.parse_step_trace(to_csv(header, rows))
    assert with_pp.steps[2].pp_index == 1 and with_pp.steps[3].tp_index == 1
    analysis = profiler.analyse_cluster(with_pp)
    assert analysis.slow_stage == (2, 3) and analysis.slow_rank == 3
    stage_rows = rows + [{"Step": "5", "Type": "stage", "Index": "(0, 1)", "Computing": "100", "Free": "10",
                          "Communication(Not Overlapped)": "40", "Stage": "150"},
                         {"Step": "5", "Type": "stage", "Index": "(2, 3)", "Computing": "131", "Free": "10",
                          "Communication(Not Overlapped)": "10", "Stage": "150"}]
    with_stages = profiler.parse_step_trace(to_csv(header, stage_rows))
    assert [s.ranks for s in with_stages.stages] == [(0, 1), (2, 3)] and len(with_stages.steps) == 4
    assert profiler.analyse_cluster(with_stages).slow_stage == (2, 3)
    even = profiler.analyse_cluster(profiler.parse_step_trace(to_csv(header, [
        {**row, "Computing": "100", "Communication(Not Overlapped)": "40"} for row in rows])))
    assert even.slow_rank is None and even.slow_stage is None and even.notes


def test_step_trace_bad_input():
    with pytest.raises(profiler.ProfilerFileError, match="empty"):
        profiler.parse_step_trace("# only a note\n")
    with pytest.raises(profiler.ProfilerFileError, match="Computing"):
        profiler.parse_step_trace(sample(KERNELS))
    trace = profiler.parse_step_trace("Step,Computing,Free\n1,N/A,N/A\n")
    assert trace.steps == [] and any("skipped" in w for w in trace.warnings)
    assert profiler.bottleneck_summary(trace).bound == "unknown"


def test_compare_profiles_before_after():
    before = profiler.bottleneck_summary(profiler.parse_step_trace(
        _step_trace_text({(0, 1): (600.0, 300.0, 100.0)})), kernels=profiler.parse_kernel_details(sample(KERNELS)))
    after = profiler.bottleneck_summary(profiler.parse_step_trace(_step_trace_text({(0, 1): (600.0, 100.0, 50.0)})))
    cmp = profiler.compare_profiles(before, after)
    assert (cmp.step_time_before_us, cmp.step_time_after_us) == (1000.0, 750.0)
    assert cmp.gain_pct == pytest.approx(25.0) and cmp.speedup == pytest.approx(4 / 3)
    deltas = {d.name: d for d in cmp.components}
    assert deltas["communication_not_overlapped"].delta == -200.0
    assert deltas["communication_not_overlapped"].delta_pct == pytest.approx(-200 / 3)
    assert deltas["computing"].delta == 0.0 and deltas["step_time"].delta == -250.0
    assert cmp.kernels[0].name == "hcom_broadcast__445_0" and cmp.kernels[0].after is None
    stored = json.loads(json.dumps(before.as_dict())), json.loads(json.dumps(after.as_dict()))
    assert profiler.compare_profiles(*stored).as_dict() == cmp.as_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6), st.floats(0, 1e6)).filter(lambda t: sum(t) > 1e-3),
                min_size=1, max_size=12),
       st.floats(1, 1e6))
def test_bottleneck_property_bound_is_the_largest_mean_component(steps, after_time):
    values = {(0, i + 1): step for i, step in enumerate(steps)}
    summary = profiler.bottleneck_summary(profiler.parse_step_trace(_step_trace_text(values)))
    means = [sum(s[k] for s in steps) / len(steps) for k in range(3)]
    assert summary.step_time_us == pytest.approx(sum(means))
    assert sum(summary.shares.values()) == pytest.approx(1.0)
    assert summary.shares[{"compute": "computing", "communication": "communication_not_overlapped",
                           "idle": "free"}[summary.bound]] == pytest.approx(max(summary.shares.values()))
    other = profiler.ProfileSummary(step_time_us=after_time)
    gain = profiler.compare_profiles(summary, other).gain_pct
    assert gain == pytest.approx((summary.step_time_us - after_time) / summary.step_time_us * 100)


# === MindIE config.json ========================================================================================

MINDIE = "mindie_benchmark_output_qwq32b_and_config.txt"


def mindie_json() -> str:
    text = sample(MINDIE)
    start = text.index("{\n")
    return text[start:text.rindex("}") + 1]


def test_mindie_sample_config_fields():
    config = mindie_config.parse_mindie_config(mindie_json())
    assert config.version == "1.1.0"
    assert (config.npu_device_ids, config.world_size, config.models) == ([[0, 1, 2, 3]], 4, 1)
    assert (config.max_seq_len, config.max_input_token_len, config.max_prefill_tokens) == (2560, 2048, 8192)
    assert (config.max_batch_size, config.max_prefill_batch_size, config.max_iter_times) == (200, 50, 512)
    assert (config.cache_block_size, config.cpu_mem_size_gb, config.npu_mem_size_gb) == (128, 5, 35)
    assert (config.model_name, config.backend_type, config.quantization) == ("QwQ-32B", "ms", None)
    assert config.model_deploy["ModelConfig[0].worldSize"] == 4 and config.model_deploy["truncation"] is False
    assert config.schedule["templateName"] == "Standard_LLM" and config.schedule["maxQueueDelayMicroseconds"] == 5000
    assert config.flat["ServerConfig.port"] == 1025 and config.flat["ServerConfig.tlsCaFile"] == ["ca.pem"]
    assert config.flat["BackendConfig.ModelDeployConfig.ModelConfig[0].npuMemSize"] == 35
    assert config.warnings == []
    # The whole sample (benchmark output, then the JSON, then a note) reads the same, with a warning.
    embedded = mindie_config.parse_mindie_config(sample(MINDIE))
    assert embedded.key_fields() == config.key_fields() and "ignored" in embedded.warnings[0]


def test_mindie_variants_quantization_moved_fields_and_bytes():
    data = json.loads(mindie_json())
    model = data["BackendConfig"]["ModelDeployConfig"]["ModelConfig"][0]
    model["modelWeightPath"] = "/data/Qwen2.5-32B-Instruct-W8A8"
    model["npuMemSize"] = -1
    config = mindie_config.parse_mindie_config(json.dumps(data).encode("utf-8"))
    assert (config.quantization, config.quantization_source, config.npu_mem_size_gb) == \
        ("W8A8", "model name or path", -1)
    model["quantization"] = "w8a8sc"
    assert mindie_config.parse_mindie_config(json.dumps(data)).quantization_source == "config"
    # A release that moves ScheduleConfig out of BackendConfig and drops maxIterTimes.
    schedule = data["BackendConfig"].pop("ScheduleConfig")
    schedule.pop("maxIterTimes")
    data["BackendConfig"]["npuDeviceIds"] = [[0, 1]]
    moved = mindie_config.parse_mindie_config(json.dumps({**data, "ScheduleConfig": schedule}))
    assert (moved.max_batch_size, moved.cache_block_size, moved.max_iter_times) == (200, 128, None)
    assert moved.schedule["maxPrefillTokens"] == 8192 and "ScheduleConfig.maxBatchSize" in moved.flat
    assert any("maxIterTimes" in w for w in moved.warnings)
    assert any("worldSize is 4" in w for w in moved.warnings)


def test_mindie_diff_configs():
    a = mindie_config.parse_mindie_config(mindie_json())
    assert mindie_config.diff_configs(a, a) == []
    data = json.loads(mindie_json())
    data["BackendConfig"]["ScheduleConfig"]["maxBatchSize"] = 64
    data["BackendConfig"]["ModelDeployConfig"]["ModelConfig"][0]["npuMemSize"] = -1
    data["BackendConfig"]["ScheduleConfig"]["maxPreemptCount"] = False  # 0 == False must not hide the change
    del data["ServerConfig"]["openAiSupport"]
    data["BackendConfig"]["ScheduleConfig"]["bufferResponseEnabled"] = False
    diffs = mindie_config.diff_configs(a, json.dumps(data))
    assert [(d.key, d.a, d.b, d.in_a, d.in_b) for d in diffs] == [
        ("BackendConfig.ModelDeployConfig.ModelConfig[0].npuMemSize", 35, -1, True, True),
        ("BackendConfig.ScheduleConfig.bufferResponseEnabled", None, False, False, True),
        ("BackendConfig.ScheduleConfig.maxBatchSize", 200, 64, True, True),
        ("BackendConfig.ScheduleConfig.maxPreemptCount", 0, False, True, True),
        ("ServerConfig.openAiSupport", "vllm", None, True, False),
    ]
    assert mindie_config.diff_configs({"a": {"b": 1}}, {"a.b": 1.0}) == []  # nested vs already flat


def test_mindie_bad_input():
    with pytest.raises(mindie_config.MindieConfigError, match="empty"):
        mindie_config.parse_mindie_config("  \n")
    with pytest.raises(mindie_config.MindieConfigError, match=r"line 3, column"):
        mindie_config.parse_mindie_config('{\n "Version": "1.0.0",\n "BackendConfig": {"a" 1}\n}')
    with pytest.raises(mindie_config.MindieConfigError, match="JSON object"):
        mindie_config.parse_mindie_config("[1, 2]")
    with pytest.raises(mindie_config.MindieConfigError, match="BackendConfig"):
        mindie_config.parse_mindie_config('{"name": "not mindie"}')
    with pytest.raises(mindie_config.MindieConfigError, match="UTF-8"):
        mindie_config.parse_mindie_config("{}".encode("utf-16"))
    with pytest.raises(TypeError):
        mindie_config.diff_configs(1, {})


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3),
                      st.lists(st.integers(0, 7), max_size=3))
json_tree = st.recursive(json_leaf, lambda inner: st.one_of(
    st.dictionaries(st.text("xyzXYZ", min_size=1, max_size=3), inner, min_size=1, max_size=4),
    st.lists(st.dictionaries(st.text("pq", min_size=1, max_size=2), inner, min_size=1, max_size=3), min_size=1,
             max_size=2)), max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text("ABC", min_size=1, max_size=3), json_tree, min_size=1, max_size=4),
       st.randoms(use_true_random=False))
def test_flatten_and_diff_property(tree, rnd):
    flat = mindie_config.flatten(tree)
    assert all(not isinstance(v, dict) or v == {} for v in flat.values())
    assert mindie_config.diff_configs(tree, tree) == []
    key = rnd.choice(sorted(flat))
    changed = {**flat, key: ["changed", flat[key]]}
    diffs = mindie_config.diff_configs(flat, changed)
    assert [d.key for d in diffs] == [key] and diffs[0].b == ["changed", flat[key]]


# === ATC ===============================================================================================

def atc_sections() -> dict[str, str]:
    """The sample's sections: a success, a command alone, the failures."""
    parts = sample("atc_outputs.txt").split("\n## ")
    assert parts[1].startswith("success (") and parts[2].startswith("success, 910B") and parts[3].startswith("failures")
    return {"success": parts[1], "command": parts[2], "failures": parts[3]}


def test_atc_success_with_w11001_warnings_and_its_command():
    result = atc.parse_atc_output(atc_sections()["success"])
    assert (result.status, result.started, result.runs, result.warnings) == ("success", True, 1, [])
    assert result.warning_codes == ["W11001"] and result.error_codes == [] and result.code_counts == {"W11001": 2}
    assert [m.subject for m in result.messages] == ["Slice_29", "Slice_9"]
    assert result.messages[0].message.startswith("Op [Slice_29] does not hit the high-priority operator")
    cmd = result.command
    assert (cmd.model, cmd.framework, cmd.framework_name, cmd.output, cmd.output_file) == \
        ("yolox_nano.onnx", 5, "ONNX", "./yolox_pre_post", "./yolox_pre_post.om")
    assert (cmd.soc_version, cmd.input_shapes, cmd.input_format) == ("Ascend310", {"images": [1, 3, 416, 416]}, None)
    assert cmd.options["insert_op_conf"] == "../aipp-configs/yolox_bgr.cfg" and cmd.warnings == []


def test_atc_failures_with_codes_messages_and_details():
    block = atc_sections()["failures"]
    runs = [run for run in block.split("\n\n") if "ATC run failed" in run]
    assert len(runs) == 3
    first, second, third = (atc.parse_atc_output(run.replace("\n", "\r\n")) for run in runs)
    assert (first.status, first.started, first.error_codes) == ("failure", True, ["E10054"])
    assert first.messages[0].subject == "--model" and "requied parameter [--model]" in first.messages[0].message
    assert first.command is not None and first.command.argv == ["atc"] and first.command.model is None
    assert (second.status, second.started, second.error_codes) == ("failure", False, ["E10007"])
    assert second.messages[0].message.startswith("[--framework] is required.")  # [PID: n] <time> taken off
    assert third.error_codes == ["EZ3003"] and third.messages[0].subject == "AddDsl"
    details = third.messages[0].details
    assert details[0].startswith("Possible Cause:") and details[1].startswith("Solution:")
    assert details[2] == "TraceBack (most recent call last):" and "ge_generator.cc" in details[3]
    whole = atc.parse_atc_output(block)
    assert (whole.status, whole.runs, whole.error_codes) == ("failure", 3, ["E10054", "E10007", "EZ3003"])
    assert any("3 ATC runs" in w for w in whole.warnings)


def test_atc_output_unknown_and_empty():
    command_only = atc.parse_atc_output(atc_sections()["success"].split("ATC start")[0])
    assert command_only.status == "unknown" and command_only.command.model == "yolox_nano.onnx"
    assert atc.parse_atc_output("E19999: Inner Error!\n").status == "failure"
    cut = atc.parse_atc_output(b"ATC start working now, please wait for a moment.\n")
    assert cut.status == "unknown" and "cut short" in cut.warnings[0]
    with pytest.raises(atc.AtcParseError, match="empty"):
        atc.parse_atc_output(" \n")


def test_atc_command_parsing():
    section = atc_sections()["command"]
    line = next(li for li in section.splitlines() if "resnet50.onnx" in li)
    cmd = atc.parse_atc_command(line)
    assert (cmd.model, cmd.output_file, cmd.soc_version) == ("resnet50.onnx", "resnet50.om", "Ascend310B4")
    assert cmd.input_shapes == {"actual_input_1": [1, 3, 224, 224]}
    for number, name in ((0, "Caffe"), (1, "MindSpore"), (3, "TensorFlow"), (5, "ONNX")):
        assert atc.parse_atc_command(f"atc --model=m --framework={number} --output=o").framework_name == name
    bad = atc.parse_atc_command("atc --model=m.onnx --framework=2 --output=o")
    assert bad.framework == 2 and bad.framework_name is None and "0 (Caffe)" in bad.warnings[0]
    mismatch = atc.parse_atc_command("atc --model=frozen.pb --framework=5 --output=o")
    assert "TensorFlow" in mismatch.warnings[0]
    tf = atc.parse_atc_command(
        "ASCEND_SLOG_PRINT_TO_STDOUT=1 /usr/local/Ascend/bin/atc --model=frozen.pb --framework=3 \\\n"
        " --output=out/model.om --input_format=NHWC --input_shape=\"x:0:1,224,224,3;len:1~8\""
        " --soc_version=Ascend910B3")
    assert (tf.framework_name, tf.output_file, tf.input_format) == ("TensorFlow", "out/model.om", "NHWC")
    assert tf.input_shapes == {"x:0": [1, 224, 224, 3], "len": ["1~8"]}
    spaced = atc.parse_atc_command(["atc", "--model", "m.onnx", "--framework=5", "--output=o", "--input_shape=a:-1,3"])
    assert spaced.model == "m.onnx" and spaced.input_shapes == {"a": [-1, 3]} and "--model=m.onnx" in spaced.warnings[0]
    assert "E10054" in atc.parse_atc_command("atc --framework=5").warnings[-1]
    converted = atc.parse_atc_command("atc --mode=1 --om=resnet50.om --json=resnet50.json")
    assert converted.mode == 1 and converted.warnings == []
    with pytest.raises(atc.AtcParseError, match="not an ATC command"):
        atc.parse_atc_command("python3 export.py --model=m")
    with pytest.raises(atc.AtcParseError, match="quotes"):
        atc.parse_atc_command('atc --model="m.onnx --framework=5')
    with pytest.raises(atc.AtcParseError, match="name:"):
        atc.parse_input_shape("1,3,224,224")


option_value = st.text(st.characters(codec="ascii", categories=("L", "N"), include_characters="_./:;,~-"),
                       min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "output", "soc_version", "input_format", "weight", "log",
                                        "precision_mode", "out_nodes"]), option_value, max_size=6),
       st.sampled_from([0, 1, 3, 5]), st.randoms(use_true_random=False))
def test_atc_command_property_round_trip(options, framework, rnd):
    args = [f"--{k}={v}" for k, v in options.items()] + [f"--framework={framework}"]
    rnd.shuffle(args)
    cmd = atc.parse_atc_command("$ atc " + " ".join(shlex.quote(a) for a in args))
    assert cmd.options == {**options, "framework": str(framework)}
    assert cmd.framework_name == atc.FRAMEWORKS[framework]
    assert cmd.model == options.get("model") and cmd.soc_version == options.get("soc_version")
    if "output" in options:
        assert cmd.output_file.endswith(".om")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["W11001", "E10054", "EZ3003", "W10010", "EE1001"]),
                          st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), max_size=30),
                          st.lists(st.text("abc :", min_size=1, max_size=10).filter(str.strip), max_size=3)),
                max_size=10),
       st.booleans(), st.booleans())
def test_atc_output_property_codes(messages, success, crlf):
    lines = ["ATC start working now, please wait for a moment."]
    lines.append("ATC run success, welcome to the next use." if success else
                 "ATC run failed, Please check the detail log, Try 'atc --help' for more information")
    for code, text, details in messages:
        lines.append(f"{code}: {text}")
        lines.extend("        " + d for d in details)
    result = atc.parse_atc_output(("\r\n" if crlf else "\n").join(lines))
    assert result.status == ("success" if success else "failure")
    assert [m.code for m in result.messages] == [m[0] for m in messages]
    assert [m.details for m in result.messages] == [[d.strip() for d in m[2]] for m in messages]
    assert sum(result.code_counts.values()) == len(messages)
    assert result.error_codes == list(dict.fromkeys(m[0] for m in messages if m[0].startswith("E")))


# === the real samples hold what the parsers expect ==================================================

def test_samples_have_the_header_spellings_the_parsers_read():
    headers = sample("profiler_csv_headers.txt")
    assert "Communication(Not Overlapped and Exclude Receive)" in header_after(headers, "## step_trace_time.csv")
    assert header_after(headers, "## msprof-analyze")[:3] == ["Step", "Type", "Index"]
    assert "Accuracy Reached or Not" in sample(LEGACY) and "Result" in header_after(sample(HEADERS), "## tensor")
