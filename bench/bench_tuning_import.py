"""Benchmark of the tuning-evidence imports as the portal runs them: an uploaded
``kernel_details.csv`` stored as a ``Profile``, and an uploaded msprobe comparison stored as an
``AccuracyComparison`` with all its ``AccuracyRow`` rows, in PostgreSQL.

Not a test: it prints a report and exits 0 unless something errors. Run it with::

    bash tests/ensure_services.sh && DEBUG=true .venv/bin/python bench/bench_tuning_import.py [--tiny]

``DATABASE_URL`` defaults to postgres://postgres@127.0.0.1:5432/ascend_bench_tuning; the
database is created when missing and migrated. The files are those of
``bench/bench_tuning_parsers.py`` (its generators): a ``kernel_details.csv`` of about 200 MB
and a 1,000,000-row msprobe ``compare_result`` CSV (tensor mode, stack column), each written
straight into a ``TemporaryUploadedFile``, i.e. what Django's upload handler hands a view for
a large upload (receiving it is not timed). Each import calls the service function the upload
view calls (``tuning.services.check_add_profile_upload`` / ``check_add_accuracy_upload``) as a
consultant of the engagement: the size limit, the SHA-256, the parse and the transaction that
stores the record and its rows (COPY), committed. Timed from the call to its return.

Peak memory: the process's VmHWM (``/proc/self/status``) after the import minus the RSS just
before it (the peak mark reset with ``/proc/self/clear_refs``), as ``bench_tuning_parsers.py``
measures it. "Flat" is a growth under 64 MiB: reading either file into memory takes several
times that. Targets (issue 15): the 200 MB kernel_details.csv at over 30 MB/s with flat memory,
the 1,000,000-row comparison in under 10 s (tiny runs are scaled to seconds per million rows).

``--tiny`` (2 MB and 10,000 rows, one run, on a throw-away database dropped at the end) takes
seconds: what ``tests/test_benchmarks.py`` runs inside ``make test``.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_tuning_parsers import generate_compare, generate_kernel_details  # noqa: E402  (bench/ on the path)
from benchdb import ensure_database, throwaway_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ascend_bench_tuning")

TARGET_MB_S = 30.0
TARGET_S_PER_MILLION = 10.0
FLAT_MIB = 64.0
CODE = "BENCH-TUNING-IMPORT"
PM, CONSULTANT = "bti_pm", "bti_consultant"


def status_kib() -> dict:
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
    return values


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux), so the mark after is the peak of what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def seed():
    """The PM, the consultant and the engagement the imports belong to (idempotent)."""
    from engagements.models import Customer, Engagement, User
    from engagements.services import check_create_engagement

    pm, _ = User.objects.get_or_create(username=PM, defaults={"role": User.Role.PM})
    consultant, _ = User.objects.get_or_create(username=CONSULTANT, defaults={"role": User.Role.CONSULTANT})
    engagement = Engagement.objects.filter(code=CODE).first()
    if engagement is None:
        customer, _ = Customer.objects.get_or_create(name="调优导入基准客户 Bench Tuning Import Co. (benchmark data)")
        engagement = check_create_engagement(pm, {
            "customer": customer, "code": CODE, "title": "Tuning import benchmark 调优证据导入基准",
            "source_platform": "8 x A100", "target_platform": "Atlas 800T A2, 8 x 910B",
            "target_framework": Engagement.Framework.PYTORCH, "start_date": "2026-01-05", "end_date": "2026-06-30",
            "pm": pm}, consultants=[consultant])
    return consultant, engagement


def temporary_upload(name: str, fill):
    """A ``TemporaryUploadedFile`` (Django's large-upload file) whose content ``fill(path)`` writes."""
    from django.core.files.uploadedfile import TemporaryUploadedFile

    upload = TemporaryUploadedFile(name, "text/csv", 0, "utf-8")
    path = Path(upload.temporary_file_path())
    fill(path)
    upload.size = path.stat().st_size
    upload.seek(0)
    return upload


def timed(call) -> dict:
    from django.db import connection

    connection.ensure_connection()  # the connection's set-up out of the timing
    reset_peak()
    before = status_kib()
    started, cpu = time.perf_counter(), time.process_time()
    record = call()
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    after = status_kib()
    return {"record": record, "seconds": seconds, "cpu_s": cpu_s, "rss_before_mib": before["VmRSS"] / 1024,
            "hwm_before_mib": before["VmHWM"] / 1024, "hwm_after_mib": after["VmHWM"] / 1024,
            "growth_mib": max(0.0, (after["VmHWM"] - before["VmRSS"]) / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the kernel_details.csv, in MB (10^6 bytes)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the msprobe comparison")
    parser.add_argument("--runs", type=int, default=1, help="imports of each file (the median is reported)")
    parser.add_argument("--tiny", action="store_true", help="2 MB and 10,000 rows on a throw-away database")
    args = parser.parse_args()
    if args.tiny:
        args.mb, args.rows, args.runs = 2.0, 10_000, 1
        throwaway_database("tuning_import")
    else:
        ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from tuning import services
    from tuning.models import AccuracyComparison, AccuracyRow, Profile

    print(f"Database: {connection.settings_dict['NAME']}; {os.cpu_count()} CPUs; Python {platform.python_version()}"
          + ("; TINY SIZE" if args.tiny else ""))
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f} s.")
    consultant, engagement = seed()
    stage = engagement.stages.get(key="training_tuning")
    # earlier runs' records out of the way (not timed): the table holds this run's rows only
    AccuracyComparison.objects.filter(engagement=engagement).delete()
    Profile.objects.filter(engagement=engagement).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {AccuracyRow._meta.db_table}")

    kernel_runs, compare_runs = [], []
    # the files live in FILE_UPLOAD_TEMP_DIR, as large uploads do; close() removes them
    started = time.perf_counter()
    sizes = {}

    def fill_kernel(path):
        sizes["kernel"] = generate_kernel_details(path, int(args.mb * 1e6))

    def fill_compare(path):
        sizes["compare"] = generate_compare(path, args.rows)

    kernel_upload = temporary_upload("kernel_details.csv", fill_kernel)
    compare_upload = temporary_upload("compare_result_bench.csv", fill_compare)
    generated_s = time.perf_counter() - started
    try:
        for run in range(args.runs):
            label = f"bench run {run + 1}"
            kernel_runs.append(timed(lambda label=label: services.check_add_profile_upload(
                consultant, engagement, {"kernel_details": kernel_upload}, stage=stage, label=label)))
            result = timed(lambda label=label: services.check_add_accuracy_upload(
                consultant, engagement, compare_upload, stage=stage, label=label))
            comparison = result["record"]
            result["stored"] = AccuracyRow.objects.filter(comparison=comparison).count()
            compare_runs.append(result)
            print(f"  run {run + 1}: kernel_details {kernel_runs[-1]['seconds']:.2f} s "
                  f"(+{kernel_runs[-1]['growth_mib']:.1f} MiB); comparison {result['seconds']:.2f} s "
                  f"(+{result['growth_mib']:.1f} MiB), {result['stored']:,} rows stored", flush=True)
            if run + 1 < args.runs:  # the next run into an equally empty table
                comparison.delete()
    finally:
        kernel_upload.close()
        compare_upload.close()

    def median(runs):
        return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]

    kernel, compare = median(kernel_runs), median(compare_runs)
    kernel_bytes, kernel_rows = sizes["kernel"]
    compare_bytes = sizes["compare"]
    profile, comparison = kernel["record"], compare["record"]
    kernel_mb_s = kernel_bytes / 1e6 / kernel["seconds"]
    rows_s = comparison.rows / compare["seconds"]
    per_million = 1e6 / rows_s
    expected_counts = {k: v for k, v in comparison.counts.items() if v}
    stored_counts = {row["result"]: row["n"] for row in AccuracyRow.objects.filter(comparison=comparison)
                     .values("result").annotate(n=Count("pk")).order_by()}
    all_stored = compare["stored"] == comparison.rows == args.rows and stored_counts == expected_counts

    def seconds_of(runs) -> str:
        return ", ".join(f"{r['seconds']:.2f}" for r in runs)

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print("\n# Tuning evidence import benchmark (upload -> PostgreSQL)\n")
    print(f"{platform.node()} · Python {platform.python_version()}, {platform.machine()} ({os.cpu_count()} CPUs) · "
          f"load average at the end {load}" + (" · TINY SIZE" if args.tiny else ""))
    print(f"Files generated in {generated_s:.1f} s into Django TemporaryUploadedFiles (not timed): kernel_details.csv "
          f"{kernel_bytes / 1e6:.1f} MB, {kernel_rows:,} rows; comparison {compare_bytes / 1e6:.1f} MB, "
          f"{args.rows:,} rows. Each import is the upload view's service call as consultant {CONSULTANT}, "
          f"committed; median of {args.runs}.\n")
    print("| measure | value | target | met |")
    print("| --- | --- | --- | --- |")
    print(f"| kernel_details.csv upload stored as a Profile, {kernel_bytes / 1e6:.0f} MB / "
          f"{profile.kernels.get('rows', 0):,} rows (check_add_profile_upload) | {kernel['seconds']:.2f} s = "
          f"{kernel_mb_s:.1f} MB/s (CPU {kernel['cpu_s']:.2f} s) | > {TARGET_MB_S:.0f} MB/s "
          f"| {yes(kernel_mb_s > TARGET_MB_S)} |")
    print(f"| kernel_details.csv import peak RSS growth (VmHWM {kernel['hwm_after_mib']:.0f} MiB after, RSS "
          f"{kernel['rss_before_mib']:.0f} MiB before) | +{kernel['growth_mib']:.1f} MiB for a "
          f"{kernel_bytes / 2**20:.0f} MiB file | flat: < {FLAT_MIB:.0f} MiB "
          f"| {yes(kernel['growth_mib'] < FLAT_MIB)} |")
    print(f"| msprobe comparison upload stored with its rows, {comparison.rows:,} rows / {compare_bytes / 1e6:.0f} MB "
          f"(check_add_accuracy_upload) | {compare['seconds']:.2f} s = {rows_s:,.0f} rows/s = {per_million:.2f} s "
          f"per 1,000,000 rows (CPU {compare['cpu_s']:.2f} s) | < {TARGET_S_PER_MILLION:.0f} s per 1,000,000 rows "
          f"| {yes(per_million < TARGET_S_PER_MILLION)} |")
    print(f"| msprobe comparison import peak RSS growth (VmHWM {compare['hwm_after_mib']:.0f} MiB after, RSS "
          f"{compare['rss_before_mib']:.0f} MiB before) | +{compare['growth_mib']:.1f} MiB for a "
          f"{compare_bytes / 2**20:.0f} MiB file | flat: < {FLAT_MIB:.0f} MiB "
          f"| {yes(compare['growth_mib'] < FLAT_MIB)} |")
    print(f"| AccuracyRow rows stored | {compare['stored']:,} of {args.rows:,}; per result {stored_counts} "
          f"| all, counts as the summary's | {yes(all_stored)} |")
    print(f"\nComparison summary: counts {expected_counts}; {comparison.overflows:,} overflows; first mismatch "
          f"{comparison.first_mismatch_op or '-'}. Profile: {profile.kernels.get('distinct_kernels', 0):,} distinct "
          f"kernels. Run times: kernel_details {seconds_of(kernel_runs)} s; comparison {seconds_of(compare_runs)} s "
          f"(median {statistics.median(r['seconds'] for r in compare_runs):.2f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
