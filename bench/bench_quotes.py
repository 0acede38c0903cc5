"""Benchmark of the quote and timesheet exports: wall time and peak memory.

Not a test: it prints a report and exits 0 unless something errors. Run it with::

    bash tests/ensure_services.sh && DEBUG=true .venv/bin/python bench/bench_quotes.py [--tiny]

``DATABASE_URL`` defaults to postgres://postgres@127.0.0.1:5432/ascend_bench_quotes; the
database is created when missing and migrated. Seeding is idempotent (bulk_create where the
portal's workflows are not the point):

- a PM, a customer, 50 consultants and 25 engagements (created the way the portal creates
  them, with stages and checklists);
- one draft quote of 500 service lines (every rate card item, Chinese and English
  descriptions, some discounts and custom rates) and 20 cloud lines, through
  ``check_create_quote`` + ``check_set_lines``;
- work logs over the 12 full calendar months before this one: each consultant one log every
  weekday (0.5 or 1 person-day, at most 1 person-day a day), about 50 x 261 = 13,000 rows.

Each export runs 3 times in a forked child process (a fresh high-water mark for the peak
RSS, measured with ``resource.getrusage``); the report gives the median wall time.
Product owner's targets: a 500-line quote to XLSX under 2 s and to PDF under 5 s; a
12-month timesheet of 50 consultants (query + XLSX) under 3 s.

``--tiny`` runs the same seeding and exports at a size that takes seconds (10 consultants,
5 engagements, a 20-line quote, 1 run each) on a throw-away database, dropped at the end:
what ``tests/test_benchmarks.py`` runs inside ``make test``.
"""

import datetime
import io
import os
import pickle
import resource
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ascend_bench_quotes")

# --tiny: the same seeding and exports at a size that runs in seconds, on a throw-away database
# (benchdb.throwaway_database); what tests/test_benchmarks.py runs inside `make test`.
TINY = "--tiny" in sys.argv[1:]
RUNS = 1 if TINY else 3
LANGUAGE = "zh-hans"
N_CONSULTANTS = 10 if TINY else 50
N_ENGAGEMENTS = 5 if TINY else 25
N_LINES = 20 if TINY else 500
N_CLOUD = 2 if TINY else 20
PM_USERNAME = "bq_pm"
CUSTOMER_NAME = "基准报价客户 Bench Quotes Co. (benchmark data)"
QUOTE_TITLE = "Benchmark quote: 500 service lines 基准报价"
CODE_PREFIX = "bq-"  # engagements bq-00 .. bq-24, consultants bq_c00 .. bq_c49

TARGETS = {"quote_xlsx": 2.0, "quote_pdf": 5.0, "timesheet+xlsx": 3.0}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
EN_NAMES = ["Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
DESCRIPTIONS = [
    "ResNet-50 训练迁移到 Atlas 800T A2，对齐 loss 曲线（前 20 步除外）",
    "Port the custom CUDA kernels of the detection head to AscendC; verify precision against the A100 baseline",
    "MindIE 推理服务部署与 FirstTokenTime 调优",
    "Third-party library adaptation: apex, flash-attn, deepspeed → MindSpeed equivalents",
    "数据预处理流水线优化：DVPP 图像解码，多进程 DataLoader",
    "Qwen2-7B 全参微调精度对比分析（MRE ≤ 2%）",
    "Profiling with msprof; operator fusion and AOE auto-tuning of the top-10 hot operators",
    "行业大模型适配：电力巡检缺陷识别，含数据集格式转换与评估脚本",
    "=SUM(A1:A9) text that must never become a formula",
    "",
]


# --- database -------------------------------------------------------------------------------


# --- seeding --------------------------------------------------------------------------------


def period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The 12 full calendar months before ``today``'s month."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = datetime.date(end.year - 1, end.month, 1) + datetime.timedelta(days=32)
    return start.replace(day=1), end


def weekdays(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    days = ((start + datetime.timedelta(days=n)) for n in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5]


def seed_people():
    from engagements.models import Customer, User

    customer, _ = Customer.objects.get_or_create(name=CUSTOMER_NAME, defaults={"short_name": "bq"})
    pm = User.objects.filter(username=PM_USERNAME).first()
    if pm is None:
        pm = User(username=PM_USERNAME, role=User.Role.PM, first_name="经理", last_name="基准")
        pm.set_unusable_password()
        pm.save()
    wanted = [f"bq_c{i:02d}" for i in range(N_CONSULTANTS)]
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    new = []
    for i, username in enumerate(wanted):
        if username in have:
            continue
        if i % 2:  # half Chinese names, half English
            first, last = EN_NAMES[i % len(EN_NAMES)], f"Consultant{i:02d}"
        else:
            first, last = GIVEN[i % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)], SURNAMES[i % len(SURNAMES)]
        user = User(username=username, role=User.Role.CONSULTANT, first_name=first, last_name=last)
        user.set_unusable_password()
        new.append(user)
    User.objects.bulk_create(new)
    consultants = list(User.objects.filter(username__in=wanted).order_by("username"))
    return pm, customer, consultants


def seed_engagements(pm, customer, consultants, start, end):
    """25 engagements through the portal's workflow; consultant k works on engagement k // 2,
    and every engagement also has a third member (k + 7) from elsewhere."""
    from engagements.models import Engagement
    from tests.factories import make_engagement

    existing = {e.code: e for e in Engagement.objects.filter(code__startswith=CODE_PREFIX)}
    engagements = []
    for i in range(N_ENGAGEMENTS):
        code = f"{CODE_PREFIX}{i:02d}"
        if code in existing:
            engagements.append(existing[code])
            continue
        members = [consultants[2 * i], consultants[2 * i + 1], consultants[(2 * i + 7) % N_CONSULTANTS]]
        engagements.append(make_engagement(
            pm, customer, members, code=code, title=f"基准项目 {i:02d} Benchmark engagement",
            start_date=start, end_date=end + datetime.timedelta(days=60),
            target_framework=Engagement.Framework.values[i % len(Engagement.Framework.values)],
        ))
    return engagements


def seed_worklogs(consultants, engagements, start, end) -> int:
    """One log a weekday per consultant, on the stages of their first engagement."""
    from django.db import transaction

    from engagements.models import Stage, WorkLog

    days = weekdays(start, end)
    expected = len(days) * len(consultants)
    ours = WorkLog.objects.filter(consultant__in=consultants)
    if ours.filter(date__gte=start, date__lte=end).count() == expected and ours.count() == expected:
        return expected
    stages = {}
    in_scope = Stage.objects.filter(engagement__in=engagements).exclude(status=Stage.Status.SKIPPED)
    for stage in in_scope.order_by("order"):
        stages.setdefault(stage.engagement_id, []).append(stage)
    with transaction.atomic():
        ours.delete()
        logs = []
        for k, consultant in enumerate(consultants):
            own = stages[engagements[k // 2].pk]
            for n, day in enumerate(days):
                stage = own[min(len(own) - 1, n * len(own) // len(days))]  # the stages in turn over the year
                logs.append(WorkLog(consultant=consultant, stage=stage, date=day,
                                    person_days=Decimal("0.5") if (n + k) % 4 == 0 else Decimal("1"),
                                    summary=f"Benchmark work 基准工作 {n}"))
        WorkLog.objects.bulk_create(logs, batch_size=2000)
    return len(logs)


def seed_quote(pm, customer, engagement):
    from reports.models import Quote
    from reports.quotes import check_create_quote, check_set_lines, current_items

    quote = Quote.objects.filter(title=QUOTE_TITLE, customer=customer).order_by("-version").first()
    if quote is not None and quote.lines.count() == N_LINES and quote.cloud_lines.count() == N_CLOUD:
        return quote
    if quote is None or quote.is_frozen:
        quote = check_create_quote(pm, customer=customer, engagement=engagement, title=QUOTE_TITLE,
                                   valid_until=datetime.date.today() + datetime.timedelta(days=30),
                                   notes="报价有效期 30 天。Prices in yuan, VAT 6% on services.")
    items = current_items()
    lines = []
    for i in range(N_LINES):
        item = items[i % len(items)]
        line = {"item": item, "person_days": Decimal(1 + (i * 37) % 400) / 10,
                "description": f"{i + 1:03d} {DESCRIPTIONS[i % len(DESCRIPTIONS)]}".strip()}
        if i % 10 == 3:
            line["description"] = DESCRIPTIONS[i % len(DESCRIPTIONS)]  # some start with "=" as is
        if i % 4 == 0:
            line["discount"] = Decimal(("0.05", "0.1", "0.15", "0.2")[(i // 4) % 4])
        if i % 25 == 0:
            line["rate"] = item.rate + 250
        lines.append(line)
    cloud = [{"resource": f"Atlas 800T A2 训练服务器 #{j + 1}" if j % 2 == 0 else f"OBS storage bucket {j + 1}",
              "specification": "8 x Ascend 910B, 1.5 TB 内存, 4 x 200GE RoCE" if j % 2 == 0 else "100 TB, 标准存储",
              "quantity": 1 + j % 4, "monthly_cost": Decimal(18000 + 1250 * j), "months": 1 + j % 12}
             for j in range(N_CLOUD)]
    return check_set_lines(pm, quote, lines, cloud)


def seed():
    from django.utils import timezone

    started = time.perf_counter()
    start, end = period(timezone.localdate())
    pm, customer, consultants = seed_people()
    engagements = seed_engagements(pm, customer, consultants, start, end)
    logs = seed_worklogs(consultants, engagements, start, end)
    quote = seed_quote(pm, customer, engagements[0])
    print(f"Seeded / checked in {time.perf_counter() - started:.1f} s: {len(consultants)} consultants, "
          f"{len(engagements)} engagements, {logs} work logs {start}..{end}, quote {quote} "
          f"({quote.lines.count()} lines + {quote.cloud_lines.count()} cloud lines).")
    return quote.pk, start, end


# --- measuring ------------------------------------------------------------------------------


def rss_now_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_in_child(fn) -> dict:
    """Run ``fn`` RUNS times in a forked child: a fresh peak-RSS high-water mark, and a new
    database connection (closed in the parent before forking)."""
    from django.db import connections

    connections.close_all()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            from django.db import connection, reset_queries

            base = rss_now_kib()
            times, cpu, queries = [], [], []
            for _ in range(RUNS):
                reset_queries()
                started, started_cpu = time.perf_counter(), time.process_time()
                out = fn()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                queries.append(len(connection.queries))
            extra = describe(out)
            result = {"times": times, "cpu": cpu, "queries": queries, "base_kib": base,
                      "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **extra}
        except BaseException as exc:  # report it to the parent
            import traceback

            result = {"error": f"{exc!r}\n{traceback.format_exc()}"}
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pickle.load(pipe)  # noqa: S301 - written by our own forked child, over a private pipe
    os.waitpid(pid, 0)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def describe(out) -> dict:
    """Size of an export, and the page count of a PDF."""
    if isinstance(out, str):
        return {"size": len(out.encode("utf-8"))}
    if isinstance(out, bytes):
        info = {"size": len(out)}
        if out.startswith(b"%PDF"):
            from pypdf import PdfReader

            info["pages"] = len(PdfReader(io.BytesIO(out)).pages)
        return info
    if isinstance(out, dict):  # a timesheet
        return {"rows": len(out["rows"]), "people": len(out["people"])}
    return {}


def main() -> int:
    import logging

    import django

    if TINY:
        throwaway_database("quotes")
    else:
        ensure_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from reports import exports
    from reports.models import Quote

    print(f"Database: {connection.settings_dict['NAME']} ({connection.vendor}); {os.cpu_count()} CPUs; "
          f"DEBUG={os.environ.get('DEBUG')}; Python {sys.version.split()[0]}" + ("; TINY SIZE" if TINY else ""))
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # no "Step 5 - Page n" lines
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    quote_pk, start, end = seed()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics after the bulk inserts, as autovacuum would
    sheet_period = f"{start}..{end}"

    def quote():
        return Quote.objects.get(pk=quote_pk)  # fresh each run: no cached relations

    cases = [
        ("quote_xlsx", lambda: exports.quote_xlsx(quote(), LANGUAGE)),
        ("quote_pdf", lambda: exports.quote_pdf(quote(), LANGUAGE)),
        ("quote_csv", lambda: exports.quote_csv(quote(), LANGUAGE)),
        ("timesheet", lambda: exports.timesheet(start, end)),
        ("timesheet+xlsx", lambda: exports.timesheet_xlsx(exports.timesheet(start, end), LANGUAGE)),
        ("timesheet+csv", lambda: exports.timesheet_csv(exports.timesheet(start, end), LANGUAGE)),
    ]
    results = {}
    for name, fn in cases:
        results[name] = r = run_in_child(fn)
        print(f"  {name}: runs {', '.join(f'{t:.3f}' for t in r['times'])} s, peak RSS "
              f"{r['peak_kib'] / 1024:.0f} MiB", flush=True)
    sheet = results["timesheet"]

    print()
    print(f"Quote: {N_LINES} service lines + {N_CLOUD} cloud lines, language {LANGUAGE}. Timesheet: "
          f"{N_CONSULTANTS} consultants, {sheet_period} ({sheet['rows']} rows, {sheet['people']} people). "
          f"Median of {RUNS} runs, each export in its own forked process; peak RSS is that process's "
          f"high-water mark (getrusage), the delta is over its RSS at fork.")
    print()
    print("| measure | value | target | met |")
    print("| --- | ---: | ---: | --- |")
    for name, _fn in cases:
        r = results[name]
        median = statistics.median(r["times"])
        target = TARGETS.get(name)
        met = "-" if target is None else ("yes" if median < target else "**no**")
        detail = (f"min {min(r['times']):.3f}, max {max(r['times']):.3f}; CPU {statistics.median(r['cpu']):.3f} s; "
                  f"SQL queries: {max(r['queries'])}")
        print(f"| {name} wall time (median) | {median:.3f} s ({detail}) | "
              f"{f'< {target:g} s' if target else '-'} | {met} |")
        size = f"{r['size'] / 1024:.0f} KiB" if "size" in r else f"{r.get('rows', 0)} rows"
        print(f"| {name} peak RSS | {r['peak_kib'] / 1024:.0f} MiB "
              f"(+{(r['peak_kib'] - r['base_kib']) / 1024:.0f} MiB); output {size} | - | - |")
    print(f"| load average at the end | {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs) | - | - |")
    print(f"| quote_pdf pages | {results['quote_pdf'].get('pages', '?')} | - | - |")
    missed = [name for name, target in TARGETS.items() if statistics.median(results[name]["times"]) >= target]
    print()
    print("All targets met." if not missed else f"Targets missed: {', '.join(missed)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
