"""Editing acceptance in the portal: each model's scope or exclusion, baselines, findings'
resolutions (one or all shown), tuning measures and the report's write-up. Bad input gets a
clear error and changes nothing."""

import pytest
from django.urls import reverse

from assessments.models import Finding, MigrationAnalysis, ScoreBaseline, TuningMeasure
from engagements.models import Engagement, MigrationModel, PerformanceBaseline

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, consultant):
    client.force_login(consultant)
    return client


@pytest.fixture
def qwen(engagement):
    return MigrationModel.objects.create(engagement=engagement, name="Qwen2-7B", task_type="llm")


def test_a_model_is_excluded_with_its_reason_and_baselines_are_set_per_model(signed_in, engagement, qwen):
    url = reverse("model_acceptance", args=[engagement.uuid, qwen.uuid])
    signed_in.post(url, {f"m{qwen.pk}-scope": "inference", f"m{qwen.pk}-precision": "W8A8",
                         f"m{qwen.pk}-excluded_reason": ""})
    qwen.refresh_from_db()
    assert (qwen.scope, qwen.precision) == ("inference", "W8A8")
    response = signed_in.post(reverse("score_baseline", args=[engagement.uuid]), {
        "model": qwen.pk, "dataset": "C-Eval", "score": "72", "mode": "absolute", "threshold": "1.5",
        "direction": "two_sided"})
    assert response.status_code == 302
    baseline = ScoreBaseline.objects.get(engagement=engagement)
    assert (baseline.model, baseline.threshold, baseline.direction) == (qwen, 1.5, "two_sided")
    page = signed_in.get(reverse("engagement_assessments", args=[engagement.uuid])).content.decode()
    assert "C-Eval: 72" in page and "Qwen2-7B" in page


def test_a_performance_baseline_needs_a_known_unit_and_a_number(signed_in, engagement, qwen):
    url = reverse("performance_baseline", args=[engagement.uuid])
    bad = signed_in.post(url, {"model": qwen.pk, "category": "inference", "metric": "first_token_ms",
                               "unit": "furlongs", "direction": "lower", "value": "lots", "required_fraction": "1"})
    assert bad.status_code == 400 and not PerformanceBaseline.objects.filter(engagement=engagement).exists()
    body = bad.content.decode()
    assert 'data-field="unit"' in body and 'data-field="value"' in body  # every error at once, by its field
    good = signed_in.post(url, {"model": qwen.pk, "category": "inference", "metric": "first_token_ms", "unit": "ms",
                                "direction": "lower", "value": "120", "required_fraction": "0.9"})
    assert good.status_code == 302
    assert float(PerformanceBaseline.objects.get(engagement=engagement).required_fraction) == 0.9


@pytest.fixture
def analysis(engagement):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir="/code", files_scanned=2)
    for line, fix in ((3, "manual"), (9, "manual"), (12, "auto")):
        Finding.objects.create(analysis=analysis, source="scanner", category="cuda_api", fix=fix, file="train.py",
                               line=line, api="torch.cuda.synchronize")
    return analysis


def test_findings_are_resolved_one_by_one_or_all_the_filter_shows(signed_in, engagement, analysis):
    url = reverse("findings_resolve", args=[engagement.uuid, analysis.pk])
    one = analysis.findings.get(line=3)
    signed_in.post(url, {"finding": one.pk, "resolution": "resolved", "note": "torch_npu.npu.synchronize"})
    one.refresh_from_db()
    assert (one.resolution, one.resolution_note) == ("resolved", "torch_npu.npu.synchronize") and one.resolved_by
    signed_in.post(url, {"f_fix": "manual", "resolution": "workaround", "note": "Patched in the fork"})
    assert list(analysis.findings.order_by("line").values_list("resolution", flat=True)) == [
        "workaround", "workaround", "open"]  # the filter's two, not the automatic one
    page = signed_in.get(reverse("analysis_detail", args=[engagement.uuid, analysis.pk]),
                         {"resolution": "workaround"}).content.decode()
    assert page.count('value="Patched in the fork"') == 2


def test_closing_a_finding_other_than_fixed_needs_a_note(signed_in, engagement, analysis):
    url = reverse("findings_resolve", args=[engagement.uuid, analysis.pk])
    response = signed_in.post(url, {"resolution": "wont_fix", "note": ""}, follow=True)
    assert "Say how it was handled" in response.content.decode()
    assert set(analysis.findings.values_list("resolution", flat=True)) == {"open"}


def test_a_tuning_measure_is_recorded_on_its_stage_and_shows_its_gain(signed_in, engagement, qwen):
    stage = engagement.stages.get(key="training_tuning")
    signed_in.post(reverse("tuning_measure", args=[stage.uuid]), {
        "model": qwen.pk, "change": "Fused RMSNorm and rotary embedding", "metric": "tokens/s", "unit": "tokens/s",
        "direction": "higher", "before": "2400", "after": "3000"})
    measure = TuningMeasure.objects.get(stage=stage)
    assert measure.gain == pytest.approx(0.25)
    page = signed_in.get(reverse("stage_detail", args=[stage.uuid])).content.decode()
    assert "Fused RMSNorm" in page and "25.000%" in page


def test_the_write_up_is_saved_and_audited(signed_in, engagement):
    response = signed_in.post(reverse("acceptance_writeup", args=[engagement.uuid]), {
        "test_method": "C-Eval 5-shot", "reference_environment": "8 x A100", "conclusions": "Accept."})
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert (engagement.test_method, engagement.conclusions) == ("C-Eval 5-shot", "Accept.")
    assert engagement.audit_events.filter(action="update").exists()


def test_a_customer_contact_edits_none_of_it(client, contact, engagement, qwen):
    client.force_login(contact)
    assert client.post(reverse("acceptance_writeup", args=[engagement.uuid]), {"conclusions": "x"}).status_code == 403
    assert client.post(reverse("model_acceptance", args=[engagement.uuid, qwen.uuid]), {}).status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).conclusions == ""
