"""`manage.py compare_loss` on real logs of the simulated host's training script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "demo" / "simhost" / "files" / "train.py"


def train_log(tmp_path, precision: str, steps: int = 120, lr: float = 0.05) -> Path:
    out = tmp_path / f"{precision}-{lr}.log"
    run = subprocess.run([sys.executable, str(TRAIN), "--steps", str(steps), "--precision", precision, "--lr", str(lr),
                          "--save-dir", str(tmp_path / "ckpt")], capture_output=True, text=True, check=True)
    out.write_text(run.stdout)
    return out


def compare(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    return subprocess.run([sys.executable, "manage.py", "compare_loss", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def mre(output: str) -> float:
    return float(re.search(r"mean relative error: ([\d.]+)%", output).group(1))


def test_bf16_against_fp32_reports_the_figures_and_a_verdict(tmp_path):
    ref, npu = train_log(tmp_path, "fp32"), train_log(tmp_path, "bf16")
    run = compare(ref, npu, "--skip", "20", "--threshold", "0.02")
    assert "compared steps: 100 (21-120)" in run.stdout
    value = mre(run.stdout)
    assert value > 0  # the curves differ for real
    assert run.returncode == (0 if value < 2 else 1)
    assert ("verdict: PASS" if value < 2 else "verdict: FAIL") in run.stdout


def test_identical_runs_pass_and_a_different_learning_rate_fails(tmp_path):
    ref = train_log(tmp_path, "fp32")
    same = compare(ref, ref)
    assert same.returncode == 0 and mre(same.stdout) == 0
    other = compare(ref, train_log(tmp_path, "fp32", lr=0.2), "--threshold", "0.02")
    assert other.returncode == 1 and "verdict: FAIL" in other.stdout and mre(other.stdout) >= 2


def test_cannot_compare_and_bad_input_exit_non_zero(tmp_path):
    ref = train_log(tmp_path, "fp32", steps=25)
    short = compare(ref, ref)
    assert short.returncode == 2 and "verdict: CANNOT_COMPARE" in short.stdout
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    run = compare(empty, ref)
    assert run.returncode == 2 and "No loss values were found in the reference log" in run.stderr
    assert compare(tmp_path / "missing.log", ref).returncode == 2
    assert compare(ref, ref, "--threshold", "2").returncode == 2
    bad = compare(ref, ref, "--pattern", "(")
    assert bad.returncode == 2 and "--pattern is not a valid regular expression" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_nan_in_the_warm_up_is_a_fail_with_its_step(tmp_path):
    ref = train_log(tmp_path, "fp32")
    lines = ref.read_text().splitlines(keepends=True)
    broken = tmp_path / "nan.log"
    text = "".join(lines)
    step5 = next(line for line in lines if re.match(r"\s*iteration\s+5/", line))
    broken.write_text(text.replace(step5, re.sub(r"lm loss: \S+", "lm loss: nan", step5)))
    run = compare(ref, broken)
    assert run.returncode == 1 and "NaN or infinite at step 5" in run.stdout


def test_a_custom_pattern(tmp_path):
    lines = [f"epoch 0 it {s} l={1 / s:.6f}" for s in range(1, 60)]
    ref = tmp_path / "ref.txt"
    ref.write_text("\n".join(lines))
    npu = tmp_path / "npu.txt"
    npu.write_text("\n".join(f"epoch 0 it {s} l={1.01 / s:.6f}" for s in range(1, 60)))
    run = compare(ref, npu, "--pattern", r"it (\d+) l=(\S+)")
    assert run.returncode == 0 and mre(run.stdout) == pytest.approx(1.0, abs=0.01)
