"""The pure parsers on the real samples in shared/ascend_samples and on variations of them."""

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.parsers import evaluation, mindie_benchmark, npu_smi, training_log, versions

# Verbatim copies of files from shared/ascend_samples (see its README for their sources).
SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


# --- npu-smi ------------------------------------------------------------------------------

def test_npu_smi_eight_idle_910b3():
    info = npu_smi.parse_npu_smi_info(sample("npu-smi_info_910B3_8cards_idle.txt"))
    assert info.version == "25.2.0"
    assert [n.npu_id for n in info.npus] == list(range(8))
    first, last = info.npus[0], info.npus[-1]
    assert (first.name, first.health, first.power_w, first.temp_c) == ("910B3", "OK", 98.2, 41)
    assert (first.hbm_used_mb, first.hbm_total_mb, first.aicore_pct, first.bus_id) == (3445, 65536, 0, "0000:C1:00.0")
    assert (last.power_w, last.temp_c, last.hbm_used_mb) == (98.8, 47, 3411)
    assert info.processes == [] and info.warnings == []


def test_npu_smi_reads_columns_by_header_not_position():
    text = sample("npu-smi_info_910B3_8cards_idle.txt")
    # A release that swaps Power and Temp in the header (and the values with them).
    swapped = (text.replace("Power(W)    Temp(C)  ", "Temp(C)     Power(W) ")
               .replace("| 98.2        41    ", "| 41          98.2  "))
    info = npu_smi.parse_npu_smi_info(swapped)
    assert (info.npus[0].power_w, info.npus[0].temp_c) == (98.2, 41)


def test_npu_smi_keeps_unknown_columns_and_reads_process_rows():
    text = """
+------------------------------------------------------------------------------------------------+
| npu-smi 24.1.0                   Version: 24.1.0                                               |
+---------------------------+---------------+----------------------------------------------------+
| NPU   Name                | Health        | Power(W)    Temp(C)           Voltage(V)           |
| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+===========================+===============+====================================================+
| 3     910B2               | Warning       | 301.5       61                12.1                 |
| 0                         | 0000:C1:00.0  | 87          0    / 0          60211/ 65536         |
+===========================+===============+====================================================+
+---------------------------+---------------+----------------------------------------------------+
| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |
+===========================+===============+====================================================+
| 3       0                 | 402113        | python3                  | 58012                   |
+===========================+===============+====================================================+
"""
    info = npu_smi.parse_npu_smi_info(text)
    npu = info.npus[0]
    assert (npu.npu_id, npu.health, npu.aicore_pct, npu.hbm_used_mb, npu.hbm_total_mb) == (
        3, "Warning", 87, 60211, 65536)
    assert npu.extra == {"Voltage(V)": "12.1"}
    assert [(p.npu_id, p.pid, p.name, p.memory_mb) for p in info.processes] == [(3, 402113, "python3", 58012)]


def test_npu_smi_reports_what_is_missing():
    assert npu_smi.parse_npu_smi_info("npu-smi: command not found").warnings == [
        "No NPU table was found in the npu-smi output."]
    text = sample("npu-smi_info_910B3_8cards_idle.txt").replace("Health", "Status")
    assert (any("health" in w for w in npu_smi.parse_npu_smi_info(text).warnings)
            or not npu_smi.parse_npu_smi_info(text).npus)


def test_npu_smi_board_key_values():
    text = sample("npu-smi_info_t_board_usages_910B_A2.txt")
    board = npu_smi.parse_board(text.split("## npu-smi info -t usages")[0])
    assert board["PCI Device ID"] == "0xD802"
    assert board["PCIe Bus Info"] == "0000:C1:00.0"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.floats(0, 500, allow_nan=False).map(lambda v: round(v, 1)),
                          st.integers(0, 110), st.integers(0, 65536)), min_size=1, max_size=16))
def test_npu_smi_round_trips_generated_tables(cards):
    rows = []
    for npu_id, power, temp, hbm in cards:
        rows.append(f"| {npu_id:<5} 910B3               | OK            | "
                    f"{power:<11} {temp:<17} 0    / 0             |")
        rows.append("| 0                         | 0000:C1:00.0  | "
                    f"0           0    / 0          {hbm:<4} / 65536         |")
        rows.append("+===========================+===============+====================================================+")
    text = "\n".join([
        "+------------------------------------------------------------------------------------------------+",
        "| npu-smi 25.2.0                   Version: 25.2.0                                               |",
        "+---------------------------+---------------+----------------------------------------------------+",
        "| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|",
        "| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |",
        "+===========================+===============+====================================================+",
        *rows])
    info = npu_smi.parse_npu_smi_info(text)
    assert [(n.npu_id, n.power_w, n.temp_c, n.hbm_used_mb) for n in info.npus] == cards


# --- version files -------------------------------------------------------------------------

def test_driver_and_firmware_version_info():
    text = sample_section("version_files_driver_firmware_cann.txt", "driver/version.info")
    assert versions.parse_version_info(text)["Version"] == "24.1.rc1"
    firmware = versions.parse_version_info(
        sample_section("version_files_driver_firmware_cann.txt", "firmware/version.info"))
    assert firmware["Version"] == "7.1.0.11.220"
    assert firmware["compatible_version_drv"] == "[23.0.rc3,23.0.rc3.],[23.0.0,23.0.0.]"


def sample_section(name: str, marker: str) -> str:
    text = sample(name)
    start = text.index(marker)
    start = text.index("\n", start) + 1
    end = text.find("\n## ", start)
    return text[start:end if end != -1 else None]


def test_cann_version_from_install_info_and_version_cfg():
    cfg = (SAMPLES / "cann_version_cfg_examples.txt").read_text()
    example_a = cfg.split("# Example B")[0]
    example_b = cfg.split("# Example B")[1].split("# Example C")[0]
    example_c = cfg.split("# Example C")[1]
    assert versions.cann_version(example_a, "")["version"] == "8.0.0"
    assert versions.cann_version(example_b, "")["version"] == "8.0.RC3"
    assert versions.cann_version(example_c, "")["version"] == "8.0.T63"
    install = sample_section("version_files_driver_firmware_cann.txt", "cann/aarch64-linux/ascend_toolkit_install.info")
    found = versions.cann_version(example_a, install)
    assert (found["version"], found["arch"], found["source"]) == ("8.5.0", "aarch64", "ascend_toolkit_install.info")
    assert versions.cann_version("", "")["version"] is None


def test_mindie_version_info_uses_colons():
    parsed = versions.parse_version_info(
        "Ascend-mindie : MindIE 2.0.T3.B010\nmindie-rt: 2.0.T3.B010\nPlatform : aarch64\n")
    assert parsed == {"Ascend-mindie": "MindIE 2.0.T3.B010", "mindie-rt": "2.0.T3.B010", "Platform": "aarch64"}


# --- training logs ------------------------------------------------------------------------

def test_mindspeed_fsdp2_and_megatron_lines():
    text = sample("train_log_mindspeed_llm_megatron_and_fsdp2.txt")
    sections = text.split("# ===")
    fsdp2 = training_log.parse_training_log(sections[1])
    assert (fsdp2.format, fsdp2.steps, fsdp2.losses) == ("mindspeed_fsdp2", [1, 2, 3], [1.304194, 1.232217, 1.134654])
    assert fsdp2.total_steps == 2000
    # tokens/s from consumed tokens: (98304 - 65536) / 1.76999 s and (65536 - 32768) / 1.8799 s
    expected = sorted([32768 / 1.76999, 32768 / 1.8799])
    assert math.isclose(fsdp2.throughput_dict()["tokens_per_s"], sum(expected) / 2, rel_tol=1e-3)
    modellink = training_log.parse_training_log(sections[3])  # wrapped over two lines, "gloabl" typo
    assert (modellink.format, modellink.steps, modellink.losses) == ("modellink", [11], [13.76514])
    assert modellink.throughput_dict()["samples_per_s"] == 9.71
    flagscale = training_log.parse_training_log(sections[5])  # "[default0]:" prefix
    assert (flagscale.steps, flagscale.losses) == ([3], [11.07468])
    assert flagscale.throughput_dict()["tflops_per_device"] == 26.8


def test_a_resumed_run_keeps_the_last_value_per_step_and_nan_survives():
    lines = [f" iteration {s:>8}/      10 | elapsed time per iteration (ms): 100.0 | lm loss: {v} |"
             for s, v in [(1, "2.0E+00"), (2, "1.9E+00"), (3, "nan"), (2, "1.8E+00")]]
    log = training_log.parse_training_log("\n".join(lines))
    assert log.steps == [1, 2, 3] and log.losses[:2] == [2.0, 1.8] and math.isnan(log.losses[2])
    assert log.duplicates == 1


def test_plain_step_loss_lines_and_hf_trainer_dicts():
    plain = training_log.parse_training_log("epoch 0 step 10 loss: 2.5\nStep [20/100] Loss = 2.25\nsome noise\n")
    assert (plain.format, plain.steps, plain.losses) == ("step_loss", [10, 20], [2.5, 2.25])
    hf = training_log.parse_training_log("{'loss': 2.3, 'learning_rate': 1e-05, 'epoch': 0.1}\n"
                                         "{'loss': 2.1, 'grad_norm': 1.5, 'epoch': 0.2}\n{'train_runtime': 10.0}\n")
    assert (hf.format, hf.steps, hf.losses) == ("hf_trainer", [1, 2], [2.3, 2.1])


def test_user_patterns_named_two_groups_and_one_group():
    text = "ep 1 it 5 l=0.50\nep 1 it 6 l=0.40\n"
    assert training_log.parse_training_log(text, pattern=r"it (?P<step>\d+) l=(?P<loss>\S+)").steps == [5, 6]
    assert training_log.parse_training_log(text, pattern=r"it (\d+) l=(\S+)").losses == [0.5, 0.4]
    one = training_log.parse_training_log(text, pattern=r"l=(\S+)")
    assert (one.steps, one.losses) == ([1, 2], [0.5, 0.4])


def test_a_log_without_losses_is_empty_not_an_error():
    log = training_log.parse_training_log("Traceback (most recent call last):\nRuntimeError: NPU out of memory")
    assert (log.format, log.steps) == ("unknown", [])


finite = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(1, 10**6), finite, min_size=1, max_size=40))
def test_megatron_lines_round_trip(curve):
    lines = [f"[2026-01-01 00:00:00] iteration {step:>8}/ 1000000 | consumed samples: {step * 8:>12} | "
             f"elapsed time per iteration (ms): 1000.0 | learning rate: 1.000000E-05 | global batch size:     8 | "
             f"lm loss: {loss:.6E} | loss scale: 1.0 | grad norm: 1.000 |" for step, loss in curve.items()]
    log = training_log.parse_training_log("\n".join(lines))
    assert log.steps == sorted(curve)
    for step, loss in zip(log.steps, log.losses, strict=True):
        assert math.isclose(loss, float(f"{curve[step]:.6E}"))
    assert log.throughput_dict()["samples_per_s"] == 8.0


# --- MindIE benchmark ----------------------------------------------------------------------

def test_mindie_benchmark_older_layout():
    result = mindie_benchmark.parse_mindie_benchmark(sample("mindie_benchmark_output_qwq32b_and_config.txt"))
    assert result.performance["FirstTokenTime"]["average"] == 97.07
    assert result.performance["FirstTokenTime"]["P99"] == 164.02
    assert result.units["FirstTokenTime"] == "ms"
    assert result.performance["CharactersPerToken"]["max"] is None
    assert result.common["Throughput"] == 0.679 and result.common_units["Throughput"] == "req/s"
    assert result.common["Returned"] == 200 and result.common["accuracy"] is None
    assert result.common["ModelName"] == "QwQ-32B" and result.common["CurrentTime"] == "2025-03-19 08:29:17"
    summary = result.summary()
    assert summary == {"first_token_ms": 97.07, "decode_ms": 29.1162, "generate_speed_token_s": 327.3233,
                       "generated_token_speed_token_s": 33.5801, "throughput_req_s": 0.679}


def test_mindie_benchmark_newer_layout_with_moved_columns_and_renamed_rows():
    text = """The BenchMark test performance metric result is:
+-----------------+---------+----------+---------+---------+----+
|          Metric |     P99 |  average |     max |     min |  N |
+-----------------+---------+----------+---------+---------+----+
|  FirstTokenTime | 210 ms  | 120.5 ms |  230 ms |   80 ms | 50 |
|      DecodeTime | 41 ms   |  30.2 ms |   44 ms |   21 ms | 50 |
|   NewMetric2026 | 1       |      0.5 |       1 |       0 | 50 |
+-----------------+---------+----------+---------+---------+----+
The BenchMark test common metric result is:
+---------------------+------------------+
|       Common Metric |            Value |
+---------------------+------------------+
|          Throughput |      2.5 req/s   |
| OutputGenerateSpeed | 812.9 token/s    |
|            accuracy |          0.8312  |
+---------------------+------------------+
"""
    result = mindie_benchmark.parse_mindie_benchmark(text)
    assert result.performance["FirstTokenTime"] == {"P99": 210, "average": 120.5, "max": 230, "min": 80, "N": 50}
    assert result.performance["NewMetric2026"]["average"] == 0.5
    assert result.summary() == {"first_token_ms": 120.5, "decode_ms": 30.2, "generate_speed_token_s": 812.9,
                                "throughput_req_s": 2.5, "accuracy": 0.8312}
    assert result.warnings == []


def test_mindie_benchmark_without_tables_warns():
    result = mindie_benchmark.parse_mindie_benchmark("benchmark: error: connection refused")
    assert result.performance == {} and len(result.warnings) == 2


@pytest.mark.parametrize("text,expected", [
    ("97.07 ms", (97.07, "ms")), ("33.5801 token/s", (33.5801, "token/s")), ("/", (None, "")),
    ("0( 0.0% )", (0, "")), ("200[ 100.0% ]", (200, "")), ("2025-03-19 08:29:17", ("2025-03-19 08:29:17", "")),
    ("/ μs", (None, "μs")), ("QwQ-32B", ("QwQ-32B", "")),
])
def test_mindie_values(text, expected):
    assert mindie_benchmark.split_value(text) == expected


# --- evaluation scores ---------------------------------------------------------------------

@pytest.mark.parametrize("text,kwargs,expected", [
    ('Evaluating...\n{"dataset": "ceval", "accuracy": 0.8123, "samples": 1346}', {}, 0.8123),
    ('{"results": {"mmlu": {"acc": 0.61}}}', {"json_key": "results.mmlu.acc"}, 0.61),
    ("acc = 71.2%\nfinal accuracy: 72.5%", {}, 72.5),
    ("Final: 12.5 pts\nFinal: 13.5 pts", {"pattern": r"Final: (\S+)"}, 13.5),
    ("score=3", {"pattern": r"score=(?P<score>\d+)"}, 3.0),
    ("no numbers here", {}, None),
    ('{"accuracy": 0.5}', {"json_key": "bleu"}, None),
])
def test_extract_score(text, kwargs, expected):
    assert evaluation.extract_score(text, **kwargs) == expected


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_extract_score_reads_back_any_printed_float(value):
    assert evaluation.extract_score(f'{{"score": {value!r}}}') == value
    assert evaluation.extract_score(f"score: {value!r}") == pytest.approx(value)


# --- the official analysis tool's CSV files ---------------------------------------------------

def test_official_unsupported_and_performance_csv():
    from assessments.parsers.analysis_csv import parse_official_csv

    unsupported = parse_official_csv("unsupported_api.csv", sample("unsupported_api.csv"))
    assert [(r["file"], r["start_line"], r["api"], r["kind"]) for r in unsupported] == [
        ("train.py", 12, "torch.nn.MultiheadAttention", "unsupported"),
        ("train.py", 22, "torch.nn.DataParallel", "unsupported"),
        ("train.py", 26, "torch.cdist", "unsupported")]
    advice = parse_official_csv("api_performance_advice.csv", sample("api_performance_advice.csv"))
    assert advice[0]["api"] == "torch_npu.npu.set_compile_mode" and advice[0]["file"] is None
    assert "For more information" in advice[0]["tips"]  # a quoted tip spanning two lines
    assert len(advice) == 5


def test_official_csv_short_rows_empty_files_and_cuda_op_list():
    from assessments.parsers.analysis_csv import parse_official_csv

    assert parse_official_csv("unknown_api.csv", "File,Start Line,End Line,OP,Tips\nmodel.py,3,3,torch.foo\n") == [
        {"kind": "unknown", "file": "model.py", "start_line": 3, "end_line": 3, "api": "torch.foo", "tips": ""}]
    assert parse_official_csv("api_precision_advice.csv", "File,Start Line,End Line,OP,Tips\n") == []
    assert parse_official_csv("cuda_op_list.csv", "") == []
    assert parse_official_csv("cuda_op_list.csv", "File,Api\nops/kernel.cu,my_kernel\n")[0]["api"] == "my_kernel"


# --- Windows line endings and garbage around the tables -------------------------------------

def test_every_parser_reads_windows_line_endings_and_ignores_garbage():
    garbage = "\x1b[0m random text | with | pipes\n+++ not a border\n"
    npu = npu_smi.parse_npu_smi_info(garbage + sample("npu-smi_info_910B3_8cards_idle.txt").replace("\n", "\r\n"))
    assert len(npu.npus) == 8 and npu.npus[7].hbm_used_mb == 3411 and npu.npus[0].name == "910B3"
    bench = mindie_benchmark.parse_mindie_benchmark(
        garbage + sample("mindie_benchmark_output_qwq32b_and_config.txt").replace("\n", "\r\n"))
    assert bench.performance["DecodeTime"]["average"] == 29.1162 and bench.common["Concurrency"] == 10
    log = training_log.parse_training_log(
        garbage + sample("train_log_mindspeed_llm_megatron_and_fsdp2.txt").split("# ===")[1].replace("\n", "\r\n"))
    assert log.losses == [1.304194, 1.232217, 1.134654]
    driver = versions.parse_version_info("Version=24.1.rc1\r\nInnerversion=V100R001C15SPC006B220\r\n")
    assert driver["Version"] == "24.1.rc1"


def test_npu_smi_23_with_elided_rows_and_the_key_value_subcommands():
    text = sample("npu-smi_info_subcommands_910.txt")
    info = npu_smi.parse_npu_smi_info(text.split("npu-smi info -i 0 -c 0 -t health")[0])
    assert info.version == "23.0.5"
    assert [(n.npu_id, n.memory_used_mb, n.memory_total_mb, n.hbm_total_mb) for n in info.npus] == [
        (0, 920, 13553, 32768), (7, 2346, 15567, 32768)]
    health = npu_smi.parse_board(text.split("-t health")[1].split("/usr/local/bin")[0])
    assert health == {"Health Status": "OK", "Error Code": "NA", "Error Information": "NA"}
    board = npu_smi.parse_board(text.split("-i 0 -t board")[1])
    assert (board["Software Version"], board["Firmware Version"]) == ("23.0.5", "7.1.0.7.220")
