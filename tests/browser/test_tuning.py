"""Tuning evidence in the browser: two profiles uploaded and compared before/after, and a tuning
measure recorded with its evidence on the stage page that reaches the rendered acceptance report."""

import subprocess

import pytest
from playwright.sync_api import expect

from reports import services as report_services
from tests.tuning.conftest import PROFILER_OUTPUT, PROFILES, profile_files
from tuning import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_profiles_are_uploaded_and_compared_before_after(sign_in, live_server, consultant, engagement):
    stage = engagement.stages.get(key="training_tuning")
    page = sign_in(consultant)
    page.goto(f"{live_server.url}/stages/{stage.uuid}/")
    page.click('[data-testid="tuning-evidence-link"]')
    for which in ("before", "after"):
        form = page.locator('[data-testid="profile-upload"]')
        folder = PROFILES / which / PROFILER_OUTPUT
        form.locator('input[name="kernel_details"]').set_input_files(str(folder / "kernel_details.csv"))
        form.locator('input[name="step_trace"]').set_input_files(str(folder / "step_trace_time.csv"))
        form.locator('input[name="label"]').fill(f"{which} fused attention")
        form.locator('button[type="submit"]').click()
        expect(page.locator('[data-testid="bound"]')).to_contain_text("compute-bound")
        page.goto(f"{live_server.url}/engagements/{engagement.uuid}/tuning/")
    compare = page.locator('[data-testid="profile-compare-form"]')
    compare.locator('select[name="before"]').select_option(label=compare.locator(
        'select[name="before"] option', has_text="before fused attention").inner_text())
    compare.locator('select[name="after"]').select_option(label=compare.locator(
        'select[name="after"] option', has_text="after fused attention").inner_text())
    compare.locator('button[type="submit"]').click()
    expect(page.locator('[data-testid="profile-gain"]')).to_contain_text("gain")
    expect(page.locator('[data-testid="kernel-deltas"]')).to_contain_text("FlashAttentionScore_2")


def test_a_measure_with_its_evidence_reaches_the_acceptance_report(sign_in, live_server, pm, consultant,
                                                                   acceptance_ready, tmp_path):
    engagement = acceptance_ready
    before = services.check_add_profile_upload(consultant, engagement, profile_files("before"), label="before")
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    stage = engagement.stages.get(key="training_tuning")
    page = sign_in(consultant)
    page.goto(f"{live_server.url}/stages/{stage.uuid}/")
    form = page.locator('[data-testid="measure-evidence-form"]')
    form.locator('textarea[name="change"]').fill("Fused attention: FlashAttentionScore")
    form.locator('select[name="figure"]').select_option("profile_pair:step_time_ms")
    form.locator('select[name="profile_before"]').select_option(str(before.pk))
    form.locator('select[name="profile_after"]').select_option(str(after.pk))
    form.locator('button[type="submit"]').click()
    gain = page.locator('[data-testid="evidence-gain"]')
    expect(gain).to_contain_text("%")
    measure = stage.tuning_measures.get()
    assert measure.evidence.kind == "profile_pair" and measure.gain > 0.1

    version = report_services.render_version(report_services.check_request_render(pm, engagement, "en").pk)
    path = tmp_path / "report.pdf"
    path.write_bytes(bytes(version.pdf))
    text = "".join(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "Evidenceofthetuningmeasures" in text and "FlashAttentionScore" in text
    assert f"{measure.gain * 100:+.3g}%" in text and "assessments.parsers.profiler" in text
