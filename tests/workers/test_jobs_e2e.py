"""Jobs end to end: the portal's services, a real Celery worker process, Redis and sshd."""

import hashlib
import os
import pwd
import shlex
import socket
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from assessments.models import BenchmarkRun, EvaluationRun, LossCurve, MigrationAnalysis
from workers import jobs
from workers.models import AscendHost, EnvSnapshot, Job, JobTransition

pytestmark = pytest.mark.django_db(transaction=True)
TRAIN = "python3 {root}/opt/train/train.py --steps {steps} --precision {precision} --sleep {sleep} --save-interval 50"


def wait_for(job, statuses, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job stayed {job.status} ({job.phase}); tail: {job.output_tail[-500:]}")


def start(consultant, engagement, host, kind, **params):
    stage = engagement.stages.get(key="env_setup" if kind == "env_probe" else "training_tuning")
    return jobs.check_start_job(consultant, stage, host, kind, params)


def test_an_env_probe_runs_and_records_a_snapshot(worker, consultant, engagement, sim_host):
    job = start(consultant, engagement, sim_host, "env_probe")
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    snapshot = EnvSnapshot.objects.get(job=job)
    assert len(snapshot.data["npus"]) == 8
    assert {npu["name"] for npu in snapshot.data["npus"]} == {"910B3"}
    assert snapshot.data["driver"]["Version"] == "24.1.rc1"
    assert snapshot.data["torch_npu"] == "2.1.0.post8"
    assert snapshot.data["cann"]["version"] == "8.5.0"
    assert snapshot.data["cann"]["source"] == "ascend_toolkit_install.info"
    assert "No such file" not in job.output_tail  # the CANN place the host does not use is no error
    moves = list(JobTransition.objects.filter(job=job).values_list("from_status", "to_status"))
    assert moves[0] == ("", "queued") and ("queued", "running") in moves and ("running", "succeeded") in moves
    assert "910B3" in job.output_tail
    # The env_setup stage shows the snapshot; a second probe highlights what changed.
    from django.test import Client

    EnvSnapshot.objects.filter(pk=snapshot.pk).update(data={**snapshot.data, "torch_npu": "2.1.0.post6"})
    second = start(consultant, engagement, sim_host, "env_probe")
    wait_for(second, Job.FINAL)
    client = Client()
    client.force_login(consultant)
    page = client.get(f"/stages/{engagement.stages.get(key='env_setup').uuid}/").content.decode()
    assert 'data-testid="stage-environment"' in page and "910B3" in page
    assert 'data-testid="environment-changes"' in page and "2.1.0.post6" in page


def test_a_training_run_extracts_the_loss_curve_and_checkpoints(worker, consultant, engagement, sim_host, simhost):
    workdir = Path(tempfile.mkdtemp(prefix="train-"))  # the host's login user works there too
    (workdir / "checkpoints").mkdir()
    stale = workdir / "checkpoints" / "from-last-week.pt"
    stale.write_bytes(b"old")
    os.utime(stale, (0, 0))
    for path in (workdir, workdir / "checkpoints"):
        os.chmod(path, 0o777)  # noqa: S103 - a throw-away dir the simulated host's other login user writes to
    command = TRAIN.format(root=simhost.root, steps=60, precision="fp16", sleep=0)
    job = start(consultant, engagement, sim_host, "training_run", command=command, workdir=str(workdir))
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["points"] == 60
    assert job.result["last_loss"] < job.result["first_loss"]
    assert job.result["checkpoints_written"] is True and job.result["loss_changed"] is True
    assert job.progress == 100
    curve = LossCurve.objects.get(job=job)
    steps, losses = curve.series()
    assert (curve.platform, curve.points, list(steps[:3])) == ("npu", 60, [1, 2, 3])
    assert losses[0] == job.result["first_loss"] and losses[-1] == job.result["last_loss"]
    assert job.result["loss_curve"] == str(curve.uuid) and "steps" not in job.result
    assert any(path.endswith("iter_0000050.pt") for path in curve.checkpoints)
    assert not any("from-last-week" in path for path in curve.checkpoints)  # only this run's files
    log = (simhost_job_dir(simhost, sim_host, job) / "output.log").read_bytes()
    assert curve.raw_sha256 == hashlib.sha256(log.decode().encode()).hexdigest()


def test_a_benchmark_and_an_evaluation_become_records(worker, consultant, engagement, sim_host, simhost):
    bench = start(consultant, engagement, sim_host, "inference_benchmark",
                  command="benchmark --DatasetPath /data/gsm8k --ModelName QwQ-32B --TestType client")
    score = start(consultant, engagement, sim_host, "evaluation", dataset="ceval",
                  command=f"python3 {simhost.root}/opt/train/evaluate.py --dataset ceval --score 81.25")
    wait_for(bench, Job.FINAL)
    wait_for(score, Job.FINAL)
    assert (bench.status, score.status) == ("succeeded", "succeeded"), (bench.failure_message, score.failure_message)
    run = BenchmarkRun.objects.get(job=bench)
    assert run.summary["first_token_ms"] == 97.07 and run.common["Throughput"] == 0.679
    evaluation = EvaluationRun.objects.get(job=score)
    assert (evaluation.dataset, evaluation.score) == ("ceval", 81.25)


def test_a_migration_analysis_stores_scanner_and_official_findings(worker, consultant, engagement, sim_host, simhost):
    code_dir = f"{simhost.root}/opt/code/train_demo"
    job = start(consultant, engagement, sim_host, "migration_analysis", code_dir=code_dir)
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    analysis = MigrationAnalysis.objects.get(job=job)
    assert analysis.official_tool_ran and analysis.files_scanned == 1 and analysis.effort_person_days > 0
    scanner = analysis.findings.filter(source="scanner")
    assert scanner.filter(file="train.py", line=22, category="data_parallel", fix="manual").exists()
    assert scanner.filter(line=19, category="distributed").exists()  # backend="nccl"
    official = analysis.findings.filter(source="official")
    assert sorted(official.filter(category="official_unsupported").values_list("line", flat=True)) == [12, 22, 26]
    assert official.filter(category="official_performance_advice").count() == 5
    assert job.result["findings_count"] == analysis.findings.count() and "findings" not in job.result


def test_a_failing_command_fails_with_its_exit_code(worker, consultant, engagement, sim_host):
    job = start(consultant, engagement, sim_host, "evaluation", command="sh -c 'echo broken >&2; exit 3'")
    wait_for(job, Job.FINAL)
    assert (job.status, job.exit_code, job.failure_reason) == ("failed", 3, "command")
    assert "broken" in job.failure_message


def test_a_missing_tool_is_reported_as_command_not_found(worker, consultant, engagement, sim_host, client):
    job = start(consultant, engagement, sim_host, "inference_benchmark", command="mindie-no-such-benchmark --x")
    wait_for(job, Job.FINAL)
    assert (job.status, job.exit_code) == ("failed", 127)
    assert "command not found" in job.failure_message  # the record is in English

    consultant.language = "zh-hans"
    consultant.save(update_fields=["language"])
    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/live/").content.decode()
    assert "命令以退出码 127 结束（未找到命令）" in page  # the reader's language, the worker's parameters
    assert "mindie-no-such-benchmark" in page  # the host's own output, as it was
    assert "command not found" not in page.split('data-testid="job-log"')[0]
    assert "从门户启动。" in page and "已被 worker 领取。" in page  # the history, translated too


def test_a_job_past_its_time_limit_is_stopped(worker, consultant, engagement, sim_host):
    job = start(consultant, engagement, sim_host, "evaluation", command="sleep 30", timeout_s=2)
    wait_for(job, Job.FINAL, timeout=60)
    assert (job.status, job.failure_reason) == ("failed", "timeout")


def test_cancel_mid_run_kills_the_remote_process_group(worker, consultant, engagement, sim_host, simhost):
    command = TRAIN.format(root=simhost.root, steps=2000, precision="fp32", sleep=0.05)
    job = start(consultant, engagement, sim_host, "training_run", command=command, workdir="/tmp")
    wait_for(job, [Job.Status.RUNNING])
    deadline = time.monotonic() + 30
    while "iteration" not in job.output_tail and time.monotonic() < deadline:
        time.sleep(0.3)
        job.refresh_from_db()
    jobs.check_cancel_job(consultant, job)
    wait_for(job, Job.FINAL, timeout=60)
    assert job.status == Job.Status.CANCELLED
    pid = int((simhost_job_dir(simhost, sim_host, job) / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def simhost_job_dir(simhost, host, job):
    home = Path(pwd.getpwnam(simhost.username).pw_dir)
    return home / host.work_root / str(job.uuid)


def test_a_worker_killed_mid_job_is_re_attached_not_rerun(worker, consultant, engagement, sim_host, simhost):
    command = TRAIN.format(root=simhost.root, steps=120, precision="fp32", sleep=0.05)
    job = start(consultant, engagement, sim_host, "training_run", command=command, workdir="/tmp")
    wait_for(job, [Job.Status.RUNNING])
    time.sleep(2)
    worker.kill_hard()
    worker.start()
    wait_for(job, Job.FINAL, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["points"] == 120
    assert job.attempts >= 2
    log = (simhost_job_dir(simhost, sim_host, job) / "output.log").read_text()
    assert log.count("iteration        1/") == 1  # launched once, never run twice
    reasons = list(JobTransition.objects.filter(job=job).values_list("reason", flat=True))
    assert any("Re-attached" in reason for reason in reasons)


def queued_messages(redis_server, queue="ssh") -> int:
    out = subprocess.run(["redis-cli", "-p", str(redis_server.port), "llen", queue], capture_output=True, text=True)
    return int(out.stdout.strip())


def test_jobs_queued_while_redis_restarts_are_not_lost(worker, consultant, engagement, sim_host, redis_server):
    worker.stop()  # nobody consumes: the messages wait in Redis
    queued = [start(consultant, engagement, sim_host, "env_probe") for _ in range(3)]
    assert queued_messages(redis_server) == 3
    redis_server.stop()
    redis_server.start()
    assert queued_messages(redis_server) == 3  # the broker kept them across the restart
    worker.start()
    for job in queued:
        wait_for(job, Job.FINAL, timeout=90)
        assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert EnvSnapshot.objects.filter(job__in=queued).count() == 3


def test_a_queued_job_whose_message_was_lost_is_sent_again(worker, consultant, engagement, sim_host, redis_server):
    worker.stop()
    job = start(consultant, engagement, sim_host, "env_probe")
    subprocess.run(["redis-cli", "-p", str(redis_server.port), "flushall"], check=True, capture_output=True)
    assert queued_messages(redis_server) == 0  # a broker that lost its data
    worker.start()
    wait_for(job, Job.FINAL, timeout=90)  # the reaper re-sends it after JOB_REQUEUE_AFTER_SECONDS
    assert job.status == Job.Status.SUCCEEDED, job.failure_message


def test_output_that_is_not_utf8_is_kept_byte_for_byte_and_shown_readably(worker, consultant, engagement, sim_host,
                                                                         client):
    # GBK-encoded Chinese, a lone 0xff and a NUL, then the score line.
    command = "sh -c \"printf '\\326\\320\\316\\304 \\377 \\000 x\\n' >&2; printf 'loss ok\\nscore: 71.5\\n'\""
    job = start(consultant, engagement, sim_host, "evaluation", command=command)
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["score"] == 71.5
    raw = (worker.media / "jobs" / str(job.uuid) / "output.log").read_bytes()
    assert "中文".encode("gbk") + b" \xff \x00 x\n" in raw  # stored as the host wrote it
    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/")
    assert page.status_code == 200
    assert "\ufffd" in page.content.decode("utf-8") and "score: 71.5" in page.content.decode("utf-8")
    download = client.get(f"/jobs/{job.uuid}/log/")
    assert b"".join(download.streaming_content) == raw


@pytest.fixture
def rigged_python(simhost, sim_host):
    """A host whose python3 leaves ``scan.json`` as something else: a link, a huge file."""
    folder = Path(tempfile.mkdtemp(prefix="rigged-"))
    folder.chmod(0o755)
    original = sim_host.tool_path

    def rig(action: str):
        script = folder / "python3"
        script.write_text(f"#!/bin/sh\nrm -f scan.json\n{action}\n")
        script.chmod(0o755)
        sim_host.tool_path = f"{folder}:{original}" if original else str(folder)
        sim_host.save(update_fields=["tool_path"])
        return sim_host

    yield rig
    sim_host.tool_path = original
    sim_host.save(update_fields=["tool_path"])


@pytest.mark.parametrize("action, refusal", [
    ("ln -s /etc/passwd scan.json", "not a regular file"),
    ("mkdir -p ../elsewhere && echo '{}' > ../elsewhere/scan.json && ln -s ../elsewhere/scan.json scan.json",
     "not a regular file"),
    ("truncate -s 65M scan.json", "is over the limit of 67108864 bytes"),
], ids=["symlink-out", "symlink-escaping-the-job-directory", "over-the-size-limit"])
def test_a_result_file_that_is_a_link_or_too_large_is_refused(worker, consultant, engagement, rigged_python, simhost,
                                                               action, refusal):
    host = rigged_python(action)
    job = start(consultant, engagement, host, "migration_analysis", code_dir=f"{simhost.root}/opt/code/train_demo")
    wait_for(job, Job.FINAL)
    assert (job.status, job.failure_reason) == ("failed", "command")
    assert "Refused to fetch 'scan.json'" in job.failure_message and refusal in job.failure_message
    assert not job.files.exists() and not MigrationAnalysis.objects.filter(job=job).exists()


def test_a_second_benchmark_waits_for_the_first_on_the_same_host(worker, consultant, engagement, sim_host, simhost):
    slow = TRAIN.format(root=simhost.root, steps=1000, precision="fp32", sleep=0.05)
    quick = "ascend-demo-train --steps 20 --precision fp32 --save-interval 50"  # the demo's short name
    first = start(consultant, engagement, sim_host, "training_run", command=slow, workdir="/tmp")
    wait_for(first, [Job.Status.RUNNING])
    second = start(consultant, engagement, sim_host, "training_run", command=quick, workdir="/tmp")
    probe = start(consultant, engagement, sim_host, "env_probe")
    wait_for(probe, Job.FINAL)
    first.refresh_from_db()
    second.refresh_from_db()
    assert probe.status == "succeeded"
    assert first.status == "running" and second.status == "queued"
    jobs.check_cancel_job(consultant, first)
    wait_for(second, Job.FINAL, timeout=120)
    first.refresh_from_db()
    assert (first.status, second.status) == ("cancelled", "succeeded")
    assert second.started_at >= first.finished_at


def test_a_long_log_is_pulled_whole_before_the_result_is_read(worker, consultant, engagement, sim_host):
    script = "import sys\nfor _ in range(24 * 1024): sys.stdout.write('x' * 1023 + '\\n')\nprint('score: 7.25')"
    job = start(consultant, engagement, sim_host, "evaluation", command=f"python3 -c {shlex.quote(script)}")
    wait_for(job, Job.FINAL, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    assert job.result["score"] == 7.25 and job.log_bytes > 24 * 1024 * 1024


def test_an_authentication_failure_ends_the_job_at_once_without_retries(worker, pm, consultant, engagement, simhost,
                                                                       customer_a):
    host = jobs.check_register_host(pm, {
        "customer": customer_a, "name": "wrong-password", "address": simhost.address, "port": simhost.port,
        "username": simhost.username, "auth_method": "password", "ascend_home": simhost.ascend_home,
    }, "not-the-password")
    presented = jobs.fetch_key_for_confirmation(host)
    host = jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
    job = start(consultant, engagement, host, "env_probe")
    wait_for(job, Job.FINAL, timeout=60)
    assert (job.status, job.failure_reason, job.attempts) == ("failed", "authentication", 1)


def test_a_cancel_seen_on_re_attach_stops_the_remote_run(worker, consultant, engagement, sim_host, simhost):
    command = TRAIN.format(root=simhost.root, steps=2000, precision="fp32", sleep=0.05)
    job = start(consultant, engagement, sim_host, "training_run", command=command, workdir="/tmp")
    wait_for(job, [Job.Status.RUNNING])
    time.sleep(2)
    worker.kill_hard()  # the supervisor dies; the remote run goes on
    jobs.check_cancel_job(consultant, job)
    worker.start()
    jobs.enqueue(job)  # what the reaper sends once the lease has run out
    wait_for(job, Job.FINAL, timeout=120)
    assert job.status == Job.Status.CANCELLED and "remote process group was stopped" in job.failure_message
    pid = int((simhost_job_dir(simhost, sim_host, job) / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_reaper_re_sends_a_lost_queued_job_once_not_one_waiting_for_its_host(worker, consultant, engagement,
                                                                                 sim_host, redis_server, settings):
    worker.stop()  # the messages stay countable in Redis
    old = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS + 1)
    lost = start(consultant, engagement, sim_host, "env_probe")
    Job.objects.filter(pk=lost.pk).update(created_at=old)
    assert queued_messages(redis_server) == 1
    jobs.reap_lost_jobs()
    jobs.reap_lost_jobs()
    assert queued_messages(redis_server) == 2  # re-sent once, not at every tick
    Job.objects.filter(pk=lost.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    jobs.reap_lost_jobs()
    assert queued_messages(redis_server) == 3  # nobody picked it up in the window: sent again

    busy = start(consultant, engagement, sim_host, "training_run", command="sleep 1", workdir="/tmp")
    Job.objects.filter(pk=busy.pk).update(status=Job.Status.RUNNING, lease_until=timezone.now() + timedelta(hours=1))
    waiting = start(consultant, engagement, sim_host, "evaluation", command="sleep 1")
    Job.objects.filter(pk=waiting.pk).update(created_at=old)
    assert jobs.claim(waiting.pk) == (None, jobs.BUSY_RETRY_SECONDS)  # what its task does while the host is busy
    before = queued_messages(redis_server)
    jobs.reap_lost_jobs()
    assert queued_messages(redis_server) == before  # its task polls again: nothing re-sent
    subprocess.run(["redis-cli", "-p", str(redis_server.port), "flushall"], check=True, capture_output=True)
    Job.objects.filter(pk__in=[lost.pk, busy.pk, waiting.pk]).update(status=Job.Status.CANCELLED)


def test_a_host_that_went_down_is_retried_and_the_job_can_still_be_cancelled(worker, consultant, engagement, sim_host):
    with socket.socket() as sock:  # a port nobody listens on, keeping the pinned key: the host "went down"
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    AscendHost.objects.filter(pk=sim_host.pk).update(port=closed)
    job = start(consultant, engagement, sim_host, "env_probe")
    deadline = time.monotonic() + 30
    while job.phase != "retrying" and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert (job.status, job.phase) == ("running", "retrying")  # a connection failure is retried, not final
    jobs.check_cancel_job(consultant, job)
    wait_for(job, Job.FINAL, timeout=60)
    assert (job.status, job.failure_reason) == ("cancelled", "cancelled")
    assert "could not be reached" in job.failure_message and "Cannot connect to" in job.failure_message
    AscendHost.objects.filter(pk=sim_host.pk).update(port=sim_host.port)
