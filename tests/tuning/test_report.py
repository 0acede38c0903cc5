"""The acceptance report shows the accuracy comparisons (precision) and the measures with their evidence."""

import subprocess

import pytest

from reports import services as report_services
from tuning import services

from .conftest import SIM, profile_files, upload

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("language,words", [
    ("en", ("Precision: accuracy comparisons", "Evidence of the tuning measures", "Step time")),
    ("zh-hans", ("精度", "调优")),
])
def test_the_report_lists_comparisons_and_measures_with_evidence(pm, consultant, acceptance_ready, tmp_path,
                                                                 language, words):
    engagement = acceptance_ready
    stage = engagement.stages.get(key="training_tuning")
    services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"),
                                       label="bf16 vs fp32")
    before = services.check_add_profile_upload(consultant, engagement, profile_files("before"), label="before")
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    measure = services.check_save_measure_with_evidence(
        consultant, stage, {"change": "Fused attention with FlashAttentionScore"},
        {"figure": "profile_pair:step_time_ms", "profile_before": before, "profile_after": after})
    version = report_services.check_request_render(pm, engagement, language)
    version = report_services.render_version(version.pk)
    assert version.status == "draft", version.failure
    section = version.data["tuning_evidence"]
    assert section["accuracy"][0]["first_mismatch"]["op"] == "Functional.gelu.2.forward"
    assert section["measures"][0]["gain"] == pytest.approx(measure.gain)
    flat = "".join(pdf_text(bytes(version.pdf), tmp_path).split())  # table cells wrap anywhere
    assert "Functional.gelu.2.forward" in flat and "Fusedattention" in flat and "FlashAttentionScore" in flat
    assert "assessments.parsers.profiler" in flat and "assessments.parsers.msprobe" in flat
    assert f"{measure.gain * 100:+.3g}%" in flat
    for word in words:
        assert "".join(word.split()) in flat
