"""A training run's log is parsed from its file a line at a time, with the same results as the
whole text: the shared samples, wrapped records, CRLF, progress bars, bytes that are not UTF-8."""

import dataclasses
import hashlib
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.parsers import training_log
from workers import kinds
from workers.errors import PermanentError
from workers.kinds import SECTION_MARK as PROBE_MARK

SAMPLE = Path(__file__).resolve().parent / "samples" / "train_log_mindspeed_llm_megatron_and_fsdp2.txt"
parse_file = kinds.get("training_run").parse_file


def as_lines(data: bytes):
    """The log as the runner reads it: the file's lines, one after another."""
    return lambda: iter(line.decode("utf-8", "replace") for line in data.splitlines(keepends=True))


@pytest.mark.parametrize("section", [1, 3, 5])
def test_each_sample_section_parses_the_same_line_by_line(section):
    text = SAMPLE.read_text(encoding="utf-8").split("# ===")[section]
    whole = training_log.parse_training_log(text)
    streamed = training_log.parse_training_lines(as_lines(text.encode()))
    assert streamed.steps and dataclasses.asdict(streamed) == dataclasses.asdict(whole)


def test_crlf_progress_bars_and_garbage_between_records(tmp_path):
    log = (b"Epoch 1: 10%|##  | 1/10 [00:01<00:09]\r\n"
           b"step 1 loss: 2.5\r\nstep 2 loss: 2.25\rstep 3 loss: 2.0\r\n"  # a bare \r ends a line too
           b"\xff\xfe garbage \x00\r\n"
           + f"{PROBE_MARK}checkpoints\r\n./ckpt/a.pt\r\n".encode())
    path = tmp_path / "output.log"
    path.write_bytes(log)
    result = parse_file(path, {}, {})
    assert (result["format"], result["steps"], result["losses"]) == ("step_loss", [1, 2, 3], [2.5, 2.25, 2.0])
    assert result["checkpoints"] == ["./ckpt/a.pt"] and result["checkpoints_written"] is True
    assert result["log_sha256"] == hashlib.sha256(log).hexdigest()  # of the bytes the host wrote


def test_the_checkpoint_marker_glued_to_an_unfinished_last_line_is_still_found(tmp_path):
    path = tmp_path / "output.log"
    path.write_bytes(f"step 1 loss: 3.0\nstep 2 loss: 2.0{PROBE_MARK}checkpoints\n./ckpt/b.pt\n".encode())
    result = parse_file(path, {}, {})
    assert (result["steps"], result["losses"], result["checkpoints"]) == ([1, 2], [3.0, 2.0], ["./ckpt/b.pt"])


def test_a_user_pattern_and_a_log_without_losses(tmp_path):
    path = tmp_path / "output.log"
    path.write_bytes(b"ep 1 it 5 l=0.50\nep 1 it 6 l=0.40\n")
    assert parse_file(path, {}, {"loss_pattern": r"it (\d+) l=(\S+)"})["losses"] == [0.5, 0.4]
    path.write_bytes(b"Traceback (most recent call last):\nRuntimeError: NPU out of memory\n")
    with pytest.raises(PermanentError, match="No loss values"):
        parse_file(path, {}, {})


finite = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(curve=st.dictionaries(st.integers(1, 10**6), finite, min_size=1, max_size=30),
       wraps=st.lists(st.booleans(), min_size=30, max_size=30), noise=st.sampled_from(["", "W: warn\n", "\r\n"]))
def test_wrapped_megatron_records_give_the_same_curve_from_the_file(tmp_path, curve, wraps, noise):
    records = []
    for (step, loss), wrap in zip(curve.items(), wraps, strict=False):
        split = "\n" if wrap else " "  # a record wrapped over two lines
        records.append(f" iteration {step:>8}/ 1000000 | consumed samples: {step * 8:>10} |{split}"
                       f"elapsed time per iteration (ms): 500.0 | global batch size:     8 | lm loss: {loss:.6E} |\n")
    text = noise.join(records)
    path = tmp_path / "output.log"
    path.write_bytes(text.encode())
    result = parse_file(path, {}, {})
    whole = training_log.parse_training_log(text)
    assert result["steps"] == whole.steps == sorted(curve)
    assert all(math.isclose(a, b) for a, b in zip(result["losses"], whole.losses, strict=True))
    assert result["throughput"]["samples_per_s"] == 16.0
