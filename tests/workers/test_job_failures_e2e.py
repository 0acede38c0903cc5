"""An unexpected error in a job's task, against a real worker process, Redis, PostgreSQL and sshd.

The worker here has a two-minute lease and a reaper that never runs within a test: whatever
takes a job out of "running" is its own task, never the reaper.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.conftest import WorkerProcess
from tests.workers.waiting import wait_for
from workers import jobs
from workers.models import Job, JobTransition

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 120


@pytest.fixture(scope="module")
def patient_worker_process(worker_process):
    base = Path(tempfile.mkdtemp(prefix="worker-patient-"))
    env = {**worker_process.env, "MEDIA_ROOT": str(base / "media"), "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
           "JOB_REAPER_SECONDS": "3600", "JOB_REQUEUE_AFTER_SECONDS": "3600"}
    worker_process.stop()  # its reaper (every 2 s, 6 s leases) must not be what helps; `worker` restarts it
    process = WorkerProcess(env, base)
    process.media = base / "media"
    process.start()
    yield process
    process.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def patient_worker(patient_worker_process, worker_process, settings, redis_server, transactional_db, monkeypatch):
    from config.celery import app

    worker_process.stop()
    settings.MEDIA_ROOT = patient_worker_process.media
    settings.JOB_LEASE_SECONDS = LEASE_SECONDS
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{redis_server.port}/0")
    app._pool = app.amqp._producer_pool = None
    if patient_worker_process.proc.poll() is not None:
        patient_worker_process.start()
    return patient_worker_process


def start(consultant, engagement, host, **params):
    return jobs.check_start_job(consultant, engagement.stages.get(key="training_tuning"), host, "evaluation", params)


def drop_ssh_connections(simhost) -> int:
    """Kill the simulated host's per-connection sshd processes (not its listener, not the
    commands the jobs run detached): what a network cut does to the worker's session."""
    listener = int((simhost.root.parent / "sshd.pid").read_text())
    table = subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True, check=True).stdout
    children: dict[int, list[tuple[int, str]]] = {}
    for line in table.splitlines():
        pid, ppid, comm = line.split(None, 2)
        children.setdefault(int(ppid), []).append((int(pid), comm.strip()))
    doomed, todo = [], [listener]
    while todo:
        for pid, comm in children.get(todo.pop(), []):
            if comm.startswith("sshd"):
                doomed.append(pid)
                todo.append(pid)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(doomed)


def terminate_database_connections() -> int:
    """What a PostgreSQL restart does to the worker: every other session of the test database ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("interruption", ["ssh-connection-dropped", "database-connections-terminated"])
def test_a_transient_error_mid_job_is_retried_at_once_and_the_run_re_attached(patient_worker, consultant, engagement,
                                                                              sim_host, simhost, interruption):
    job = start(consultant, engagement, sim_host, command="sh -c 'sleep 6; echo score: 64.5'")
    wait_for(job, lambda job: job.status == Job.Status.RUNNING and job.phase == "running", timeout=30)
    time.sleep(1.5)  # the supervisor is polling the remote run
    if interruption == "ssh-connection-dropped":
        assert drop_ssh_connections(simhost) >= 1
    else:
        assert terminate_database_connections() >= 1
    # The lease runs 2 minutes and there is no reaper: only the task itself can end this in time.
    wait_for(job, lambda job: job.is_final, timeout=40)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["score"] == 64.5
    assert job.attempts == 2
    reasons = list(JobTransition.objects.filter(job=job).values_list("reason", flat=True))
    assert any("Re-attached" in reason for reason in reasons)
    log = (patient_worker.media / "jobs" / str(job.uuid) / "output.log").read_text()
    assert log.count("score: 64.5") == 1  # re-attached, not run twice


def test_an_unexpected_error_fails_the_job_at_once_with_its_type_and_message(patient_worker, consultant, engagement,
                                                                            sim_host, client):
    with transaction.atomic():  # the task is sent at commit, so it reads the row as changed below
        job = start(consultant, engagement, sim_host, command="echo score: 1")
        # Parameters as an older version stored them, before the kind kept the split command.
        Job.objects.filter(pk=job.pk).update(parameters={"command": "echo score: 1", "timeout_s": 60})
    wait_for(job, lambda job: job.is_final, timeout=40)
    assert (job.status, job.attempts) == (Job.Status.FAILED, 1)  # a bug is not retried
    assert "KeyError: 'argv'" in job.failure_message
    assert job.failure_detail["params"]["error"] == "KeyError: 'argv'"
    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/live/").content.decode()
    assert "KeyError: &#x27;argv&#x27;" in page and "%(error)s" not in page and "Traceback" not in page
