"""Benchmark of the migration scanner (assessments/scanner/ascend_scan.py).

Generates a synthetic PyTorch code base in a temporary directory (by default 2,000 files of
about 300 lines, one in ten with CUDA usages, plus a few .cu files), then runs the scanner
the way the portal does (``python3 ascend_scan.py DIR --json``, a fresh process each time)
and reports the median wall time of the runs, files/s, lines/s and the scanner's peak RSS.

    .venv/bin/python bench/bench_scanner.py [--files 2000] [--lines 300] [--runs 3] [--python python3.8]
"""

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCANNER = Path(__file__).resolve().parents[1] / "assessments" / "scanner" / "ascend_scan.py"

PLAIN_BLOCK = '''

class Block{n}(nn.Module):
    """A residual block, number {n}."""

    def __init__(self, dim: int = {dim}, dropout: float = 0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * 4)
        self.fc2 = nn.Linear(dim * 4, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        h = self.norm(x)
        h = torch.nn.functional.gelu(self.fc1(h))
        h = self.drop(self.fc2(h))
        if self.training and h.requires_grad:
            h = h * {scale}
        return x + h


def helper_{n}(values, factor={scale}):
    out = []
    for i, v in enumerate(values):
        if i % 2 == 0:
            out.append(v * factor)
        else:
            out.append({{"index": i, "value": v, "name": "item_%d" % i}})
    return out
'''

CUDA_BLOCK = '''

def train_step_{n}(model, batch, opt, scaler):
    model = model.cuda()
    x = batch.to("cuda:0", non_blocking=True)
    with torch.cuda.amp.autocast():
        loss = model(x).mean()
    scaler.scale(loss).backward()
    torch.cuda.synchronize()
    if dist.get_backend() == "nccl":
        loss = loss / dist.get_world_size()
    torch.backends.cudnn.benchmark = True
    return loss.item(), torch.cuda.max_memory_allocated()
'''

HEADER = '''"""Synthetic module {name} for the scanner benchmark."""

import math
import os

import torch
import torch.distributed as dist
import torch.nn as nn
'''

KERNEL = '''#include <cuda_runtime.h>

__global__ void scale_kernel(float *x, float s, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= s;
}
'''


def generate(root: Path, files: int, lines: int, seed: int = 7) -> int:
    """Write the tree; returns the total number of lines written."""
    rng = random.Random(seed)
    total = 0
    for index in range(files):
        package = root / "pkg{0:02d}".format(index % 40)
        package.mkdir(parents=True, exist_ok=True)
        parts = [HEADER.format(name=index)]
        if index % 10 == 0:
            parts.append(CUDA_BLOCK.format(n=0))
        if index % 50 == 0:
            parts.append("\nimport apex\nfrom flash_attn import flash_attn_func\n")
        n = 1
        while sum(part.count("\n") for part in parts) < lines:
            parts.append(PLAIN_BLOCK.format(n=n, dim=rng.choice((64, 128, 256)), scale=rng.random()))
            n += 1
        text = "".join(parts)
        total += text.count("\n")
        (package / "mod{0:05d}.py".format(index)).write_text(text, encoding="utf-8")
    for index in range(max(1, files // 200)):
        (root / "csrc").mkdir(exist_ok=True)
        (root / "csrc" / "kernel{0}.cu".format(index)).write_text(KERNEL)
        total += KERNEL.count("\n")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs the scanner")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="scanbench-") as tmp:
        root = Path(tmp) / "code"
        started = time.perf_counter()
        lines = generate(root, args.files, args.lines)
        generated_s = time.perf_counter() - started
        times, report = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run([args.python, str(SCANNER), str(root), "--json"], capture_output=True, check=True)
            times.append(time.perf_counter() - started)
            report = json.loads(done.stdout)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux, the largest child

    version = subprocess.run([args.python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    median = statistics.median(times)
    files = report["files_scanned"]
    print("ascend_scan benchmark: Python {0}, {1} ({2} CPUs)".format(version, platform.machine(), os.cpu_count()))
    print("tree: {0} files, {1} lines (generated in {2:.1f} s)".format(files, lines, generated_s))
    print("findings: {0} ({1}), effort {2} person-days".format(
        len(report["findings"]), ", ".join("{0} {1}".format(k, v) for k, v in report["summary"].items() if v),
        report["effort"]["person_days"]))
    print("runs: {0}; median {1:.2f} s (min {2:.2f} s, max {3:.2f} s)".format(
        len(times), median, min(times), max(times)))
    print("throughput: {0:,.0f} files/s, {1:,.0f} lines/s".format(files / median, lines / median))
    print("peak RSS of the scanner process: {0:.1f} MiB".format(peak_kib / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
