"""The tuning evidence pages: uploads (good and bad files), the filterable comparison table
(htmx), profiles compared, benchmarks side by side, the stage page, and who sees what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tuning import services
from tuning.models import AccuracyComparison, Profile

from .conftest import PROFILER_OUTPUT, PROFILES, SIM, profile_files, upload

pytestmark = pytest.mark.django_db


def test_an_upload_lands_on_its_comparison_and_filters_work(client, consultant, engagement, tuning_stage):
    client.force_login(consultant)
    response = client.post(f"/engagements/{engagement.uuid}/tuning/accuracy/", {
        "file": upload(SIM / "msprobe_compare_result.csv"), "stage": tuning_stage.pk, "label": "bf16 run"})
    comparison = AccuracyComparison.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tuning/accuracy/{comparison.uuid}/"
    page = client.get(response["Location"]).content.decode()
    assert "Functional.gelu.2.forward" in page and 'data-testid="accuracy-rows"' in page
    only = client.get(response["Location"], {"mismatches": "on"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in only and "Torch.matmul.1.forward.output.0" in only and "softmax" not in only
    errors = client.get(response["Location"], {"result": "error", "q": "add"},
                        HTTP_HX_REQUEST="true").content.decode()
    assert "Tensor.add.4.forward.output.0" in errors and "gelu.2.forward.output.0</code>" not in errors


def test_a_bad_upload_shows_the_form_again_with_the_error(client, consultant, engagement, tuning_stage):
    client.force_login(consultant)
    response = client.post(f"/engagements/{engagement.uuid}/tuning/accuracy/", {
        "file": SimpleUploadedFile("result.csv", b"Name,Type\nx,y\n"), "stage": tuning_stage.pk,
        "label": "kept label"})
    page = response.content.decode()
    assert response.status_code == 400 and "This file cannot be read" in page and "kept label" in page
    assert not AccuracyComparison.objects.exists()
    response = client.post(f"/engagements/{engagement.uuid}/tuning/profiles/", {"devices": 1, "label": "none"})
    assert response.status_code == 400 and "Give at least one of" in response.content.decode()
    response = client.post(f"/engagements/{engagement.uuid}/tuning/mindie-configs/", {
        "file": SimpleUploadedFile("config.json", b"\x00\x01binary")})
    assert response.status_code == 400 and not Profile.objects.exists()


def test_profiles_upload_and_compare_before_after(client, consultant, engagement):
    client.force_login(consultant)
    folder = PROFILES / "before" / PROFILER_OUTPUT
    response = client.post(f"/engagements/{engagement.uuid}/tuning/profiles/", {
        "kernel_details": upload(folder / "kernel_details.csv"), "step_trace": upload(folder / "step_trace_time.csv"),
        "devices": 1, "peak_tflops": 313, "flops_per_step": "2e12", "label": "before"})
    assert response.status_code == 302
    before = Profile.objects.get()
    detail = client.get(response["Location"]).content.decode()
    assert "compute-bound" in detail and "hcom_allReduce__101_0" in detail and "MFU" in detail
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    page = client.get(f"/engagements/{engagement.uuid}/tuning/profiles/compare/",
                      {"before": before.uuid, "after": after.uuid}).content.decode()
    assert 'data-testid="profile-gain"' in page and "FlashAttentionScore_2" in page


def test_benchmarks_side_by_side_with_their_configurations(client, consultant, engagement):
    from assessments.models import BenchmarkRun
    from tests.factories import MigrationModelFactory
    from workers.models import AscendHost, Job

    model = MigrationModelFactory(engagement=engagement)
    v1 = services.check_add_service_config(consultant, engagement, upload(SIM / "mindie_config_v1.json"), model=model)
    v2 = services.check_add_service_config(consultant, engagement, upload(SIM / "mindie_config_v2.json"), model=model)
    host = AscendHost.objects.create(customer=engagement.customer, name="h", address="192.0.2.1", username="u",
                                     auth_method="key", secret="-", created_by=consultant)
    stage = engagement.stages.get(key="inference_tuning")
    runs = []
    for speed in (327.3, 371.9):
        job = Job.objects.create(kind="inference_benchmark", engagement=engagement, stage=stage, host=host,
                                 started_by=consultant, status="succeeded", exit_code=0)
        runs.append(BenchmarkRun.objects.create(engagement=engagement, job=job, model=model,
                                                summary={"generate_speed_token_s": speed}, common={"Concurrency": 10}))
    client.force_login(consultant)
    for run, config in zip(runs, (v1, v2), strict=True):
        assert client.post(f"/tuning/benchmarks/{run.pk}/config/", {f"b{run.pk}-config": config.pk}).status_code == 302
    page = client.get(f"/engagements/{engagement.uuid}/tuning/benchmarks/").content.decode()
    assert "371.9" in page and "maxBatchSize" in page.replace("max_batch_size", "maxBatchSize")
    assert page.count('data-testid="differs"') >= 3  # max_batch_size, max_prefill_tokens, npu_mem_size_gb, ...
    detail = client.get(f"/tuning/mindie-configs/{v2.uuid}/").content.decode()
    assert "Changed since version 1" in detail and "maxBatchSize" in detail


def test_the_stage_page_shows_the_evidence_to_staff_only(client, consultant, contact, engagement, tuning_stage):
    services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"),
                                       label="bf16 run")
    client.force_login(consultant)
    page = client.get(f"/stages/{tuning_stage.uuid}/").content.decode()
    assert 'data-testid="stage-tuning-evidence"' in page and "Functional.gelu.2.forward" in page
    assert 'data-testid="measure-evidence-form"' in page
    client.force_login(contact)
    page = client.get(f"/stages/{tuning_stage.uuid}/").content.decode()
    assert "stage-tuning-evidence" not in page
    assert client.get(f"/engagements/{engagement.uuid}/tuning/").status_code == 403


def test_a_measure_with_evidence_from_the_stage_page(client, consultant, engagement, tuning_stage):
    before = services.check_add_profile_upload(consultant, engagement, profile_files("before"), label="before")
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    client.force_login(consultant)
    response = client.post(f"/stages/{tuning_stage.uuid}/tuning-evidence/", {
        "change": "Fused attention", "figure": "profile_pair:step_time_ms", "profile_before": before.pk,
        "profile_after": after.pk})
    assert response.status_code == 302
    page = client.get(f"/stages/{tuning_stage.uuid}/").content.decode()
    assert 'data-testid="evidence-gain"' in page and "Fused attention" in page
    assert tuning_stage.tuning_measures.get().evidence.kind == "profile_pair"
