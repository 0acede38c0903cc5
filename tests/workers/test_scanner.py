"""The migration scanner (assessments/scanner/ascend_scan.py), loaded by path as on a customer's host.

Pure tests: no database. The Python cases carry their expectations in ``# expect:`` comments
(``category fix api``, several separated by ``|``), so every finding line and every line that
must stay quiet is written down next to the code.
"""

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCANNER = Path(__file__).resolve().parents[2] / "assessments" / "scanner" / "ascend_scan.py"
# The shared samples sit beside the repository (../shared); a missing copy fails these tests.
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ascend_samples" / "msfmktransplt_generated"
SAMPLE_INPUT = SAMPLES / "inputs" / "train_demo"
SAMPLE_RESULTS = SAMPLES / "gpu2npu_demo1" / "train_demo_msft" / "transplant_result_file"


def _load():
    spec = importlib.util.spec_from_file_location("ascend_scan_under_test", SCANNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scanner = _load()


def _python38():
    """A working Python 3.8, the oldest the scanner supports (pyenv shims may exist but fail)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for candidate in (*map(str, sorted(pyenv.glob("3.8*/bin/python3.8"))), shutil.which("python3.8")):
        try:
            done = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 8)"],
                                  capture_output=True, timeout=30)
        except (OSError, TypeError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return candidate
    return None


PYTHON38 = _python38()
INTERPRETERS = [pytest.param(sys.executable, id="venv")] + [
    pytest.param(PYTHON38, id="python3.8", marks=pytest.mark.skipif(PYTHON38 is None, reason="no python3.8 here"))]


def run_cli(*args, python=sys.executable):
    return subprocess.run([python, str(SCANNER), *map(str, args)], capture_output=True, text=True, timeout=120)


def run_json(root, python=sys.executable):
    done = run_cli(root, "--json", python=python)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def expected_from_comments(root: Path, rel: str) -> set:
    expected = set()
    for number, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), 1):
        if "# expect:" in line:
            for item in line.split("# expect:", 1)[1].split("|"):
                category, fix, api = item.split()
                expected.add((rel, number, category, fix, api))
    return expected


def found(findings, rel=None) -> set:
    return {(f["file"], f["line"], f["category"], f["fix"], f["api"]) for f in findings if rel in (None, f["file"])}


# --- the Python patterns ----------------------------------------------------------------------

CASES = {
    "aliases.py": """
        import torch as t
        from torch import cuda  # expect: cuda_api auto torch.cuda
        from torch.cuda import amp  # expect: cuda_api auto torch.cuda
        import torch.cuda.amp as tamp  # expect: cuda_api auto torch.cuda.amp


        def late():  # the import below the function counts: names are resolved after the whole file
            return scaler_cls()  # expect: cuda_api auto torch.cuda.amp.GradScaler


        t.cuda.synchronize()  # expect: cuda_api auto torch.cuda.synchronize
        cuda.set_device(0)  # expect: cuda_api auto torch.cuda.set_device
        with amp.autocast():  # expect: cuda_api auto torch.cuda.amp.autocast
            pass
        s = t.cuda.Stream(); e = t.cuda.Event()  # expect: cuda_api auto torch.cuda.Stream | cuda_api auto torch.cuda.Event
        free, total = t.cuda.mem_get_info()  # expect: cuda_api auto torch.cuda.mem_get_info
        used = t.cuda.max_memory_allocated()  # expect: cuda_api auto torch.cuda.max_memory_allocated
        t.cuda.manual_seed(0)  # expect: cuda_api auto torch.cuda.manual_seed
        g = tamp.GradScaler()  # expect: cuda_api auto torch.cuda.amp.GradScaler
        gens = t.cuda.default_generators  # expect: cuda_api manual torch.cuda.default_generators
        from torch.cuda.amp import GradScaler as scaler_cls  # expect: cuda_api auto torch.cuda.amp
        """,  # noqa: E501 - an "# expect:" comment must share the line it annotates
    "not_torch.py": """
        import numpy as np
        apex = (0.0, 1.0)  # geometry, not NVIDIA Apex: never imported
        print(apex[0], np.cuda if False else None)
        cuda = True
        if cuda:
            print("cuda is not available", "cudart", "CUDA")
        """,
    "devices.py": """
        import torch
        rank = 0
        d = torch.device("cuda")  # expect: device_string auto cuda
        x = torch.zeros(2).to("cuda:1")  # expect: device_string auto cuda:1
        y = torch.ones(2, device="cuda")  # expect: device_string auto cuda
        z = x.to(f"cuda:{rank}")  # expect: device_string auto cuda:
        m = torch.nn.Linear(2, 2).cuda()  # expect: cuda_api auto .cuda()
        w = x.cuda(non_blocking=True)  # expect: cuda_api auto .cuda()
        table = {"cuda": 1}  # expect: device_string auto cuda
        if x.device.type == "cuda":  # expect: device_string manual cuda
            pass
        on_gpu = "cuda" != d.type  # expect: device_string manual cuda
        ok = torch.cuda.is_available()  # expect: cuda_api auto torch.cuda.is_available
        import os
        os.environ["CUDA_VISIBLE_DEVICES"] = "0"  # expect: cuda_api manual CUDA_VISIBLE_DEVICES
        torch.set_default_tensor_type("torch.cuda.HalfTensor")  # expect: cuda_api manual torch.cuda.HalfTensor
        """,
    "dist.py": """
        import os
        import torch.distributed as dist
        dist.init_process_group(backend="nccl")  # expect: distributed auto nccl
        backend = os.environ.get("BACKEND", "nccl")  # expect: distributed auto nccl
        if backend == 'nccl':  # expect: distributed manual nccl
            pass
        if dist.get_backend() == "nccl":  # expect: distributed manual nccl
            pass
        if backend in ("nccl", "gloo"):  # expect: distributed manual nccl
            pass
        os.environ["NCCL_DEBUG"] = "INFO"  # expect: distributed manual NCCL_DEBUG
        b = dist.Backend.NCCL  # expect: distributed auto torch.distributed.Backend.NCCL
        """,
    "parallel.py": """
        import torch
        import torch.nn as nn
        from torch.nn import DataParallel as DP
        m = nn.DataParallel(nn.Linear(2, 2))  # expect: data_parallel manual torch.nn.DataParallel
        m = DP(m)  # expect: data_parallel manual torch.nn.DataParallel
        m = torch.nn.parallel.DataParallel(m)  # expect: data_parallel manual torch.nn.parallel.DataParallel
        m = nn.parallel.DistributedDataParallel(m)
        """,
    "apex_use.py": """
        import apex  # expect: amp_apex replace_library apex
        from apex import amp  # expect: amp_apex replace_library apex
        import amp_C  # expect: amp_apex replace_library amp_C
        model, opt = amp.initialize(None, None)  # expect: amp_apex replace_library apex.amp.initialize
        opt = apex.optimizers.FusedAdam([])  # expect: amp_apex replace_library apex.optimizers.FusedAdam
        """,
    "jit_use.py": """
        import torch
        from torch.jit import script


        @torch.jit.script  # expect: jit manual torch.jit.script
        def f(x):
            return x


        traced = torch.jit.trace(f, (torch.zeros(1),))  # supported (seed 003): no finding
        g = script(f)  # expect: jit manual torch.jit.script
        """,
    "formats.py": """
        import torch
        x = torch.zeros(1, 3, 4, 4)
        x = x.to(memory_format=torch.channels_last)  # expect: memory_format manual torch.channels_last
        fmt = torch.channels_last_3d  # expect: memory_format manual torch.channels_last_3d
        y = x.contiguous(memory_format=fmt)  # expect: memory_format manual fmt
        z = x.contiguous(memory_format=torch.contiguous_format)
        """,
    "ext/setup.py": """
        from setuptools import setup
        from torch.utils.cpp_extension import BuildExtension, CUDAExtension
        setup(
            name="fused",
            ext_modules=[CUDAExtension("fused", ["fused.cpp", "fused_kernel.cu"])],  # expect: custom_op port_custom_op torch.utils.cpp_extension.CUDAExtension
            cmdclass={"build_ext": BuildExtension},  # expect: custom_op port_custom_op torch.utils.cpp_extension.BuildExtension
        )
        """,  # noqa: E501 - an "# expect:" comment must share the line it annotates
    "inline_ext.py": """
        import torch.utils.cpp_extension as ext
        mod = ext.load_inline("m", cpp_sources="", cuda_sources="")  # expect: custom_op port_custom_op torch.utils.cpp_extension.load_inline
        mod2 = ext.load("m2", sources=["k.cu"])  # expect: custom_op port_custom_op torch.utils.cpp_extension.load
        """,  # noqa: E501 - an "# expect:" comment must share the line it annotates
    "libs.py": """
        import deepspeed
        import flash_attn  # expect: cuda_library replace_library flash_attn
        from flash_attn import flash_attn_func  # expect: cuda_library replace_library flash_attn
        import xformers.ops as xops  # expect: cuda_library replace_library xformers.ops
        import bitsandbytes as bnb  # expect: cuda_library replace_library bitsandbytes
        import triton  # expect: cuda_library replace_library triton
        import triton.language as tl  # expect: cuda_library replace_library triton.language
        import cupy as cp  # expect: cuda_library replace_library cupy
        import pycuda.driver as drv  # expect: cuda_library replace_library pycuda.driver
        from nvidia.dali import pipeline_def  # expect: cuda_library replace_library nvidia.dali
        import tensorrt as trt  # expect: cuda_library replace_library tensorrt
        from deepspeed.ops.adam import FusedAdam  # expect: cuda_library replace_library deepspeed.ops.adam
        out = flash_attn_func(1, 2, 3)  # expect: cuda_library replace_library flash_attn.flash_attn_func
        lin = bnb.nn.Linear8bitLt(2, 2)  # expect: cuda_library replace_library bitsandbytes.nn.Linear8bitLt
        engine = deepspeed.initialize()
        """,
    "cudnn_use.py": """
        import torch
        import torch.backends.cudnn as cudnn
        torch.backends.cudnn.benchmark = True  # expect: cudnn auto torch.backends.cudnn.benchmark
        cudnn.deterministic = True  # expect: cudnn auto torch.backends.cudnn.deterministic
        """,
    "clean.py": """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def forward(self, x):
                return torch.relu(x).to("cpu")
        """,
}


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "code"
    for rel, text in CASES.items():
        write(root, rel, text)
    (root / "ext" / "fused_kernel.cu").write_text(
        "#include <cuda_runtime.h>\n\n__global__ void add_kernel(float *x) { x[0] += 1; }\n"
        "template <typename T>\n__global__ void __launch_bounds__(256) scale_kernel(T *x) {}\n")
    (root / "ext" / "fused.h").write_text("#pragma once\nvoid fused(void);\n")
    (root / "ext" / "fused.cpp").write_text(
        '#include <torch/extension.h>\n#include <ATen/cuda/CUDAContext.h>\n  # include "cublas_v2.h"\n')
    (root / "broken.py").write_text("import torch\ndef f(:\n    pass\n")
    (root / "latin1.py").write_bytes("# café\nimport torch\nx = 'é'\n".encode("latin-1"))
    (root / "nul.py").write_bytes(b"import torch\x00\n")
    return root


EXPECTED_NON_PYTHON = {
    ("ext/fused_kernel.cu", 0, "custom_op", "port_custom_op", ".cu"),
    ("ext/fused.cpp", 2, "custom_op", "port_custom_op", "ATen/cuda/CUDAContext.h"),
    ("ext/fused.cpp", 3, "custom_op", "port_custom_op", "cublas_v2.h"),
    ("broken.py", 2, "unparsable", "manual", "SyntaxError"),
    ("latin1.py", 1, "unparsable", "manual", "UnicodeDecodeError"),
}


def _expected(root):
    expected = set(EXPECTED_NON_PYTHON)
    for rel in CASES:
        expected |= expected_from_comments(root, rel)
    return expected


def test_every_pattern_is_found_with_its_category_and_fix_and_nothing_else(tree):
    report = scanner.scan(str(tree))
    findings = [f for f in report["findings"] if f["file"] != "nul.py"]
    assert found(findings) == _expected(tree)
    nul = [f for f in report["findings"] if f["file"] == "nul.py"]
    assert [(f["category"], f["fix"]) for f in nul] == [("unparsable", "manual")]
    assert report["files_scanned"] == len(CASES) + 6  # .cu, .h, .cpp, broken, latin1, nul
    assert found(report["findings"], "clean.py") == set() and found(report["findings"], "not_torch.py") == set()


@pytest.mark.parametrize("python", INTERPRETERS)
def test_the_command_line_json_matches_and_is_sorted(tree, python):
    report = run_json(tree, python=python)
    assert set(report) >= {"tool", "version", "root", "files_scanned", "torch_version", "lists", "summary", "by_fix",
                           "effort", "extensions", "findings"}
    assert report["torch_version"] == scanner.DEFAULT_TORCH_VERSION and report["lists"]["unsupported_apis"] == 267
    assert report["tool"] == "ascend_scan" and report["root"] == str(tree)
    assert found(f for f in report["findings"] if f["file"] != "nul.py") == _expected(tree)
    keys = [(f["file"], f["line"]) for f in report["findings"]]
    assert keys == sorted(keys)
    for f in report["findings"]:
        assert set(f) == {"file", "line", "col", "api", "category", "fix", "message", "message_zh", "scope", "code",
                          "fingerprint"}
        assert len(f["fingerprint"]) == 32 and int(f["fingerprint"], 16) >= 0
        assert f["category"] in scanner.CATEGORIES and f["fix"] in scanner.FIXES
        assert f["message"].isascii() and not f["message_zh"].isascii()
    assert set(report["summary"]) == set(scanner.CATEGORIES)
    assert report["summary"]["unparsable"] == 3 and report["summary"]["data_parallel"] == 3
    assert sum(report["summary"].values()) == sum(report["by_fix"].values()) == len(report["findings"])


def test_messages_name_the_ascend_alternative(tree):
    by_api = {f["api"]: f for f in scanner.scan(str(tree))["findings"]}
    assert "torch_npu.npu_fusion_attention" in by_api["flash_attn"]["message"]
    assert "torch_npu.npu_fusion_attention" in by_api["flash_attn"]["message_zh"]
    assert "Triton-Ascend" in by_api["triton"]["message"] and "Ascend C" in by_api["triton"]["message"]
    assert "quantisation" in by_api["bitsandbytes"]["message"]
    assert "no effect" in by_api["torch.backends.cudnn.benchmark"]["message"]
    assert "DistributedDataParallel" in by_api["torch.nn.DataParallel"]["message"]
    assert "torch.npu.mem_get_info" in by_api["torch.cuda.mem_get_info"]["message"]
    assert "'npu:1'" in by_api["cuda:1"]["message"]
    kernel = by_api[".cu"]["message"]
    assert "2 kernel(s): add_kernel, scale_kernel" in kernel


def test_columns_are_one_based_characters(tmp_path):
    write(tmp_path, "cols.py", 'import torch\nnote = "中文说明"; ok = torch.cuda.is_available()\nm = net.cuda()\n')
    findings = scanner.scan(str(tmp_path))["findings"]
    assert [(f["line"], f["col"]) for f in findings] == [(2, 21), (3, 9)]


def test_skipped_directories_and_links(tmp_path):
    root = tmp_path / "code"
    outside = write(tmp_path, "outside/secret.py", "import apex\n")
    write(root, "main.py", "import torch\n")
    for rel in (".git/hooks/x.py", "__pycache__/m.py", "node_modules/pkg/x.py", "venv/lib/x.py", "env2/lib/x.py",
                "lib/site-packages/apex/__init__.py"):
        write(root, rel, "import apex\n")
    (root / "env2" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "linked.py").symlink_to(outside)
    (root / "linked_dir").symlink_to(outside.parent, target_is_directory=True)
    report = scanner.scan(str(root))
    assert report["files_scanned"] == 1 and report["findings"] == []
    assert report["effort"]["person_days"] == 0


def test_a_clean_tree_has_no_findings_and_no_effort(tmp_path):
    write(tmp_path, "clean.py", CASES["clean.py"])
    report = run_json(tmp_path)
    assert report["files_scanned"] == 1 and report["findings"] == []
    assert report["effort"]["person_days"] == 0 and set(report["summary"].values()) == {0}


def test_bad_arguments_exit_2(tmp_path):
    missing = run_cli(tmp_path / "missing", "--json")
    assert missing.returncode == 2 and "not a directory" in missing.stderr and missing.stdout == ""
    (tmp_path / "f.py").write_text("x = 1\n")
    assert run_cli(tmp_path / "f.py").returncode == 2
    assert run_cli().returncode == 2


def test_the_human_table(tree):
    done = run_cli(tree)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split() == ["data_parallel", "3"] for line in lines)
    assert any(line.split() == ["unparsable", "3"] for line in lines)
    assert any(line.startswith("parallel.py:4:5 ") and "torch.nn.DataParallel" in line for line in lines)
    assert any(line.startswith("Estimated effort: ") for line in lines)


def test_every_rule_is_reached_through_the_quick_path():
    """Files without a trigger word are only compiled; every rule must contain one."""
    for name, rule in scanner.RULES.items():
        head, _, rest = name.partition(".")
        source = f"import {head}\nx = {name}\n"
        assert ("<source>", 2, rule["category"], rule["fix"], name) in found(scanner.scan_source(source)), name
    for literal in ("cuda", "cuda:3", "nccl", "NCCL_IB_DISABLE", "CUDA_VISIBLE_DEVICES", "torch.cuda.FloatTensor"):
        assert [f["api"] for f in scanner.scan_source(f"x = {literal!r}\n")] == [literal]
    assert [f["api"] for f in scanner.scan_source("y = m.cuda()\nz = x.to(memory_format=f)\n")] == [".cuda()", "f"]


def test_syntax_errors_without_trigger_words_are_still_reported():
    for source in ("def f(:\n", "return 1\n", "x = 1\n  y = 2\n", "print 'python 2'\n"):
        assert [f["category"] for f in scanner.scan_source(source)] == ["unparsable"], source
    assert scanner.scan_source("import os\nprint(os.sep)\n") == []


# --- the real sample ----------------------------------------------------------------------------

@pytest.mark.parametrize("python", INTERPRETERS)
def test_the_sample_training_script(python):
    report = run_json(SAMPLE_INPUT, python=python)
    assert report["files_scanned"] == 1
    assert found(report["findings"]) == {
        ("train.py", 5, "cuda_api", "auto", "torch.cuda.amp"),  # from torch.cuda.amp import autocast, GradScaler
        ("train.py", 12, "unsupported_api", "manual", "torch.nn.MultiheadAttention"),  # on the torch 2.1 list
        ("train.py", 19, "distributed", "auto", "nccl"),  # dist.init_process_group(backend="nccl")
        ("train.py", 20, "device_string", "auto", "cuda:0"),  # torch.device("cuda:0")
        ("train.py", 21, "cuda_api", "auto", ".cuda()"),  # Net().cuda()
        ("train.py", 22, "data_parallel", "manual", "torch.nn.DataParallel"),  # nn.DataParallel(model)
        ("train.py", 24, "cuda_api", "auto", "torch.cuda.amp.GradScaler"),  # GradScaler()
        ("train.py", 25, "device_string", "auto", "cuda"),  # torch.randn(8, 16, device="cuda")
        ("train.py", 26, "unsupported_api", "manual", "torch.cdist"),  # d = torch.cdist(x, x), on the list
        ("train.py", 28, "cuda_api", "auto", "torch.cuda.amp.autocast"),  # with autocast():
        ("train.py", 34, "cuda_api", "auto", "torch.cuda.is_available"),
        ("train.py", 34, "cuda_api", "auto", "torch.cuda.device_count"),
    }
    # 9 auto x 0.02 + 3 manual x 0.25 + 0.5 base = 1.43, rounded up to 1.5
    assert report["effort"]["person_days"] == 1.5


def test_the_sample_agrees_with_the_official_tool():
    """Every line the official GPU-to-NPU migration changed, and every unsupported API it
    reported (all on the torch 2.1 list or a rule), is a finding of the scanner."""
    import csv

    findings = scanner.scan(str(SAMPLE_INPUT))["findings"]
    lines = {f["line"] for f in findings}
    with open(SAMPLE_RESULTS / "change_list.csv", newline="") as handle:
        modified = {int(row["Start Line"]) for row in csv.DictReader(handle) if row["Operation Type"] == "MODIFY"}
    assert modified and modified <= lines
    with open(SAMPLE_RESULTS / "unsupported_api.csv", newline="") as handle:
        unsupported = {(int(row["Start Line"]), row["OP"]) for row in csv.DictReader(handle)}
    assert unsupported == {(12, "torch.nn.MultiheadAttention"), (22, "torch.nn.DataParallel"), (26, "torch.cdist")}
    assert {(f["line"], f["api"]) for f in findings} >= unsupported


# --- effort -------------------------------------------------------------------------------------

def _finding(fix, api="x", file="a.py"):
    return {"file": file, "line": 1, "col": 1, "api": api, "category": "cuda_api", "fix": fix,
            "message": "", "message_zh": ""}


def test_effort_by_hand():
    findings = (
        [_finding("auto")] * 3 + [_finding("manual")]
        + [_finding("replace_library", "flash_attn"), _finding("replace_library", "flash_attn.flash_attn_func"),
           _finding("replace_library", "apex.amp"), _finding("replace_library", "amp_C")]
        + [_finding("port_custom_op", ".cu", "k1.cu"), _finding("port_custom_op", ".cu", "k2.cu"),
           _finding("port_custom_op", "torch.utils.cpp_extension.load", "k2.cu")]
    )
    effort = scanner.estimate_effort(findings)
    # 0.5 + 3 x 0.02 + 1 x 0.25 + 2 libraries (flash_attn, apex) x 1.0 + 2 files x 3.0 = 8.81 -> 9.0
    assert effort["person_days"] == 9.0
    assert effort["by_fix"] == {"auto": 0.06, "manual": 0.25, "replace_library": 2.0, "port_custom_op": 6.0,
                                "review": 0.0}
    assert "8.81" in effort["basis"] and "0.5 base" in effort["basis"]
    assert scanner.estimate_effort([])["person_days"] == 0
    # 50 auto findings are exactly 1.0 + 0.5 base: no floating-point creep past 1.5
    assert scanner.estimate_effort([_finding("auto")] * 50)["person_days"] == 1.5


LIBS = ["flash_attn", "xformers.ops", "bitsandbytes", "triton", "apex", "amp_C", "cupy", "deepspeed.ops.adam"]
finding_strategy = st.one_of(
    st.builds(_finding, st.sampled_from(["auto", "manual"])),
    st.builds(_finding, st.just("replace_library"), st.sampled_from(LIBS)),
    st.builds(_finding, st.just("port_custom_op"), st.just(".cu"), st.sampled_from(["a.cu", "b.cu", "c.cuh", "d.py"])),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(finding_strategy, max_size=60), st.lists(finding_strategy, min_size=1, max_size=20))
def test_effort_is_monotonic_and_in_half_days(before, added):
    small = scanner.estimate_effort(before)["person_days"]
    large = scanner.estimate_effort(before + added)["person_days"]
    assert large >= small >= 0 and large >= 0.5
    assert (small * 2).is_integer() and (large * 2).is_integer()
    lower = 0.5 + sum(0.02 for f in before + added if f["fix"] == "auto")
    assert large >= lower


def test_effort_grows_when_a_library_is_added(tmp_path):
    write(tmp_path, "train.py", CASES["devices.py"])
    before = run_json(tmp_path)["effort"]["person_days"]
    write(tmp_path, "attn.py", "import flash_attn\n")
    after = run_json(tmp_path)["effort"]
    assert after["person_days"] >= before + 1.0 and after["units"]["replace_library"] == 1


# --- runs on the customer's Python 3.8 --------------------------------------------------------

def test_the_scanner_is_python38_syntax_and_stdlib_only():
    source = SCANNER.read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))
    for newer in ("removeprefix", "removesuffix", "ast.unparse", "functools.cache(", "zoneinfo", "graphlib"):
        assert newer not in source
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names)


def test_python38_syntax_check_from_a_shell():
    done = subprocess.run(
        [sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 8))",
         str(SCANNER)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
