"""Load benchmark: logged-in clients against gunicorn, each page beside a bare Django view.

Not a test: it prints a report and exits 0, or 1 when any request failed. Run it with
``make bench`` or, by hand::

    .venv/bin/python bench/load.py [--clients 50] [--duration 60] [--warmup 10] [--workers 3] [--fresh] [--tiny]

What it does:

- Its own PostgreSQL database (``--database-url``, by default
  postgres://postgres@127.0.0.1:5432/ascend_bench_load; the name must start with
  ``ascend_bench``), created, migrated and seeded when missing with ``bench_pages.seed`` (300
  engagements, 63,000 work logs), plus what the benchmark needs and that seed lacks: a customer
  contact per customer, a password for the users who log in, and a few quotes per customer
  (built from the plan; half of them sent, so contacts see some). Then VACUUM ANALYZE.
- ``collectstatic`` with the image's storage (kept in ``var/bench_load_static/`` for the next
  run while the static sources and packages are the same: it takes a minute), then gunicorn
  started as docker-compose's web service runs it: ``gunicorn config.wsgi --worker-tmp-dir
  /dev/shm --access-logfile - --timeout 120`` with ``WEB_CONCURRENCY`` sync workers (3, as in
  ``.env.example``), DEBUG=false,
  static files from WhiteNoise, on a free loopback port, behind a "proxy" that says HTTPS
  (``X-Forwarded-Proto``). Two deviations: ``DJANGO_SETTINGS_MODULE=loadsite`` (the portal's
  settings plus the bare view's URL, ``bench/loadsite.py``, ``bench/loadurls.py``) and an access
  log format with the request time and the page (``%(D)s``) for the server-side figures.
- N client threads (stdlib ``http.client``, keep-alive asked for; gunicorn's sync workers close
  each connection), a mix of PMs, consultants and customer contacts, each logging in through
  the login form (CSRF token and cookie, session cookie), fetching the page's static files once,
  then requesting the pages of its role in random order, with its own engagements, stages and
  quotes, plus the bare view: a warm-up, then the timed window.
- The bare view returns a page of the portal pages' mean size, measured in the same run.
- It reports, per page and role: requests, req/s, p50/p95 as the client saw them (queueing
  for a worker included) and as gunicorn logged them, size, SQL queries (one request made
  in-process afterwards), and p95(page) / p95(bare), the figure. Targets: under 2x, and no
  errors at 50 clients. An error is any status other than 2xx/3xx, a redirect to the login page
  or a connection error, in the warm-up or the timed window. Beside it, the same ratio of the
  server-side p95s (with 50 clients on 3 workers most of a request's time is the queue), the
  CPU each party used in the window, and the SQL shapes repeated within one request.

gunicorn is stopped and its port freed when the script exits (atexit, SIGTERM, SIGHUP); if
the script is killed outright, gunicorn's master gets SIGTERM from the kernel (PR_SET_PDEATHSIG).

``--tiny`` runs the same code paths in seconds: the tiny seed on a throw-away database
(``benchdb.throwaway_database``), 3 clients (one of each role), a 1 s warm-up and 3 s timed,
and collectstatic without the compressed copies; what ``tests/test_benchmarks.py`` runs inside
``make test``.
"""

import argparse
import atexit
import base64
import datetime
import hashlib
import http.client
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

TINY = "--tiny" in sys.argv[1:]
STARTED = time.perf_counter()
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ascend_bench_load"
PASSWORD = "ascend-bench-load-2026"
HOST = "127.0.0.1"
TARGET_RATIO = 2.0
TARGET_CLIENTS = 50
CONTACT_PREFIX = "bench_contact"
QUOTES_PER_CUSTOMER, SENT_PER_CUSTOMER = (3, 2) if TINY else (6, 3)
# The access log of docker-compose's gunicorn (its default format), plus the request time in
# microseconds and the page the benchmark asked for.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s %({x-bench-page}i)s'
ACCESS_LINE = re.compile(r'" (\d{3}) \S+ "[^"]*" "[^"]*" (\d+) (\S+)$')

# One client in ten of each role: 5 consultants, 2 PMs, 3 customer contacts (3 clients: one each).
ROLE_CYCLE = ("consultant", "pm", "customer", "consultant", "customer", "consultant", "pm", "consultant", "customer",
              "consultant")
ROLE_LABELS = {"pm": "PM", "consultant": "consultant", "customer": "customer contact"}
# The pages each role uses; {engagement}, {stage} and {quote} are the client's own, picked at random.
PAGES = {
    "pm": (
        ("Engagement list", "/engagements/"),
        ("Engagement list, late", "/engagements/?health=late"),
        ("Engagement", "/engagements/{engagement}/"),
        ("Stage", "/stages/{stage}/"),
        ("Planned vs actual", "/engagements/{engagement}/economics/"),
        ("Risk register", "/engagements/{engagement}/risks/"),
        ("Acceptance reports", "/engagements/{engagement}/reports/"),
        ("Quotes", "/quotes/"),
        ("Quote", "/quotes/{quote}/"),
        ("Timesheets", "/timesheets/"),
        ("API engagements", "/api/engagements/"),
        ("API stages", "/api/stages/"),
        ("API work logs", "/api/worklogs/"),
    ),
    "consultant": (
        ("Engagement list", "/engagements/"),
        ("Engagement", "/engagements/{engagement}/"),
        ("Stage", "/stages/{stage}/"),
        ("Stage jobs", "/stages/{stage}/jobs/"),
        ("Assessments", "/engagements/{engagement}/assessments/"),
        ("Planned vs actual", "/engagements/{engagement}/economics/"),
        ("Acceptance reports", "/engagements/{engagement}/reports/"),
        ("Timesheets", "/timesheets/"),
        ("API engagements", "/api/engagements/"),
        ("API stages", "/api/stages/"),
        ("API work logs", "/api/worklogs/"),
    ),
    "customer": (
        ("Engagement list", "/engagements/"),
        ("Engagement", "/engagements/{engagement}/"),
        ("Stage", "/stages/{stage}/"),
        ("Acceptance reports", "/engagements/{engagement}/reports/"),
        ("Quotes", "/quotes/"),
        ("Quote", "/quotes/{quote}/"),
        ("API engagements", "/api/engagements/"),
        ("API stages", "/api/stages/"),
        ("API checklist items", "/api/checklist-items/"),
    ),
}
BARE = "bare"
COLLECTED = ".collected"  # written in a static root once collectstatic has finished there
STATIC_LINK = re.compile(r'(?:src|href)="(/static/[^"]+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=3 if TINY else TARGET_CLIENTS)
    parser.add_argument("--duration", type=float, default=3.0 if TINY else 60.0, help="seconds timed")
    parser.add_argument("--warmup", type=float, default=1.0 if TINY else 10.0, help="seconds of load before timing")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY") or 3),
                        help="gunicorn workers (WEB_CONCURRENCY; 3 as in .env.example)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--port", type=int, default=0, help="loopback port for gunicorn (0: a free one)")
    parser.add_argument("--fresh", action="store_true", help="drop the database and seed again")
    parser.add_argument("--seed", type=int, default=12, help="random seed of the clients' choices")
    parser.add_argument("--tiny", action="store_true", help="the same code paths in seconds (for make test)")
    args = parser.parse_args()
    if args.clients < 1 or args.duration <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error("--clients and --workers must be at least 1, --duration positive, --warmup not negative")
    return args


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (as bench_pages.p95)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- the data set ----------------------------------------------------------------------------


def prepare_users_and_quotes() -> None:
    """What the benchmark needs beyond bench_pages.seed(): a customer contact for each
    customer, a password for everyone who logs in, and quotes (built from each engagement's
    plan as a PM does; the first of each customer's sent). Idempotent."""
    from bench_pages import CODE_PREFIX
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from engagements.models import Customer, Engagement, User
    from reports import quotes
    from reports.models import Quote

    started = time.perf_counter()
    customers = list(Customer.objects.filter(short_name__startswith="bench").order_by("short_name"))
    with transaction.atomic():
        existing = set(User.objects.filter(username__startswith=CONTACT_PREFIX).values_list("username", flat=True))
        contacts = [
            # Half of them read the portal in English, half in Chinese (the default).
            User(username=f"{CONTACT_PREFIX}{n:02d}", role=User.Role.CUSTOMER, customer=customer,
                 first_name="Contact", last_name=f"{n:02d}", language="en" if n % 2 else "")
            for n, customer in enumerate(customers) if f"{CONTACT_PREFIX}{n:02d}" not in existing
        ]
        User.objects.bulk_create(contacts)
        # One Argon2 hash for everyone (hashing 180 passwords one by one takes a minute).
        User.objects.filter(username__startswith="bench_").update(password=make_password(PASSWORD))
    made = 0
    pm = User.objects.get(username="bench_pm")
    if not Quote.objects.filter(engagement__code__startswith=CODE_PREFIX).exists():
        valid_until = timezone.localdate() + datetime.timedelta(days=60)
        for customer in customers:
            engagements = Engagement.objects.filter(customer=customer).order_by("code")[:QUOTES_PER_CUSTOMER]
            for n, engagement in enumerate(engagements):
                quote = quotes.check_build_from_plan(pm, engagement)
                made += 1
                if n < SENT_PER_CUSTOMER:
                    quote = quotes.check_update_quote(pm, quote, title=quote.title, tax_rate=quote.tax_rate,
                                                      valid_until=valid_until, notes=quote.notes)
                    quotes.check_send(pm, quote)
    print(f"Benchmark users ready ({len(contacts)} contacts added), {made} quotes made, "
          f"in {time.perf_counter() - started:.1f} s.")


def client_plans(n_clients: int, rng: random.Random) -> list[dict]:
    """Each client's role, user and the objects it picks its pages' URLs from."""
    from bench_pages import CODE_PREFIX, N_LEADS

    from common import access
    from engagements.models import Engagement, Stage, User
    from reports.models import Quote

    consultants = list(User.objects.filter(username__startswith="bench_c", role=User.Role.CONSULTANT)
                       .order_by("username"))
    leads, members = consultants[:N_LEADS], consultants[N_LEADS:]
    contacts = list(User.objects.filter(username__startswith=CONTACT_PREFIX).order_by("username"))
    pm = User.objects.get(username="bench_pm")
    counters = Counter()
    plans, cache = [], {}
    for n in range(n_clients):
        role = ROLE_CYCLE[n % len(ROLE_CYCLE)]
        k = counters[role]
        counters[role] += 1
        if role == "pm":
            user = pm
        elif role == "consultant":  # leads (30 engagements) and team members (7 or 8) in turn
            user = leads[(k // 2) % len(leads)] if k % 2 == 0 else members[(k // 2 * 7) % len(members)]
        else:
            user = contacts[k % len(contacts)]
        if user.pk not in cache:
            engagements = Engagement.objects.visible_to(user).filter(code__startswith=CODE_PREFIX)
            stages = defaultdict(list)
            for engagement_uuid, stage_uuid in (Stage.objects.filter(engagement__in=engagements)
                                                .exclude(status=Stage.Status.SKIPPED)
                                                .values_list("engagement__uuid", "uuid")):
                stages[str(engagement_uuid)].append(str(stage_uuid))
            quote_ids = [str(u) for u in access.scope(user, Quote).values_list("uuid", flat=True)]
            cache[user.pk] = {"stages": dict(stages), "quotes": quote_ids}
        data = cache[user.pk]
        pages = [(f"{role}.{i}", name, template) for i, (name, template) in enumerate(PAGES[role])
                 if "{quote}" not in template or data["quotes"]]
        plans.append({"n": n, "role": role, "user": user, "username": user.username, "stages": data["stages"],
                      "quotes": data["quotes"], "pages": pages, "rng": random.Random(rng.random())})
    return plans


# --- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` any more: a server could bind it (as gunicorn does, with
    SO_REUSEADDR; the connections gunicorn closed stay in TIME_WAIT for a minute)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In gunicorn's master, before exec: SIGTERM (a graceful stop) when this script dies, even by
    SIGKILL, where atexit never runs. gunicorn has a session of its own (stopped as a group), so a
    kill of this script's group alone would otherwise leave it serving."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Gunicorn:
    """docker-compose's web command on a loopback port, in a process group of its own."""

    def __init__(self, port: int, workers: int, env: dict, log_path: Path):
        self.port, self.workers, self.log_path = port, workers, log_path
        self.command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{HOST}:{port}",
                        "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "--timeout", "120",
                        "--access-logformat", ACCESS_LOG_FORMAT]
        env = {**env, "WEB_CONCURRENCY": str(workers), "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)])}
        env.pop("GUNICORN_CMD_ARGS", None)  # nothing but the command line above
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", "/login/", headers={"X-Forwarded-Proto": "https"})
                status = conn.getresponse().status
                conn.close()
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /login/ within {timeout:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def log_tail(self, chars: int = 4000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to the whole group (graceful), SIGKILL after 10 s; then the port is free."""
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # workers left behind by a killed master (same group)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self.log.closed:
            self.log.close()


# --- the clients -----------------------------------------------------------------------------


class Browser:
    """One user's cookies and keep-alive connection, speaking to gunicorn as a TLS proxy would."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port, self.timeout = port, timeout
        self.origin = f"https://{HOST}:{port}"
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, response headers, body, seconds); raises OSError / HTTPException on failure."""
        headers = {
            "X-Forwarded-Proto": "https",
            "User-Agent": "ascend-load-bench/1",
            "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, br",
            "Connection": "keep-alive",
            **(headers or {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        if response.will_close:
            self.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.msg, data, seconds

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def failure(status: int, headers) -> str | None:
    """Why a response counts as an error, or None."""
    if not 200 <= status < 400:
        return f"HTTP {status}"
    if 300 <= status < 400 and urlsplit(headers.get("Location", "")).path.startswith("/login/"):
        return f"HTTP {status} to the login page"
    return None


class LoadClient(threading.Thread):
    """Log in through the form, fetch the static files, then the role's pages until ``end``."""

    def __init__(self, plan: dict, port: int, shared: dict, barrier: threading.Barrier):
        super().__init__(name=f"client-{plan['n']}", daemon=True)
        self.plan, self.shared, self.barrier = plan, shared, barrier
        self.browser = Browser(port)
        self.rng = plan["rng"]
        self.engagements = sorted(plan["stages"])
        self.records: list[tuple[str, float, float, int, int]] = []  # key, start, seconds, status, bytes
        self.first_sizes: list[tuple[str, int]] = []
        self.errors: list[tuple[str, str, str, str]] = []  # phase, key, url, error
        self.static: list[tuple[str, int, int]] = []  # url, status, bytes
        self.logged_in = False

    def url(self, template: str) -> str:
        engagement = self.rng.choice(self.engagements)
        return template.format(engagement=engagement, stage=self.rng.choice(self.plan["stages"][engagement]),
                               quote=self.rng.choice(self.plan["quotes"]) if self.plan["quotes"] else "")

    def get(self, phase: str, key: str, url: str, header: str = "-warm"):
        try:
            status, headers, body, seconds = self.browser.request("GET", url, headers={"X-Bench-Page": header})
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append((phase, key, url, f"{type(exc).__name__}: {exc}"))
            return None
        error = failure(status, headers)
        if error:
            self.errors.append((phase, key, url, error))
        return status, headers, body, seconds

    def login(self) -> bool:
        result = self.get("login", "login", "/login/")
        if result is None or result[0] != 200:
            return False
        token = CSRF_FIELD.search(result[2].decode(errors="replace"))
        if not token or "csrftoken" not in self.browser.cookies:
            self.errors.append(("login", "login", "/login/", "no CSRF token or cookie on the login form"))
            return False
        form = urlencode({"csrfmiddlewaretoken": token.group(1), "username": self.plan["username"],
                          "password": PASSWORD, "next": "/engagements/"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.browser.origin,
                   "Referer": f"{self.browser.origin}/login/", "X-Bench-Page": "-warm"}
        try:
            status, response_headers, _body, _seconds = self.browser.request("POST", "/login/", form, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append(("login", "login", "/login/", f"{type(exc).__name__}: {exc}"))
            return False
        if status != 302 or "sessionid" not in self.browser.cookies:
            self.errors.append(("login", "login", "/login/", f"login as {self.plan['username']} refused "
                                f"(HTTP {status}, location {response_headers.get('Location')!r})"))
            return False
        result = self.get("login", "login", response_headers["Location"])
        if result is None:
            return False
        for path in dict.fromkeys(STATIC_LINK.findall(result[2].decode(errors="replace"))):
            fetched = self.get("login", "static", path)
            if fetched is not None:
                self.static.append((path, fetched[0], len(fetched[2])))
        return True

    def run(self) -> None:
        try:
            self.logged_in = self.login()
            if self.logged_in:  # one cold pass: the pages' sizes, for the bare view
                for key, _name, template in self.plan["pages"]:
                    result = self.get("warm-up", key, self.url(template))
                    if result is not None:
                        self.first_sizes.append((key, len(result[2])))
        except Exception as exc:  # noqa: BLE001 - reported as an error, and the barrier is still met
            self.errors.append(("login", "client", "", f"{type(exc).__name__}: {exc}"))
            self.logged_in = False
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return
        if not self.logged_in:
            return
        bare_url, warm_end, end = self.shared["bare_url"], self.shared["warm_end"], self.shared["end"]
        cycle = [*((key, template) for key, _name, template in self.plan["pages"]), (BARE, bare_url)]
        try:
            while time.perf_counter() < end:
                self.rng.shuffle(cycle)
                for key, template in cycle:
                    started = time.perf_counter()
                    if started >= end:
                        break
                    timed = started >= warm_end
                    url = template if key == BARE else self.url(template)
                    result = self.get("timed" if timed else "warm-up", key, url, key if timed else "-warm")
                    if timed and result is not None:
                        self.records.append((key, started, result[3], result[0], len(result[2])))
        except Exception as exc:  # noqa: BLE001 - a client that stops early is an error, not a silent gap
            self.errors.append(("timed", "client", "", f"{type(exc).__name__}: {exc}"))
        self.browser.close()


# --- measuring the machine -------------------------------------------------------------------


def _proc_stat(pid: str) -> tuple[str, int, int]:
    """(command name, parent pid, CPU ticks of the process and of its reaped children)."""
    data = Path(f"/proc/{pid}/stat").read_text()
    comm = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    return comm, int(fields[1]), sum(int(value) for value in fields[11:15])


def cpu_snapshot(gunicorn_pid: int) -> dict | None:
    """CPU seconds so far of gunicorn (master, workers), every postgres process, this process
    and the machine (busy, all cores). None where /proc cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(value) for value in fields]
    snapshot = {"machine": (sum(values[:8]) - values[3] - values[4]) / ticks, "gunicorn": 0.0, "postgres": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm, parent, used = _proc_stat(entry)
        except (OSError, ValueError, IndexError):
            continue
        if int(entry) == gunicorn_pid or parent == gunicorn_pid:
            snapshot["gunicorn"] += used / ticks
        elif comm.startswith("postgres"):  # reaped backends count in the postmaster's children
            snapshot["postgres"] += used / ticks
    own = os.times()
    snapshot["clients"] = own.user + own.system
    snapshot["wall"] = time.perf_counter()
    return snapshot


def server_times(log_path: Path) -> dict[str, list[float]]:
    """Milliseconds gunicorn took per page key, from the access log (timed requests only)."""
    times = defaultdict(list)
    for line in log_path.read_text(errors="replace").splitlines():
        match = ACCESS_LINE.search(line)
        if match and not match.group(3).startswith("-"):
            times[match.group(3)].append(int(match.group(2)) / 1000)
    return times


def count_queries(examples: dict[str, tuple]) -> dict[str, tuple[int | str, list]]:
    """SQL queries of one request per page (in this process, after a warm-up request)."""
    from bench_pages import repeated_queries
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients, counts = {}, {}
    for key, (user, url) in examples.items():
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        client = clients[user.pk]
        try:
            client.get(url, secure=True)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, secure=True)
        except Exception as exc:  # noqa: BLE001 - the load figures stand without this column
            counts[key] = (f"{type(exc).__name__}", [])
            continue
        if response.status_code != 200:
            counts[key] = (f"HTTP {response.status_code}", [])
        else:
            counts[key] = (len(ctx.captured_queries), repeated_queries(ctx.captured_queries))
    return counts


# --- the run ---------------------------------------------------------------------------------


def static_root(tmp: Path) -> tuple[Path, bool]:
    """Where collectstatic writes, and whether it is already done there.

    The full run builds the production storage's gzip and Brotli copies, half a minute or more
    on two cores, so its result is kept in ``var/bench_load_static/<key>`` and used again while
    the key is the same: the static sources (paths, sizes, times) and the installed packages.
    The tiny run collects into its temporary directory (about a second, no compressed copies)."""
    if TINY:
        return tmp / "static", False
    from importlib import metadata

    digest = hashlib.sha256(b"CompressedManifestStaticFilesStorage\n")
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()):
        digest.update(dist.encode() + b"\n")
    for folder in sorted([ROOT / "static", *ROOT.glob("*/static")]):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(ROOT)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    cache = ROOT / "var" / "bench_load_static"
    root = cache / digest.hexdigest()[:16]
    if (root / COLLECTED).exists():
        return root, True
    if cache.exists():  # an older key's files, or a collection that did not finish
        shutil.rmtree(cache)
    root.mkdir(parents=True)
    return root, False


def environment(tmp: Path, static: Path) -> dict:
    """The process environment of gunicorn (and of this process's Django): production settings."""
    env = dict(os.environ)
    for name in ("SECURE_SSL_REDIRECT", "BEHIND_TLS_PROXY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                 "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "SECRET_KEY_FILE", "STATIC_URL"):
        env.pop(name, None)  # production defaults, as docker-compose's .env leaves them
    env.update({
        "DJANGO_SETTINGS_MODULE": "loadsite",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FERNET_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),  # no host secrets in this data set
        "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "AXES_ENABLED": "true",
        "VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(static),
        "MEDIA_ROOT": str(tmp / "media"),
        "BENCH_LOAD_COMPRESS_STATIC": "false" if TINY else "true",
    })
    return env


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ascend_load_"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    # SIGTERM/SIGHUP (a killed make, a closed terminal) exit through atexit: gunicorn stopped, port freed.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    static, collected = static_root(tmp)
    env = environment(tmp, static)
    os.environ.update(env)

    from benchdb import ensure_database, throwaway_database

    if TINY:
        database_url = throwaway_database("load")
    else:
        database_url = args.database_url
        name = urlsplit(database_url).path.lstrip("/")
        if not urlsplit(database_url).scheme.startswith("postgres") or not name.startswith("ascend_bench"):
            print(f"--database-url must name a PostgreSQL database of its own, ascend_bench...: {database_url!r}",
                  file=sys.stderr)
            return 2
        ensure_database(database_url, fresh=args.fresh)
        os.environ["DATABASE_URL"] = database_url
    env["DATABASE_URL"] = database_url  # gunicorn's

    import django

    django.setup()
    import bench_pages
    from django.core.management import call_command
    from django.db import connection, connections

    print(f"Database: {connection.settings_dict['NAME']}; {os.cpu_count()} CPUs; DEBUG=false"
          + ("; TINY SIZE" if TINY else ""))
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    bench_pages.seed()
    prepare_users_and_quotes()
    from django.contrib.sessions.models import Session

    Session.objects.all().delete()  # the previous runs' sessions (this database is the benchmark's own)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    if collected:
        print(f"Static files collected by an earlier run, in {static} (same sources and packages).")
    else:
        started = time.perf_counter()
        call_command("collectstatic", interactive=False, verbosity=0)
        (static / COLLECTED).touch()
        print(f"collectstatic ({'manifest only' if TINY else 'manifest, gzip and Brotli, as in the image'}) "
              f"into {static} in {time.perf_counter() - started:.1f} s.")
    plans = client_plans(args.clients, random.Random(args.seed))
    roles = Counter(plan["role"] for plan in plans)
    connections.close_all()

    port = args.port or free_port()
    log_path = tmp / "gunicorn.log"
    started = time.perf_counter()
    server = Gunicorn(port, args.workers, env, log_path)
    try:
        server.wait_ready()
        print(f"gunicorn ({args.workers} sync workers) answered on {HOST}:{port} after "
              f"{time.perf_counter() - started:.1f} s: {' '.join(server.command[1:])}", flush=True)
        clock = {}

        def snapshot_at(moment: str, when: float):
            time.sleep(max(0.0, when - time.perf_counter()))
            clock[moment] = cpu_snapshot(server.proc.pid)

        def sample_cpu():
            while "end" not in shared_ref:
                time.sleep(0.05)
            snapshot_at("start", shared_ref["warm_end"])
            snapshot_at("end", shared_ref["end"])

        shared_ref: dict = {}
        sampler = threading.Thread(target=sample_cpu, daemon=True)
        sampler.start()
        clients, shared = run_load(plans, port, args.warmup, args.duration, shared_ref)
        sampler.join(5)
    finally:
        server.stop()
    freed = port_is_free(port)

    examples = {}
    for client in clients:
        for key, _name, template in client.plan["pages"]:
            examples.setdefault(key, (client.plan["user"], client.url(template)))
    counts = count_queries(examples)
    connections.close_all()

    return report(args, clients, shared, roles, server_times(log_path), counts, clock, freed, port)


def run_load(plans: list[dict], port: int, warmup: float, duration: float, shared: dict):
    """Run the clients to the end of the timed window. ``shared`` gets the bare view's URL and the
    window (``warm_end``, ``end``), set when the last client has finished its cold pass."""
    clients: list[LoadClient] = []

    def start_clock():
        sizes = [size for client in clients for _key, size in client.first_sizes]
        shared["bare_size"] = round(sum(sizes) / len(sizes)) if sizes else 50_000
        shared["bare_url"] = f"/bench-bare/{shared['bare_size']}/"
        shared["warm_end"] = time.perf_counter() + warmup
        shared["end"] = shared["warm_end"] + duration

    barrier = threading.Barrier(len(plans), action=start_clock, timeout=600)
    clients.extend(LoadClient(plan, port, shared, barrier) for plan in plans)
    started = time.perf_counter()
    for client in clients:
        client.start()
    deadline = started + 600 + warmup + duration + 120
    for client in clients:
        client.join(max(1.0, deadline - time.perf_counter()))
    if any(client.is_alive() for client in clients):
        raise RuntimeError("clients still running long after the end of the timed window")
    shared["login_seconds"] = shared.get("warm_end", time.perf_counter()) - warmup - started
    return clients, shared


# --- the report ------------------------------------------------------------------------------


def report(args, clients, shared, roles, server, counts, clock, freed, port) -> int:
    names = {key: name for client in clients for key, name, _template in client.plan["pages"]}
    examples = {}
    for client in clients:
        for key, _name, template in client.plan["pages"]:
            examples.setdefault(key, template)
    records = defaultdict(list)
    sizes = defaultdict(list)
    for client in clients:
        for key, _started, seconds, _status, size in client.records:
            records[key].append(seconds * 1000)
            sizes[key].append(size)
    errors = [error for client in clients for error in client.errors]
    duration = args.duration
    bare_p95 = percentile(records[BARE], 0.95) if records[BARE] else float("nan")
    logged_in = sum(client.logged_in for client in clients)
    static = [entry for client in clients for entry in client.static]

    mix = ", ".join(f"{roles[role]} {ROLE_LABELS[role]}{'s' if roles[role] != 1 else ''}" for role in PAGES)
    print()
    print(f"{args.clients} clients ({mix}), {logged_in} logged in through the login form in "
          f"{shared.get('login_seconds', 0):.1f} s (with static files and one cold pass over their pages); "
          f"{args.warmup:g} s warm-up, then {duration:g} s timed. gunicorn with {args.workers} sync workers "
          f"(docker-compose's flags), DEBUG=false, WhiteNoise, over loopback.")
    if static:
        bad = [url for url, status, _size in static if status != 200]
        print(f"Static files at login: {len(static)} fetched ({len({u for u, _s, _b in static})} distinct), "
              f"{'all 200' if not bad else f'{len(bad)} not 200'}, "
              f"{sum(b for _u, _s, b in static) / len(static) / 1024:.1f} KiB each on average.")
    print(f"Bare view: {shared.get('bare_url', '-')} returns {shared.get('bare_size', 0):,} bytes, the mean size of "
          "the portal pages in the clients' cold pass.")
    print()
    print("| page | role | URL | requests | req/s | p50 ms | p95 ms | server p50 ms | server p95 ms | KiB | queries "
          "| p95 / bare p95 | server p95 / bare's | errors | target met |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    timed_errors = Counter(key for phase, key, _url, _error in errors if phase == "timed")
    missed = []
    keys = sorted(names, key=lambda key: (list(PAGES).index(key.split(".")[0]), int(key.split(".")[1])))

    bare_server = server.get(BARE, [])
    bare_server_p95 = percentile(bare_server, 0.95) if bare_server else float("nan")

    def row(label, role, url, samples, server_samples, size_samples, queries, ratio, n_errors, target):
        server_ratio = percentile(server_samples, 0.95) / bare_server_p95 if server_samples else float("nan")
        if samples:
            figures = (f"{len(samples)} | {len(samples) / duration:.1f} | {percentile(samples, 0.5):.1f} | "
                       f"{percentile(samples, 0.95):.1f}")
        else:
            figures = "0 | 0.0 | - | -"
        if server_samples:
            server_figures = f"{percentile(server_samples, 0.5):.1f} | {percentile(server_samples, 0.95):.1f}"
        else:
            server_figures = "- | -"
        size = f"{sum(size_samples) / len(size_samples) / 1024:.1f}" if size_samples else "-"
        print(f"| {label} | {role} | `{url}` | {figures} | {server_figures} | {size} | {queries} | {ratio} | "
              f"{server_ratio:.2f} | {n_errors} | {target} |")

    for key in keys:
        samples = records[key]
        ratio = percentile(samples, 0.95) / bare_p95 if samples and records[BARE] else float("nan")
        met = samples and ratio < TARGET_RATIO and not timed_errors[key]
        if not met:
            missed.append(key)
        queries = counts.get(key, ("-", []))[0]
        row(names[key], ROLE_LABELS[key.split(".")[0]], examples[key], samples, server.get(key, []), sizes[key],
            queries, f"{ratio:.2f}", timed_errors[key], "yes" if met else "no")
    row("bare view", "all", shared.get("bare_url", "-"), records[BARE], server.get(BARE, []), sizes[BARE], "-",
        "1.00", timed_errors[BARE], "-")
    portal = [ms for key in keys for ms in records[key]]
    portal_server = [ms for key in keys for ms in server.get(key, [])]
    ratio = percentile(portal, 0.95) / bare_p95 if portal and records[BARE] else float("nan")
    row("all portal pages", "all", "-", portal, portal_server, [s for key in keys for s in sizes[key]], "-",
        f"{ratio:.2f}", sum(timed_errors[key] for key in keys), "yes" if ratio < TARGET_RATIO else "no")

    total = sum(len(samples) for samples in records.values())
    print()
    print(f"Throughput: {total} requests in {duration:g} s = {total / duration:.1f} req/s "
          f"({len(portal) / duration:.1f} req/s of portal pages). Bare view p50 "
          f"{percentile(records[BARE], 0.5) if records[BARE] else float('nan'):.1f} ms, p95 {bare_p95:.1f} ms.")
    if records[BARE] and bare_server:
        client_p50, server_p50 = percentile(records[BARE], 0.5), percentile(bare_server, 0.5)
        print(f"Waiting for a worker: the bare view took {server_p50:.1f} ms in gunicorn and {client_p50:.1f} ms at "
              f"the client (p50s), so {max(0.0, client_p50 - server_p50):.0f} ms of it went queueing behind the other "
              f"clients' requests for one of the {args.workers} sync workers (closed loop: {args.clients} clients / "
              f"{total / duration:.1f} req/s = {args.clients / (total / duration) * 1000:.0f} ms a request). "
              "The client-side ratio therefore measures the queue as much as the page; the server-side ratio is "
              "what a page costs beyond Django's own.")
    start, end = clock.get("start"), clock.get("end")
    if start and end:
        wall = end["wall"] - start["wall"]
        used = {name: (end[name] - start[name]) / wall for name in ("machine", "gunicorn", "postgres", "clients")}
        other = used["machine"] - used["gunicorn"] - used["postgres"] - used["clients"]
        print(f"CPU in the timed window, in cores busy (of {os.cpu_count()}): machine {used['machine']:.2f}; "
              f"gunicorn {used['gunicorn']:.2f}, PostgreSQL (every postgres process) {used['postgres']:.2f}, "
              f"the load clients {used['clients']:.2f}, everything else {max(0.0, other):.2f}.")
        if total:
            print(f"CPU per request: gunicorn {used['gunicorn'] * wall / total * 1000:.1f} ms, "
                  f"PostgreSQL {used['postgres'] * wall / total * 1000:.1f} ms, "
                  f"clients {used['clients'] * wall / total * 1000:.1f} ms.")
    suspects = [(key, n, shape) for key in keys for n, shape in counts.get(key, ("-", []))[1]]
    if suspects:
        print()
        print("Queries repeated within one request (N+1 suspects):")
        for key, n, shape in suspects:
            shape = re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", shape, count=1)
            print(f"- {names[key]} ({ROLE_LABELS[key.split('.')[0]]}): {n} x {shape[:200]}")

    print()
    print(f"Errors: {len(errors)} (login and warm-up {sum(1 for e in errors if e[0] != 'timed')}, "
          f"timed {sum(1 for e in errors if e[0] == 'timed')}).")
    for (phase, key, error), n in Counter((p, k, e) for p, k, _u, e in errors).most_common(10):
        url = next(u for p, k, u, e in errors if (p, k, e) == (phase, key, error))
        print(f"- {n} x {phase} {names.get(key, key)} `{url}`: {error}")
    print(f"gunicorn stopped; port {port} {'free' if freed else 'STILL IN USE'}.")
    verdict = "met" if not missed and not errors and args.clients >= TARGET_CLIENTS else "not met"
    print(f"Target (p95 under {TARGET_RATIO:g}x the bare view's on every page, no errors, at {TARGET_CLIENTS} "
          f"clients): {verdict}" + (f" ({args.clients} clients here)" if args.clients < TARGET_CLIENTS else "")
          + (f"; over: {', '.join(f'{names[k]} ({ROLE_LABELS[k.split(chr(46))[0]]})' for k in missed)}"
             if missed else "") + ".")
    print(f"Whole run (set-up included): {time.perf_counter() - STARTED:.0f} s.")
    return 1 if errors or not logged_in else 0


if __name__ == "__main__":
    sys.exit(main())
