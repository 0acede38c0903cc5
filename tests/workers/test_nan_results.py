"""A NaN (or infinite) loss is a figure, not an error: the training job ends by the rules and
the NaN reaches the comparison, where it is a FAIL with its step (it used to make PostgreSQL's
JSON refuse the result, and the job ended "lost" after five re-attachments)."""

import numpy as np
import pytest

from assessments import services as assessment_services
from assessments.acceptance import acceptance
from assessments.models import LossCurve
from common.jsonsafe import jsonable
from workers import jobs
from workers.models import Job

from ..conftest import make_curve
from .test_jobs_e2e import wait_for

LOG = "; ".join(f"echo 'step {step} loss: {loss}'" for step, loss in
                [(1, "nan"), *((s, round(3.0 - s * 0.01, 4)) for s in range(2, 40)), (40, "inf")])


@pytest.mark.django_db(transaction=True)
def test_a_training_log_with_nan_first_and_inf_last_loss_succeeds_and_fails_acceptance(worker, consultant, engagement,
                                                                                        sim_host):
    stage = engagement.stages.get(key="training_tuning")
    job = jobs.check_start_job(consultant, stage, sim_host, "training_run",
                               {"command": f"sh -c \"{LOG}\"", "workdir": "/tmp"})
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["first_loss"] is None and job.result["last_loss"] is None and job.result["points"] == 40
    steps, losses = LossCurve.objects.get(job=job).series()
    assert np.isnan(losses[0]) and not np.isfinite(losses[-1]) and list(steps[:2]) == [1, 2]
    reference = make_curve(engagement, "gpu", 3.0 - np.arange(1, 41) * 0.01, "reference", consultant)
    assessment_services.check_pair_curves(consultant, engagement, reference, LossCurve.objects.get(job=job))
    loss = next(c for c in acceptance(engagement)["models"][0].criteria if c.kind == "loss")
    assert loss.verdict == "fail" and "step 1" in loss.reason


def test_jsonable_refuses_what_json_cannot_hold_and_keeps_the_rest():
    from decimal import Decimal

    from django.utils.translation import gettext_lazy

    assert jsonable({"a": float("nan"), "b": [np.float64(1.5), np.int64(2), Decimal("inf"), Decimal("2.50")],
                     "c": gettext_lazy("Step")}) == {"a": None, "b": [1.5, 2, None, 2.5], "c": "Step"}
    with pytest.raises(TypeError, match=r"data\.x\[0\]"):
        jsonable({"x": [object()]})


@pytest.mark.django_db(transaction=True)
def test_a_failure_reason_shows_the_commands_output_not_the_wrappers_markers(worker, consultant, engagement,
                                                                             sim_host):
    stage = engagement.stages.get(key="training_tuning")
    job = jobs.check_start_job(consultant, stage, sim_host, "training_run",
                               {"command": "sh -c 'echo step 1 loss: 2.0; echo out of memory >&2; exit 3'",
                                "workdir": "/tmp"})
    wait_for(job, Job.FINAL)
    assert (job.status, job.exit_code) == ("failed", 3)
    assert "out of memory" in job.failure_message and "@@@" not in job.failure_message
    assert "@@@" not in job.failure_text
