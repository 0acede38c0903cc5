"""The two ways a job ends "lost", against a real worker process, Redis, PostgreSQL and sshd.

A job is lost only for a true reason: no worker finished it after every attempt, or its remote
run is gone without an exit code. The `worker` fixture's reaper runs every 2 s on 6 s leases,
so a worker killed mid-job is noticed within seconds.
"""

import pwd
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers.waiting import wait_for
from workers import jobs
from workers.models import Job, JobTransition

pytestmark = pytest.mark.django_db(transaction=True)


def start_running(consultant, engagement, host, command):
    job = jobs.check_start_job(consultant, engagement.stages.get(key="training_tuning"), host, "evaluation",
                               {"command": command})
    return wait_for(job, lambda job: job.status == Job.Status.RUNNING and job.phase == "running", timeout=40)


def run_dir_of(job, simhost) -> Path:
    """The job's directory on the simulated host, seen from here (the same machine)."""
    return Path(pwd.getpwnam(simhost.username).pw_dir) / job.remote_dir


def remote_session_alive(run_dir: Path) -> bool:
    sid = (run_dir / "pid").read_text().strip()
    return subprocess.run(["pgrep", "-s", sid], capture_output=True).returncode == 0


def kill_remote_session(run_dir: Path) -> None:
    """What a host reboot or an OOM kill does to a detached run: every process of its session
    gone, no exit code written."""
    sid = (run_dir / "pid").read_text().strip()
    subprocess.run(["pkill", f"-{signal.SIGKILL.value}", "-s", sid], check=False)
    deadline = time.monotonic() + 10
    while remote_session_alive(run_dir):
        assert time.monotonic() < deadline, "the remote run did not die"
        time.sleep(0.1)


def test_a_job_whose_remote_run_vanished_ends_lost_with_that_reason(worker, consultant, engagement, sim_host,
                                                                    simhost, client):
    job = start_running(consultant, engagement, sim_host, "sh -c 'echo started; sleep 120; echo score: 1'")
    run_dir = run_dir_of(job, simhost)
    worker.kill_hard()  # the supervising task dies with its worker
    kill_remote_session(run_dir)
    assert not (run_dir / "exit_code").exists()
    worker.start()  # its reaper re-sends the job once the lease runs out; the new task re-attaches

    wait_for(job, lambda job: job.is_final, timeout=60)
    assert job.status == Job.Status.LOST
    assert job.failure_reason == Job.Failure.WORKER_LOST
    assert "remote process is gone without an exit code" in job.failure_message
    assert job.attempts == 2  # the first task, then the re-attaching one: not launched again
    assert (run_dir / "output.log").read_text().count("started") == 1
    reasons = list(JobTransition.objects.filter(job=job).values_list("to_status", flat=True))
    assert reasons[-1] == Job.Status.LOST and reasons.count(Job.Status.LOST) == 1

    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/live/").content.decode()
    assert "remote process is gone without an exit code" in page


def test_a_job_no_worker_finishes_ends_lost_after_its_last_attempt(worker, consultant, engagement, sim_host,
                                                                   simhost):
    job = start_running(consultant, engagement, sim_host, "sh -c 'sleep 120'")
    run_dir = run_dir_of(job, simhost)
    worker.kill_hard()
    # As though every earlier attempt had been taken by a worker that died in turn.
    Job.objects.filter(pk=job.pk).update(attempts=settings.JOB_MAX_ATTEMPTS)
    try:
        worker.start()
        wait_for(job, lambda job: job.is_final, timeout=60)
        assert job.status == Job.Status.LOST
        assert job.failure_reason == Job.Failure.WORKER_LOST
        assert f"picked up {settings.JOB_MAX_ATTEMPTS} times" in job.failure_message
        assert job.attempts == settings.JOB_MAX_ATTEMPTS  # the giving-up claim is not an attempt
        # It is given up, not re-attached: the remote run was never launched a second time.
        assert not (run_dir / "done").exists()
    finally:
        if (run_dir / "pid").exists() and remote_session_alive(run_dir):
            kill_remote_session(run_dir)


def test_a_job_with_attempts_left_is_re_attached_not_lost(worker, consultant, engagement, sim_host, simhost):
    """The counterpart of the test above: the same fault one attempt earlier is survived."""
    job = start_running(consultant, engagement, sim_host, "sh -c 'echo started; sleep 4; echo score: 7.5'")
    worker.kill_hard()
    Job.objects.filter(pk=job.pk).update(attempts=settings.JOB_MAX_ATTEMPTS - 1)
    worker.start()
    wait_for(job, lambda job: job.is_final, timeout=60)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["score"] == 7.5
    assert job.attempts == settings.JOB_MAX_ATTEMPTS
    assert (run_dir_of(job, simhost) / "output.log").read_text().count("started") == 1
