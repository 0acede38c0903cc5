"""Shared fixtures: one engagement of customer A, and a cast around it.

- ``pm``: a project manager (sees and changes everything);
- ``consultant``: assigned to the engagement (changes it);
- ``other_consultant``: not assigned (sees nothing of it);
- ``contact``: a contact of customer A (reads it);
- ``stranger``: a contact of customer B (sees nothing of it).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from demo.simhost import SimulatedHost
from engagements.models import Engagement, PerformanceBaseline, User
from workers.ssh import HostKey, Target, fingerprint

from .factories import CustomerFactory, UserFactory, make_engagement

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_hasher_and_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False


@pytest.fixture
def customer_a(db):
    return CustomerFactory(name="Customer A 甲客户")


@pytest.fixture
def customer_b(db):
    return CustomerFactory(name="Customer B 乙客户")


@pytest.fixture
def pm(db):
    return UserFactory(username="pm", role=User.Role.PM, first_name="Jing", last_name="Zhang")


@pytest.fixture
def consultant(db):
    return UserFactory(username="consultant", role=User.Role.CONSULTANT, first_name="Wei", last_name="Li")


@pytest.fixture
def other_consultant(db):
    return UserFactory(username="other_consultant", role=User.Role.CONSULTANT)


@pytest.fixture
def contact(db, customer_a):
    return UserFactory(username="contact", role=User.Role.CUSTOMER, customer=customer_a)


@pytest.fixture
def stranger(db, customer_b):
    return UserFactory(username="stranger", role=User.Role.CUSTOMER, customer=customer_b)


@pytest.fixture
def engagement(pm, consultant, customer_a):
    return make_engagement(pm, customer_a, consultants=[consultant])


@pytest.fixture
def other_engagement(pm, customer_b):
    """Customer B's engagement, with nobody from the main cast assigned."""
    return make_engagement(pm, customer_b)


# --- hosts, a real sshd and a real Celery worker --------------------------------------------


@pytest.fixture(scope="session")
def simhost():
    """One real sshd on loopback playing an Ascend host, for the whole session.

    Its folder is outside pytest's 0700 temp tree: the login user must read it.
    """
    base = Path(tempfile.mkdtemp(prefix="simhost-"))
    host = SimulatedHost(base)
    info = host.start()
    key_type, key_b64 = host.host_public_key()
    info.host_key = HostKey(key_type, key_b64, fingerprint(key_type, key_b64))
    yield info
    host.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the portal's default language is Chinese."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def target(simhost):
    return Target(simhost.address, simhost.port, simhost.username, simhost.host_key, private_key=simhost.private_key)


class WorkerProcess:
    """A real Celery worker (prefork, with embedded beat) in its own process group."""

    def __init__(self, env: dict, base: Path):
        self.env, self.base, self.proc = env, base, None

    def start(self, timeout: float = 60) -> None:
        log = self.base / "worker.log"
        log.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "2",
             "-Q", "default,ssh,pdf", "--without-mingle", "--without-gossip", "-B", "-s", str(self.base / "beat"),
             f"--statedb={self.base / 'worker.state'}", "-l", "info"],
            env=self.env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while "ready." not in log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The Celery worker did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def kill_hard(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class RedisServer:
    """A private redis-server with an append-only file, so the tests may restart it."""

    def __init__(self, base: Path):
        self.base, self.port, self.proc = base, _free_port(), None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.base),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )
        for _ in range(100):
            pong = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
            if pong.strip() == b"PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server():
    base = Path(tempfile.mkdtemp(prefix="redis-"))
    server = RedisServer(base)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def worker_process(django_db_setup, django_db_blocker, redis_server):
    from django.db import connection

    base = Path(tempfile.mkdtemp(prefix="worker-"))
    env = {
        **os.environ,
        "DEBUG": "true",
        "AXES_ENABLED": "false",
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER'] or 'postgres'}"
                        f"@{connection.settings_dict['HOST']}:"
                        f"{connection.settings_dict['PORT'] or 5432}/{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "MEDIA_ROOT": str(base / "media"),
        "JOB_LEASE_SECONDS": "6",
        "JOB_REAPER_SECONDS": "2",
        "JOB_REQUEUE_AFTER_SECONDS": "5",
    }
    process = WorkerProcess(env, base)
    process.media = base / "media"
    process.start()
    yield process
    process.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def worker(worker_process, settings, redis_server, transactional_db, monkeypatch):
    """The worker, with this test process sending to the same broker and media folder."""
    from config.celery import app

    settings.MEDIA_ROOT = worker_process.media
    settings.JOB_LEASE_SECONDS = 6
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{redis_server.port}/0")
    app._pool = app.amqp._producer_pool = None  # connections made before this go to the old broker
    if worker_process.proc.poll() is not None:
        worker_process.start()
    return worker_process


@pytest.fixture
def sim_host(simhost, pm, customer_a):
    """The simulated host, registered and its key confirmed through the portal's services."""
    from workers import jobs

    host = jobs.check_register_host(pm, {
        "customer": customer_a, "name": "sim-910b", "address": simhost.address, "port": simhost.port,
        "username": simhost.username, "auth_method": "key", "ascend_home": simhost.ascend_home,
        "tool_path": simhost.tool_path,
    }, simhost.private_key)
    presented = jobs.fetch_key_for_confirmation(host)
    return jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)


# --- acceptance data ---------------------------------------------------------------------


def make_curve(engagement, platform, losses, label, user):
    from assessments.models import LossCurve

    curve = LossCurve(engagement=engagement, platform=platform, source="upload", log_format="megatron",
                      loss_key="lm loss", label=label, raw_sha256="ab" * 32, created_by=user,
                      checkpoints=["./ckpt/iter_0000100.pt"] if platform == "npu" else [])
    curve.set_series(np.arange(1, len(losses) + 1), losses)
    curve.save()
    return curve


@pytest.fixture
def acceptance_ready(engagement, consultant):
    """An engagement whose acceptance passes: a paired reference/NPU curve 1% apart (the NPU
    one from a training job that wrote a checkpoint, at 150 tokens/s), an evaluation 0.5%
    off the pre-migration score and a performance baseline of 100 tokens/s."""
    from assessments.models import EvaluationRun
    from assessments.services import check_pair_curves, check_set_score_baseline
    from workers.models import AscendHost, Job

    steps = np.arange(1, 301)
    ref = 3.0 * np.exp(-steps / 90) + 1.2
    gpu = make_curve(engagement, "gpu", ref, "A100 fp32", consultant)
    npu = make_curve(engagement, "npu", ref * 1.01, "910B bf16", consultant)
    host = AscendHost.objects.create(customer=engagement.customer, name="records-only", address="192.0.2.1",
                                     username="ascend", auth_method="key", secret="-", created_by=consultant)
    stage = engagement.stages.get(key="training_tuning")

    def job(kind):
        return Job.objects.create(kind=kind, engagement=engagement, stage=stage, host=host, started_by=consultant,
                                  status="succeeded", exit_code=0)

    npu.source, npu.job, npu.throughput = "job", job("training_run"), {"tokens_per_s": 150.0}
    npu.save()
    check_pair_curves(consultant, engagement, gpu, npu)
    check_set_score_baseline(consultant, engagement, "ceval", 70.58)
    EvaluationRun.objects.create(engagement=engagement, job=job("evaluation"), dataset="ceval", score=70.23)
    PerformanceBaseline.objects.create(engagement=engagement, metric="tokens_per_s", direction="higher", value=100,
                                       unit="tokens/s")
    Engagement.objects.filter(pk=engagement.pk).update(
        conclusions="The migrated model matches the reference; keep bf16 for production.")
    engagement.refresh_from_db()
    return engagement


@pytest.fixture
def rate_card(db):
    """The rate card the data migration seeds; a transactional test's flush removes it."""
    import importlib

    from django.apps import apps

    importlib.import_module("reports.migrations.0004_seed_rate_card").seed(apps, None)
    importlib.import_module("reports.migrations.0013_firm_profile_and_placeholder_prices").mark_placeholders(apps, None)
