"""Chaos benchmark: jobs on customers' hosts while the infrastructure under them fails.

Not a test: it prints a markdown report and exits 1 when a job was lost, run twice, left
stuck or ended in a state its remote run contradicts. Run it as root (the simulated hosts'
sshd logs in as the user ``ascendsim``; the PostgreSQL cluster runs as the ``postgres``
system user)::

    make chaos                      # CHAOS_MINUTES=10 by default
    DEBUG=true .venv/bin/python bench/chaos.py [--minutes N] [--jobs N] [--seed N] [--keep] [--tiny]

**Set-up**, all of it its own, torn down at exit (also on Ctrl-C, SIGTERM or an error); it never
connects to the services on 5432 and 6379:

- a PostgreSQL 15 cluster: ``initdb`` (as ``postgres``) into a temporary directory, started with
  ``pg_ctl`` on a spare port of 127.0.0.1, its unix socket in that directory; migrated;
- a ``redis-server`` with an append-only file (``appendfsync everysec``, as docker-compose runs
  it) on a spare port;
- two simulated Ascend hosts (``demo.simhost.SimulatedHost``: a real sshd each), registered and
  their keys pinned through ``workers.jobs``, each with a job directory of this run's own;
- two Celery workers (``celery -A config worker -P prefork -c 4 -Q default,ssh,pdf``) and Celery
  beat, which runs the reaper (``workers.tasks.reap_lost_jobs``) every 3 s
  (``JOB_REAPER_SECONDS``); a job's lease is 10 s (``JOB_LEASE_SECONDS``) and a queued job whose
  message went missing is sent again after 20 s (``JOB_REQUEUE_AFTER_SECONDS``). The number of
  attempts (``JOB_MAX_ATTEMPTS``) is the portal's default. A worker or beat that exits on its own
  is started again, as docker-compose's ``restart: unless-stopped`` would, and counted: Celery
  5.7 / kombu 5.7 workers exit ("Unrecoverable error: AttributeError ... 'hostname'") when Redis
  goes away while they hold unacknowledged messages.

**Load**: ``--jobs`` jobs (300 by default), spread over every registered kind
(``workers.kinds.all_kinds()``) and both hosts, started with ``workers.jobs.check_start_job`` at an
even pace over the first 80% of the run: short ones and long ones (up to 30 s), some failing on
purpose (a non-zero exit, or output their kind cannot read), about one in ten cancelled with
``workers.jobs.check_cancel_job`` (right after the start, or a few seconds into a long run).
A kind this file has no runs for gets a generic command (or is reported as not covered).

**Faults**, one every 8 to 22 s (uniformly at random), the five kinds in turn in a shuffled
order: SIGKILL a worker's process group (restarted 0.5-3 s later); restart Redis (SIGTERM or
SIGKILL, down 0.5-3 s); restart PostgreSQL (``pg_ctl stop -m fast`` or ``-m immediate``, down
0.5-3 s); kill a host's sshd and its sessions (SIGKILL to the listener and every per-connection
sshd; started again at once); stop a host's sshd for 10-30 s (the listener only, as ``systemctl
stop ssh`` does: open sessions go on, new connections are refused).

**Launches** are counted on the host: each host's extra PATH (``tool_path``) starts with a
directory of this run whose ``timeout`` records the run directory it was started for (its
parent, the job wrapper of ``workers.remote.launch_script``, holds it as its 5th argument) in
``<run dir>/.chaos-launches``, then executes the real ``timeout``. The wrapper starts ``timeout``
exactly once per launch, whatever the kind.

**Checks**, once every job has ended (or after a bounded wait for quiescence), on every job:

- *stuck*: not in a final state;
- *run twice*: launched more than once on its host;
- *lost*: ended ``lost``, or failed for a reason that is not its command's own (a connection, a
  lost worker, an unexpected error): the portal gave up on a run the faults only interrupted;
- *wrong state*: a final state its remote run contradicts: ``succeeded`` needs exit code 0 on
  the host and a result; ``failed`` (command) needs the host's non-zero exit code; ``cancelled``
  needs a cancel that was asked for; an ended job must leave no process running on the host; a
  run that was never launched cannot have succeeded or failed on its command; and the log the
  portal keeps must be byte for byte the host's ``output.log`` (a prefix, for a cancelled job).
  An outcome the job's command was not meant to have (a parse failure, a failure of a command
  that exits 0) is also wrong.

And across jobs: no two NPU jobs (``exclusive`` kinds) ran at once on a host (from the launch
times the counter wrote to ``done`` being written, or the cancel that killed the run).

**Time to recover**, per fault: from the fault to the moment every job that was running when
it struck has progressed again after the fault was over: a heartbeat (the lease renewed) after
the service came back, or a final state. "Over" is the kill itself for a worker's SIGKILL (the
other worker goes on), and the service answering again for the others (Redis PONG, PostgreSQL
accepting connections, sshd listening); the table shows that time too ("service down"). Faults
that struck while no job was running are not measured.

``--tiny``: the same code paths at a size that runs in about two minutes: 2 jobs of each kind,
a 50 s window with one fault of each kind, a 5 s sshd stop. ``tests/test_benchmarks.py`` runs it.
"""

import argparse
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SSHD = "/usr/sbin/sshd"
SHARED_PORTS = {5432, 6379}  # the machine's own PostgreSQL and Redis: never used here
LEASE_SECONDS = 10
REAPER_SECONDS = 3
REQUEUE_AFTER_SECONDS = 20
WORKER_CONCURRENCY = 4
LAUNCHES_FILE = ".chaos-launches"
FAULT_KINDS = ["worker_kill", "redis_restart", "postgres_restart", "sshd_kill", "sshd_stop"]
FAULT_LABELS = {
    "worker_kill": "SIGKILL a worker",
    "redis_restart": "restart Redis",
    "postgres_restart": "restart PostgreSQL",
    "sshd_kill": "kill sshd and its sessions",
    "sshd_stop": "stop a host's sshd for a while",
}
RECOVERY_CAP_S = 300.0

# The run's time origin, for the log lines.
T0 = time.time()


def say(message: str) -> None:
    print(f"[{time.time() - T0:6.1f} s] {message}", flush=True)


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what} within {timeout:.0f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- processes --------------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int, str, str]]:
    """pid -> (parent pid, session id, command name, start time in ticks), read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        # fields[0] is the state: ppid is field 4 of stat, session 6, starttime 22.
        table[int(entry)] = (int(fields[1]), int(fields[3]), name, fields[19])
    return table


def descendants(root: int, table: dict) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _sid, _name, _start) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_quietly(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Postgres:
    """A PostgreSQL 15 cluster of this run's own, run as the ``postgres`` system user."""

    def __init__(self, base: Path):
        self.base = base / "postgres"
        self.data = self.base / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/chaos"

    def _as_postgres(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True, cwd="/",
                              timeout=120)
        if check and done.returncode:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done

    def init(self) -> None:
        self.base.mkdir(mode=0o700)
        shutil.chown(self.base, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                          "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        with open(self.data / "postgresql.conf", "a") as conf:
            # fsync off: a crash of PostgreSQL (not of the machine) loses nothing; the run is throw-away.
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.base}'\nfsync = off\nmax_connections = 200\n")

    def start(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "postgres.log"),
                          "-w", "-t", "90", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "90", "stop",
                          check=False)

    def create_database(self) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE chaos")
        conn.close()

    def teardown(self) -> None:
        if self.data.exists():
            self.stop("immediate")


class Redis:
    """A redis-server of this run's own with an append-only file, so it can be restarted."""

    def __init__(self, base: Path):
        self.dir = base / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def ping(self) -> bool:
        try:
            out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, timeout=5).stdout
        except subprocess.TimeoutExpired:
            return False
        return out.strip() == b"PONG"

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - the server's, closed with it
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for(self.ping, 60, "redis-server did not answer")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Host:
    """A simulated Ascend host whose sshd can be killed, stopped and started again."""

    def __init__(self, base: Path, index: int):
        from demo.simhost import SimulatedHost

        self.index = index
        self.name = f"host{index + 1}"
        self.sim = SimulatedHost(base / self.name)
        self.info = None
        self.down_until: float | None = None  # a stopped sshd comes back then
        self.orphans: set[tuple[int, str]] = set()  # (pid, start time) of sessions of earlier listeners

    def start(self, shim_dir: Path) -> None:
        self.info = self.sim.start()
        self.shim_dir = shim_dir

    @property
    def up(self) -> bool:
        return self.sim.process is not None and self.sim.process.poll() is None

    def start_sshd(self) -> None:
        """The same sshd again (``SimulatedHost.start`` would rewrite the host's files under running jobs)."""
        log = open(self.sim.base / "sshd.log", "ab")  # noqa: SIM115 - sshd's, closed with it
        self.sim.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.sim.base / "sshd_config")],
                                            stdout=log, stderr=log, start_new_session=True)
        log.close()
        wait_for(lambda: port_open(self.sim.port), 30, f"{self.name}'s sshd did not listen again")

    def _sessions(self) -> list[tuple[int, str]]:
        """The per-connection sshd processes: the listener's, and those earlier listeners left."""
        table = proc_table()
        found = set()
        if self.sim.process is not None:
            found |= {(pid, table[pid][3]) for pid in descendants(self.sim.process.pid, table)
                      if table[pid][2] == "sshd"}
        found |= {(pid, start) for pid, start in self.orphans if pid in table and table[pid][3] == start}
        return sorted(found)

    def kill_sshd(self) -> int:
        """SIGKILL the listener and every session (their commands go on, as after a crash of sshd)."""
        sessions = self._sessions()
        if self.sim.process is not None:
            kill_quietly(self.sim.process.pid)
            self.sim.process.wait()
            self.sim.process = None
        for pid, _start in sessions:
            kill_quietly(pid)
        self.orphans.clear()
        return len(sessions)

    def stop_sshd(self) -> None:
        """Stop the listener only: open sessions go on and end when their clients leave."""
        self.orphans |= set(self._sessions())
        self.sim.stop()

    def teardown(self) -> None:
        self.kill_sshd()


class CeleryProcess:
    """A Celery worker or beat in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, ready: str):
        self.name, self.argv, self.env, self.log, self.ready = name, argv, env, log, ready
        self.proc: subprocess.Popen | None = None
        self.starting = False
        self.stopped = False
        self.log.touch()

    @property
    def exited_on_its_own(self) -> bool:
        return (self.proc is not None and self.proc.poll() is not None and not self.starting
                and not self.stopped)

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and not self.starting

    def start(self, timeout: float = 120) -> None:
        self.starting = True
        try:
            offset = self.log.stat().st_size
            with open(self.log, "ab") as out:
                self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + timeout
            while True:
                with open(self.log, "rb") as fh:
                    fh.seek(offset)
                    if self.ready.encode() in fh.read():
                        break
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    with open(self.log, "rb") as fh:
                        fh.seek(offset)
                        tail = fh.read().decode(errors="replace")[-3000:]
                    raise RuntimeError(f"{self.name} did not start:\n{tail}")
                time.sleep(0.2)
        finally:
            self.starting = False

    def last_error(self) -> str:
        """The last line of its log that says why it stopped (Celery's "Unrecoverable error: ...")."""
        lines = self.log.read_text(errors="replace").splitlines()
        found = [line for line in lines if "CRITICAL" in line or "Unrecoverable" in line or "Error:" in line]
        return (found[-1] if found else (lines[-1] if lines else ""))[-300:]

    def kill(self) -> None:
        self.starting = True  # the supervisor leaves it to whoever killed it
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def stop(self) -> None:
        self.stopped = True
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                return
        try:  # the group's children too (a prefork child outlives a killed parent)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


# The host's ``timeout``, first on the jobs' PATH: counts launches, then runs the real one.
LAUNCH_COUNTER = f"""#!/usr/bin/python3 -S
# The chaos benchmark's launch counter. The job wrapper (workers.remote.launch_script) runs
# `timeout ... <argv>` once per launch; the wrapper (`sh -c <script> sh <run dir> <workdir>`)
# is this process's parent and holds the run directory as its 5th argument.
import os, sys, time
try:
    with open("/proc/%d/cmdline" % os.getppid(), "rb") as fh:
        args = fh.read().split(b"\\0")
    run_dir = args[4].decode() if len(args) > 4 else os.getcwd()
except OSError:
    run_dir = os.getcwd()
with open(os.path.join(run_dir, "{LAUNCHES_FILE}"), "a") as fh:
    fh.write("%d %.6f\\n" % (os.getpid(), time.time()))
os.execv("/usr/bin/timeout", ["timeout"] + sys.argv[1:])
"""


# --- the database side --------------------------------------------------------------------------


def db_call(fn, *args, timeout: float = 240, **kwargs):
    """``fn`` again on a fresh connection while PostgreSQL is away (this thread's connection)."""
    from django import db

    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn(*args, **kwargs)
        except (db.OperationalError, db.InterfaceError):
            db.connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def make_cast():
    import datetime

    from engagements import services
    from engagements.models import Customer, Engagement, User

    def user(username, role):
        created = User(username=username, role=role, email=f"{username}@example.com", language="en")
        created.set_unusable_password()
        created.save()
        return created

    pm = user("chaos_pm", User.Role.PM)
    consultant = user("chaos_consultant", User.Role.CONSULTANT)
    customer = Customer.objects.create(name="Chaos customer", short_name="chaos")
    engagement = services.check_create_engagement(pm, {
        "customer": customer, "code": "CHAOS-1", "title": "Chaos benchmark",
        "source_platform": "8 x A100", "target_platform": "Atlas 800T A2, 8 x 910B",
        "target_framework": Engagement.Framework.PYTORCH, "start_date": datetime.date(2026, 1, 5),
        "end_date": datetime.date(2026, 6, 30), "pm": pm,
    }, consultants=[consultant])
    return pm, consultant, customer, engagement


def register_host(pm, customer, host: Host, work_root: str):
    from workers import jobs

    info = host.info
    registered = jobs.check_register_host(pm, {
        "customer": customer, "name": f"chaos-{host.name}", "address": info.address, "port": info.port,
        "username": info.username, "auth_method": "key", "ascend_home": info.ascend_home,
        "tool_path": f"{host.shim_dir}:{info.tool_path}", "work_root": work_root,
    }, info.private_key)
    presented = jobs.fetch_key_for_confirmation(registered)
    return jobs.check_pin_host_key(pm, registered, presented.key_type, presented.base64, presented.fingerprint)


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str  # short, long, fails, chatty
    params: dict
    exit_code: int  # what the command itself exits with
    seconds: float  # about how long it runs on the host
    parses: bool = True  # False: it exits 0 with nothing its kind can read (the job fails on parse)
    generic: bool = False  # a kind this file has no runs of its own for: its parser may find nothing

    @property
    def fails(self) -> bool:
        return self.exit_code != 0 or not self.parses


def variants(kind, sim_root: Path, rng: random.Random, tiny: bool) -> list[Variant]:
    """What a kind's jobs run in this benchmark: a short run, a long one, one failing on purpose."""
    from django.core.exceptions import ValidationError

    long_s = rng.randint(8, 12) if tiny else rng.randint(10, 30)
    bench = "benchmark --DatasetPath /data/gsm8k --ModelName Qwen-14B-Chat"
    loop = (f"i=0; while [ $i -lt {long_s} ]; do echo \"step $i of {long_s}\"; i=$((i+1)); sleep 1; done; "
            "echo \"score: 70.25\"")
    msprobe = "msprobe -f pytorch compare -i ./compare.json -o ./output"
    atc = "atc --framework=5 --soc_version=Ascend910B3 --model="
    profiles = {"flops_per_step": "2e15", "peak_tflops": "313", "devices": "8"}
    chatty = ("import sys, time\nfor burst in range(8):\n    sys.stdout.write(('chaos %d ' % burst) * 16384 + '\\n')\n"
              "    sys.stdout.flush()\n    time.sleep(0.7)\nprint('score: 69.5')")
    table = {
        "disk_check": [Variant("short", {}, 0, 1)],
        "env_probe": [Variant("short", {}, 0, 2)],
        "migration_analysis": [
            Variant("short", {"code_dir": str(sim_root / "opt" / "code" / "train_demo")}, 0, 2),
            Variant("fails", {"code_dir": "/nonexistent/chaos-code"}, 2, 1),
        ],
        "evaluation": [
            Variant("short", {"command": "sh -c 'echo evaluating; echo \"score: 71.5\"'", "dataset": "ceval"}, 0, 1),
            Variant("long", {"command": f"sh -c '{loop}'", "dataset": "ceval"}, 0, long_s),
            Variant("fails", {"command": "sh -c 'echo loading; echo \"no NPU visible\" >&2; exit 3'"}, 3, 1),
            Variant("chatty", {"command": "python3 -c " + _sh_quote(chatty), "dataset": "ceval"}, 0, 6),
        ],
        "inference_benchmark": [
            Variant("short", {"command": bench}, 0, 1),
            Variant("long", {"command": f"sh -c 'sleep {long_s}; {bench}'"}, 0, long_s),
            Variant("fails", {"command": f"sh -c '{bench}; exit 5'"}, 5, 1),
        ],
        "training_run": [
            Variant("short", {"command": "ascend-demo-train --steps 20 --save-interval 10", "workdir": "."}, 0, 1),
            Variant("long", {"command": f"ascend-demo-train --steps {long_s * 2} --sleep 0.5", "workdir": "."},
                    0, long_s),
            Variant("fails", {"command": "sh -c 'ascend-demo-train --steps 5; exit 4'", "workdir": "."}, 4, 1),
        ],
        "accuracy_compare": [
            Variant("short", {"command": msprobe, "workdir": ".", "output_dir": "./output"}, 0, 1),
            Variant("long", {"command": f"sh -c 'sleep {long_s}; {msprobe}'", "workdir": ".",
                             "output_dir": "./output"}, 0, long_s),
            Variant("fails", {"command": f"sh -c '{msprobe}; exit 6'", "workdir": ".", "output_dir": "./output"},
                    6, 1),
        ],
        "atc_convert": [  # a failed conversion is a result: the job succeeds either way
            Variant("short", {"command": f"{atc}{sim_root}/opt/models/yolox_nano.onnx --output=./yolox",
                              "workdir": "."}, 0, 1),
            Variant("fails", {"command": f"{atc}adddsl.onnx --output=./adddsl", "workdir": "."}, 0, 1),
        ],
        "mindie_config": [
            Variant("short", {"config_path": f"{sim_root}/opt/mindie/config_v1.json"}, 0, 1),
            Variant("fails", {"config_path": "/nonexistent/chaos/config.json"}, 1, 1),
        ],
        "profiler_collect": [
            Variant("short", {"profiler_dir": f"{sim_root}/opt/profiles/before", **profiles}, 0, 1),
            Variant("fails", {"profiler_dir": "/nonexistent/chaos-profile"}, 2, 1),
            Variant("unparsable", {"profiler_dir": f"{sim_root}/opt/train"}, 0, 1, parses=False),
        ],
    }
    if kind.key in table:
        return table[kind.key]
    # A kind this file does not know yet: a short and a failing command where it runs one, its
    # other fields filled in (paths: the run directory); its parser may well find nothing there.
    runs = [("short", "sh -c 'echo chaos; echo \"score: 1\"'", 0), ("fails", "sh -c 'echo chaos; exit 3'", 3)]
    found = []
    for name, command, exit_code in runs if "command" in kind.fields else runs[:1]:
        params = generic_params(kind, command)
        try:
            kind.clean(dict(params))
        except ValidationError as exc:  # reported as a kind not covered: add its runs to the table above
            SKIPPED_KINDS[kind.key] = "; ".join(exc.messages)[:200]
            return []
        found.append(Variant(name, params, exit_code if "command" in kind.fields else 0, 1, generic=True))
    return found


# Kinds no run could be made up for (key -> why), reported in the table.
SKIPPED_KINDS: dict[str, str] = {}


def generic_params(kind, command: str) -> dict:
    from django import forms

    params = {}
    for name, form_field in kind.fields.items():
        if name == "command":
            params[name] = command
        elif name == "timeout_s":
            params[name] = 600
        elif name == "workdir" or form_field.required:
            params[name] = form_field.initial or (1 if isinstance(form_field, forms.IntegerField) else ".")
    return params


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


WEIGHTS = {"short": 0.55, "long": 0.2, "fails": 0.15, "unparsable": 0.1, "chatty": 0.1}
TINY_ORDER = ["fails", "long", "unparsable", "short", "chatty"]


@dataclass
class Planned:
    kind: str
    variant: Variant
    host: int
    cancel: str | None  # None, "early" (right after the start) or "late" (a few seconds in)


def plan_load(n_jobs: int, hosts: list[Host], rng: random.Random, tiny: bool) -> list[Planned]:
    from workers import kinds

    all_kinds = [kind for kind in kinds.all_kinds() if variants(kind, hosts[0].info.root, rng, tiny)]
    n_jobs = n_jobs or (2 * len(all_kinds) if tiny else 300)
    plan = []
    for index in range(n_jobs):
        kind = all_kinds[index % len(all_kinds)]
        host = index // len(all_kinds) % len(hosts) if tiny else rng.randrange(len(hosts))
        options = variants(kind, hosts[host].info.root, rng, tiny)
        if tiny:  # every kind's variants in turn, the failing one first
            ordered = sorted(options, key=lambda v: TINY_ORDER.index(v.name))
            variant = ordered[index // len(all_kinds) % len(ordered)]
        else:
            variant = rng.choices(options, [WEIGHTS[v.name] for v in options])[0]
        cancel = None
        if rng.random() < 0.1 or (tiny and index in (len(all_kinds) - 1, n_jobs - 3)):
            cancel = "late" if variant.name == "long" else "early"
        plan.append(Planned(kind.key, variant, host, cancel))
    rng.shuffle(plan)
    return plan


@dataclass
class Started:
    job_id: int
    planned: Planned
    at: float
    cancel_at: float | None = None
    cancel_result: str = ""


class Load:
    """Starts the planned jobs at an even pace, and cancels the chosen ones."""

    def __init__(self, plan, user, engagement, hosts_db, start: float, end: float, stop: threading.Event):
        self.plan, self.user, self.engagement, self.hosts_db = plan, user, engagement, hosts_db
        self.start, self.end, self.stop = start, end, stop
        self.started: dict[int, Started] = {}
        self.not_started = 0
        self.errors: list[str] = []
        self.rng = random.Random(len(plan))

    def run(self) -> None:
        try:
            self._run()
        except Exception:  # noqa: BLE001 - reported, never a silent dead thread
            self.errors.append(traceback.format_exc())
            say("load: " + traceback.format_exc())

    def _run(self) -> None:
        from django import db

        from workers import kinds

        stage = db_call(lambda: self.engagement.stages.order_by("order").first())
        exclusive = set(kinds.exclusive_keys())
        interval = (self.end - self.start) / max(1, len(self.plan))
        next_at = self.start
        pending = list(self.plan)
        while pending and not self.stop.is_set():
            self._cancel_due()
            if time.time() < next_at:
                time.sleep(min(0.2, next_at - time.time()))
                continue
            if time.time() > self.end:
                break
            item = pending[0]
            if item.kind in exclusive and self._backlog(item.host) >= 4:
                # To the other host (both simulated hosts are this machine: the paths hold there too).
                other = 1 - item.host
                if self._backlog(other) < 4:
                    item.host = other
                else:
                    time.sleep(0.2)
                    continue
            pending.pop(0)
            try:
                self._start(stage, item)
            except (db.OperationalError, db.InterfaceError):
                db.connection.close()
                pending.insert(0, item)  # nothing was created: start it again
                time.sleep(0.5)
                continue
            next_at += interval
        self.not_started = len(pending)
        while not self.stop.is_set() and any(s.cancel_at and not s.cancel_result for s in self.started.values()):
            self._cancel_due()
            time.sleep(0.2)

    def _backlog(self, host: int) -> int:
        from workers import kinds
        from workers.models import Job

        return db_call(lambda: Job.objects.filter(host=self.hosts_db[host], status=Job.Status.QUEUED,
                                                  kind__in=kinds.exclusive_keys()).count())

    def _start(self, stage, item: Planned) -> None:
        from django import db

        from workers import jobs
        from workers.models import Job

        before = db_call(lambda: Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
        try:
            job = jobs.check_start_job(self.user, stage, self.hosts_db[item.host], item.kind, dict(item.variant.params))
        except (db.OperationalError, db.InterfaceError):
            raise
        except Exception as exc:  # noqa: BLE001 - the broker refused the message after the commit
            db.connection.close()
            job = db_call(lambda: Job.objects.filter(pk__gt=before).order_by("pk").first())
            if job is None:
                raise
            say(f"job {job.pk} started, but its message was not sent ({type(exc).__name__}); the reaper re-sends it")
        now = time.time()
        started = Started(job.pk, item, now)
        if item.cancel == "early":
            started.cancel_at = now
        elif item.cancel == "late":
            started.cancel_at = now + self.rng.uniform(4, 12)
        self.started[job.pk] = started
        self._cancel_due()

    def _cancel_due(self) -> None:
        from django.core.exceptions import ValidationError

        from workers import jobs
        from workers.models import Job

        for started in self.started.values():
            if started.cancel_at is None or started.cancel_result or time.time() < started.cancel_at:
                continue
            job = db_call(lambda s=started: Job.objects.get(pk=s.job_id))
            try:
                db_call(jobs.check_cancel_job, self.user, job)
                started.cancel_result = f"asked while {job.status}"
            except ValidationError:
                started.cancel_result = "too late: it had ended"


# --- faults -------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    detail: str
    at: float
    back: float | None = None  # when the fault was over (the service answers again)
    running: set[int] = field(default_factory=set)  # jobs running when it struck
    progressed: dict[int, float] = field(default_factory=dict)  # job -> when it progressed after ``back``
    recovered: float | None = None
    gave_up: bool = False

    @property
    def recovery(self) -> float | None:
        return None if self.recovered is None else self.recovered - self.at


class Chaos:
    """Injects the faults at random intervals, and brings everything back at the end."""

    def __init__(self, env, redis: Redis, postgres: Postgres, hosts: list[Host], workers: list[CeleryProcess],
                 rng: random.Random, start: float, end: float, stop: threading.Event, tiny: bool):
        self.env, self.redis, self.postgres, self.hosts, self.workers = env, redis, postgres, hosts, workers
        self.rng, self.start, self.end, self.stop, self.tiny = rng, start, end, stop, tiny
        self.faults: list[Fault] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.restarts: list[threading.Thread] = []

    def run(self) -> None:
        try:
            self._run()
        except Exception:  # noqa: BLE001 - reported, never a silent dead thread
            self.errors.append(traceback.format_exc())
            say("chaos: " + traceback.format_exc())
        finally:
            if not self.stop.is_set():  # set only when the run is being torn down
                self.restore_all()

    def _gap(self) -> float:
        return self.rng.uniform(6, 9) if self.tiny else self.rng.uniform(8, 22)

    def _run(self) -> None:
        bag: list[str] = []
        next_at = self.start + (4 if self.tiny else self._gap())
        while not self.stop.is_set() and time.time() < self.end:
            self._restore_due()
            if time.time() < next_at:
                time.sleep(0.1)
                continue
            if not bag:
                bag = list(FAULT_KINDS)
                self.rng.shuffle(bag)
                if self.tiny:  # the long one last, so it ends inside the window
                    bag.remove("sshd_stop")
                    bag.insert(0, "sshd_stop")
            kind = bag.pop()
            if not self.inject(kind):
                bag.insert(0, kind)  # not possible now (e.g. every worker is restarting): later
                next_at = time.time() + 1
                continue
            next_at = time.time() + self._gap()

    def _running_jobs(self) -> set[int]:
        from workers.models import Job

        return set(db_call(lambda: list(Job.objects.filter(status=Job.Status.RUNNING).values_list("pk", flat=True))))

    def inject(self, kind: str) -> bool:
        rng = self.rng
        if kind == "worker_kill":
            candidates = [w for w in self.workers if w.up]
            if not candidates:
                return False
            worker = rng.choice(candidates)
            fault = self._record(kind, worker.name)
            worker.kill()  # marks it as starting: the supervisor leaves it to the restart below
            fault.back = time.time()
            delay = rng.uniform(0.5, 3)
            thread = threading.Thread(target=self._restart_worker, args=(worker, delay), daemon=True)
            thread.start()
            self.restarts.append(thread)
        elif kind == "redis_restart":
            sig = rng.choice([signal.SIGTERM, signal.SIGKILL])
            fault = self._record(kind, f"{sig.name}")
            self.redis.stop(sig)
            time.sleep(rng.uniform(0.5, 3))
            self.redis.start()
            fault.back = time.time()
        elif kind == "postgres_restart":
            mode = rng.choice(["fast", "immediate"])
            fault = self._record(kind, f"-m {mode}")
            self.postgres.stop(mode)
            time.sleep(rng.uniform(0.5, 3))
            self.postgres.start()
            fault.back = time.time()
        elif kind == "sshd_kill":
            candidates = [h for h in self.hosts if h.up]
            if not candidates:
                return False
            host = rng.choice(candidates)
            fault = self._record(kind, host.name)
            sessions = host.kill_sshd()
            time.sleep(rng.uniform(0, 1))
            host.start_sshd()
            fault.back = time.time()
            fault.detail += f", {sessions} sessions"
        elif kind == "sshd_stop":
            candidates = [h for h in self.hosts if h.up]
            if not candidates:
                return False
            host = rng.choice(candidates)
            seconds = 5 if self.tiny else rng.uniform(10, 30)
            fault = self._record(kind, f"{host.name}, {seconds:.0f} s")
            host.stop_sshd()
            host.down_until = time.time() + seconds
            host.fault = fault
        else:
            raise ValueError(kind)
        if fault.back is not None:
            say(f"fault {len(self.faults)}: {FAULT_LABELS[kind]} ({fault.detail}), {len(fault.running)} jobs running; "
                f"over after {fault.back - fault.at:.1f} s")
        else:
            say(f"fault {len(self.faults)}: {FAULT_LABELS[kind]} ({fault.detail}), {len(fault.running)} jobs running")
        return True

    def _record(self, kind: str, detail: str) -> Fault:
        running = self._running_jobs()
        fault = Fault(kind, detail, time.time(), running=running)
        with self.lock:
            self.faults.append(fault)
        return fault

    def _restart_worker(self, worker: CeleryProcess, delay: float) -> None:
        time.sleep(delay)
        try:
            worker.start()
        except Exception:  # noqa: BLE001 - reported; the checks then show what it cost
            self.errors.append(traceback.format_exc())
            say(f"{worker.name} did not restart: {traceback.format_exc()}")

    def _restore_due(self, force: bool = False) -> None:
        for host in self.hosts:
            if host.down_until is not None and (force or time.time() >= host.down_until):
                host.start_sshd()
                host.down_until = None
                host.fault.back = time.time()
                say(f"{host.name}'s sshd is back after {host.fault.back - host.fault.at:.1f} s")

    def restore_all(self) -> None:
        self._restore_due(force=True)
        for thread in self.restarts:
            thread.join(timeout=180)
        deadline = time.time() + 180  # a worker that exited on its own: the supervisor starts it
        while not all(worker.up for worker in self.workers) and time.time() < deadline:
            time.sleep(0.5)
        if not self.redis.ping():
            self.redis.start()


class Supervisor:
    """Starts a worker or beat that exited on its own again, as docker-compose's ``restart:
    unless-stopped`` (or systemd's ``Restart=``) does, and keeps count: the faults are the bench's
    to make, an exit of their own is a finding."""

    def __init__(self, processes: list[CeleryProcess], stop: threading.Event):
        self.processes, self.stop = processes, stop
        self.exits: list[tuple[float, str, str]] = []  # (when, which, why)
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for process in self.processes:
                if self.stop.is_set() or not process.exited_on_its_own:
                    continue
                why = process.last_error()
                self.exits.append((time.time(), process.name, why))
                say(f"{process.name} exited on its own (code {process.proc.returncode}): {why}; starting it again")
                try:
                    process.start()
                except Exception:  # noqa: BLE001 - tried again on the next round
                    self.errors.append(traceback.format_exc())
            time.sleep(1)


class Monitor:
    """Watches the jobs a fault struck until each has progressed after the fault was over."""

    def __init__(self, chaos: Chaos, stop: threading.Event):
        self.chaos, self.stop = chaos, stop
        self.errors: list[str] = []

    def run(self) -> None:
        from django import db

        while not self.stop.is_set():
            try:
                self.check()
            except (db.OperationalError, db.InterfaceError):
                db.connection.close()
            except Exception:  # noqa: BLE001 - reported, never a silent dead thread
                self.errors.append(traceback.format_exc())
                say("monitor: " + traceback.format_exc())
            time.sleep(0.5)

    def pending(self) -> list[Fault]:
        with self.chaos.lock:
            return [f for f in self.chaos.faults if f.recovered is None and not f.gave_up and f.running]

    def check(self) -> None:
        from workers.models import Job

        pending = self.pending()
        if not pending:
            return
        ids = set().union(*(f.running for f in pending))
        rows = {row["pk"]: row for row in Job.objects.filter(pk__in=ids).values("pk", "status", "lease_until",
                                                                                  "finished_at")}
        now = time.time()
        for fault in pending:
            if fault.back is None:
                continue
            for pk in fault.running - set(fault.progressed):
                row = rows.get(pk)
                if row is None:
                    continue
                if row["status"] in Job.FINAL:
                    fault.progressed[pk] = max(fault.back, row["finished_at"].timestamp())
                elif row["status"] == Job.Status.RUNNING and row["lease_until"] is not None:
                    beat = row["lease_until"].timestamp() - LEASE_SECONDS
                    if beat >= fault.back:
                        fault.progressed[pk] = beat
            if len(fault.progressed) == len(fault.running):
                fault.recovered = max(fault.progressed.values())
            elif now - fault.at > RECOVERY_CAP_S:
                fault.gave_up = True


# --- checks -------------------------------------------------------------------------------------


@dataclass
class Remote:
    exists: bool
    launches: int = 0
    done: bool = False
    exit_code: int | None = None
    alive: bool = False
    log: bytes | None = None
    started: float | None = None  # when the first launch started the command (the counter's clock)
    ended: float | None = None  # when the wrapper wrote ``done``


def read_remote(run_dir: Path, sessions: set[int]) -> Remote:
    if not run_dir.is_dir():
        return Remote(False)
    remote = Remote(True)
    launches = run_dir / LAUNCHES_FILE
    if launches.exists():
        lines = [line.split() for line in launches.read_text().splitlines() if line.strip()]
        remote.launches = len(lines)
        remote.started = min(float(words[1]) for words in lines)
    remote.done = (run_dir / "done").exists()
    if remote.done:
        remote.ended = (run_dir / "done").stat().st_mtime
    try:
        remote.exit_code = int((run_dir / "exit_code").read_text().strip())
    except (OSError, ValueError):
        remote.exit_code = None
    try:
        remote.alive = int((run_dir / "pid").read_text().strip()) in sessions
    except (OSError, ValueError):
        remote.alive = False
    if (run_dir / "output.log").exists():
        remote.log = (run_dir / "output.log").read_bytes()
    return remote


# Failure reasons that are the job's own (its command, its output, its time limit, a cancel).
OWN_REASONS = {"command", "parse", "timeout", "cancelled"}


def check_job(job, started: Started | None, remote: Remote, local_log: bytes) -> list[tuple[str, str]]:
    """(category, why) for everything wrong with one job; empty when all is well."""
    from workers.models import Job

    problems = []
    if not job.is_final:
        return [("stuck", f"still {job.status} ({job.phase!r}), attempts {job.attempts}")]
    if remote.launches > 1:
        problems.append(("run twice", f"launched {remote.launches} times on the host"))
    expected = started.planned.variant.exit_code if started else None
    reason = job.failure_reason
    if job.status == Job.Status.LOST:
        problems.append(("lost", f"lost: {job.failure_message}"))
    elif job.status == Job.Status.FAILED and (reason not in OWN_REASONS or
                                              (reason == "command" and job.exit_code is None)):
        problems.append(("lost", f"failed ({reason}) though its command was only interrupted: "
                                 f"{job.failure_message[:300]}"))
    elif job.status == Job.Status.SUCCEEDED:
        if not remote.done or remote.exit_code != 0 or job.exit_code != 0:
            problems.append(("wrong state", f"succeeded, but the host says done={remote.done} "
                                            f"exit={remote.exit_code} (job exit {job.exit_code})"))
        elif expected not in (None, 0):
            problems.append(("wrong state", f"succeeded, but its command exits {expected}"))
        elif started and not started.planned.variant.parses:
            problems.append(("wrong state", "succeeded, but its output holds nothing its kind can read"))
        elif not job.result:
            problems.append(("wrong state", "succeeded without a result"))
    elif job.status == Job.Status.FAILED:
        if job.exit_code is None or not remote.done or remote.exit_code != job.exit_code:
            problems.append(("wrong state", f"failed ({reason}) with exit {job.exit_code}, but the host says "
                                            f"done={remote.done} exit={remote.exit_code}"))
        elif reason == "command" and expected not in (None, job.exit_code):
            problems.append(("wrong state", f"failed with exit {job.exit_code}; its command exits {expected}"))
        elif reason == "parse" and started and started.planned.variant.parses and not started.planned.variant.generic:
            problems.append(("wrong state", f"its output could not be parsed: {job.failure_message[:300]}"))
    elif job.status == Job.Status.CANCELLED and not job.cancel_requested:
        problems.append(("wrong state", "cancelled, though nobody asked"))
    if remote.alive:
        problems.append(("wrong state", f"{job.status}, but its remote run is still running"))
    if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED) and reason in ("", "command", "parse", "timeout"):
        if remote.launches == 0:
            problems.append(("wrong state", f"{job.status} on its command, but it was never launched"))
        if remote.log is None or local_log != remote.log:
            where = first_difference(local_log, remote.log)
            problems.append(("wrong state", f"the portal's log ({len(local_log):,} bytes) is not the host's "
                                            f"({len(remote.log or b''):,} bytes): {where}"))
    if job.status == Job.Status.CANCELLED and remote.log is not None and not remote.log.startswith(local_log):
        problems.append(("wrong state", f"the portal's log ({len(local_log):,} bytes) is not a prefix of the "
                                        f"host's ({len(remote.log):,} bytes)"))
    if job.log_bytes != len(local_log) and job.status != Job.Status.QUEUED:
        problems.append(("wrong state", f"log_bytes {job.log_bytes:,}, but the log holds {len(local_log):,}"))
    return problems


def npu_overlaps(runs: list[tuple[object, Remote]]) -> list[str]:
    """Pairs of NPU jobs (kinds that are ``exclusive``) whose remote runs overlapped on one host."""
    from workers import kinds

    exclusive = set(kinds.exclusive_keys())
    found = []
    by_host: dict[int, list] = {}
    for job, remote in runs:
        if job.kind in exclusive and remote.started is not None:
            end = remote.ended  # ``done`` written; else killed (a cancel: the portal ends the job once the
            if end is None:     # run is gone) or still running
                end = time.time() if remote.alive or job.finished_at is None else job.finished_at.timestamp()
            by_host.setdefault(job.host_id, []).append((remote.started, end, job))
    for spans in by_host.values():
        spans.sort(key=lambda span: span[0])
        latest_end, latest = 0.0, None  # the run that ends last among those started so far
        for start, end, job in spans:
            if latest is not None and start < latest_end:
                found.append(f"jobs {latest.pk} ({latest.kind}, {latest.status}) and {job.pk} ({job.kind}, "
                             f"{job.status}) on {job.host.name}: {latest_end - start:.1f} s at once")
            if end > latest_end:
                latest_end, latest = end, job
    return found


def first_difference(ours: bytes, theirs: bytes | None) -> str:
    if theirs is None:
        return "the host has no output.log"
    at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    return f"they part at byte {at:,}"


def live_sessions() -> set[int]:
    return {sid for _ppid, sid, _name, _start in proc_table().values()}


# --- the run ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("CHAOS_MINUTES") or 10),
                        help="how long the faults go on (default: CHAOS_MINUTES or 10)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="how many jobs to start (default 300; tiny: 2 of each kind)")
    parser.add_argument("--seed", type=int, default=None, help="the random seed (default: random, printed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    parser.add_argument("--tiny", action="store_true", help="a run of about two minutes (tests/test_benchmarks.py)")
    return parser.parse_args()


def preflight() -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("run it as root: the simulated hosts' sshd logs in as the user ascendsim, and the "
                        "PostgreSQL cluster runs as the postgres system user")
    for tool in (SSHD, str(PG_BIN / "initdb"), str(PG_BIN / "pg_ctl"), "redis-server", "redis-cli", "runuser",
                 "/usr/bin/timeout", "/usr/bin/python3"):
        if not shutil.which(tool):
            problems.append(f"{tool} is missing (bash tests/ensure_services.sh installs what the tests need)")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        problems.append("there is no postgres system user (install postgresql-15)")
    return problems


def main() -> int:
    args = parse_args()
    problems = preflight()
    if problems:
        print("bench/chaos.py cannot run here:\n- " + "\n- ".join(problems), file=sys.stderr)
        return 2
    tiny = args.tiny
    minutes = 50 / 60 if tiny else args.minutes
    n_jobs = args.jobs or 0  # by default: 2 of each kind (tiny), or 300
    seed = args.seed if args.seed is not None else (12 if tiny else random.randrange(1_000_000))
    rng = random.Random(seed)

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    base = Path(tempfile.mkdtemp(prefix="chaos-"))
    base.chmod(0o755)
    teardown: list = []
    say(f"chaos benchmark: {minutes:g} min of faults, {n_jobs or 'default'} jobs, seed {seed}"
        f"{', TINY' if tiny else ''}; "
        f"files in {base}")
    try:
        return run(args, base, teardown, rng, minutes, n_jobs, seed)
    except KeyboardInterrupt as exc:
        say(f"interrupted ({exc or 'Ctrl-C'}): tearing down")
        return 130
    finally:
        for step in reversed(teardown):
            try:
                step()
            except Exception:  # noqa: BLE001 - every step runs; each says what failed
                traceback.print_exc()
        if args.keep:
            say(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def run(args, base: Path, teardown: list, rng: random.Random, minutes: float, n_jobs: int, seed: int) -> int:
    tiny = args.tiny
    postgres = Postgres(base)
    postgres.init()
    postgres.start()
    teardown.append(postgres.teardown)
    postgres.create_database()
    redis = Redis(base)
    redis.start()
    teardown.append(redis.stop)
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": os.environ.get("DEBUG", "true"),
        "AXES_ENABLED": "false",
        "DATABASE_URL": postgres.url,
        "CELERY_BROKER_URL": redis.url,
        "MEDIA_ROOT": str(base / "media"),
        "FERNET_KEYS": Fernet.generate_key().decode(),
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "JOB_REAPER_SECONDS": str(REAPER_SECONDS),
        "JOB_REQUEUE_AFTER_SECONDS": str(REQUEUE_AFTER_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("JOB_MAX_ATTEMPTS", None)
    os.environ.update(env)
    say(f"PostgreSQL on 127.0.0.1:{postgres.port}, Redis on 127.0.0.1:{redis.port}; migrating ...")

    import logging

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import translation

    translation.activate("en")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    call_command("migrate", verbosity=0, interactive=False)
    teardown.append(connections.close_all)

    shim_dir = base / "launch-counter"
    shim_dir.mkdir()
    (shim_dir / "timeout").write_text(LAUNCH_COUNTER)
    (shim_dir / "timeout").chmod(0o755)
    shim_dir.chmod(0o755)
    hosts = [Host(base, i) for i in range(2)]
    for host in hosts:
        host.start(shim_dir)
        teardown.append(host.teardown)
    work_root = f".ascend-portal/chaos-{os.getpid()}-{int(time.time())}"
    login_home = Path(pwd.getpwnam(hosts[0].info.username).pw_dir)
    teardown.append(lambda: clean_remote(login_home / work_root))
    pm, consultant, customer, engagement = make_cast()
    hosts_db = [register_host(pm, customer, host, work_root) for host in hosts]

    workers = []
    for index in range(2):
        worker = CeleryProcess(
            f"worker{index + 1}",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", str(WORKER_CONCURRENCY),
             "-Q", "default,ssh,pdf", "-n", f"chaos{index + 1}@%h", "--without-mingle", "--without-gossip",
             f"--statedb={base / f'worker{index + 1}.state'}", "-l", "info"],
            env, base / f"worker{index + 1}.log", "ready.")
        workers.append(worker)
        teardown.append(worker.stop)
    beat = CeleryProcess("beat", [sys.executable, "-m", "celery", "-A", "config", "beat",
                                  "-s", str(base / "beat-schedule"), "-l", "info"], env, base / "beat.log",
                         "beat: Starting")
    teardown.append(beat.stop)
    for process in (*workers, beat):
        process.start()
    say(f"sshd on 127.0.0.1:{hosts[0].info.port} and :{hosts[1].info.port} (user {hosts[0].info.username}); "
        f"workers pids {workers[0].proc.pid}, {workers[1].proc.pid}; beat {beat.proc.pid}; {os.cpu_count()} CPUs")

    window = minutes * 60
    start = time.time()
    end = start + window
    stop = threading.Event()
    plan = plan_load(n_jobs, hosts, rng, tiny)
    load = Load(plan, consultant, engagement, hosts_db, start, start + window * 0.8, stop)
    chaos = Chaos(env, redis, postgres, hosts, workers, rng, start, end, stop, tiny)
    monitor = Monitor(chaos, stop)
    supervisor = Supervisor([*workers, beat], stop)
    threads = [threading.Thread(target=part.run, name=name, daemon=True)
               for name, part in (("load", load), ("chaos", chaos), ("monitor", monitor),
                                  ("supervisor", supervisor))]
    teardown.append(lambda: stop_threads(stop, threads, chaos))
    for thread in threads:
        thread.start()
    while time.time() < end and threads[1].is_alive():
        time.sleep(min(30, max(0.1, end - time.time())))
        say(status_line())
    threads[1].join()  # the faults have ended and everything is back
    say("faults over; waiting for every job to end ...")
    quiet = wait_quiet(load, threads[0], cap=150 if tiny else 600)
    # Let the monitor see the last progress, then stop it.
    deadline = time.time() + 30
    while monitor.pending() and time.time() < deadline:
        time.sleep(0.5)
    stop.set()
    return report(load, chaos, monitor, supervisor, login_home, work_root, seed, minutes, quiet, tiny)


def stop_threads(stop: threading.Event, threads: list[threading.Thread], chaos: Chaos) -> None:
    """Before the services go: let a fault in progress, a worker's restart and the supervisor
    finish, so that none starts a service again after its teardown."""
    stop.set()
    for thread in [*threads, *chaos.restarts]:
        thread.join(timeout=120)


def status_line() -> str:
    from django.db.models import Count

    from workers.models import Job

    try:
        counts = dict(db_call(lambda: list(Job.objects.values_list("status").annotate(n=Count("pk"))), timeout=10))
    except Exception as exc:  # noqa: BLE001 - a status line is not worth failing for
        return f"(no status: {type(exc).__name__})"
    return "jobs: " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))


def wait_quiet(load: Load, load_thread: threading.Thread, cap: float) -> float:
    from workers.models import Job

    started = time.time()
    last_said = started
    while time.time() - started < cap:
        open_jobs = db_call(lambda: Job.objects.exclude(status__in=Job.FINAL).count())
        if open_jobs == 0 and not load_thread.is_alive():
            return time.time() - started
        if time.time() - last_said > 20:
            say(f"{open_jobs} jobs still open; {status_line()}")
            last_said = time.time()
        time.sleep(1)
    return -1.0


def clean_remote(work_root: Path) -> None:
    """Stop whatever this run left running on the hosts, then remove its job directories."""
    sessions = {}
    for pid, (_ppid, sid, _name, _start) in proc_table().items():
        sessions.setdefault(sid, []).append(pid)
    if work_root.is_dir():
        for pid_file in work_root.glob("*/pid"):
            try:
                sid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
            for pid in sessions.get(sid, []):
                kill_quietly(pid)
        shutil.rmtree(work_root, ignore_errors=True)


def report(load: Load, chaos: Chaos, monitor: Monitor, supervisor: Supervisor, login_home: Path, work_root: str,
           seed: int, minutes: float, quiet: float, tiny: bool) -> int:
    from workers.models import Job
    from workers.runner import local_log_path

    sessions = live_sessions()
    jobs = list(db_call(lambda: list(Job.objects.select_related("host").order_by("pk"))))
    problems: dict[str, list[str]] = {"lost": [], "run twice": [], "stuck": [], "wrong state": []}
    by_kind: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    reattached = 0
    runs = []
    for job in jobs:
        by_kind[job.kind] = by_kind.get(job.kind, 0) + 1
        started = load.started.get(job.pk)
        label = f"{job.status}" + (" (on purpose)" if started and started.planned.variant.fails and
                                   job.status == Job.Status.FAILED else "")
        outcomes[label] = outcomes.get(label, 0) + 1
        remote = read_remote(login_home / work_root / str(job.uuid), sessions)
        runs.append((job, remote))
        path = local_log_path(job)
        local_log = path.read_bytes() if path.exists() else b""
        if job.transitions.filter(reason__startswith="Re-attached").exists():
            reattached += 1
        for category, why in check_job(job, started, remote, local_log):
            variant = started.planned.variant.name if started else "?"
            cancel = f", cancel {started.cancel_result or 'planned'}" if started and started.planned.cancel else ""
            problems[category].append(f"job {job.pk} ({job.kind}, {variant}{cancel}, {job.host.name}, "
                                      f"attempts {job.attempts}): {why}")

    overlaps = npu_overlaps(runs)
    launches = sum(remote.launches for _job, remote in runs)
    faults = chaos.faults
    recoveries = [f.recovery for f in faults if f.recovery is not None]
    unrecovered = [f for f in faults if f.running and f.recovery is None]
    counts = {kind: sum(1 for f in faults if f.kind == kind) for kind in FAULT_KINDS}
    n_lost, n_twice, n_stuck, n_wrong = (len(problems[c]) for c in ("lost", "run twice", "stuck", "wrong state"))
    errors = load.errors + chaos.errors + monitor.errors + supervisor.errors
    min_jobs, min_faults = (len(load.plan), len(FAULT_KINDS)) if tiny else (200, 30)

    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    fmt = lambda values: " / ".join(f"{v:.1f}" for v in values)  # noqa: E731
    rows = [
        ("jobs", f"{len(jobs)} (" + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) + ")",
         f">= {min_jobs}, every kind", yes(len(jobs) >= min_jobs and len(by_kind) == len(load_kinds()))),
    ]
    if SKIPPED_KINDS:
        rows.append(("kinds without runs in bench/chaos.py", "; ".join(f"{k} ({why})" for k, why in
                                                                        SKIPPED_KINDS.items()), "none", "**no**"))
    rows += [
        ("jobs by outcome", ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())), "(report)", "-"),
        ("jobs re-attached after a fault", str(reattached), "(report)", "-"),
        ("launches counted on the hosts", str(launches), "(report)", "-"),
        ("faults", f"{len(faults)} in {minutes:g} min", f">= {min_faults}", yes(len(faults) >= min_faults)),
    ]
    for kind in FAULT_KINDS:
        rows.append((f"faults: {FAULT_LABELS[kind]}", str(counts[kind]), ">= 1", yes(counts[kind] >= 1)))
    rows += [
        ("lost", str(n_lost), "0", yes(n_lost == 0)),
        ("run twice", str(n_twice), "0", yes(n_twice == 0)),
        ("stuck", str(n_stuck), "0", yes(n_stuck == 0)),
        ("wrong state", str(n_wrong), "0", yes(n_wrong == 0)),
        ("NPU jobs running at once on a host", str(len(overlaps)), "0", yes(not overlaps)),
        ("time to recover p50 / p95 (s)",
         fmt([statistics.median(recoveries), percentile(recoveries, 95)]) if recoveries else "n/a",
         "(report)", "-"),
        ("faults with running jobs / not recovered within 300 s",
         f"{sum(1 for f in faults if f.running)} / {len(unrecovered)}", "- / 0", yes(not unrecovered)),
        ("quiescence after the last fault", f"{quiet:.0f} s" if quiet >= 0 else "**not reached**", "(report)", "-"),
        ("workers or beat that exited on their own (started again, as a restart policy does)",
         str(len(supervisor.exits)), "(report)", "-"),
    ]
    print("\n| measure | value | target | met |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    print("\n| fault | count | service down, median (s) | time to recover p50 / p95 / max (s) |\n|---|---|---|---|")
    for kind in FAULT_KINDS:
        values = [f.recovery for f in faults if f.kind == kind and f.recovery is not None]
        stats = fmt([statistics.median(values), percentile(values, 95), max(values)]) if values else "n/a"
        down = [f.back - f.at for f in faults if f.kind == kind and f.back is not None]
        print(f"| {FAULT_LABELS[kind]} | {counts[kind]} | {statistics.median(down) if down else 0:.1f} | {stats} |")

    print(f"\nSeed {seed}; {len(load.plan)} jobs planned, {load.not_started} not started before the load window "
          f"closed. Faults (time from the start, what, jobs running, time to recover):")
    for fault in faults:
        recovery = f"{fault.recovery:.1f} s" if fault.recovery is not None else (
            "not measured (no job running)" if not fault.running else "**not recovered**")
        print(f"- {fault.at - T0:6.1f} s {FAULT_LABELS[fault.kind]} ({fault.detail}): {len(fault.running)} running, "
              f"{recovery}")
    for when, name, why in supervisor.exits:
        print(f"- {when - T0:6.1f} s {name} exited on its own: {why}")
    if overlaps:
        print(f"\nNPU jobs running at once on a host ({len(overlaps)}):")
        for line in overlaps[:40]:
            print(f"- {line}")
    for category, lines in problems.items():
        if lines:
            print(f"\n{category} ({len(lines)}):")
            for line in lines[:40]:
                print(f"- {line}")
    for error in errors:
        print(f"\nbenchmark error:\n{error}")
    failed = n_lost or n_twice or n_stuck or n_wrong or errors
    return 1 if failed else 0


def load_kinds() -> list[str]:
    from workers import kinds

    return [kind.key for kind in kinds.all_kinds()]


if __name__ == "__main__":
    sys.exit(main())
