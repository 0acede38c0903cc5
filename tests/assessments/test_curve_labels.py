"""A job's loss curve is named in the reader's language, whatever language recorded it."""

import pytest
from django.utils import translation

from assessments.models import LossCurve

pytestmark = pytest.mark.django_db


def test_a_job_curve_reads_in_english_in_english_and_in_chinese_in_chinese(acceptance_ready, consultant, client):
    curve = LossCurve.objects.get(engagement=acceptance_ready, platform="npu")
    LossCurve.objects.filter(pk=curve.pk).update(label=f"训练运行 #{curve.job_id}")  # as a Chinese worker stored it
    client.force_login(consultant)
    page = client.get(f"/engagements/{acceptance_ready.uuid}/assessments/").content.decode()
    assert f"Training run #{curve.job_id}" in page
    assert "训练运行" not in page
    with translation.override("zh-hans"):
        curve.refresh_from_db()
        assert curve.shown_label == f"训练运行 #{curve.job_id}"


def test_an_uploaded_curve_keeps_its_own_label(acceptance_ready):
    curve = LossCurve.objects.get(engagement=acceptance_ready, platform="gpu")
    assert curve.shown_label == "A100 fp32"
