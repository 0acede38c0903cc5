"""Every benchmark script in ``bench/`` runs at its tiny size (``--tiny``) inside ``make test``,
so none rots unseen: each must exit 0 and print its report table (header and rows), so a
crash, a stale key or a renamed measure fails here rather than in the next ``make bench``.

The scripts run as subprocesses, all at once (two cores: the whole file takes about a
minute). Those that need a database each make a throw-away one named after the script and
its process (``benchdb.throwaway_database``), copied from a migrated template this module
makes once, and drop it when they exit; never the development database, the pytest one or a
benchmark's own. ``bench_jobs.py`` also runs a real sshd (``demo.simhost.SimulatedHost``, as
``tests/conftest.py`` does), a private redis-server and a Celery worker.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import benchdb  # noqa: E402  (bench/benchdb.py: the scripts' database helpers)

TIMEOUT_S = 170  # per script, under pytest's 180 s
TABLE = "| measure | value | target | met |"
# script -> lines its output must contain: its table's header and rows of every section.
EXPECTED = {
    "bench_scanner.py": [TABLE, "| throughput |", "| findings |", "| peak RSS of the scanner process |"],
    "bench_pages.py": ["| page | URL | rows shown | queries | median ms | p95 ms | SQL ms (median) | target met |",
                       "| PM overview |", "| Consultant dashboard |", "| Engagement list API (PM) |",
                       "Do queries grow with the rows shown?"],
    "bench_acceptance.py": [TABLE, "| compare_loss, 2 × 2,000 steps", "| parse_training_log, 2,000 lines",
                            "| report zh-hans, 2 models: data + HTML + PDF |",
                            "| report en, 2 models: data + HTML + PDF |",
                            "| report en: pages (pypdf), PDF size, loss charts |"],
    "bench_quotes.py": [TABLE, "| quote_xlsx wall time", "| quote_pdf wall time", "| timesheet+xlsx wall time",
                        "| quote_pdf pages |"],
    "bench_jobs.py": ["| measure | value | target | met |\n|---|---|---|---|", "| 1. Dispatch:", "| 2. SSH overhead",
                      "| 3. 2 MB job (prints, exits): running -> succeeded", "| 3. End-of-job parse"],
}
NEEDS_DATABASE = {"bench_pages.py": "pages", "bench_acceptance.py": "acceptance", "bench_quotes.py": "quotes",
                  "bench_jobs.py": "jobs"}


def server_url() -> str:
    """The PostgreSQL server the tests use (their DATABASE_URL), as benchdb reads it."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or benchdb.DEFAULT_SERVER)
    if not parts.scheme.startswith("postgres"):
        parts = urlsplit(benchdb.DEFAULT_SERVER)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def database_exists(name: str) -> bool:
    conn = benchdb._connect(urlsplit(server_url()))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None
    finally:
        conn.close()


class Run:
    """One script at its tiny size, in its own process group, its output in a file."""

    def __init__(self, script: str, env: dict, out_dir: Path):
        self.script, self.out = script, out_dir / f"{script}.out"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, str(BENCH / script), "--tiny"], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()

    def wait(self) -> tuple[int, str, float]:
        remaining = TIMEOUT_S - (time.monotonic() - self.started)
        try:
            code = self.proc.wait(timeout=max(1.0, remaining))
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            code = f"killed after {TIMEOUT_S} s"
        return code, self.out.read_text(errors="replace"), time.monotonic() - self.started

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every script at once; each test waits for its own."""
    out_dir = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "DEBUG": "true", "AXES_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("BENCH_TINY_TEMPLATE", None)
    started = {"bench_scanner.py": Run("bench_scanner.py", env, out_dir)}
    # One migrated template for the database scripts' throw-away copies: migrations run once.
    template = f"{benchdb.TINY_PREFIX}template_{os.getpid()}"
    template_url = f"{server_url()}/{template}"
    benchdb.drop_database(template_url)
    benchdb.ensure_database(template_url)
    try:
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                                  env={**env, "DATABASE_URL": template_url}, capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
        if migrated.returncode:
            pytest.fail(f"Migrating the template database {template} failed:\n{migrated.stderr[-4000:]}")
        env["BENCH_TINY_TEMPLATE"] = template
        for script in NEEDS_DATABASE:
            started[script] = Run(script, env, out_dir)
        yield started
    finally:
        for run in started.values():
            run.kill()
        benchdb.drop_database(template_url)


def check(runs, script: str) -> str:
    code, output, seconds = runs[script].wait()
    tail = output[-6000:]
    label = NEEDS_DATABASE.get(script)
    if label:
        leftover = benchdb.tiny_database_name(label, runs[script].proc.pid)
        if database_exists(leftover):
            benchdb.drop_database(f"{server_url()}/{leftover}")
            pytest.fail(f"{script} --tiny left its throw-away database {leftover} behind.\n{tail}")
    assert code == 0, f"{script} --tiny exited {code} after {seconds:.0f} s:\n{tail}"
    missing = [line for line in EXPECTED[script] if line not in output]
    assert not missing, f"{script} --tiny printed no {missing}:\n{tail}"
    return output


def test_scanner_benchmark_runs_at_tiny_size(runs):
    check(runs, "bench_scanner.py")


def test_pages_benchmark_runs_at_tiny_size(runs):
    output = check(runs, "bench_pages.py")
    assert "HTTP " not in output.split("| page | URL |", 1)[1], "a page answered with an error"


def test_acceptance_benchmark_runs_at_tiny_size(runs):
    check(runs, "bench_acceptance.py")


def test_quotes_benchmark_runs_at_tiny_size(runs):
    check(runs, "bench_quotes.py")


def test_jobs_benchmark_runs_at_tiny_size(runs):
    """Real sshd, Redis and Celery worker, as tests/conftest.py runs them. Not skipped when
    something is missing: the CI machine has all of it (tests/ensure_services.sh) and runs as root."""
    missing = [tool for tool in ("/usr/sbin/sshd", "redis-server", "redis-cli", "ssh") if not shutil.which(tool)]
    if missing:
        runs["bench_jobs.py"].kill()
        pytest.fail(f"bench_jobs.py --tiny needs {', '.join(missing)}: run `bash tests/ensure_services.sh` as root "
                    "(it installs openssh-server and redis-server).")
    try:
        check(runs, "bench_jobs.py")
    except AssertionError as exc:
        if os.geteuid() != 0:
            pytest.fail(f"bench_jobs.py --tiny failed, not as root here: as root (as in CI) the simulated host's "
                        f"sshd logs in as its own user ascendsim; run make test as root.\n{exc}")
        raise


def test_tuning_parsers_benchmark_runs_at_tiny_size(tmp_path):
    """bench_tuning_parsers.py needs no database: it runs on its own, outside the ``runs`` fixture."""
    run = Run("bench_tuning_parsers.py", {**os.environ, "DEBUG": "true", "PYTHONUNBUFFERED": "1"}, tmp_path)
    try:
        code, output, seconds = run.wait()
    finally:
        run.kill()
    assert code == 0, f"bench_tuning_parsers.py --tiny exited {code} after {seconds:.0f} s:\n{output[-6000:]}"
    expected = [TABLE, "| kernel_details.csv import,", "| kernel_details.csv peak RSS growth",
                "| msprobe comparison import,", "| msprobe comparison peak RSS growth"]
    missing = [line for line in expected if line not in output]
    assert not missing, f"bench_tuning_parsers.py --tiny printed no {missing}:\n{output[-6000:]}"



def test_tuning_import_benchmark_runs_at_tiny_size(tmp_path):
    """bench_tuning_import.py: the upload services into PostgreSQL, on its own throw-away database
    (migrated by the script itself: outside the ``runs`` fixture, whose template others share)."""
    env = {**os.environ, "DEBUG": "true", "AXES_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("BENCH_TINY_TEMPLATE", None)
    env["DATABASE_URL"] = f"{server_url()}/postgres"
    run = Run("bench_tuning_import.py", env, tmp_path)
    try:
        code, output, seconds = run.wait()
    finally:
        run.kill()
    leftover = benchdb.tiny_database_name("tuning_import", run.proc.pid)
    if database_exists(leftover):
        benchdb.drop_database(f"{server_url()}/{leftover}")
        pytest.fail(f"bench_tuning_import.py --tiny left its throw-away database {leftover} behind.")
    assert code == 0, f"bench_tuning_import.py --tiny exited {code} after {seconds:.0f} s:\n{output[-6000:]}"
    expected = [TABLE, "| kernel_details.csv upload stored as a Profile,",
                "| kernel_details.csv import peak RSS growth",
                "| msprobe comparison upload stored with its rows,", "| msprobe comparison import peak RSS growth",
                "| AccuracyRow rows stored | 10,000 of 10,000;"]
    missing = [line for line in expected if line not in output]
    assert not missing, f"bench_tuning_import.py --tiny printed no {missing}:\n{output[-6000:]}"

CHAOS_TIMEOUT_S = 420  # about two minutes alone; more on a loaded two-core machine
CHAOS_TABLE = ["| measure | value | target | met |", "| jobs |", "| faults: SIGKILL a worker | 1 |",
               "| lost | 0 | 0 | yes |", "| run twice | 0 | 0 | yes |", "| stuck | 0 | 0 | yes |",
               "| wrong state | 0 | 0 | yes |", "| time to recover p50 / p95 (s) |",
               "| fault | count | service down, median (s) | time to recover p50 / p95 / max (s) |"]


@pytest.mark.timeout(CHAOS_TIMEOUT_S + 60)
def test_chaos_benchmark_runs_at_tiny_size(tmp_path):
    """``bench/chaos.py --tiny``: its own PostgreSQL cluster and Redis on spare ports, two simulated
    hosts, two workers and beat, one fault of each kind. Run on its own, after the others (it is
    the heaviest), and as root like bench_jobs.py: not skipped otherwise, CI runs as root."""
    missing = [tool for tool in ("/usr/sbin/sshd", "redis-server", "redis-cli", "runuser",
                                 "/usr/lib/postgresql/15/bin/initdb") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"chaos.py --tiny needs {', '.join(missing)}: run `bash tests/ensure_services.sh` as root.")
    if os.geteuid() != 0:
        pytest.fail("chaos.py --tiny needs root (the simulated hosts' sshd logs in as ascendsim, its PostgreSQL "
                    "cluster runs as the postgres user): run make test as root, as CI does.")
    env = {**os.environ, "DEBUG": "true", "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "chaos.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen([sys.executable, str(BENCH / "chaos.py"), "--tiny"], cwd=ROOT, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        code = proc.wait(timeout=CHAOS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # it tears its services down on SIGTERM
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        code = f"stopped after {CHAOS_TIMEOUT_S} s"
    output = out.read_text(errors="replace")
    assert code == 0, f"chaos.py --tiny exited {code}:\n{output[-8000:]}"
    missing_lines = [line for line in CHAOS_TABLE if line not in output]
    assert not missing_lines, f"chaos.py --tiny printed no {missing_lines}:\n{output[-8000:]}"


LOAD_TABLE = ["| page | role | URL | requests | req/s | p50 ms | p95 ms | server p50 ms | server p95 ms | KiB "
              "| queries | p95 / bare p95 | server p95 / bare's | errors | target met |",
              "| Engagement list | PM |", "| Engagement list | consultant |", "| Engagement list | customer contact |",
              "| bare view | all |", "| all portal pages | all |", "Errors: 0 (login and warm-up 0, timed 0)."]


def test_load_benchmark_runs_at_tiny_size(tmp_path):
    """``bench/load.py --tiny``: gunicorn as docker-compose runs it, one client of each role logging
    in through the form, on its own throw-away database (it migrates it: no template). Run on its
    own, outside the ``runs`` fixture: it starts a server of its own and must stop it."""
    env = {**os.environ, "DEBUG": "true", "AXES_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("BENCH_TINY_TEMPLATE", None)
    run = Run("load.py", env, tmp_path)
    try:
        code, output, seconds = run.wait()
    finally:
        run.kill()
    tail = output[-6000:]
    leftover = benchdb.tiny_database_name("load", run.proc.pid)
    if database_exists(leftover):
        benchdb.drop_database(f"{server_url()}/{leftover}")
        pytest.fail(f"load.py --tiny left its throw-away database {leftover} behind.\n{tail}")
    assert code == 0, f"load.py --tiny exited {code} after {seconds:.0f} s:\n{tail}"
    missing = [line for line in LOAD_TABLE if line not in output]
    assert not missing, f"load.py --tiny printed no {missing}:\n{tail}"
    port = re.search(r"gunicorn stopped; port (\d+) (free|STILL IN USE)\.", output)
    assert port and port.group(2) == "free", f"gunicorn's port is not free after load.py --tiny:\n{tail}"
