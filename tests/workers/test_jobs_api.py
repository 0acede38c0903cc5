"""Jobs through the token API, as a CI pipeline uses it: start, follow to the end, cancel, and
launch a template, against the simulated host with a real Celery worker. Scoped like the
pages: a contact of the customer 403, anyone outside the engagement 404."""

import time

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from workers.models import Job, JobTemplate

pytestmark = pytest.mark.django_db(transaction=True)


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def follow(client, uuid, until, timeout=60) -> dict:
    """Poll the job as a pipeline would, until ``until(body)``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/jobs/{uuid}/").json()
        if until(body):
            return body
        time.sleep(0.5)
    raise AssertionError(f"the job stayed {body['status']} ({body['phase']}): {body['log_tail'][-300:]}")


def test_a_pipeline_starts_a_job_follows_it_to_the_end_and_reads_the_result(worker, consultant, engagement,
                                                                            sim_host, simhost):
    client = token_client(consultant)
    stage = engagement.stages.get(key="training_tuning")
    started = client.post("/api/jobs/", {
        "stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "training_run",
        "parameters": {"command": f"python3 {simhost.root}/opt/train/train.py --steps 30 --sleep 0",
                       "workdir": "/tmp", "timeout_s": 600}}, format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["status"] == "queued" and body["kind"] == "training_run" and body["stage"] == str(stage.uuid)
    assert "argv" not in body["parameters"] and body["parameters"]["workdir"] == "/tmp"
    done = follow(client, body["uuid"], lambda b: b["is_final"])
    assert done["status"] == "succeeded", done["failure_message"]
    assert done["progress"] == 100 and done["exit_code"] == 0
    assert "iteration" in done["log_tail"] and len(done["log_tail"]) <= 4000
    assert done["result"]["points"] == 30 and done["result"]["loss_curve"]
    assert len(client.get(f"/api/jobs/{body['uuid']}/", {"tail": 50}).json()["log_tail"]) <= 50
    listed = client.get("/api/jobs/", {"status": "succeeded", "engagement": str(engagement.uuid)}).json()
    assert [job["uuid"] for job in listed["results"]] == [body["uuid"]]
    # Cancelling a job that has ended is refused for its state.
    assert client.post(f"/api/jobs/{body['uuid']}/cancel/").status_code == 400


def test_a_pipeline_cancels_a_running_job(worker, consultant, engagement, sim_host, simhost):
    client = token_client(consultant)
    stage = engagement.stages.get(key="training_tuning")
    body = client.post("/api/jobs/", {
        "stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "training_run",
        "parameters": {"command": f"python3 {simhost.root}/opt/train/train.py --steps 5000 --sleep 0.05",
                       "workdir": "/tmp"}}, format="json").json()
    follow(client, body["uuid"], lambda b: b["status"] == "running" and "iteration" in b["log_tail"])
    cancelled = client.post(f"/api/jobs/{body['uuid']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["cancel_requested"] is True
    done = follow(client, body["uuid"], lambda b: b["is_final"])
    assert done["status"] == "cancelled" and done["failure_reason"] == "cancelled"


def test_a_pipeline_launches_a_template(worker, consultant, engagement, sim_host):
    stage = engagement.stages.get(key="env_setup")
    template = JobTemplate.objects.create(engagement=engagement, stage=stage, name="disk", kind="disk_check",
                                          host=sim_host, parameters={}, created_by=consultant)
    client = token_client(consultant)
    started = client.post("/api/jobs/", {"template": str(template.uuid)}, format="json")
    assert started.status_code == 201, started.content
    done = follow(client, started.json()["uuid"], lambda b: b["is_final"])
    assert done["status"] == "succeeded" and done["kind"] == "disk_check" and done["stage"] == str(stage.uuid)


@pytest.mark.django_db
def test_starting_is_checked_like_the_form(consultant, engagement, other_engagement, sim_host):
    client = token_client(consultant)
    stage = engagement.stages.get(key="training_tuning")
    missing = client.post("/api/jobs/", {"kind": "training_run"}, format="json")
    assert missing.status_code == 400 and {"stage", "host"} <= set(missing.json())
    bad = client.post("/api/jobs/", {"stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "training_run",
                                     "parameters": {"workdir": "/tmp"}}, format="json")
    assert bad.status_code == 400 and "command" in bad.json()
    pattern = client.post("/api/jobs/", {"stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "training_run",
                                         "parameters": {"command": "python3 t.py", "workdir": "/tmp",
                                                        "loss_pattern": "(x"}}, format="json")
    assert pattern.status_code == 400 and "loss_pattern" in pattern.json()
    unknown = client.post("/api/jobs/", {"stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "rm_rf"},
                          format="json")
    assert unknown.status_code == 400 and "kind" in unknown.json()
    # A stage of an engagement the consultant does not work on does not exist for them.
    foreign = client.post("/api/jobs/", {"stage": str(other_engagement.stages.first().uuid),
                                         "host": str(sim_host.uuid), "kind": "disk_check"}, format="json")
    assert foreign.status_code == 400 and "stage" in foreign.json()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_jobs_are_scoped_like_the_pages(consultant, other_consultant, contact, stranger, engagement, sim_host):
    from workers import jobs

    stage = engagement.stages.get(key="env_setup")
    job = jobs.check_start_job(consultant, stage, sim_host, "disk_check", {})
    start = {"stage": str(stage.uuid), "host": str(sim_host.uuid), "kind": "disk_check"}
    # The customer's contact: jobs are internal to the service provider (403), even their own.
    as_contact = token_client(contact)
    assert as_contact.get("/api/jobs/").status_code == 403
    assert as_contact.get(f"/api/jobs/{job.uuid}/").status_code == 403
    assert as_contact.post("/api/jobs/", start, format="json").status_code == 403
    assert as_contact.post(f"/api/jobs/{job.uuid}/cancel/").status_code == 403
    # Another customer's contact, and a consultant not on the engagement: the job does not exist.
    for user in (stranger, other_consultant):
        client = token_client(user)
        assert client.get(f"/api/jobs/{job.uuid}/").status_code == 404, user
        assert client.post(f"/api/jobs/{job.uuid}/cancel/").status_code == 404, user
    assert token_client(other_consultant).get("/api/jobs/").json()["results"] == []
    assert Job.objects.count() == 1 and not Job.objects.get().cancel_requested
    assert APIClient().get("/api/jobs/").status_code in (401, 403)
