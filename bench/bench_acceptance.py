"""Benchmark of the acceptance path: loss-curve comparison, training-log parsing, report rendering.

Not a test: it prints a markdown report and exits 0 unless something errors. No database is
needed (curves are unsaved ``LossCurve`` instances, the report data is built by hand in the
shape ``reports.rendering.build_report_data`` returns). Run it with::

    DEBUG=true .venv/bin/python bench/bench_acceptance.py

Each section runs in a fresh child process of this script (``--section NAME``) so that its
peak RSS (``ru_maxrss``) is its own and not the high-water mark of an earlier section.

Targets (product owner):
1. compare two 1,000,000-step loss curves in under 0.5 s (median of 5), plus the storage round
   trip (``LossCurve.set_series`` / ``series()``): stored bytes per curve and decode time;
2. parse a 1,000,000-line MindSpeed-LLM / Megatron log at over 30 MB/s (median of 3), with
   the parser's peak memory as the ru_maxrss growth over the first run (tracemalloc would
   add about two minutes: tracing slows the parser down several times);
3. render a ~30-page acceptance report with 6 loss charts in under 10 s, in zh-hans and in en
   (each language in its own process, so each render pays the cold start a worker pays),
   with pages (pypdf) and peak RSS.
"""

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from assessments.comparison import compare_loss, compare_performance, compare_score  # noqa: E402
from assessments.models import LossCurve  # noqa: E402

STEPS = 1_000_000
LOG_LINES = 1_000_000
COMPARE_RUNS = 5
PARSE_RUNS = 3
N_CHARTS = 6
TARGET_COMPARE_S = 0.5
TARGET_PARSE_MBPS = 30.0
TARGET_RENDER_S = 10.0
TARGET_PAGES = 30
# Report size, tuned so the English report is about 30 A4 pages.
N_ANALYSES = 5  # build_report_data keeps at most 5
COUNT_ROWS_PER_ANALYSIS = 40
N_DELIVERABLES = 640
LANGUAGES = ("zh-hans", "en")


def rss_mb() -> float:
    """Peak RSS of this process so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> float:
    """Reset the peak-RSS mark to the current RSS (Linux: "5" into /proc/self/clear_refs), so a
    following ru_maxrss is the peak of what runs after, not of the set-up before. Returns the
    current RSS in MB; without the reset, ru_maxrss as it stands."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
    return rss_mb()


def median_time(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def make_curves(steps: int = STEPS, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1..n, a decaying reference loss with noise, and an NPU curve = ref * (1 + small noise)."""
    rng = np.random.default_rng(seed)
    s = np.arange(1, steps + 1, dtype=np.int64)
    ref = 1.6 + 9.0 * np.exp(-s / 40_000) + 0.4 * np.exp(-s / 400_000) + rng.normal(0, 0.02, steps)
    npu = ref * (1 + rng.normal(0, 0.004, steps))
    return s, ref, npu


def stored_curve(steps, losses, label: str, platform_: str) -> LossCurve:
    curve = LossCurve(platform=platform_, source=LossCurve.Source.JOB, label=label, log_format="megatron",
                      loss_key="lm loss", raw_sha256=f"{abs(hash(label)):064x}"[:64])
    curve.set_series(steps, losses)
    return curve


# --- 1. loss-curve comparison ---------------------------------------------------------------

def section_curves() -> dict:
    steps, ref, npu = make_curves()
    compare_s, result = median_time(lambda: compare_loss(steps, ref, steps, npu, skip=20, threshold=0.02),
                                    COMPARE_RUNS)
    assert result.verdict == "pass" and result.compared_points == STEPS - 20, result.as_dict()

    encode_s, ref_curve = median_time(lambda: stored_curve(steps, ref, "GPU reference", "gpu"), COMPARE_RUNS)
    npu_curve = stored_curve(steps, npu, "NPU", "npu")
    decode_s, (back_s, back_l) = median_time(ref_curve.series, COMPARE_RUNS)
    assert np.array_equal(back_s, steps) and np.array_equal(back_l, ref), "round trip changed the curve"

    def from_storage():
        rs, rl = ref_curve.series()
        ns, nl = npu_curve.series()
        return compare_loss(rs, rl, ns, nl, skip=20, threshold=0.02)

    total_s, stored_result = median_time(from_storage, COMPARE_RUNS)
    assert stored_result.mean_relative_error == result.mean_relative_error
    raw_bytes = steps.nbytes + ref.nbytes
    return {
        "compare_s": compare_s, "mre": result.mean_relative_error,
        "encode_s": encode_s, "decode_s": decode_s, "stored_total_s": total_s,
        "steps_blob": len(ref_curve.steps_blob), "losses_blob": len(ref_curve.losses_blob),
        "stored_bytes": len(ref_curve.steps_blob) + len(ref_curve.losses_blob), "raw_bytes": raw_bytes,
        "peak_rss_mb": rss_mb(),
    }


# --- 2. training-log parsing ----------------------------------------------------------------

def make_log(lines: int = LOG_LINES, seed: int = 1) -> tuple[str, np.ndarray]:
    """A MindSpeed-LLM / Megatron iteration log, one record a line (format of demo/simhost/files/train.py)."""
    _steps, ref, _npu = make_curves(lines, seed)
    rng = np.random.default_rng(seed)
    ms = (950 + rng.normal(0, 15, lines)).tolist()
    grad = (1.2 + np.abs(rng.normal(0, 0.3, lines))).tolist()
    losses = ref.tolist()
    batch, lr = 1024, 1.25e-4
    buffer = io.StringIO()  # written in chunks, so generating never holds a million line objects at once
    for start in range(0, lines, 10_000):
        buffer.write("".join(
            f" iteration {i + 1:>8}/{lines:>8} | consumed samples: {(i + 1) * batch:>12} | "
            f"elapsed time per iteration (ms): {ms[i]:.1f} | learning rate: {lr:.6E} | "
            f"global batch size: {batch:>5} | lm loss: {losses[i]:.6E} | loss scale: 1.0 | "
            f"grad norm: {grad[i]:.3f} | number of skipped iterations:   0 | number of nan iterations:   0 |\n"
            for i in range(start, min(start + 10_000, lines))))
    text = buffer.getvalue()
    del buffer
    expected = np.array([float(f"{v:.6E}") for v in losses[:1000]])
    return text, expected


def section_log() -> dict:
    from assessments.parsers.training_log import parse_training_log

    started = time.perf_counter()
    text, expected_head = make_log()
    generate_s = time.perf_counter() - started
    size = len(text.encode())
    # Peak over the first run: from the interpreter plus the log text in memory.
    rss_before = reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    log = parse_training_log(text)
    times, cpu_times = [time.perf_counter() - started], [time.process_time() - cpu_started]
    rss_after = rss_mb()
    assert log.format == "megatron" and log.loss_key == "lm loss", (log.format, log.loss_key)
    assert len(log.steps) == LOG_LINES and log.steps[0] == 1 and log.steps[-1] == LOG_LINES
    assert np.array_equal(np.array(log.losses[:1000]), expected_head), "parsed losses differ from the log"
    del log
    for _ in range(PARSE_RUNS - 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        parse_training_log(text)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    parse_s, cpu_s = statistics.median(times), statistics.median(cpu_times)
    return {
        "lines": LOG_LINES, "bytes": size, "bytes_per_line": size / LOG_LINES, "generate_s": generate_s,
        "parse_s": parse_s, "mb_per_s": size / 1e6 / parse_s,
        "parse_runs_s": times, "cpu_s": cpu_s, "cpu_mb_per_s": size / 1e6 / cpu_s, "rss_before_mb": rss_before, "rss_after_mb": rss_after,
        "rss_delta_mb": rss_after - rss_before,
    }


# --- 3. report rendering --------------------------------------------------------------------

def _source(curve: LossCurve, job: str) -> dict:
    """Same keys as reports.rendering._source."""
    return {"label": curve.label, "platform": curve.platform, "source": curve.source, "sha256": curve.raw_sha256,
            "parser": f"assessments.parsers.training_log ({curve.log_format}, {curve.loss_key or 'loss'})",
            "job": job, "points": curve.points}


FINDING_SOURCES = ("api", "op", "cuda", "third_party", "distributed")
CATEGORIES = ("torch.cuda", "nccl", "apex", "amp", "custom_op", "flash_attn", "deepspeed", "cudnn")
FIXES = ("auto", "manual", "unsupported", "replace")


def stored_pairs() -> list[SimpleNamespace]:
    """Set-up, not timed: 6 pairs of stored 1,000,000-step curves (set_series compresses them)."""
    pairs = []
    for n in range(N_CHARTS):
        steps, ref, npu = make_curves(STEPS, seed=10 + n)
        if n == N_CHARTS - 1:
            npu = ref * (1.03 + 0.004 * np.sin(steps / 5000))  # one FAIL, so both verdict styles render
        pairs.append(SimpleNamespace(model=f"Qwen2.5-{7 * (n + 1)}B",
                                     reference=stored_curve(steps, ref, f"GPU A100 run {n + 1}", "gpu"),
                                     npu=stored_curve(steps, npu, f"Atlas 800T A2 run {n + 1}", "npu")))
    return pairs


def build_data(language: str, pairs: list[SimpleNamespace]) -> dict:
    """The report data in the shape build_report_data returns, without the database: each
    comparison decodes the stored curves like acceptance_figures, and each chart is
    reports.rendering._loss_chart on the pair (itself decoding both curves twice)."""
    from assessments.comparison import LOSS_FORMULA
    from reports.rendering import _loss_chart

    losses = []
    for n, pair in enumerate(pairs):
        rs, rl = pair.reference.series()
        ns, nl = pair.npu.series()
        result = compare_loss(rs, rl, ns, nl, skip=20, threshold=0.02)
        losses.append({"model": pair.model, "reference": _source(pair.reference, f"job-ref-{n}"),
                       "npu": _source(pair.npu, f"job-npu-{n}"), "result": result.as_dict(),
                       "chart": _loss_chart(pair, 20)})
    analyses = []
    for a in range(N_ANALYSES):
        counts = [{"source": FINDING_SOURCES[i % len(FINDING_SOURCES)], "category": CATEGORIES[i % len(CATEGORIES)],
                   "fix": FIXES[i % len(FIXES)], "count": 1 + (i * 7 + a) % 53} for i in range(COUNT_ROWS_PER_ANALYSIS)]
        analyses.append({"code_dir": f"/data/code/model_{a}/src", "files_scanned": 1200 + a, "effort_person_days": "12.5",
                         "job": f"job-analysis-{a}", "counts": counts, "resolved": 100 + a,
                         "total": sum(c["count"] for c in counts)})
    deliverables = [{"stage": ("survey", "plan", "env", "train_adapt", "train_tune", "infer_migrate", "infer_tune")[i % 7],
                     "name": f"交付物_deliverable_{i:04d}_precision_report.xlsx", "size": 10_000 + i * 37,
                     "sha256": f"{i:064x}", "description": ""} for i in range(N_DELIVERABLES)]
    scores = []
    for i, dataset in enumerate(("MMLU", "C-Eval", "GSM8K", "HumanEval", "CMMLU")):
        baseline, migrated = 60.0 + i, 60.0 + i - 0.3 * i
        scores.append({"dataset": dataset, "baseline": baseline, "mode": "relative", "migrated": migrated,
                       "job": f"job-eval-{i}", "result": compare_score(baseline, migrated).as_dict()})
    performance = [{"metric": m, "unit": u, "direction": d, "result": compare_performance(m, d, b, v).as_dict(),
                    "source": f"job-bench-{m}"}
                   for m, u, d, b, v in (("tokens_per_s", "tokens/s", "higher", 3000, 3120.5),
                                         ("ms_per_iteration", "ms", "lower", 1000, 951.2),
                                         ("ttft_ms", "ms", "lower", 200, 214.0))]
    return {
        "version": 3, "language": language, "rendered_at": "2026-03-01T10:00:00+08:00",
        "engagement": {
            "code": "ENG-2026-0042", "title": "大模型训练迁移 LLM training migration", "contract_number": "HT-2026-0042",
            "customer": "示例大模型科技有限公司 Demo LLM Tech Co.", "source_platform": "8× NVIDIA A100 80GB",
            "target_platform": "8× Atlas 800T A2", "framework": "PyTorch + torch_npu",
            "start_date": "2026-01-05", "end_date": "2026-03-31", "loss_threshold": 0.02, "score_threshold": 0.02,
            "warmup_steps": 20,
        },
        "models": [{"name": f"Qwen2.5-{7 * (n + 1)}B", "task_type": "LLM", "size": f"{7 * (n + 1)}B",
                    "scope": "training"} for n in range(N_CHARTS)],
        "environment": {
            "host": "npu-host-01", "taken_at": "2026-02-10T09:30:00+08:00", "job": "job-env-1",
            "driver": "24.1.rc3", "firmware": "7.5.0.1.129", "cann": "8.0.RC3", "torch": "2.1.0",
            "torch_npu": "2.1.0.post8", "python": "3.10.14", "os": "openEuler 22.03", "arch": "aarch64",
            "npu_count": 8, "npu_names": ["910B3"], "npus_healthy": 8, "hbm_total_mb": 65536,
        },
        "analyses": analyses, "loss_formula": LOSS_FORMULA, "losses": losses, "scores": scores,
        "performance": performance,
        "training": {"verdict": "pass", "loss_changed": True,
                     "checkpoints": [f"iter_{k * 1000:07d}.pt" for k in range(1, 21)],
                     "curve": losses[0]["npu"]},
        "deliverables": deliverables, "overall": "fail", "passed": False,
    }


def section_report(language: str) -> dict:
    import pypdf

    from reports.rendering import render_html, render_pdf

    started = time.perf_counter()
    import weasyprint  # noqa: F401  render_pdf imports it lazily; a worker pays this once, not per report
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    pairs = stored_pairs()
    setup_s = time.perf_counter() - started
    rss_start = reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    data = build_data(language, pairs)
    data_s, data_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    rss_data = rss_mb()
    json.dumps(data)  # must be JSON-safe: it is stored with the version
    del pairs
    rss_before = reset_peak()
    cpu_started = time.process_time()
    started = time.perf_counter()
    html = render_html(data)
    html_s = time.perf_counter() - started
    started = time.perf_counter()
    pdf = render_pdf(html)
    pdf_s = time.perf_counter() - started
    render_cpu_s = time.process_time() - cpu_started
    rss_after = rss_mb()
    pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    charts = html.count('data-chart="loss"')
    assert charts == N_CHARTS, charts
    return {
        "language": language, "import_s": import_s, "setup_s": setup_s, "data_s": data_s, "html_s": html_s, "pdf_s": pdf_s, "render_s": html_s + pdf_s,
        "data_cpu_s": data_cpu_s, "render_cpu_s": render_cpu_s,
        "html_bytes": len(html.encode()), "pdf_bytes": len(pdf), "pages": pages, "charts": charts,
        "rss_start_mb": rss_start, "rss_data_mb": rss_data, "rss_before_mb": rss_before, "rss_after_mb": rss_after,
        "rss_delta_mb": rss_after - rss_before,
    }


# --- driver ---------------------------------------------------------------------------------

def run_child(section: str, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--section", section, *extra], capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"section {section} failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=("curves", "log", "report"))
    parser.add_argument("--language", default="en")
    args = parser.parse_args()
    if args.section:
        out = {"curves": section_curves, "log": section_log,
               "report": lambda: section_report(args.language)}[args.section]()
        print(json.dumps(out))
        return

    curves = run_child("curves")
    log = run_child("log")
    reports = [run_child("report", "--language", lang) for lang in LANGUAGES]

    print("# Acceptance benchmark\n")
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{platform.node()} · {os.cpu_count()} CPUs · load average at the end {load} · "
          f"Python {platform.python_version()} · numpy {np.__version__}\n")
    print("| measure | value | target | met |")
    print("| --- | --- | --- | --- |")
    print(f"| compare_loss, 2 × {STEPS:,} steps (median of {COMPARE_RUNS}) | {curves['compare_s']:.3f} s "
          f"| < {TARGET_COMPARE_S} s | {yes(curves['compare_s'] < TARGET_COMPARE_S)} |")
    print(f"| decode both stored curves + compare_loss (median of {COMPARE_RUNS}) | {curves['stored_total_s']:.3f} s "
          f"| < {TARGET_COMPARE_S} s | {yes(curves['stored_total_s'] < TARGET_COMPARE_S)} |")
    print(f"| LossCurve.series() decode, 1 curve (median of {COMPARE_RUNS}) | {curves['decode_s']:.3f} s | — | — |")
    print(f"| LossCurve.set_series() encode, 1 curve (median of {COMPARE_RUNS}) | {curves['encode_s']:.3f} s | — | — |")
    print(f"| stored bytes per curve (steps + losses blobs) | {curves['stored_bytes'] / 2**20:.2f} MiB "
          f"({curves['steps_blob']:,} + {curves['losses_blob']:,} B; raw {curves['raw_bytes'] / 2**20:.2f} MiB) | — | — |")
    print(f"| peak RSS, curves section | {curves['peak_rss_mb']:.0f} MB | — | — |")
    print(f"| parse_training_log, {log['lines']:,} lines / {log['bytes'] / 1e6:.0f} MB "
          f"({log['bytes_per_line']:.0f} B/line; median of {PARSE_RUNS}) | {log['parse_s']:.2f} s = "
          f"{log['mb_per_s']:.1f} MB/s | > {TARGET_PARSE_MBPS:.0f} MB/s | {yes(log['mb_per_s'] > TARGET_PARSE_MBPS)} |")
    print(f"| parse_training_log on CPU time (process_time, median of {PARSE_RUNS}; less sensitive to a busy "
          f"machine) | {log['cpu_s']:.2f} s = {log['cpu_mb_per_s']:.1f} MB/s | > {TARGET_PARSE_MBPS:.0f} MB/s "
          f"| {yes(log['cpu_mb_per_s'] > TARGET_PARSE_MBPS)} |")
    print(f"| parse peak memory: ru_maxrss growth during the first parse (from {log['rss_before_mb']:.0f} MB "
          f"with the {log['bytes'] / 1e6:.0f} MB log in memory) | +{log['rss_delta_mb']:.0f} MB "
          f"({log['rss_delta_mb'] * 1e6 / log['bytes']:.1f} × the log) | reported | — |")
    for r in reports:
        lang = r["language"]
        print(f"| report {lang}: render_html + render_pdf, {r['pages']} pages, {r['charts']} loss charts "
              f"| {r['render_s']:.2f} s (html {r['html_s']:.2f} + pdf {r['pdf_s']:.2f}) | < {TARGET_RENDER_S:.0f} s "
              f"| {yes(r['render_s'] < TARGET_RENDER_S)} |")
        end_to_end = r["data_s"] + r["render_s"]
        print(f"| report {lang}: data + render, as the pdf worker runs it (data: decode, compare and chart "
              f"6 × 2 curves = {r['data_s']:.2f} s) | {end_to_end:.2f} s | < {TARGET_RENDER_S:.0f} s "
              f"| {yes(end_to_end < TARGET_RENDER_S)} |")
        cpu = r["data_cpu_s"] + r["render_cpu_s"]
        print(f"| report {lang}: the same on CPU time (process_time: data {r['data_cpu_s']:.2f} + render "
              f"{r['render_cpu_s']:.2f}) | {cpu:.2f} s | < {TARGET_RENDER_S:.0f} s | {yes(cpu < TARGET_RENDER_S)} |")
        print(f"| report {lang}: import weasyprint (once per worker process, not in the times above) "
              f"| {r['import_s']:.2f} s | — | — |")
        print(f"| report {lang}: pages (pypdf) | {r['pages']} | ~{TARGET_PAGES} | {yes(abs(r['pages'] - TARGET_PAGES) <= 3)} |")
        print(f"| report {lang}: peak RSS during render (ru_maxrss) | {r['rss_after_mb']:.0f} MB "
              f"(+{r['rss_delta_mb']:.0f} MB over {r['rss_before_mb']:.0f}) | reported | — |")
        print(f"| report {lang}: peak RSS during data (ru_maxrss) | {r['rss_data_mb']:.0f} MB "
              f"(+{r['rss_data_mb'] - r['rss_start_mb']:.0f} MB over {r['rss_start_mb']:.0f} with 12 stored curves) "
              f"| reported | — |")
    print()
    pdf_sizes = ", ".join(f"{r['language']} {r['pdf_bytes'] / 1024:.0f} KiB PDF" for r in reports)
    print(f"Loss curves: MRE {curves['mre']:.4%} (PASS). Log generation took {log['generate_s']:.1f} s (not timed). "
          f"Reports: {pdf_sizes}. "
          "Each section runs in its own process, so every ru_maxrss is that section's own.")


if __name__ == "__main__":
    main()
