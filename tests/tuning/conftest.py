"""Samples for the tuning tests: the simulated host's files (the tools' real formats) and the
shipped legacy msprobe result."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

SIM = Path(__file__).resolve().parents[2] / "demo" / "simhost" / "files" / "tuning"
SAMPLES = Path(__file__).resolve().parent / "samples"
PROFILES = SIM / "profiles"
PROFILER_OUTPUT = "localhost_12345_20250318090000_ascend_pt/ASCEND_PROFILER_OUTPUT"


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def profile_files(which: str) -> dict:
    folder = PROFILES / which / PROFILER_OUTPUT
    return {"kernel_details": upload(folder / "kernel_details.csv"),
            "step_trace": upload(folder / "step_trace_time.csv")}


@pytest.fixture
def tuning_stage(engagement):
    return engagement.stages.get(key="training_tuning")
