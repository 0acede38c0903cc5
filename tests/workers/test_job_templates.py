"""Re-running a job prefilled, and job templates: saved from the form or a job's page, listed
on the jobs page, launched in one click through the form's checks, edited, deleted, audited."""

import time

import pytest
from django.test import Client

from engagements.models import AuditEvent
from workers import jobs
from workers.models import Job, JobTemplate

TRAIN = "python3 {root}/opt/train/train.py --steps 5 --sleep 0"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def wait_for(job, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_final:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job stayed {job.status}: {job.output_tail[-300:]}")


@pytest.mark.django_db
def test_run_again_opens_the_form_prefilled_with_the_jobs_settings(consultant, engagement, sim_host, simhost):
    stage = engagement.stages.get(key="training_tuning")
    command = TRAIN.format(root=simhost.root)
    job = jobs.check_start_job(consultant, stage, sim_host, "training_run",
                               {"command": command, "workdir": "/tmp", "loss_pattern": r"loss (\d+\.\d+)",
                                "timeout_s": 900})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    client = client_for(consultant)
    detail = client.get(f"/jobs/{job.uuid}/").content.decode()
    assert 'data-testid="rerun-job"' in detail and 'data-testid="save-job-template"' in detail
    page = client.get(f"/stages/{stage.uuid}/jobs/", {"from_job": str(job.uuid)})
    assert page.status_code == 200
    form = page.context["form"]
    assert form["kind"].value() == "training_run" and str(form["host"].value()) == str(sim_host.pk)
    assert form["command"].value() == command and form["workdir"].value() == "/tmp"
    assert form["loss_pattern"].value() == r"loss (\d+\.\d+)" and str(form["timeout_s"].value()) == "900"
    assert 'data-testid="rerun-source"' in page.content.decode()
    # The user may change anything before starting: the form posts like any other.
    started = client.post(f"/stages/{stage.uuid}/jobs/", {"kind": "training_run", "host": sim_host.pk,
                                                          "command": command, "workdir": "/var/tmp",
                                                          "timeout_s": "60"})
    assert started.status_code == 302
    again = Job.objects.exclude(pk=job.pk).get()
    assert again.parameters["workdir"] == "/var/tmp" and again.parameters["command"] == command
    # A job of another engagement is not offered as a source; a job out of scope does not exist.
    assert client.get(f"/stages/{stage.uuid}/jobs/", {"from_job": "not-a-uuid"}).status_code == 404


@pytest.mark.django_db
def test_a_template_is_saved_from_the_form_listed_edited_and_deleted_with_an_audit_trail(consultant, engagement,
                                                                                          sim_host):
    stage = engagement.stages.get(key="env_setup")
    client = client_for(consultant)
    url = f"/stages/{stage.uuid}/jobs/"
    # The same validation as starting: the kind's fields are checked, and a name is needed.
    refused = client.post(url, {"kind": "training_run", "host": sim_host.pk, "action": "save_template",
                                "template_name": "train", "workdir": "/tmp"})
    assert refused.status_code == 400 and not JobTemplate.objects.exists()
    assert refused.context["form"].errors["command"]
    unnamed = client.post(url, {"kind": "disk_check", "host": sim_host.pk, "action": "save_template"})
    assert unnamed.status_code == 400 and "template_name" in unnamed.context["form"].errors
    saved = client.post(url, {"kind": "training_run", "host": sim_host.pk, "action": "save_template",
                              "template_name": "Nightly 训练", "command": "python3 train.py --steps 5",
                              "workdir": "/tmp", "timeout_s": "600"})
    assert saved.status_code == 302 and saved["Location"].endswith("#job-templates")
    template = JobTemplate.objects.get()
    assert (template.name, template.kind, template.host, template.stage) == ("Nightly 训练", "training_run", sim_host,
                                                                            stage)
    assert template.parameters["command"] == "python3 train.py --steps 5" and "argv" not in template.parameters
    assert not Job.objects.exists()  # saving starts nothing
    page = client.get(url).content.decode()
    assert 'data-testid="job-template"' in page and "Nightly 训练" in page
    duplicate = client.post(url, {"kind": "disk_check", "host": sim_host.pk, "action": "save_template",
                                  "template_name": "Nightly 训练"})
    assert duplicate.status_code == 400 and "template_name" in duplicate.context["form"].errors

    edit_url = f"/job-templates/{template.uuid}/"
    form = client.get(edit_url).context["form"]
    assert form["command"].value() == "python3 train.py --steps 5" and form["template_name"].value() == "Nightly 训练"
    bad = client.post(edit_url, {"kind": "training_run", "host": sim_host.pk, "template_name": "Nightly 训练",
                                 "command": "x", "workdir": "/tmp", "loss_pattern": "(unclosed", "timeout_s": "60"})
    assert bad.status_code == 400 and "loss_pattern" in bad.context["form"].errors
    edited = client.post(edit_url, {"kind": "training_run", "host": sim_host.pk, "template_name": "Nightly",
                                    "command": "python3 train.py --steps 9", "workdir": "/tmp", "timeout_s": "60"})
    assert edited.status_code == 302
    template.refresh_from_db()
    assert template.name == "Nightly" and template.parameters["command"].endswith("--steps 9")

    assert client.post(f"/job-templates/{template.uuid}/delete/").status_code == 302
    assert not JobTemplate.objects.exists()
    events = AuditEvent.objects.filter(object_type="jobtemplate").order_by("created_at", "pk")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["create", "update", "delete"]


def test_a_template_saved_from_a_jobs_page_is_launched_in_one_click_and_runs(worker, consultant, engagement, sim_host):
    stage = engagement.stages.get(key="env_setup")
    first = jobs.check_start_job(consultant, stage, sim_host, "disk_check", {})
    wait_for(first)
    client = client_for(consultant)
    saved = client.post(f"/jobs/{first.uuid}/save-template/", {"name": "Disk check"})
    assert saved.status_code == 302
    template = JobTemplate.objects.get(name="Disk check")
    assert (template.kind, template.host, template.stage) == ("disk_check", sim_host, stage)
    launched = client.post(f"/job-templates/{template.uuid}/launch/")
    job = Job.objects.exclude(pk=first.pk).get()
    assert launched.status_code == 302 and launched["Location"] == f"/jobs/{job.uuid}/"
    assert wait_for(job).status == Job.Status.SUCCEEDED, job.failure_message
    assert (job.kind, job.host, job.stage, job.started_by) == ("disk_check", sim_host, stage, consultant)


@pytest.mark.django_db
def test_a_launch_goes_through_the_forms_checks(consultant, engagement, sim_host):
    stage = engagement.stages.get(key="env_setup")
    template = JobTemplate.objects.create(engagement=engagement, stage=stage, name="probe", kind="env_probe",
                                          host=sim_host, parameters={}, created_by=consultant)
    sim_host.host_key_approved_at = None  # the host's key must be confirmed again
    sim_host.save()
    client = client_for(consultant)
    refused = client.post(f"/job-templates/{template.uuid}/launch/", follow=True)
    assert not Job.objects.exists()
    assert "cannot start: Confirm the host" in refused.content.decode()


@pytest.mark.django_db
def test_who_may_see_and_use_templates(consultant, other_consultant, contact, stranger, pm, engagement, sim_host):
    stage = engagement.stages.get(key="env_setup")
    template = JobTemplate.objects.create(engagement=engagement, stage=stage, name="disk", kind="disk_check",
                                          host=sim_host, parameters={}, created_by=consultant)
    for user, status in ((contact, 403), (stranger, 404), (other_consultant, 404)):
        client = client_for(user)
        assert client.get(f"/job-templates/{template.uuid}/").status_code == status, user
        assert client.post(f"/job-templates/{template.uuid}/launch/").status_code == status, user
        assert client.post(f"/job-templates/{template.uuid}/delete/").status_code == status, user
    assert JobTemplate.objects.filter(pk=template.pk).exists() and not Job.objects.exists()
    assert client_for(pm).get(f"/job-templates/{template.uuid}/").status_code == 200
