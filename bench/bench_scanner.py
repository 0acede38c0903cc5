"""Benchmark of the migration scanner (assessments/scanner/ascend_scan.py).

Generates a synthetic PyTorch code base in a temporary directory (by default 2,000 files of
about 300 lines, one in ten with CUDA usages, one in ten calling a C++ extension's functions
and APIs on the unsupported list or with precision advice, plus a few .cu files, a pybind11
and TORCH_LIBRARY extension and its setup.py), then runs the scanner the way the portal does
(``python3 ascend_scan.py DIR --json``, with the torch 2.1 unsupported-API list and extension
cross-referencing, a fresh process each time) and reports the median wall time of the runs,
files/s, lines/s and the scanner's peak RSS.

    .venv/bin/python bench/bench_scanner.py [--files 2000] [--lines 300] [--runs 3] [--every 10]
                                            [--python python3.8] [--tiny]

``--every N``: one file in N has CUDA usages and one in N extension calls (2 and 1: every file
needs its syntax tree, the worst case).

``--tiny`` (20 files of 60 lines, one run) takes a second: what ``tests/test_benchmarks.py``
runs inside ``make test``. Target: over 2,000 Python files a minute.
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
TARGET_FILES_PER_MINUTE = 2000

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

EXTENSION_BLOCK = '''

def fused_step_{n}(x, grid, scale):
    y = _fused.fused_gelu(x)
    y = _fused.fused_bias_dropout(y, 0.1)
    y = torch.ops.bench_ops.scale(y, scale)
    y = torch.nn.functional.grid_sample(y, grid)
    return torch.baddbmm(y, y, y.transpose(1, 2))
'''

EXTENSION_SOURCE = '''#include <torch/extension.h>
#include <torch/library.h>

torch::Tensor fused_gelu(torch::Tensor x);
torch::Tensor fused_bias_dropout(torch::Tensor x, double p);
torch::Tensor scale(torch::Tensor x, double s);

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("fused_gelu", &fused_gelu, "fused GELU (CUDA)");
  m.def("fused_bias_dropout", &fused_bias_dropout, "fused bias + dropout (CUDA)");
}

TORCH_LIBRARY(bench_ops, m) {
  m.def("scale(Tensor x, float s) -> Tensor");
}

TORCH_LIBRARY_IMPL(bench_ops, CUDA, m) {
  m.impl("scale", &scale);
}
'''

SETUP = '''from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

setup(name="benchpkg", ext_modules=[CUDAExtension("benchpkg._fused", ["csrc/fused_ops.cpp", "csrc/kernel0.cu"])],
      cmdclass={"build_ext": BuildExtension})
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


def generate(root: Path, files: int, lines: int, seed: int = 7, cuda_every: int = 10) -> int:
    """Write the tree (CUDA usages in one file of ``cuda_every``, extension calls and listed APIs in
    another); returns the total number of lines written."""
    rng = random.Random(seed)
    total = 0
    for index in range(files):
        package = root / f"pkg{index % 40:02d}"
        package.mkdir(parents=True, exist_ok=True)
        parts = [HEADER.format(name=index)]
        if index % cuda_every == 0:
            parts.append(CUDA_BLOCK.format(n=0))
        if index % cuda_every == cuda_every // 2:
            parts.append("\nfrom benchpkg import _fused\n" + EXTENSION_BLOCK.format(n=0))
        if index % 50 == 0:
            parts.append("\nimport apex\nfrom flash_attn import flash_attn_func\n")
        n = 1
        while sum(part.count("\n") for part in parts) < lines:
            parts.append(PLAIN_BLOCK.format(n=n, dim=rng.choice((64, 128, 256)), scale=rng.random()))
            n += 1
        text = "".join(parts)
        total += text.count("\n")
        (package / f"mod{index:05d}.py").write_text(text, encoding="utf-8")
    for index in range(max(1, files // 200)):
        (root / "csrc").mkdir(exist_ok=True)
        (root / "csrc" / f"kernel{index}.cu").write_text(KERNEL)
        total += KERNEL.count("\n")
    (root / "csrc" / "fused_ops.cpp").write_text(EXTENSION_SOURCE)
    (root / "setup.py").write_text(SETUP)
    return total + EXTENSION_SOURCE.count("\n") + SETUP.count("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--every", type=int, default=10,
                        help="one file in N with CUDA usages, one in N with extension calls")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs the scanner")
    parser.add_argument("--tiny", action="store_true", help="20 files of 60 lines, one run: a few seconds")
    args = parser.parse_args()
    if args.tiny:
        args.files, args.lines, args.runs = 20, 60, 1

    with tempfile.TemporaryDirectory(prefix="scanbench-") as tmp:
        root = Path(tmp) / "code"
        started = time.perf_counter()
        lines = generate(root, args.files, args.lines, cuda_every=max(1, args.every))
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
    summary = ", ".join(f"{k} {v}" for k, v in report["summary"].items() if v)
    per_minute = files / median * 60
    print(f"ascend_scan benchmark: Python {version}, {platform.machine()} ({os.cpu_count()} CPUs)"
          + (" · TINY SIZE" if args.tiny else ""))
    print(f"tree: {files} files, {lines:,} lines (generated in {generated_s:.1f} s); one file in {args.every} with "
          f"CUDA usages and one with C++ extension calls; unsupported-API list: PyTorch {report.get('torch_version')} "
          f"({(report.get('lists') or {}).get('unsupported_apis', 0)} APIs), "
          f"{len(report.get('extensions') or [])} extension modules cross-referenced\n")
    print("| measure | value | target | met |")
    print("| --- | --- | --- | --- |")
    print(f"| scan, `ascend_scan.py DIR --json` in a fresh process (median of {len(times)}) | {median:.2f} s "
          f"(min {min(times):.2f} s, max {max(times):.2f} s) | — | — |")
    print(f"| throughput | {files / median:,.0f} files/s = {per_minute:,.0f} files a minute; "
          f"{lines / median:,.0f} lines/s | > {TARGET_FILES_PER_MINUTE:,} files a minute "
          f"| {'yes' if per_minute > TARGET_FILES_PER_MINUTE else '**no**'} |")
    print(f"| findings | {len(report['findings']):,} ({summary}); effort {report['effort']['person_days']} "
          "person-days | — | — |")
    print(f"| peak RSS of the scanner process | {peak_kib / 1024:.1f} MiB | — | — |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
