"""The job page says each thing once: a running job reads "Running", not "Running running"."""

import pytest

from workers.models import AscendHost, Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phase,shown", [("running", False), ("collecting", True)])
def test_the_phase_is_shown_only_when_it_adds_something(client, engagement, consultant, phase, shown):
    host = AscendHost.objects.create(customer=engagement.customer, name="h", address="192.0.2.1", username="ascend",
                                     auth_method="key", secret="-", created_by=consultant)
    job = Job.objects.create(kind="evaluation", engagement=engagement, stage=engagement.stages.first(), host=host,
                             started_by=consultant, status=Job.Status.RUNNING, phase=phase)
    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/live/").content.decode()
    assert 'data-testid="job-status">Running<' in page
    assert ('data-testid="job-phase"' in page) is shown
