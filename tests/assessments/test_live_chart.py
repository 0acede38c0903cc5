"""The live loss chart of a training job: the NPU curve from the job's local log, the paired
GPU reference over it, the running MRE, and the early warning when the MRE of the last 50
compared steps crosses the engagement's threshold."""

import math

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone

from assessments.live import compare_live, live_chart, reference_for
from assessments.models import CurvePair
from tests.conftest import make_curve
from workers.models import AscendHost, Job
from workers.runner import local_log_path

STEPS = np.arange(1, 201)
REFERENCE = 3.0 * np.exp(-STEPS / 60) + 1.2


def megatron_log(losses, total=None) -> str:
    total = total or len(losses)
    return "".join(f" iteration {step:>5}/{total:>6} | consumed samples: {step * 8} | elapsed time per iteration "
                   f"(ms): 101.2 | lm loss: {loss:.6E} | grad norm: 1.0 |\n"
                   for step, loss in enumerate(losses, start=1))


@pytest.fixture
def training_job(engagement, consultant):
    host = AscendHost.objects.create(customer=engagement.customer, name="npu-01", address="192.0.2.1",
                                     username="ascend", auth_method="key", secret="-", created_by=consultant)
    stage = engagement.stages.get(key="training_tuning")
    return Job.objects.create(kind="training_run", engagement=engagement, stage=stage, host=host,
                              started_by=consultant, status=Job.Status.RUNNING, started_at=timezone.now(),
                              parameters={"command": "train.sh", "workdir": "/tmp", "loss_pattern": ""})


def write_log(job, text: str) -> None:
    path = local_log_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def live_page(user, job, **query) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/jobs/{job.uuid}/live/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_windowed_mre_warns_on_a_diverging_curve_and_not_on_a_matching_one():
    matching = REFERENCE * 1.005
    calm = compare_live(STEPS, REFERENCE, STEPS, matching, skip=20, threshold=0.02)
    assert not calm.warning and math.isclose(calm.window_mre, 0.005, rel_tol=1e-6) and calm.window == 50
    assert calm.compared == 180 and (calm.window_from, calm.window_to) == (151, 200)
    # Fine for 170 steps, then drifting away: the running MRE is still under 2%, the window is not.
    diverging = REFERENCE.copy()
    diverging[170:] *= np.linspace(1.0, 1.12, 30)
    early = compare_live(STEPS, REFERENCE, STEPS, diverging, skip=20, threshold=0.02)
    assert early.warning and early.window_mre > 0.02 > early.running_mre
    # A NaN loss after the warm-up warns too, with its step.
    nan = REFERENCE.copy()
    nan[120] = np.nan
    assert compare_live(STEPS, REFERENCE, STEPS, nan, skip=20, threshold=0.02).nan_step == 121
    # Too few compared steps yet: nothing to say.
    assert compare_live(STEPS, REFERENCE, STEPS[:25], diverging[:25] * 2, skip=20, threshold=0.02).window_mre is None


@pytest.mark.django_db
def test_the_job_page_draws_the_live_chart_over_the_paired_reference(training_job, consultant, engagement):
    reference = make_curve(engagement, "gpu", REFERENCE, "A100 fp32", consultant)
    other = make_curve(engagement, "gpu", REFERENCE * 2, "older reference", consultant)
    npu = make_curve(engagement, "npu", REFERENCE, "earlier NPU run", consultant)
    CurvePair.objects.create(engagement=engagement, reference=reference, npu=npu, created_by=consultant)
    assert reference_for(training_job) == reference  # the paired one, though another is newer
    write_log(training_job, megatron_log(REFERENCE[:120] * 1.004, total=200))
    page = live_page(consultant, training_job)
    assert 'data-testid="live-chart"' in page and 'data-points="120"' in page
    assert 'data-series="npu"' in page and 'data-series="reference"' in page and 'data-series="threshold"' in page
    assert 'data-testid="live-warning"' not in page and 'data-warning="false"' in page
    assert "0.40%" in page  # the running MRE
    # The log grows: the chart follows, and a diverging tail is flagged before the run ends.
    drift = REFERENCE[:200] * np.r_[np.full(130, 1.004), np.linspace(1.0, 1.2, 70)]
    write_log(training_job, megatron_log(drift, total=200))
    page = live_page(consultant, training_job)
    assert 'data-points="200"' in page and 'data-testid="live-warning"' in page and "Diverging" in page
    # Another reference may be chosen; the chart compares with it.
    chosen = live_chart(training_job, chosen_reference=str(other.uuid))
    assert chosen.reference == other and chosen.comparison.warning
    client = Client()
    client.force_login(consultant)
    detail = client.get(f"/jobs/{training_job.uuid}/", {"reference": str(other.uuid)}).content.decode()
    assert 'data-testid="live-reference-form"' in detail and f"?reference={other.uuid}" in detail


@pytest.mark.django_db
def test_without_a_reference_the_curve_still_draws(training_job, consultant):
    write_log(training_job, megatron_log(REFERENCE[:40]))
    page = live_page(consultant, training_job)
    assert 'data-points="40"' in page and 'data-series="npu"' in page
    assert 'data-testid="live-no-reference"' in page and 'data-testid="live-warning"' not in page


@pytest.mark.django_db
def test_the_jobs_loss_pattern_is_used_and_other_kinds_draw_no_chart(training_job, consultant, engagement):
    Job.objects.filter(pk=training_job.pk).update(parameters={"command": "t", "workdir": "/tmp",
                                                              "loss_pattern": r"my_loss=(\d+\.\d+)"})
    training_job.refresh_from_db()
    write_log(training_job, "".join(f"epoch 0 my_loss={v:.4f}\n" for v in REFERENCE[:30]))
    assert 'data-points="30"' in live_page(consultant, training_job)
    Job.objects.filter(pk=training_job.pk).update(kind="disk_check")
    training_job.refresh_from_db()
    assert 'data-testid="live-chart"' not in live_page(consultant, training_job)
