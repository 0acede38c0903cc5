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
