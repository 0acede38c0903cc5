"""Faults the chaos benchmark (``bench/chaos.py``) found, each against the real parts:
PostgreSQL, sshd, the job's Celery task, and a real worker where the timing is the point.

Every test here failed before its fix.
"""

import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from demo.simhost import SSHD, SimulatedHost
from workers import jobs, tasks
from workers.errors import Reason, TransientError
from workers.models import AscendHost, Job
from workers.ssh import HostKey, Session, Target, fingerprint

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(job, done, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if done(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status} ({job.phase}) for {timeout} s: {job.failure_message}")


def closed_port() -> int:
    """A loopback port nothing listens on: a host whose sshd is down refuses the connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def register(pm, customer, info):
    host = jobs.check_register_host(pm, {
        "customer": customer, "name": f"sim-{info.port}", "address": info.address, "port": info.port,
        "username": info.username, "auth_method": "key", "ascend_home": info.ascend_home,
        "tool_path": info.tool_path,
    }, info.private_key)
    presented = jobs.fetch_key_for_confirmation(host)
    return jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)


@pytest.fixture
def own_simhost():
    """A simulated host of this test's own, whose sshd the test stops and starts again."""
    base = Path(tempfile.mkdtemp(prefix="simhost-chaos-"))
    host = SimulatedHost(base)
    host.start()
    yield host
    host.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_retries_after_connection_failures_use_up_no_attempt(consultant, engagement, sim_host):
    """The host's sshd is down: each try of the job's task fails to connect and is retried (here
    at once: the task runs eagerly, its retries inline). The job ends failed on the connection
    after the task's last retry, each try noted in its history. Before the fix each retry's
    pick-up counted as an attempt of a lost worker, and the job ended "lost": "picked up 5 times
    and no worker finished it", though no worker was lost (the benchmark saw it within 4 s of a
    host's sshd stopping, the reaper re-sending the job beside the task's own retries)."""
    AscendHost.objects.filter(pk=sim_host.pk).update(port=closed_port())
    job = Job.objects.create(kind="disk_check", engagement=engagement, stage=engagement.stages.first(),
                             host=sim_host, started_by=consultant, parameters={})

    tasks.run_job.apply(args=[job.pk])

    job.refresh_from_db()
    assert (job.status, job.failure_reason) == (Job.Status.FAILED, Job.Failure.CONNECTION), job.failure_message
    assert "Cannot connect to" in job.failure_message
    notes = job.transitions.filter(from_status=Job.Status.RUNNING, to_status=Job.Status.RUNNING,
                                   reason_detail__msgid=jobs.INTERRUPTED)
    assert notes.count() == tasks.run_job.max_retries  # every try but the last gave the job back
    assert "Interrupted by a lost connection: Cannot connect to" in notes.first().reason
    assert job.attempts == tasks.run_job.max_retries + 1


def test_a_job_started_while_its_hosts_sshd_is_down_runs_once_it_is_back(worker, pm, consultant, customer_a,
                                                                         engagement, own_simhost):
    """A real worker (its reaper every 2 s), and a host whose sshd is stopped for 8 s. Before the
    fix the job was lost within those seconds; now it waits for the host and then runs."""
    host = register(pm, customer_a, own_simhost.info)
    own_simhost.stop()
    job = jobs.check_start_job(consultant, engagement.stages.first(), host, "disk_check", {})
    time.sleep(8)
    job.refresh_from_db()
    assert not job.is_final, f"{job.status}: {job.failure_message}"
    assert job.transitions.filter(reason_detail__msgid=jobs.INTERRUPTED).exists()
    own_simhost.start()

    wait_for(job, lambda job: job.is_final, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["free_kb"] > 0


def test_waiting_for_a_busy_host_leaves_the_retries_for_lost_connections(worker, consultant, engagement, sim_host):
    """Two NPU jobs on one host: the second waits its turn, its task looking again every 5 s.
    When its turn comes the host refuses the connection once (its port changed under it here,
    as a host whose sshd restarts): the job is retried, and runs when the host answers again.
    Before the fix each look at the busy host was a Celery retry, so after 25 s of waiting the
    first connection failure was the task's last try and failed the job at once."""
    stage = engagement.stages.get(key="training_tuning")
    first = jobs.check_start_job(consultant, stage, sim_host, "evaluation",
                                 {"command": "sh -c 'sleep 32; echo score: 1'"})
    wait_for(first, lambda job: job.status == Job.Status.RUNNING and job.phase == "running", timeout=40)
    second = jobs.check_start_job(consultant, stage, sim_host, "evaluation", {"command": "echo score: 2"})
    wait_for(second, lambda job: job.phase == "waiting for the host", timeout=20)
    time.sleep(20)  # its task has looked at the busy host several times
    # The first job's supervisor keeps its open session; a new connection is refused.
    AscendHost.objects.filter(pk=sim_host.pk).update(port=closed_port())
    try:
        wait_for(second, lambda job: job.is_final or job.transitions.filter(
            reason_detail__msgid=jobs.INTERRUPTED).exists(), timeout=60)
        assert not second.is_final, f"{second.status}: {second.failure_message}"
    finally:
        AscendHost.objects.filter(pk=sim_host.pk).update(port=sim_host.port)
    wait_for(second, lambda job: job.is_final, timeout=120)
    assert second.status == Job.Status.SUCCEEDED, second.failure_message
    assert second.result["score"] == 2
    wait_for(first, lambda job: job.is_final, timeout=60)
    assert first.status == Job.Status.SUCCEEDED, first.failure_message


def test_a_connection_cut_during_the_login_is_retried_not_taken_for_a_refused_login(own_simhost):
    """sshd killed while a worker was logging in: paramiko raises that as an
    AuthenticationException ("transport shut down or saw EOF"), and the job failed at once as
    though its key had been refused ("Authentication failed ... check the user and the key").
    Here sshd itself cuts the login short: the only source of keys is a command that takes
    longer than the login may (LoginGraceTime), as a killed or restarting sshd would."""
    config = own_simhost.base / "sshd_config"
    text = re.sub(r"(?m)^AuthorizedKeysFile .*$", "AuthorizedKeysFile none", config.read_text())
    config.write_text(text + "AuthorizedKeysCommand /bin/sleep 30\nAuthorizedKeysCommandUser nobody\n"
                             "LoginGraceTime 2\n")
    own_simhost.stop()
    log = open(own_simhost.base / "sshd.log", "ab")  # noqa: SIM115 - sshd's; the fixture stops it
    own_simhost.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log,
                                           start_new_session=True)
    log.close()
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", own_simhost.port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "sshd did not listen again"
            time.sleep(0.1)
    info = own_simhost.info
    key_type, key_b64 = own_simhost.host_public_key()
    target = Target(info.address, info.port, info.username, HostKey(key_type, key_b64, fingerprint(key_type, key_b64)),
                    private_key=info.private_key)

    with pytest.raises(TransientError) as caught:
        Session(target).connect()
    assert caught.value.reason == Reason.CONNECTION
    assert "the connection closed during the login" in str(caught.value)


def test_a_job_started_while_the_broker_is_down_is_saved_queued_not_a_500(client, consultant, engagement, sim_host,
                                                                         monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    """Redis down at the click: the job is saved and stays queued for the reaper to send; the page
    answers as usual instead of a server error."""
    from config.celery import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{closed}/0")
    monkeypatch.setitem(app.conf, "broker_url", f"redis://127.0.0.1:{closed}/0")
    monkeypatch.setitem(app.conf, "task_publish_retry_policy", {"max_retries": 0})
    monkeypatch.setitem(app.conf, "broker_connection_timeout", 1)
    app._pool = app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.check_start_job(consultant, engagement.stages.get(key="training_tuning"), sim_host,
                                       "evaluation", {"command": "echo score: 1"})
    finally:
        app._pool = app.amqp._producer_pool = None
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
