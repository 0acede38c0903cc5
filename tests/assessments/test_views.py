"""Assessment pages: scoped to provider staff of the engagement, findings filterable."""

import numpy as np
import pytest
from django.urls import reverse

from assessments.models import Finding, LossCurve, MigrationAnalysis
from assessments.services import finding_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysis(engagement):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir="/data/code", files_scanned=3,
                                                effort_person_days=2.5)
    rows = [("scanner", "cuda_api", "auto", "train.py", 5, "torch.cuda.synchronize"),
            ("scanner", "cuda_api", "auto", "train.py", 9, "torch.cuda.is_available"),
            ("scanner", "data_parallel", "manual", "model/net.py", 22, "torch.nn.DataParallel"),
            ("official", "official_unsupported", "manual", "train.py", 26, "torch.cdist")]
    Finding.objects.bulk_create([Finding(analysis=analysis, source=s, category=c, fix=f, file=p, line=n, api=a)
                                 for s, c, f, p, n, a in rows])
    return analysis


def test_counts_group_like_the_tool_summary(analysis):
    assert [(r["source"], r["category"], r["count"]) for r in finding_counts(analysis)] == [
        ("official", "official_unsupported", 1), ("scanner", "cuda_api", 2), ("scanner", "data_parallel", 1)]


def test_findings_filter_by_category_fix_and_file(client, consultant, engagement, analysis):
    client.force_login(consultant)
    url = reverse("analysis_detail", args=[engagement.uuid, analysis.pk])
    page = client.get(url, {"category": "cuda_api"}).content.decode()
    assert "torch.cuda.synchronize" in page and "torch.nn.DataParallel" not in page
    page = client.get(url, {"fix": "manual", "file": "net.py"}).content.decode()
    assert "torch.nn.DataParallel" in page and "torch.cdist" not in page


@pytest.mark.parametrize("who,status", [("consultant", 200), ("pm", 200), ("other_consultant", 404), ("contact", 403)])
def test_only_staff_of_the_engagement_see_assessments(client, request, engagement, analysis, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("engagement_assessments", args=[engagement.uuid])).status_code == status
    assert client.get(reverse("analysis_detail", args=[engagement.uuid, analysis.pk])).status_code == status


def test_an_analysis_of_another_engagement_is_not_found_through_this_one(client, pm, engagement, other_engagement):
    other = MigrationAnalysis.objects.create(engagement=other_engagement, code_dir="/x")
    client.force_login(pm)
    assert client.get(reverse("analysis_detail", args=[engagement.uuid, other.pk])).status_code == 404


def test_a_long_curve_is_stored_compactly_and_drawn_downsampled(client, consultant, engagement):
    steps = np.arange(1, 200_001)
    losses = 2.0 / np.sqrt(steps)
    losses[150_000] = 9.0
    curve = LossCurve(engagement=engagement, platform="npu", source="upload", log_format="megatron", label="run A")
    curve.set_series(steps, losses)
    curve.save()
    stored = LossCurve.objects.get(pk=curve.pk)
    got_steps, got_losses = stored.series()
    assert np.array_equal(got_steps, steps) and np.array_equal(got_losses, losses)
    assert len(bytes(stored.steps_blob)) < steps.size  # far under one byte a step
    client.force_login(consultant)
    page = client.get(reverse("engagement_assessments", args=[engagement.uuid])).content.decode()
    assert "run A" in page and "200000" in page
    points = page.split('points="')[1].split('"')[0].split()
    assert len(points) <= 1600


def test_upload_a_reference_log_pair_it_and_see_the_verdict(client, consultant, engagement):
    from django.core.files.uploadedfile import SimpleUploadedFile

    line = " iteration {s:>8}/     100 | elapsed time per iteration (ms): 100.0 | lm loss: {v:.6E} |"
    ref = "\n".join(line.format(s=s, v=3.0 / s + 1) for s in range(1, 101)).encode()
    npu = "\n".join(line.format(s=s, v=(3.0 / s + 1) * 1.005) for s in range(1, 101)).encode()
    client.force_login(consultant)
    url = reverse("curve_upload", args=[engagement.uuid])
    for name, raw, platform in (("gpu.log", ref, "gpu"), ("npu.log", npu, "npu")):
        response = client.post(url, {"log": SimpleUploadedFile(name, raw), "platform": platform, "label": name})
        assert response.status_code == 302
    gpu_curve = LossCurve.objects.get(platform="gpu")
    assert gpu_curve.points == 100 and gpu_curve.raw_sha256 == LossCurve.sha256(ref)
    assert bytes(gpu_curve.raw_log.read()) == ref
    npu_curve = LossCurve.objects.get(platform="npu")
    assert client.post(reverse("curve_pair", args=[engagement.uuid]),
                       {"reference": gpu_curve.pk, "npu": npu_curve.pk}).status_code == 302
    page = client.get(reverse("engagement_assessments", args=[engagement.uuid])).content.decode()
    assert 'data-testid="loss-verdict">PASS<' in page and "0.500%" in page


def test_a_log_without_losses_is_refused_and_the_form_keeps_the_label(client, consultant, engagement):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(consultant)
    response = client.post(reverse("curve_upload", args=[engagement.uuid]),
                           {"log": SimpleUploadedFile("x.log", b"no numbers"), "platform": "gpu",
                            "label": "my A100 run"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No loss values were found" in page and 'value="my A100 run"' in page
    assert not LossCurve.objects.exists()


def test_pairing_two_npu_curves_is_refused(client, consultant, engagement):
    import numpy as np

    curves = []
    for label in ("a", "b"):
        curve = LossCurve(engagement=engagement, platform="npu", source="upload", log_format="x", label=label)
        curve.set_series(np.arange(1, 40), np.ones(39))
        curve.save()
        curves.append(curve)
    client.force_login(consultant)
    response = client.post(reverse("curve_pair", args=[engagement.uuid]),
                           {"reference": curves[0].pk, "npu": curves[1].pk})
    assert response.status_code == 400


def test_bad_logs_get_a_clear_message_and_store_nothing(client, consultant, engagement, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    settings.CURVE_LOG_MAX_BYTES = 1024 * 1024
    client.force_login(consultant)
    url = reverse("curve_upload", args=[engagement.uuid])
    line = b" iteration        1/      10 | lm loss: 1.000000E+00 |\n"
    cases = [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20, "This is a binary file, not a training log."),
        (line * 30_000, "The log is larger than 1 MB."),
        (b"epoch 1 done\naccuracy 0.9\n", "No loss values were found"),
    ]
    for raw, message in cases:
        response = client.post(url, {"log": SimpleUploadedFile("x.log", raw), "platform": "gpu", "label": "A100"})
        assert response.status_code == 400 and message in response.content.decode()
    assert not LossCurve.objects.exists() and not any(tmp_path.rglob("*.log"))


def test_a_log_with_nan_is_kept_with_a_warning(client, consultant, engagement):
    from django.core.files.uploadedfile import SimpleUploadedFile

    log = "\n".join(f" iteration {s:>8}/      40 | lm loss: {'nan' if s == 33 else '1.5E+00'} |" for s in range(1, 41))
    client.force_login(consultant)
    response = client.post(reverse("curve_upload", args=[engagement.uuid]),
                           {"log": SimpleUploadedFile("n.log", log.encode()), "platform": "npu", "label": "NaN run"},
                           follow=True)
    assert "first at step 33" in response.content.decode()
    assert LossCurve.objects.get().first_nan_step == 33
