"""Benchmark of the list pages: SQL queries per request and server time.

Not a test: it prints a report and exits 0 unless something errors. Run it with
``make bench`` or, by hand::

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench \
        .venv/bin/python bench/bench_pages.py [--fresh]

It creates the database when it is missing, migrates it, seeds once (300 engagements x
7 stages, 30 work logs per engagement, ~10 customers, ~20 consultants; skipped when the bench marker
customer exists; ``--fresh`` drops the database first), refreshes the planner statistics
(ANALYZE, as autovacuum would after a bulk import), then requests each page with ``django.test.Client`` as a PM and as a
consultant: 5 warm-ups, then N timed requests. Targets: at most 20 queries per request,
not growing with the number of rows shown, and p95 under 150 ms (2-core machine).
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
from benchdb import ensure_database  # noqa: E402  (bench/ is on the path when run as a script)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
# django.test.Client talks to "testserver".
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

N_ENGAGEMENTS = 300
N_CUSTOMERS = 10
N_CONSULTANTS = 20
LOGS_PER_ENGAGEMENT = 30  # 9,000 in all (30 a stage would be 63,000: not yet measured)
STAGE_DAYS = 14
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
WARMUPS = 5
MAX_QUERIES = 20
MAX_P95_MS = 150.0
MARKER_CUSTOMER = "Bench customer 00 (benchmark data)"
CODE_PREFIX = "bench-"  # codes bench-0000 .. bench-0299


# --- database -------------------------------------------------------------------------------


# --- seeding --------------------------------------------------------------------------------


def seed() -> None:
    """300 engagements with stages, checklists and work logs, written with bulk_create.

    Work logs keep the portal's rules: 0.5 or 1 person-day, one log per consultant per
    calendar day (distinct dates per consultant), never in the future, never on a skipped stage.
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
        consultants = [
            User(username=f"bench_c{i:02d}", role=User.Role.CONSULTANT, first_name="Consultant", last_name=f"{i:02d}")
            for i in range(N_CONSULTANTS)
        ]
        for user in [pm, *consultants]:
            user.set_unusable_password()  # the benchmark logs in with force_login
        pm, *consultants = User.objects.bulk_create([pm, *consultants])

        engagements = []
        for i in range(N_ENGAGEMENTS):
            start = today - datetime.timedelta(days=(i * 7) % 240)
            done = i % 8  # stages 1..done are finished
            engagements.append(
                Engagement(
                    customer=customers[i % N_CUSTOMERS],
                    code=f"{CODE_PREFIX}{i:04d}",
                    title=f"Benchmark engagement {i}",
                    source_platform="8 x A100",
                    target_platform="Atlas 800T A2, 8 x 910B",
                    target_framework=Engagement.Framework.values[i % len(Engagement.Framework.values)],
                    scope_training_migration=i % 10 != 9,  # one in ten is inference only
                    start_date=start,
                    end_date=start + datetime.timedelta(days=7 * STAGE_DAYS),
                    pm=pm,
                    status=Engagement.Status.ACCEPTED if done == 7 else Engagement.Status.ACTIVE,
                )
            )
        engagements = Engagement.objects.bulk_create(engagements)
        through = Engagement.consultants.through
        members = {}
        rows = []
        for i, engagement in enumerate(engagements):
            # Two consultants each; every consultant ends up on 30 engagements.
            pair = [consultants[i % N_CONSULTANTS], consultants[(i + 7) % N_CONSULTANTS]]
            members[engagement.pk] = pair
            rows += [through(engagement_id=engagement.pk, user_id=c.pk) for c in pair]
        through.objects.bulk_create(rows)

        stages = []
        for i, engagement in enumerate(engagements):
            done = i % 8
            for key in StageKey.values:
                order = STAGE_ORDER[key]
                planned_start = engagement.start_date + datetime.timedelta(days=(order - 1) * STAGE_DAYS)
                planned_end = planned_start + datetime.timedelta(days=STAGE_DAYS - 1)
                stage = Stage(
                    engagement=engagement,
                    key=key,
                    order=order,  # bulk_create skips Stage.save(), which sets it
                    planned_start=planned_start,
                    planned_end=planned_end,
                    # One in six is planned far too small, so "over planned person-days" has rows.
                    planned_person_days=Decimal(1 if i % 6 == 0 else 5 + (i + order) % 11),
                )
                if key in training and not engagement.scope_training_migration:
                    stage.status = Stage.Status.SKIPPED
                elif order <= done:
                    stage.status = Stage.Status.DONE
                    stage.actual_start = planned_start
                    stage.actual_end = planned_end + datetime.timedelta(days=2 if i % 5 == 0 else 0)
                elif order == done + 1:
                    stage.status = Stage.Status.BLOCKED if i % 13 == 0 else Stage.Status.IN_PROGRESS
                    stage.actual_start = planned_start
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
                        closed_by=members[stage.engagement_id][0] if closed else None,
                        closed_at=now if closed else None,
                    )
                )
        ChecklistItem.objects.bulk_create(items, batch_size=2000)

        by_engagement = {}
        for stage in stages:
            if stage.status in (Stage.Status.DONE, Stage.Status.IN_PROGRESS, Stage.Status.BLOCKED):
                by_engagement.setdefault(stage.engagement_id, []).append(stage)
        days_used = {c.pk: 0 for c in consultants}  # per consultant: logs so far = days back
        logs = []
        for engagement in engagements:
            worked = by_engagement[engagement.pk]
            for n in range(LOGS_PER_ENGAGEMENT):
                consultant = members[engagement.pk][n % 2]
                days_used[consultant.pk] += 1
                logs.append(
                    WorkLog(
                        consultant=consultant,
                        stage=worked[n % len(worked)],
                        date=today - datetime.timedelta(days=days_used[consultant.pk]),
                        person_days=Decimal("1") if n % 3 else Decimal("0.5"),
                        summary=f"Benchmark work {n}",
                    )
                )
        WorkLog.objects.bulk_create(logs, batch_size=2000)
    print(
        f"Seeded {len(engagements)} engagements, {len(stages)} stages, {len(items)} checklist items, "
        f"{len(logs)} work logs in {time.perf_counter() - started:.1f} s."
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

    ensure_database(os.environ.get("DATABASE_URL", ""), fresh="--fresh" in sys.argv[1:])
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from engagements.models import Customer, Engagement, User

    print(f"Database: {connection.settings_dict['NAME']} ({connection.vendor}); "
          f"{os.cpu_count()} CPUs; DEBUG={os.environ.get('DEBUG')}")
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    seed()
    if connection.vendor == "postgresql":
        # Fresh bulk inserts leave the planner without statistics: with them the correlated
        # subqueries of with_figures() are planned as hash joins over the whole work-log table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
