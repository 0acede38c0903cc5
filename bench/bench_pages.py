"""Benchmark of the list pages: SQL queries per request and server time.

Not a test: it prints a report and exits 0 unless something errors. Run it with
``make bench`` or, by hand::

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench \
        .venv/bin/python bench/bench_pages.py [--fresh] [--tiny]

It creates the database when it is missing, migrates it, seeds once (300 engagements x
7 stages x 30 work logs = 63,000 logs, 10 customers, 170 consultants, about two years of work:
see ``seed``; skipped when the bench marker customer exists; ``--fresh`` drops the database
first), runs VACUUM ANALYZE (what autovacuum does after a bulk import: the planner
statistics and the visibility map), then requests each page with ``django.test.Client`` as a PM and as a
consultant: 5 warm-ups, then N timed requests. Targets: at most 20 queries per request,
not growing with the number of rows shown, and p95 under 150 ms (2-core machine).

``--tiny`` runs the same seeding and pages at a size that takes seconds (60 engagements, 2 work
logs a stage, 3 requests after 1 warm-up) on a throw-away database, dropped at the end: what
``tests/test_benchmarks.py`` runs inside ``make test``.
"""

import datetime
import math
import os
import re
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchdb import ensure_database, throwaway_database  # noqa: E402  (bench/ is on the path when run as a script)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
# django.test.Client talks to "testserver".
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

# --tiny: the same seeding and pages at a size that runs in seconds, on a throw-away database
# (benchdb.throwaway_database); what tests/test_benchmarks.py runs inside `make test`.
TINY = "--tiny" in sys.argv[1:]
N_ENGAGEMENTS = 60 if TINY else 300
N_CUSTOMERS = 2 if TINY else 10
N_LEADS = 2 if TINY else 10  # each leads every tenth engagement: 30 engagements each
N_MEMBERS = 40 if TINY else 160
TEAM = 4  # members per engagement, besides the lead
LOGS_PER_STAGE = 2 if TINY else 30
N_LOGS = N_ENGAGEMENTS * 7 * LOGS_PER_STAGE  # 63,000
STAGE_DAYS = 14
REQUESTS = 3 if TINY else int(os.environ.get("BENCH_REQUESTS", "50"))
WARMUPS = 1 if TINY else 5
MAX_QUERIES = 20
MAX_P95_MS = 150.0
MARKER_CUSTOMER = "Bench customer 00 (benchmark data)"
CODE_PREFIX = "bench-"  # codes bench-0000 .. bench-0299


# --- database -------------------------------------------------------------------------------


# --- seeding --------------------------------------------------------------------------------


def weekdays(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The Mondays to Fridays from ``first`` to ``last``, both included."""
    days = (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def quotas(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders), summing to ``total`` exactly."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda n: counts[n] - shares[n])
    for n in by_remainder[: total - sum(counts)]:
        counts[n] += 1
    return counts


def seed() -> None:
    """300 engagements with stages, checklists and 63,000 work logs, written with bulk_create.

    A portfolio of about two years: an engagement starts every 2.5 days and its in-scope
    stages run back to back, STAGE_DAYS each (two days more in one engagement of five, which
    then runs late), so about 40 are under way today and the older ones are accepted. Each has
    a team of a lead (one of N_LEADS, each leading every tenth engagement: 30 each) and TEAM
    members from a pool large enough that a member is rarely on two engagements at once.

    The work logs (300 x 7 x 30 = 63,000) go to the engagements in proportion to the working
    days their stages have run, and keep the portal's rules, checked below before writing:
    0.5 or 1 person-day, at most 1 person-day per consultant per calendar day across all
    engagements, dated on a weekday inside the stage's actual dates (so never in the future,
    never before the engagement starts), by a consultant on the engagement, never on a
    skipped stage.
    """
    from django.db import transaction
    from django.utils import timezone

    from engagements.checklists import ACTIVITIES
    from engagements.models import STAGE_ORDER, ChecklistItem, Customer, Engagement, Stage, StageKey, User, WorkLog

    if Customer.objects.filter(name=MARKER_CUSTOMER).exists():
        seeded = Engagement.objects.filter(code__startswith=CODE_PREFIX).count()
        print(f"Bench data already seeded ({seeded} engagements).")
        return

    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    training = {StageKey.TRAINING_ADAPTATION, StageKey.TRAINING_TUNING}
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [Customer(name=MARKER_CUSTOMER if i == 0 else f"Bench customer {i:02d}", short_name=f"bench{i:02d}")
             for i in range(N_CUSTOMERS)]
        )
        pm = User(username="bench_pm", role=User.Role.PM, first_name="Bench", last_name="PM")
        # bench_c00 .. bench_c09 lead; bench_c10 and up are team members.
        consultants = [
            User(username=f"bench_c{i:02d}", role=User.Role.CONSULTANT, first_name="Consultant", last_name=f"{i:02d}")
            for i in range(N_LEADS + N_MEMBERS)
        ]
        for user in [pm, *consultants]:
            user.set_unusable_password()  # the benchmark logs in with force_login
        pm, *consultants = User.objects.bulk_create([pm, *consultants])
        leads, members_pool = consultants[:N_LEADS], consultants[N_LEADS:]

        engagements, in_scope, delays = [], {}, {}
        for i in range(N_ENGAGEMENTS):
            start = today - datetime.timedelta(days=1 + 5 * i // 2)  # bench-0000 started yesterday
            training_scope = i % 10 != 9  # one in ten is inference only
            keys = [key for key in StageKey.values if training_scope or key not in training]
            delay = 2 if i % 5 == 0 else 0  # one in five finishes each stage two days late
            ends = start + datetime.timedelta(days=len(keys) * (STAGE_DAYS + delay) - 1)
            engagement = Engagement(
                customer=customers[i % N_CUSTOMERS],
                code=f"{CODE_PREFIX}{i:04d}",
                title=f"Benchmark engagement {i}",
                source_platform="8 x A100",
                target_platform="Atlas 800T A2, 8 x 910B",
                target_framework=Engagement.Framework.values[i % len(Engagement.Framework.values)],
                scope_training_migration=training_scope,
                start_date=start,
                end_date=start + datetime.timedelta(days=len(keys) * STAGE_DAYS - 1),
                pm=pm,
                status=Engagement.Status.ACCEPTED if ends < today else Engagement.Status.ACTIVE,
            )
            engagements.append(engagement)
            in_scope[engagement.code], delays[engagement.code] = keys, delay
        engagements = Engagement.objects.bulk_create(engagements)
        through = Engagement.consultants.through
        team = {}
        rows = []
        for i, engagement in enumerate(engagements):
            # A lead (30 engagements each) and TEAM members; a member comes back every
            # N_MEMBERS / TEAM engagements, 100 days later, when the previous one is over.
            crew = [leads[i % N_LEADS], *(members_pool[(TEAM * i + j) % N_MEMBERS] for j in range(TEAM))]
            team[engagement.pk] = crew
            rows += [through(engagement_id=engagement.pk, user_id=c.pk) for c in crew]
        through.objects.bulk_create(rows)

        stages = []
        for i, engagement in enumerate(engagements):
            keys, delay = in_scope[engagement.code], delays[engagement.code]
            for key in StageKey.values:
                order = STAGE_ORDER[key]
                stage = Stage(
                    engagement=engagement,
                    key=key,
                    order=order,  # bulk_create skips Stage.save(), which sets it
                )
                if key not in keys:
                    stage.status = Stage.Status.SKIPPED
                    stages.append(stage)
                    continue
                slot = keys.index(key)
                stage.planned_start = engagement.start_date + datetime.timedelta(days=slot * STAGE_DAYS)
                stage.planned_end = stage.planned_start + datetime.timedelta(days=STAGE_DAYS - 1)
                # About what a team logs in a stage; one engagement in six is planned far too small,
                # so "over planned person-days" has rows.
                small = 1 if TINY else 8  # (a tiny run logs 2 a stage)
                stage.planned_person_days = Decimal(small if i % 6 == 0 else 24 + (i + order) % 9)
                actual_start = engagement.start_date + datetime.timedelta(days=slot * (STAGE_DAYS + delay))
                actual_end = actual_start + datetime.timedelta(days=STAGE_DAYS + delay - 1)
                if actual_end < today:
                    stage.status = Stage.Status.DONE
                    stage.actual_start, stage.actual_end = actual_start, actual_end
                elif actual_start <= today:
                    stage.status = Stage.Status.BLOCKED if i % 13 == 0 else Stage.Status.IN_PROGRESS
                    stage.actual_start = actual_start
                stages.append(stage)
        stages = Stage.objects.bulk_create(stages)

        items = []
        for stage in stages:
            activities = ACTIVITIES[stage.key]
            for position, (title_en, title_zh, required) in enumerate(activities, start=1):
                started_stage = stage.status in (Stage.Status.IN_PROGRESS, Stage.Status.BLOCKED)
                closed = stage.status == Stage.Status.DONE or (started_stage and position <= len(activities) // 2)
                items.append(
                    ChecklistItem(
                        stage=stage, position=position, title_en=title_en, title_zh=title_zh, required=required,
                        state=ChecklistItem.State.DONE if closed else ChecklistItem.State.OPEN,
                        closed_by=team[stage.engagement_id][0] if closed else None,
                        closed_at=now if closed else None,
                    )
                )
        ChecklistItem.objects.bulk_create(items, batch_size=2000)

        # The working days of each engagement: (date, stage) for every weekday a stage ran.
        days_of = {engagement.pk: [] for engagement in engagements}
        for stage in stages:
            if stage.actual_start is not None:
                for day in weekdays(stage.actual_start, stage.actual_end or today):
                    days_of[stage.engagement_id].append((day, stage))
        logged = {}  # (consultant pk, date) -> person-days logged that day, across all engagements
        logs = []

        def log_work(consultant, day, stage, n) -> bool:
            """One work log, unless the consultant's day is full (work on another engagement)."""
            # Leads log half days; members a full day, a half day every third log.
            days_worth = Decimal("0.5") if consultant in leads or len(logs) % 3 == 0 else Decimal("1")
            if logged.get((consultant.pk, day), 0) + days_worth > 1:
                return False
            logged[consultant.pk, day] = logged.get((consultant.pk, day), 0) + days_worth
            logs.append(WorkLog(consultant=consultant, stage=stage, date=day, person_days=days_worth,
                                summary=f"Benchmark work {n}"))
            return True

        for engagement, quota in zip(engagements, quotas(N_LOGS, [len(days_of[e.pk]) for e in engagements]),
                                     strict=True):
            days, crew = sorted(days_of[engagement.pk], key=lambda slot: slot[0]), team[engagement.pk]
            done = set()  # (consultant, t): one log a day per person on an engagement
            for t, (day, stage) in enumerate(days):
                # Spread evenly; a day whose people are busy elsewhere leaves its logs to the next.
                due = round((t + 1) * quota / len(days)) - len(done)
                for k in range(len(crew)):
                    if due <= 0:
                        break
                    if log_work(crew[(t + k) % len(crew)], day, stage, len(done)):
                        done.add(((t + k) % len(crew), t))
                        due -= 1
            # What the last days could not place goes to any earlier day someone still had free.
            for t, (day, stage) in reversed(list(enumerate(days))):
                for k in range(len(crew)):
                    if len(done) < quota and (k, t) not in done and log_work(crew[k], day, stage, len(done)):
                        done.add((k, t))
            if len(done) != quota:
                raise RuntimeError(f"{engagement.code}: {len(done)} work logs placed of {quota}; widen the team")

        # The portal's rules, checked on what is about to be written (bulk_create skips them all).
        by_pk = {engagement.pk: engagement for engagement in engagements}
        assert len(logs) == N_LOGS, len(logs)
        assert all(days_worth <= 1 for days_worth in logged.values())
        for log in logs:
            stage = log.stage
            assert log.person_days in (Decimal("0.5"), Decimal("1")) and stage.status != Stage.Status.SKIPPED
            assert by_pk[stage.engagement_id].start_date <= stage.actual_start <= log.date <= today
            assert stage.actual_end is None or log.date <= stage.actual_end
            assert log.consultant in team[stage.engagement_id]
        # Written day by day, as the portal receives them: each stage's logs end up spread over
        # the table, not stored side by side.
        logs.sort(key=lambda log: log.date)
        WorkLog.objects.bulk_create(logs, batch_size=2000)
        over_cap = WorkLog.objects.person_days_by("consultant", "date").filter(logged__gt=1).count()
        assert over_cap == 0, f"{over_cap} consultant-days over 1 person-day"
    active = sum(1 for engagement in engagements if engagement.status == Engagement.Status.ACTIVE)
    print(
        f"Seeded {len(engagements)} engagements ({active} active), {len(stages)} stages, {len(items)} checklist items, "
        f"{len(consultants)} consultants, {len(logs)} work logs in {time.perf_counter() - started:.1f} s."
    )


# --- measuring ------------------------------------------------------------------------------

DETAIL_LINK = re.compile(r'href="[^"]*/engagements/[0-9a-f-]{36}/"')


def rows_shown(response) -> int:
    """Engagement rows in the response: links in the list table, or API results."""
    if response.get("Content-Type", "").startswith("application/json"):
        data = response.json()
        return len(data["results"]) if isinstance(data, dict) and "results" in data else len(data)
    html = response.content.decode()
    body = html.split('data-testid="engagement-table"', 1)[-1].split("<tbody>", 1)[-1].split("</tbody>", 1)[0]
    return len(DETAIL_LINK.findall(body))


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")


def repeated_queries(captured: list[dict], limit: int = 3) -> list[tuple[int, str]]:
    """The SQL shapes (literals blanked) run more than once in a request, most frequent first."""
    shapes = {}
    for query in captured:
        shape = LITERALS.sub("?", query["sql"])
        shapes[shape] = shapes.get(shape, 0) + 1
    repeated = sorted(((n, shape) for shape, n in shapes.items() if n > 1), reverse=True)
    return repeated[:limit]


def measure(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(url)
    if first.status_code != 200:
        return {"status": first.status_code}
    for _ in range(WARMUPS - 1):
        client.get(url)
    times, queries, sql_ms = [], set(), []
    sql_seconds = [0.0]

    def timed(execute, sql, params, many, context):
        # connection.queries rounds to 1 ms; this keeps the database time precise.
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    for _ in range(REQUESTS):
        sql_seconds[0] = 0.0
        with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(ctx.captured_queries))
        sql_ms.append(sql_seconds[0] * 1000)
    return {
        "status": 200,
        "rows": rows_shown(response),
        "queries": max(queries),
        "queries_min": min(queries),
        "median": statistics.median(times),
        "p95": p95(times),
        "sql_median": statistics.median(sql_ms),
        "repeated": repeated_queries(ctx.captured_queries),
    }


def main() -> int:
    import logging

    import django

    if TINY:
        throwaway_database("pages")
    else:
        ensure_database(os.environ.get("DATABASE_URL", ""), fresh="--fresh" in sys.argv[1:])
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from engagements.models import Customer, Engagement, User

    print(f"Database: {connection.settings_dict['NAME']} ({connection.vendor}); "
          f"{os.cpu_count()} CPUs; DEBUG={os.environ.get('DEBUG')}" + ("; TINY SIZE" if TINY else ""))
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    seed()
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk import (PostgreSQL 13+ vacuums on inserts too). The
        # statistics let the planner pick index scans for with_figures()'s correlated subqueries;
        # the visibility map lets it sum person-days from the worklog_stage_days index alone.
        # Without the map it prices those sums as heap reads, and a 200-row API page crosses
        # jit_above_cost: JIT compilation then adds about 70 ms to a 20 ms query.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    logging.getLogger("django.request").setLevel(logging.ERROR)  # no "Not Found" lines for a missing API

    pm = User.objects.get(username="bench_pm")
    consultant = User.objects.get(username="bench_c01")
    mine = Engagement.objects.filter(consultants=consultant).order_by("-start_date", "code")
    one_of_mine = mine.first().code
    customer = Customer.objects.get(name=MARKER_CUSTOMER)

    # Each page at several row counts; the list view has a fixed page size (25), so fewer
    # rows come from filters and the last page. The API takes ?page_size= if it allows it.
    cases = [
        ("PM overview", pm, f"/engagements/?q={CODE_PREFIX}0000"),
        ("PM overview", pm, f"/engagements/?q={CODE_PREFIX}000"),
        ("PM overview", pm, f"/engagements/?customer={customer.uuid}&page=2"),
        ("PM overview", pm, "/engagements/"),
        ("PM overview", pm, "/engagements/?health=late"),
        ("PM overview", pm, "/engagements/?health=over"),
        ("Consultant dashboard", consultant, f"/engagements/?q={one_of_mine}"),
        ("Consultant dashboard", consultant, "/engagements/?page=2"),
        ("Consultant dashboard", consultant, "/engagements/"),
        ("Engagement list API (PM)", pm, "/api/engagements/?page_size=10"),
        ("Engagement list API (PM)", pm, "/api/engagements/"),
        ("Engagement list API (PM)", pm, f"/api/engagements/?page_size={N_ENGAGEMENTS}"),
        ("Engagement list API (consultant)", consultant, "/api/engagements/?page_size=10"),
        ("Engagement list API (consultant)", consultant, "/api/engagements/"),
    ]
    clients = {}
    for user in (pm, consultant):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)

    from config.runtime import tune_gc

    tune_gc()  # as config/wsgi.py does in every server process

    results = []
    unavailable = set()
    for page, user, url in cases:
        if page in unavailable:
            continue
        result = measure(clients[user.pk], url)
        if result["status"] == 404 and "API" in page:
            unavailable.add(page)
        results.append((page, url, result))
        if result["status"] == 200:
            shown = f"{result['rows']} rows, {result['queries']} queries, p95 {result['p95']:.1f} ms"
        else:
            shown = f"HTTP {result['status']}"
        print(f"  measured {url} as {user.username}: {shown}", flush=True)

    print()
    print(f"{REQUESTS} requests each after {WARMUPS} warm-ups; targets: <= {MAX_QUERIES} queries, "
          f"not growing with rows shown, p95 < {MAX_P95_MS:.0f} ms.")
    print()
    print("| page | URL | rows shown | queries | median ms | p95 ms | SQL ms (median) | target met |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for page, url, r in results:
        if r["status"] == 404 and "API" in page:
            print(f"| {page} | `{url}` | - | - | - | - | - | not available (404) |")
            continue
        if r["status"] != 200:
            print(f"| {page} | `{url}` | - | - | - | - | - | HTTP {r['status']} |")
            continue
        misses = []
        if r["queries"] > MAX_QUERIES:
            misses.append(f"queries > {MAX_QUERIES}")
        if r["p95"] >= MAX_P95_MS:
            misses.append(f"p95 >= {MAX_P95_MS:.0f} ms")
        queries = str(r["queries"]) if r["queries"] == r["queries_min"] else f"{r['queries_min']}-{r['queries']}"
        print(f"| {page} | `{url}` | {r['rows']} | {queries} | {r['median']:.1f} | {r['p95']:.1f} | "
              f"{r['sql_median']:.1f} | {'yes' if not misses else 'no: ' + ', '.join(misses)} |")

    print()
    print("Do queries grow with the rows shown?")
    for page in dict.fromkeys(p for p, _u, _r in results):
        # An empty page skips the prefetch, so it is left out of the comparison.
        measured = sorted(
            {(r["rows"], r["queries"]) for p, _u, r in results if p == page and r["status"] == 200 and r["rows"]}
        )
        if page in unavailable:
            print(f"- {page}: not available (/api/engagements/ returns 404).")
        elif len({rows for rows, _q in measured}) < 2:
            print(f"- {page}: only one row count measured: {measured}.")
        else:
            by_rows = {}
            for rows, queries in measured:
                by_rows[rows] = max(queries, by_rows.get(rows, 0))
            growing = by_rows[max(by_rows)] > by_rows[min(by_rows)]
            pairs = ", ".join(f"{rows} rows -> {q} queries" for rows, q in sorted(by_rows.items()))
            print(f"- {page}: {pairs}: {'GROWS' if growing else 'constant'}.")

    flagged = [(page, url, r) for page, url, r in results if r["status"] == 200 and r["repeated"]]
    if flagged:
        print()
        print("Queries repeated within one request (N+1 suspects):")
        for page, url, r in flagged:
            for n, shape in r["repeated"]:
                shape = re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", shape, count=1)
                print(f"- {page} `{url}`: {n} x {shape[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
