"""Benchmark of the tuning-evidence parsers on large files: the profiler's ``kernel_details.csv``
(``assessments.parsers.profiler.parse_kernel_details``) and an msprobe accuracy comparison
(``assessments.parsers.msprobe.parse_compare``).

Generates, in a temporary directory, a ``kernel_details.csv`` of about 200 MB (the header of the
real msprof-analyze fixture, 2,000 distinct kernels, quoted input shapes) and a 1,000,000-row
msprobe ``compare_result`` CSV (tensor mode with the stack column; about 3 % warnings, 1.5 %
errors, 0.5 % unmatched rows, 0.1 % overflows). Each file is parsed from its path, opened in
binary, in a fresh child process (``--child``), so that the peak RSS growth (``ru_maxrss`` after
the parse minus the RSS just before it, the peak mark reset) is the parser's own.

    .venv/bin/python bench/bench_tuning_parsers.py [--mb 200] [--rows 1000000] [--runs 1] [--tiny]

``--tiny`` (2 MB and 10,000 rows) takes a few seconds: what ``tests/test_benchmarks.py`` runs
inside ``make test``. Targets: import the 200 MB kernel_details.csv at over 30 MB/s with flat
memory, and the 1,000,000-row comparison in under 10 s. "Flat" is read as a peak growth under
64 MiB: reading either file into memory would take several times that.
"""

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB_S = 30.0
TARGET_ROWS_S = 10.0  # seconds for 1,000,000 rows
FLAT_MIB = 64.0

KERNEL_HEADER = ("Step Id,Model ID,Task ID,Stream ID,Name,Type,Accelerator Core,Start Time(us),Duration(us),"
                 "Wait Time(us),Block Dim,Mix Block Dim,Input Shapes,Input Data Types,Input Formats,Output Shapes,"
                 "Output Data Types,Output Formats,Context ID,aicore_time(us),aic_total_cycles,aic_mac_fp16_ratio,"
                 "aic_mac_int8_ratio,aic_cube_fops,aic_vector_fops,aiv_time(us),aiv_total_cycles,aiv_vec_fp32_ratio,"
                 "aiv_vec_fp16_ratio,aiv_vec_int32_ratio,aiv_vec_misc_ratio,aiv_cube_fops,aiv_vector_fops")
KERNEL_TYPES = [("MatMulV2", "AI_CORE"), ("FlashAttentionScore", "MIX_AIC"), ("Add", "AI_VECTOR_CORE"),
                ("Cast", "AI_VECTOR_CORE"), ("RmsNorm", "AI_VECTOR_CORE"), ("hcom_allReduce_", "HCCL"),
                ("Transpose", "AI_VECTOR_CORE"), ("GatherV2", "AI_CPU"), ("SwiGlu", "AI_VECTOR_CORE"),
                ("ZerosLike", "AI_VECTOR_CORE")]
COMPARE_HEADER = ("NPU Name,Bench Name,NPU Dtype,Bench Dtype,NPU Tensor Shape,Bench Tensor Shape,NPU Requires_grad,"
                  "Bench Requires_grad,Cosine,EucDist,MaxAbsErr,MaxRelativeErr,One Thousandth Err Ratio,"
                  "Five Thousandths Err Ratio,NPU max,NPU min,NPU mean,NPU l2norm,Bench max,Bench min,Bench mean,"
                  "Bench l2norm,Requires_grad Consistent,Result,Err_message,NPU_Stack_Info")
APIS = ["Functional.linear", "Functional.gelu", "Torch.matmul", "Tensor.__add__", "Functional.layer_norm",
        "Torch.softmax", "Functional.dropout", "NPU.npu_fusion_attention", "Tensor.view", "Distributed.all_reduce"]


def generate_kernel_details(path: Path, target_bytes: int, seed: int = 7) -> tuple[int, int]:
    """A kernel_details.csv of about ``target_bytes``; returns (bytes, rows)."""
    rng = random.Random(seed)
    kernels = []
    for i in range(2000):
        kind, core = KERNEL_TYPES[i % len(KERNEL_TYPES)]
        kernels.append((f"{kind}{i}" if core != "HCCL" else f"hcom_allReduce__{i}_0", kind, core,
                        rng.uniform(2, 400)))
    written = rows = 0
    start = 1699529622790614.8
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(KERNEL_HEADER + "\n")
        written += len(KERNEL_HEADER) + 1
        chunk = []
        while written < target_bytes:
            name, kind, core, mean = kernels[rng.randrange(len(kernels))]
            duration = round(mean * rng.uniform(0.5, 1.5), 2)
            start += duration + 3.1
            line = (f"{rows // 20000 + 1},4294967295,{rows % 65535},16,{name},{kind},{core},{start:.1f},{duration},"
                    f"{rng.uniform(0, 5):.2f},48,0,\"\"\"4096,4096;4096,{rows % 97 + 1}\"\"\",FLOAT16,FORMAT_ND,"
                    f"\"\"\"4096,{rows % 97 + 1}\"\"\",FLOAT16,FORMAT_ND,N/A,{duration * 0.9:.2f},52130051,0.61,0,"
                    f"0,0,{duration * 0.1:.2f},1213005,0,0.0822,0,0,0,137176320\n")
            chunk.append(line)
            written += len(line)
            rows += 1
            if len(chunk) >= 5000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return path.stat().st_size, rows


def generate_compare(path: Path, rows: int, seed: int = 11) -> int:
    """An msprobe compare_result CSV (tensor mode, stack column) of ``rows`` rows; returns its bytes."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(COMPARE_HEADER + "\n")
        chunk = []
        for i in range(rows):
            api = f"{APIS[i % len(APIS)]}.{i // 40}.forward"
            name = f"{api}.{'input.0' if i % 2 else 'output.0'}"
            draw = rng.random()
            npu_max = "inf\t" if draw < 0.001 else f"{rng.uniform(1, 9):.6f}"
            if draw < 0.005:
                bench, result, message, cos = "N/A", "N/A", "No bench data matched.", "N/A"
            elif draw < 0.02:
                bench, result, message, cos = name, "error", "", f"{rng.uniform(0.5, 0.98):.6f}"
            elif draw < 0.05:
                bench, result, message, cos = name, "warning", "", f"{rng.uniform(0.99, 0.999):.6f}"
            else:
                bench, result, message, cos = name, "pass", "", f"{rng.uniform(0.9999, 1):.6f}"
            stack = f'"[\'File train.py, line {i % 500}, in forward, out = self.fc(x)\']"' if i % 2 == 0 else "None"
            chunk.append(f"{name},{bench},torch.bfloat16,torch.bfloat16,\"[8, 4096]\",\"[8, 4096]\",True,True,"
                         f"{cos},0.0123,{rng.uniform(0, 0.01):.6f},{rng.uniform(0, 0.02):.6f},0.9991,0.9999,"
                         f"{npu_max},-3.2,0.01,45.1,5.1,-3.2,0.01,45.1,True,{result},{message},{stack}\n")
            if len(chunk) >= 5000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return path.stat().st_size


def rss_now_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Reset the peak-RSS mark to the current RSS (Linux), so ru_maxrss is the peak of what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def child(kind: str, path: str) -> dict:
    from assessments.parsers import msprobe, profiler

    parse = {"kernel": lambda f: profiler.parse_kernel_details(f, top_n=20),
             "compare": lambda f: msprobe.parse_compare(f, keep="problems", limit=10_000)}[kind]
    with open(path, "rb") as warm:  # imports and first-call costs out of the timing
        warm.readline()
    reset_peak()
    before = rss_now_mib()
    started, cpu = time.perf_counter(), time.process_time()
    with open(path, "rb") as handle:
        result = parse(handle)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"seconds": seconds, "cpu_s": cpu_s, "rss_before_mib": before, "rss_growth_mib": max(0.0, peak - before)}
    if kind == "kernel":
        out.update(rows=result.rows, distinct=result.distinct_kernels, top=result.top[0].name if result.top else "",
                   top_share=result.top[0].share if result.top else 0.0)
    else:
        s = result.summary
        out.update(rows=s.rows, counts=s.counts, overflows=s.overflows, kept=len(result.rows),
                   first_mismatch=s.first_mismatch.name if s.first_mismatch else None)
    return out


def run_child(kind: str, path: Path, runs: int) -> dict:
    results = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True,
                              cwd=ROOT)
        if proc.returncode:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit(f"the {kind} child failed ({proc.returncode})")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]  # the median run
    best["runs"] = runs
    best["all_seconds"] = [r["seconds"] for r in results]
    return best


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the kernel_details.csv, in MB (10^6 bytes)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the msprobe comparison")
    parser.add_argument("--runs", type=int, default=1, help="runs of each parse (the median is reported)")
    parser.add_argument("--tiny", action="store_true", help="2 MB and 10,000 rows: a few seconds")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if args.tiny:
        args.mb, args.rows, args.runs = 2.0, 10_000, 1

    with tempfile.TemporaryDirectory(prefix="tuningbench-") as tmp:
        kernel_path, compare_path = Path(tmp) / "kernel_details.csv", Path(tmp) / "compare_result_bench.csv"
        started = time.perf_counter()
        kernel_bytes, kernel_rows = generate_kernel_details(kernel_path, int(args.mb * 1e6))
        compare_bytes = generate_compare(compare_path, args.rows)
        generated_s = time.perf_counter() - started
        kernel = run_child("kernel", kernel_path, args.runs)
        compare = run_child("compare", compare_path, args.runs)

    kernel_mb_s = kernel_bytes / 1e6 / kernel["seconds"]
    rows_s = compare["rows"] / compare["seconds"]
    per_million = 1e6 / rows_s
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    print("\n# Tuning parsers benchmark\n")
    print(f"{platform.node()} · Python {platform.python_version()}, {platform.machine()} ({os.cpu_count()} CPUs) · "
          f"load average at the end {load}" + (" · TINY SIZE" if args.tiny else ""))
    print(f"Files generated in {generated_s:.1f} s (not timed): kernel_details.csv {kernel_bytes / 1e6:.1f} MB, "
          f"{kernel_rows:,} rows; comparison {compare_bytes / 1e6:.1f} MB, {compare['rows']:,} rows. Each parse "
          f"reads the file from disk (page cache) in a fresh process; median of {args.runs}.\n")
    print("| measure | value | target | met |")
    print("| --- | --- | --- | --- |")
    print(f"| kernel_details.csv import, {kernel_bytes / 1e6:.0f} MB / {kernel['rows']:,} rows "
          f"(parse_kernel_details, top 20 of {kernel['distinct']:,} kernels) | {kernel['seconds']:.2f} s = "
          f"{kernel_mb_s:.1f} MB/s (CPU {kernel['cpu_s']:.2f} s) | > {TARGET_MB_S:.0f} MB/s "
          f"| {yes(kernel_mb_s > TARGET_MB_S)} |")
    print(f"| kernel_details.csv peak RSS growth (from {kernel['rss_before_mib']:.0f} MiB) "
          f"| +{kernel['rss_growth_mib']:.1f} MiB for a {kernel_bytes / 2**20:.0f} MiB file "
          f"| flat: < {FLAT_MIB:.0f} MiB | {yes(kernel['rss_growth_mib'] < FLAT_MIB)} |")
    print(f"| msprobe comparison import, {compare['rows']:,} rows / {compare_bytes / 1e6:.0f} MB (parse_compare, "
          f"problems kept: {compare['kept']:,}) | {compare['seconds']:.2f} s = {rows_s:,.0f} rows/s = "
          f"{per_million:.2f} s per 1,000,000 rows (CPU {compare['cpu_s']:.2f} s) | < {TARGET_ROWS_S:.0f} s per "
          f"1,000,000 rows | {yes(per_million < TARGET_ROWS_S)} |")
    print(f"| msprobe comparison peak RSS growth (from {compare['rss_before_mib']:.0f} MiB) "
          f"| +{compare['rss_growth_mib']:.1f} MiB for a {compare_bytes / 2**20:.0f} MiB file "
          f"| flat: < {FLAT_MIB:.0f} MiB | {yes(compare['rss_growth_mib'] < FLAT_MIB)} |")
    counts = ", ".join(f"{k} {v:,}" for k, v in compare["counts"].items() if v)
    print(f"\nComparison: {counts}; {compare['overflows']:,} overflows; first mismatch {compare['first_mismatch']}. "
          f"Top kernel {kernel['top']} ({kernel['top_share']:.1%} of kernel time). "
          f"Run times: kernel {', '.join(f'{s:.2f}' for s in kernel['all_seconds'])} s; comparison "
          f"{', '.join(f'{s:.2f}' for s in compare['all_seconds'])} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
