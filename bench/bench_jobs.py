"""Benchmark of jobs on customers' Ascend hosts over SSH, against the real parts.

Not a test: it prints a markdown report and exits 0 unless something errors. Run it as root
(the simulated host then logs in as the user ``ascendsim``), without make::

    bash tests/ensure_services.sh && DEBUG=true .venv/bin/python bench/bench_jobs.py [--tiny]

Environment: ``DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/ascend_bench_jobs;
created when missing, then migrated), ``CELERY_BROKER_URL`` (default
redis://127.0.0.1:6379/14, flushed at start), ``BENCH_DISPATCH_JOBS`` (15),
``BENCH_SSH_RUNS`` (20), ``BENCH_LOG_MB`` (100).

``--tiny`` (2 dispatched jobs, 2 SSH runs, 2 MB logs) takes seconds, on a throw-away database
and a private redis-server on a free port, both gone at the end: what
``tests/test_benchmarks.py`` runs inside ``make test``.

It starts a real sshd playing an Ascend host (``demo.simhost.SimulatedHost``) and a
real Celery worker (``celery -A config worker -Q default,ssh,pdf -c 2``), registers the host
and pins its key through ``workers.jobs``, then measures:

1. Dispatch latency: from calling ``workers.jobs.check_start_job`` ("click") to the remote
   command starting, read on the host: the wrapper's ``pid`` file (its mtime is when the
   detached wrapper started) and a ``started`` file the command itself writes with
   ``date +%s.%N``. Jobs are started one after another on an idle host (evaluation jobs hold
   the host's NPUs, so a second one would wait for the first). Target: median under 1 s.
2. SSH overhead: ``ssh ... true`` with the OpenSSH client vs the portal's own path
   (``jobs.target_for`` + ``ssh.Session`` connect, ``run("true")``, close). Target: under 2x.
   Reported beside it: the runner's whole cycle for a one-line job (``runner.supervise``, in
   this process: connect, launch detached, follow, drain, collect, parse, record).
3. Log ingestion: a job printing 100 MB; MB/s from running to succeeded, and the peak RSS
   (VmHWM) of the worker's child processes before and after. Targets: over 20 MB/s, and the
   peak RSS grows by less than half the log (the log is streamed in 8 MiB reads).
"""

import logging
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchdb import ensure_database, throwaway_database  # noqa: E402  (bench/ is on the path as a script)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ascend_bench_jobs")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("AXES_ENABLED", "false")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# --tiny: every measure at a size that runs in seconds, on a throw-away database and a private
# redis-server (as tests/conftest.py runs them); what tests/test_benchmarks.py runs in `make test`.
TINY = "--tiny" in sys.argv[1:]
DISPATCH_JOBS = 2 if TINY else int(os.environ.get("BENCH_DISPATCH_JOBS", "15"))
SSH_RUNS = 2 if TINY else int(os.environ.get("BENCH_SSH_RUNS", "20"))
LOG_MB = 2 if TINY else int(os.environ.get("BENCH_LOG_MB", "100"))
JOB_TIMEOUT = 60.0 if TINY else 600.0
DISPATCH_TARGET_S = 1.0
SSH_RATIO_TARGET = 2.0
INGEST_TARGET_MBS = 20.0
MB = 1_000_000


# --- setup ----------------------------------------------------------------------------------


def flush_broker(url: str) -> None:
    """Drop messages left in the bench's own Redis database by an earlier, interrupted run."""
    parts = urlsplit(url)
    if parts.scheme != "redis":
        return
    db = (parts.path or "/0").lstrip("/") or "0"
    subprocess.run(["redis-cli", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379), "-n", db,
                    "flushdb"], check=True, capture_output=True)


class _MinimalWorker:
    """Fallback when tests.conftest cannot be imported: a Celery worker in its own group."""

    def __init__(self, env: dict, base: Path):
        self.env, self.base, self.proc = env, base, None

    def start(self, timeout: float = 60) -> None:
        log = self.base / "worker.log"
        log.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "2",
             "-Q", "default,ssh,pdf", "--without-mingle", "--without-gossip", "-l", "info"],
            env=self.env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while "ready." not in log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The Celery worker did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def worker_class():
    try:
        from tests.conftest import WorkerProcess

        return WorkerProcess
    except Exception as exc:  # pytest or numpy missing, or conftest changed
        print(f"(tests.conftest.WorkerProcess not importable: {exc!r}; using a minimal worker)")
        return _MinimalWorker


def make_cast():
    """A PM, a consultant, a customer and an engagement, reused across runs."""
    from engagements import services
    from engagements.models import Customer, Engagement, User

    def user(username, role):
        found = User.objects.filter(username=username).first()
        if found:
            return found
        created = User(username=username, role=role, email=f"{username}@example.com", language="en")
        created.set_unusable_password()
        created.save()
        return created

    pm = user("benchjobs_pm", User.Role.PM)
    consultant = user("benchjobs_consultant", User.Role.CONSULTANT)
    customer, _ = Customer.objects.get_or_create(name="Bench jobs customer", defaults={"short_name": "benchjobs"})
    engagement = Engagement.objects.filter(code="BENCH-JOBS").first()
    if engagement is None:
        import datetime

        engagement = services.check_create_engagement(pm, {
            "customer": customer, "code": "BENCH-JOBS", "title": "Jobs benchmark",
            "source_platform": "8 x A100", "target_platform": "Atlas 800T A2, 8 x 910B",
            "target_framework": Engagement.Framework.PYTORCH, "start_date": datetime.date(2026, 1, 5),
            "end_date": datetime.date(2026, 6, 30), "pm": pm,
        }, consultants=[consultant])
    return pm, consultant, customer, engagement


def register_host(pm, customer, info):
    """Register the simulated host and pin its key the way the portal's pages do."""
    from workers import jobs

    host = jobs.check_register_host(pm, {
        "customer": customer, "name": f"bench-sim-{info.port}-{int(time.time())}", "address": info.address,
        "port": info.port, "username": info.username, "auth_method": "key", "ascend_home": info.ascend_home,
        "tool_path": info.tool_path,
    }, info.private_key)
    presented = jobs.fetch_key_for_confirmation(host)
    return jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)


# --- helpers --------------------------------------------------------------------------------


def wait_final(job, timeout: float = JOB_TIMEOUT):
    from workers.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job.pk)
        if job.is_final:
            return job
        time.sleep(0.05)
    raise RuntimeError(f"Job {job.pk} did not end within {timeout:.0f} s (status {job.status}, phase {job.phase!r}).")


def remote_dir_abs(job, login_user: str) -> Path:
    path = Path(job.remote_dir)
    return path if path.is_absolute() else Path(pwd.getpwnam(login_user).pw_dir) / path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def start(user, engagement, host, command: str, **params):
    from workers import jobs

    stage = engagement.stages.order_by("order").first()
    return jobs.check_start_job(user, stage, host, "evaluation", {"command": command, **params})


def running_at(job):
    from workers.models import Job

    transition = job.transitions.filter(to_status=Job.Status.RUNNING).order_by("created_at").first()
    return transition.created_at if transition else job.started_at


# --- measures -------------------------------------------------------------------------------


def measure_dispatch(user, engagement, host, login_user: str) -> dict:
    """Click-to-remote-start of short evaluation jobs, one after another on an idle host."""
    from workers.models import Job

    wrapper, command, claim = [], [], []
    for i in range(DISPATCH_JOBS):
        clicked = time.time()
        job = start(user, engagement, host, "sh -c 'date +%s.%N > started; echo score: 1'")
        job = wait_final(job)
        if job.status != Job.Status.SUCCEEDED:
            raise RuntimeError(f"Dispatch job {i} ended {job.status}: {job.failure_message}")
        run_dir = remote_dir_abs(job, login_user)
        wrapper.append(os.stat(run_dir / "pid").st_mtime - clicked)
        command.append(float((run_dir / "started").read_text().strip()) - clicked)
        claim.append(running_at(job).timestamp() - clicked)
        time.sleep(0.2)
    return {"wrapper": wrapper, "command": command, "claim": claim}


def measure_ssh(host, info, key_file: Path) -> dict:
    from workers import jobs
    from workers.ssh import Session

    argv = ["ssh", "-i", str(key_file), "-p", str(info.port), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            f"{info.username}@{info.address}", "true"]

    def openssh() -> float:
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
        return time.perf_counter() - started

    def portal() -> float:
        started = time.perf_counter()
        session = Session(jobs.target_for(host))
        session.connect()
        try:
            result = session.run("true", timeout=30)
        finally:
            session.close()
        if result.exit_code != 0:
            raise RuntimeError(f"'true' exited {result.exit_code} over the portal's session")
        return time.perf_counter() - started

    openssh(), portal()  # warm-up: page cache, imports, sshd's first fork
    bare, ours = [], []
    for _ in range(SSH_RUNS):  # interleaved, so drift hits both alike
        bare.append(openssh())
        ours.append(portal())
    return {"openssh": bare, "portal": ours}


def measure_runner(user, engagement, host) -> list[float]:
    """The runner's whole remote cycle for a one-line job, in this process (no Celery): claim,
    then ``runner.supervise``: connect, launch detached, follow the log and the exit code,
    drain, collect, parse, record. Several SSH commands and SFTP reads, one connection."""
    from workers import jobs, kinds, runner
    from workers.models import Job

    stage = engagement.stages.order_by("order").first()
    params = kinds.get("evaluation").clean({"command": "echo score: 1"})
    times = []
    for _ in range(SSH_RUNS + 1):  # the first is a warm-up
        job = Job.objects.create(kind="evaluation", engagement=engagement, stage=stage, host=host, started_by=user,
                                 parameters=params)
        claimed, _later = jobs.claim(job.pk)
        started = time.perf_counter()
        runner.supervise(claimed)
        times.append(time.perf_counter() - started)
        claimed.refresh_from_db()
        if claimed.status != Job.Status.SUCCEEDED:
            raise RuntimeError(f"The runner's job ended {claimed.status}: {claimed.failure_message}")
    return times[1:]


def measure_ingestion(user, engagement, host, worker_pid: int, *, hold: bool) -> dict:
    """A job printing LOG_MB MB. With ``hold`` the command then sleeps instead of exiting, so
    the runner streams the whole log while the job is still running (the bench cancels it once
    the local copy is complete): that isolates the streaming rate from the end-of-job path."""
    from workers import jobs
    from workers.models import Job
    from workers.runner import local_log_path

    kids = children(worker_pid)
    before = {pid: memory_kb(pid) for pid in kids}
    lines = LOG_MB * MB // 100
    tail = "; sys.stdout.flush(); time.sleep(1200)" if hold else ""
    script = ("import sys, time; line='x'*99+'\\n'; w=sys.stdout.write; "
              f"[w(line) for _ in range({lines})]; print('score: 1'){tail}")
    expected = lines * 100 + len("score: 1\n")
    clicked = time.monotonic()
    job = start(user, engagement, host, f'python3 -c "{script}"', timeout_s=1800)
    log_path = local_log_path(job)
    samples = {pid: [] for pid in kids}  # (seconds, phase, VmRSS kB)
    sizes = []  # (seconds, local log bytes)
    cancelled = False
    while True:
        now = time.monotonic() - clicked
        current = Job.objects.get(pk=job.pk)
        size = log_path.stat().st_size if log_path.exists() else 0
        sizes.append((now, size))
        for pid in kids:
            samples[pid].append((now, current.phase, memory_kb(pid).get("VmRSS", 0)))
        if current.is_final:
            job = current
            break
        if hold and size >= expected and not cancelled:
            jobs.check_cancel_job(user, current)
            cancelled = True
        if now > JOB_TIMEOUT:
            raise RuntimeError(f"The log job did not end in time: {current.status} ({current.phase!r}), "
                               f"{size:,} of {expected:,} bytes here, cancel requested: {cancelled}.")
        time.sleep(0.05)
    after = {pid: memory_kb(pid) for pid in kids}
    running = running_at(job)
    first_byte = next((t for t, n in sizes if n > 0), None)
    complete = next((t for t, n in sizes if n >= expected), None)
    return {
        "job": job, "expected": expected, "ingested": job.log_bytes, "wall": time.monotonic() - clicked,
        "run_seconds": (job.finished_at - running).total_seconds(),
        "running_offset": (running - job.created_at).total_seconds(),
        "first_byte": first_byte, "complete": complete, "sizes": sizes, "log_path": log_path,
        "before": before, "after": after, "samples": samples,
        "transitions": list(job.transitions.values_list("to_status", "created_at")),
    }


PARSE_PROBE = """
import resource, sys, time
import django
django.setup()
from workers import kinds
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
result = kinds.get("training_run").parse_file(sys.argv[1], {}, {})
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - started, result["points"])
"""


def write_training_log(path: Path, size: int) -> int:
    """A MindSpeed-LLM / Megatron training log of about ``size`` bytes; returns its iterations."""
    record = ("iteration {i:>8}/ {n:>8} | consumed samples: {s:>10} | elapsed time per iteration (ms): 812.3 | "
              "learning rate: 1.000000E-05 | global batch size:     8 | lm loss: {loss:.6E} | loss scale: 1.0 | "
              "grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |\n")
    n = size // len(record.format(i=1, n=1, s=1, loss=1.0))
    with open(path, "w") as fh:
        for i in range(1, n + 1):
            fh.write(record.format(i=i, n=n, s=i * 8, loss=2.0 / (1 + i / 1000)))
        fh.write("@@@ascend-portal-section checkpoints\n./ckpt/iter_0001000/model.pt\n")
    return n


def measure_end_of_job_parse(path: Path) -> dict:
    """What the runner does with a finished training run's log (``parse_file`` of the kind), on
    a generated 100 MB Megatron log, in a fresh interpreter so its peak RSS is that step's alone."""
    iterations = write_training_log(path, LOG_MB * MB)
    out = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(path)], check=True, capture_output=True,
                         text=True, cwd=ROOT, env=os.environ).stdout.split()
    base, peak = int(out[0]), int(out[1])
    return {"base_kb": base, "peak_kb": peak, "seconds": float(out[2]), "points": int(out[3]),
            "iterations": iterations, "bytes": path.stat().st_size}


# --- report ---------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this run's own on a free port, as tests.conftest.RedisServer runs one
    (that class needs Django set up, and the broker URL must be known before)."""

    def __init__(self):
        import socket

        self.base = Path(tempfile.mkdtemp(prefix="bench-jobs-redis-"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = None

    def start(self) -> str:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.base),
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            pong = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
            if pong.strip() == b"PONG":
                return f"redis://127.0.0.1:{self.port}/0"
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        shutil.rmtree(self.base, ignore_errors=True)


def main() -> int:
    redis = None
    if TINY:
        throwaway_database("jobs")
        redis = PrivateRedis()
        os.environ["CELERY_BROKER_URL"] = redis.start()
    else:
        ensure_database(os.environ["DATABASE_URL"])
    try:
        return run()
    finally:
        if redis is not None:
            redis.stop()


def run() -> int:
    flush_broker(os.environ["CELERY_BROKER_URL"])
    base = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    base.chmod(0o755)
    os.environ["MEDIA_ROOT"] = str(base / "media")

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    from demo.simhost import SimulatedHost

    translation.activate("en")
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0, interactive=False)
    WorkerProcess = worker_class()

    simhost = SimulatedHost(base / "simhost")
    worker = None
    try:
        info = simhost.start()
        pm, consultant, customer, engagement = make_cast()
        host = register_host(pm, customer, info)
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), "AXES_ENABLED": "false"}
        worker = WorkerProcess(env, base)
        worker.start()
        print(f"sshd on 127.0.0.1:{info.port} (user {info.username}); Celery worker pid {worker.proc.pid}; "
              f"{os.cpu_count()} CPUs" + ("; TINY SIZE" if TINY else "") + ".\n")

        print(f"1/3 dispatch latency: {DISPATCH_JOBS} evaluation jobs ...", flush=True)
        dispatch = measure_dispatch(consultant, engagement, host, info.username)
        print(f"2/3 SSH overhead: {SSH_RUNS} x OpenSSH vs portal session ...", flush=True)
        overhead = measure_ssh(host, info, base / "simhost" / "keys" / "client_ed25519")
        overhead["runner"] = measure_runner(consultant, engagement, host)
        print(f"3/3 log ingestion: a job printing {LOG_MB} MB, held open, then one that exits ...", flush=True)
        held = measure_ingestion(consultant, engagement, host, worker.proc.pid, hold=True)
        plain = measure_ingestion(consultant, engagement, host, worker.proc.pid, hold=False)
    finally:
        if worker is not None:
            worker.stop()
        simhost.stop()

    parse = measure_end_of_job_parse(base / "train.log")
    report(dispatch, overhead, held, plain, parse)
    shutil.rmtree(base, ignore_errors=True)
    return 0


def hwm_growth(run: dict) -> tuple[int, int, int]:
    """(pid, VmHWM before, after) of the worker child whose peak grew most during ``run``."""
    growth = {pid: (run["before"].get(pid, {}).get("VmHWM", 0), after.get("VmHWM", 0))
              for pid, after in run["after"].items()}
    pid = max(growth, key=lambda key: growth[key][1] - growth[key][0])
    return pid, *growth[pid]


def report(dispatch: dict, overhead: dict, held: dict, plain: dict, parse: dict) -> None:
    med_cmd, p95_cmd = statistics.median(dispatch["command"]), percentile(dispatch["command"], 95)
    med_wrap, p95_wrap = statistics.median(dispatch["wrapper"]), percentile(dispatch["wrapper"], 95)
    med_claim = statistics.median(dispatch["claim"])
    med_ssh, med_portal = statistics.median(overhead["openssh"]), statistics.median(overhead["portal"])
    ratio = med_portal / med_ssh
    med_runner = statistics.median(overhead["runner"])
    plain_job = plain["job"]
    plain_ok = plain_job.status == "succeeded" and plain["ingested"] >= plain["expected"]
    plain_mbs = plain["ingested"] / MB / plain["run_seconds"]
    complete = held["complete"] is not None and held["first_byte"] is not None
    stream_s = held["complete"] - held["first_byte"] if complete else None
    stream_mbs = held["expected"] / MB / stream_s if stream_s else 0.0
    if not complete:
        streamed = "never complete"
    elif stream_s:
        streamed = f"{stream_s:.1f} s = {stream_mbs:.1f} MB/s"
    else:  # a small log arrives in one read, between two samples
        streamed = "in one read"
    to_complete = (held["complete"] - held["running_offset"]) if held["complete"] else None
    _p1, held_before, held_after = hwm_growth(held)
    _p2, plain_before, plain_after = hwm_growth(plain)
    held_grew, plain_grew = (held_after - held_before) / 1024, (plain_after - plain_before) / 1024
    flat_limit_mb = LOG_MB / 2

    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    rows = [
        ("1. Dispatch: click -> remote command start, median", f"{med_cmd * 1000:.0f} ms", "< 1000 ms",
         yes(med_cmd < DISPATCH_TARGET_S)),
        ("1. Dispatch: click -> remote command start, p95", f"{p95_cmd * 1000:.0f} ms", "(report)", "-"),
        ("1. Dispatch: click -> wrapper pid file, median / p95", f"{med_wrap * 1000:.0f} / {p95_wrap * 1000:.0f} ms",
         "(report)", "-"),
        ("1. Dispatch: click -> job claimed (running), median", f"{med_claim * 1000:.0f} ms", "(report)", "-"),
        ("2. SSH `true`: OpenSSH client, median", f"{med_ssh * 1000:.1f} ms", "(baseline)", "-"),
        ("2. SSH `true`: portal target_for + Session connect/run/close, median", f"{med_portal * 1000:.1f} ms",
         "(report)", "-"),
        ("2. SSH overhead ratio portal / OpenSSH", f"{ratio:.2f}x", "< 2x", yes(ratio < SSH_RATIO_TARGET)),
        ("2. Runner: a whole one-line job (connect, launch detached, follow, collect, record), median",
         f"{med_runner * 1000:.1f} ms = {med_runner / med_ssh:.2f}x OpenSSH `true`", "(report)", "-"),
        (f"3. {LOG_MB} MB job (prints, exits): running -> {plain_job.status}",
         f"{plain['ingested'] / MB:.1f} of {plain['expected'] / MB:.1f} MB in {plain['run_seconds']:.1f} s "
         f"= {plain_mbs:.1f} MB/s", "> 20 MB/s, succeeded", yes(plain_ok and plain_mbs > INGEST_TARGET_MBS)),
        (f"3. {LOG_MB} MB job held open: first byte -> full local log",
         streamed, "> 20 MB/s", yes(stream_mbs > INGEST_TARGET_MBS) if stream_s or not complete else "n/a"),
        (f"3. {LOG_MB} MB job held open: running -> full local log",
         f"{to_complete:.1f} s" if to_complete is not None else "never complete", "(report)", "-"),
        ("3. Worker child peak RSS (VmHWM), streaming (held job)",
         f"{held_before / 1024:.0f} -> {held_after / 1024:.0f} MB (+{held_grew:.0f} MB)",
         f"+ < {flat_limit_mb:.0f} MB", yes(held_grew < flat_limit_mb)),
        ("3. Worker child peak RSS (VmHWM), job that exits",
         f"{plain_before / 1024:.0f} -> {plain_after / 1024:.0f} MB (+{plain_grew:.0f} MB)"
         + ("" if plain_ok else f", but only {plain['ingested'] / MB:.1f} MB were read and parsed"),
         f"+ < {flat_limit_mb:.0f} MB", yes(plain_grew < flat_limit_mb) if plain_ok else "n/a"),
    ]
    grew = (parse["peak_kb"] - parse["base_kb"]) / 1024
    rows.append((f"3. End-of-job parse of a {parse['bytes'] / MB:.0f} MB training log, {parse['points']:,} loss points "
                 "(fresh process)", f"+{grew:.0f} MB peak RSS, {parse['seconds']:.1f} s", "(report)", "-"))
    print("\n| measure | value | target | met |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    print(f"\nDispatch, click -> command start (ms): {', '.join(f'{v * 1000:.0f}' for v in dispatch['command'])}")
    print(f"Dispatch, click -> claimed (ms): {', '.join(f'{v * 1000:.0f}' for v in dispatch['claim'])}")
    print(f"SSH OpenSSH (ms): {', '.join(f'{v * 1000:.0f}' for v in overhead['openssh'])}")
    print(f"SSH portal (ms): {', '.join(f'{v * 1000:.0f}' for v in overhead['portal'])}")
    for name, run in (("held", held), ("exits", plain)):
        job = run["job"]
        print(f"{LOG_MB} MB job ({name}): status {job.status}, {run['ingested']:,} of {run['expected']:,} bytes "
              f"ingested; click -> final {run['wall']:.1f} s; {job.failure_message[:120]}")
        print("  transitions: " + ", ".join(f"{status}@{at:%H:%M:%S.%f}"[:-3] for status, at in run["transitions"]))
        pid, _before, _after = hwm_growth(run)
        samples = run["samples"][pid]
        print(f"  VmRSS of worker child {pid} by phase (max MB): "
              + ", ".join(f"{phase or '-'} {max(r for _t, p, r in samples if p == phase) / 1024:.0f}"
                          for phase in dict.fromkeys(p for _t, p, _r in samples)))
        marks = [f"{t:.1f}s:{n / MB:.0f}MB" for t, n in run["sizes"][:: max(1, len(run["sizes"]) // 12)]]
        print(f"  local log size over time: {' '.join(marks)}")
    print(f"End-of-job parse of a training log: {parse['bytes'] / MB:.0f} MB, {parse['iterations']:,} iterations "
          f"-> {parse['points']:,} loss points; maxrss {parse['base_kb'] / 1024:.0f} MB at start, "
          f"{parse['peak_kb'] / 1024:.0f} MB after kinds.get('training_run').parse_file.")


if __name__ == "__main__":
    sys.exit(main())
