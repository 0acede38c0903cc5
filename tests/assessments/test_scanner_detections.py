"""What the scanner (assessments/scanner/ascend_scan.py) finds beyond CUDA usages, on small
trees built here: C/C++ extensions and the Python calls of what they bind, the official
unsupported-API list of the chosen torch version, precision advisories, torch.jit.trace
against torch.jit.script; and each finding's fingerprint, which survives a line shift. Then
the migration analysis job kind's choices (analysis mode, torch versions) and its reading of
the official tool's files. No database.
"""

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

SCANNER = Path(__file__).resolve().parents[2] / "assessments" / "scanner" / "ascend_scan.py"
SHIPPED_LIST = SCANNER.parent / "data" / "unsupported_torch2.1.txt"


def _load():
    spec = importlib.util.spec_from_file_location("ascend_scan_detections", SCANNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scanner = _load()


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def found(report, category=None) -> set:
    return {(f["file"], f["line"], f["category"], f["fix"], f["api"]) for f in report["findings"]
            if category in (None, f["category"])}


def run_cli(*args):
    return subprocess.run([sys.executable, str(SCANNER), *map(str, args)], capture_output=True, text=True, timeout=120)


# --- C/C++ extensions ---------------------------------------------------------------------------

FUSED_CPP = """
    #include <torch/extension.h>

    torch::Tensor fused_gelu(torch::Tensor x);
    torch::Tensor fused_bias(torch::Tensor x, torch::Tensor b);
    // m.def("retired", &retired);  a comment, not a binding

    PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
      m.def("fused_gelu", &fused_gelu, "fused GELU");
      m.def("fused_bias", &fused_bias);
      py::class_<Workspace>(m, "Workspace").def("reset", &Workspace::reset);
    }
    """


def test_a_pybind11_extension_is_found_with_the_python_calls_of_its_functions(tmp_path):
    write(tmp_path, "csrc/fused.cpp", FUSED_CPP)  # no CUDA header, no .cu file: still a custom operator
    write(tmp_path, "setup.py", """
        from setuptools import setup
        from torch.utils.cpp_extension import BuildExtension, CppExtension
        setup(name="pkg", ext_modules=[CppExtension("pkg._fused", ["csrc/fused.cpp"])],
              cmdclass={"build_ext": BuildExtension})
        """)
    write(tmp_path, "pkg/__init__.py", "")
    # No CUDA word anywhere in these files: only the bound names make them worth parsing.
    write(tmp_path, "pkg/model.py", """
        from . import _fused
        from pkg._fused import fused_bias as bias


        class Block:
            def forward(self, x, b):
                y = _fused.fused_gelu(x)
                workspace = _fused.Workspace()
                return bias(y, b)
        """)
    write(tmp_path, "pkg/helpers.py", """
        import pkg.maths as maths


        def fused_gelu(x):
            return maths.fused_gelu(x)  # a Python function of the same name: not the extension's
        """)
    report = scanner.scan(str(tmp_path))

    cpp = "csrc/fused.cpp"
    assert found(report, "custom_op") == {
        (cpp, line_of(tmp_path, cpp, 'm.def("fused_gelu"'), "custom_op", "port_custom_op", "pkg._fused.fused_gelu"),
        (cpp, line_of(tmp_path, cpp, 'm.def("fused_bias"'), "custom_op", "port_custom_op", "pkg._fused.fused_bias"),
        (cpp, line_of(tmp_path, cpp, "py::class_"), "custom_op", "port_custom_op", "pkg._fused.Workspace"),
        ("setup.py", 3, "custom_op", "port_custom_op", "torch.utils.cpp_extension.CppExtension"),
        ("setup.py", 4, "custom_op", "port_custom_op", "torch.utils.cpp_extension.BuildExtension"),
    }
    model = "pkg/model.py"
    assert found(report, "custom_op_call") == {
        (model, line_of(tmp_path, model, "_fused.fused_gelu"), "custom_op_call", "port_custom_op",
         "pkg._fused.fused_gelu"),
        (model, line_of(tmp_path, model, "_fused.Workspace"), "custom_op_call", "port_custom_op",
         "pkg._fused.Workspace"),
        (model, line_of(tmp_path, model, "return bias"), "custom_op_call", "port_custom_op", "pkg._fused.fused_bias"),
    }
    call = next(f for f in report["findings"] if f["category"] == "custom_op_call")
    assert "csrc/fused.cpp" in call["message"] and "User-defined CUDA Operator" in call["message"]
    assert "csrc/fused.cpp" in call["message_zh"] and call["scope"] == "Block.forward"
    assert report["extensions"] == [{"kind": "pybind11", "name": "pkg._fused", "files": [cpp],
                                     "functions": ["Workspace", "fused_bias", "fused_gelu"]}]
    # The calls count with the operator's source: two files to port (the source and the build).
    assert report["effort"]["units"]["port_custom_op"] == 2


def test_a_module_named_in_its_macro_and_a_load_inline_handle(tmp_path):
    write(tmp_path, "ext/lltm.cu", """
        #include <torch/extension.h>
        __global__ void lltm_kernel(float *x) {}
        std::vector<torch::Tensor> lltm_forward(torch::Tensor input);
        PYBIND11_MODULE(lltm_cuda, m) {
          m.def("forward", &lltm_forward, "LLTM forward (CUDA)");
        }
        """)
    write(tmp_path, "train.py", """
        import lltm_cuda
        from torch.utils.cpp_extension import load_inline

        inline = load_inline("inline_ext", cpp_sources="...", functions=["twice"])


        def step(x):
            out = lltm_cuda.forward(x)
            return inline.twice(out), inline.__name__
        """)
    report = scanner.scan(str(tmp_path))
    assert found(report, "custom_op_call") == {
        ("train.py", 8, "custom_op_call", "port_custom_op", "lltm_cuda.forward"),
        ("train.py", 9, "custom_op_call", "port_custom_op", "inline_ext.twice"),  # not its __name__
    }
    assert ("ext/lltm.cu", 5, "custom_op", "port_custom_op", "lltm_cuda.forward") in found(report)
    assert ("ext/lltm.cu", 0, "custom_op", "port_custom_op", ".cu") in found(report)


def test_a_torch_library_operator_and_its_calls(tmp_path):
    ops = "csrc/ops.cpp"
    write(tmp_path, ops, """
        #include <torch/library.h>

        TORCH_LIBRARY(myops, m) {
          m.def("scale(Tensor x, float s) -> Tensor");
          m.def("myops::shift(Tensor x) -> Tensor");
        }

        TORCH_LIBRARY_IMPL(myops, CUDA, m) {
          m.impl("scale", &scale_cuda);
        }

        TORCH_LIBRARY_IMPL(myops, CPU, m) {
          m.impl("scale", &scale_cpu);
        }
        """)
    write(tmp_path, "model.py", """
        import torch


        def forward(x):
            y = torch.ops.myops.scale(x, 2.0)
            z = torch.ops.myops.shift.default(y)
            return torch.ops.aten.add(z, z)  # PyTorch's own operator: not the tree's
        """)
    report = scanner.scan(str(tmp_path))
    assert found(report, "custom_op") == {
        (ops, 4, "custom_op", "port_custom_op", "torch.ops.myops.scale"),
        (ops, 5, "custom_op", "port_custom_op", "torch.ops.myops.shift"),
        (ops, 9, "custom_op", "port_custom_op", "torch.ops.myops.scale"),  # the CUDA kernel; the CPU one is no finding
    }
    assert found(report, "custom_op_call") == {
        ("model.py", 5, "custom_op_call", "port_custom_op", "torch.ops.myops.scale"),
        ("model.py", 6, "custom_op_call", "port_custom_op", "torch.ops.myops.shift"),
    }
    by_line = {f["line"]: f for f in report["findings"] if f["file"] == ops}
    assert "TORCH_LIBRARY_IMPL(myops, PrivateUse1, m)" in by_line[4]["message"]
    assert by_line[9]["message"].startswith("CUDA implementation")
    assert {"kind": "torch_library", "name": "torch.ops.myops", "files": [ops],
            "functions": ["scale", "shift"]} in report["extensions"]


# --- the official unsupported-API list ------------------------------------------------------------

def test_apis_on_the_unsupported_list(tmp_path):
    write(tmp_path, "model.py", """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn import MaxPool2d as Pool


        def sample(x, grid):
            pool = Pool(2)
            attention = nn.MultiheadAttention(16, 2)
            dist = torch.cdist(x, x)
            parallel = nn.DataParallel(attention)
            return F.grid_sample(pool(x), grid), dist, parallel
        """)
    write(tmp_path, "caps.py", "import torch\nmajor, minor = torch.cuda.get_device_capability()\n")
    report = scanner.scan(str(tmp_path))
    assert found(report, "unsupported_api") == {
        ("model.py", 8, "unsupported_api", "manual", "torch.nn.MaxPool2d"),
        ("model.py", 9, "unsupported_api", "manual", "torch.nn.MultiheadAttention"),
        ("model.py", 10, "unsupported_api", "manual", "torch.cdist"),
        ("model.py", 12, "unsupported_api", "manual", "torch.nn.functional.grid_sample"),
        # the list is more precise than the torch.cuda rule (automatic migration maps the name only)
        ("caps.py", 2, "unsupported_api", "manual", "torch.cuda.get_device_capability"),
    }
    # DataParallel is on the list too, but its own rule says what to do instead.
    assert ("model.py", 11, "data_parallel", "manual", "torch.nn.DataParallel") in found(report)
    message = next(f for f in report["findings"] if f["api"] == "torch.cdist")
    assert "PyTorch 2.1" in message["message"] and "PyTorch 2.1" in message["message_zh"]
    assert report["torch_version"] == "2.1" and report["lists"]["unsupported_apis"] == 267


def test_every_listed_api_is_found_even_in_a_file_without_cuda_words():
    listed = scanner.load_unsupported(str(SHIPPED_LIST.parent), "2.1")
    assert len(listed) == 267
    for name in sorted(listed):
        apis = {(f["category"], f["api"]) for f in scanner.scan_source(f"import torch\nx = {name}\n")}
        hit = scanner.match_rule(name)
        category = hit[1]["category"] if hit and hit[0] == name else "unsupported_api"
        assert (category, name) in apis, name


def test_the_torch_version_chooses_the_list(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "unsupported_torch2.1.txt").write_bytes(SHIPPED_LIST.read_bytes())
    (data / "unsupported_torch2.6.txt").write_text("# a list for another version\ntorch.heaviside\n")
    code = tmp_path / "code"
    write(code, "m.py", "import torch\ny = torch.heaviside(x, v)\nz = torch.cdist(x, x)\n")
    assert scanner.torch_versions(str(data)) == ["2.1", "2.6"]

    newer = run_cli(code, "--json", "--torch-version", "2.6.0", "--data-dir", data)
    assert newer.returncode == 0, newer.stderr
    report = json.loads(newer.stdout)
    assert report["torch_version"] == "2.6" and report["lists"] == {"unsupported_apis": 1, "precision_advice": 0}
    assert {f["api"] for f in report["findings"]} == {"torch.heaviside"}
    default = json.loads(run_cli(code, "--json", "--data-dir", data).stdout)
    assert {f["api"] for f in default["findings"]} == {"torch.heaviside", "torch.cdist"}

    missing = run_cli(code, "--json", "--torch-version", "1.11", "--data-dir", data)
    assert missing.returncode == 2 and "no unsupported-API list for torch 1.11" in missing.stderr
    assert run_cli(code, "--torch-version", "latest").returncode == 2
    assert run_cli("--list-versions", "--data-dir", data).stdout.split() == ["2.1", "2.6"]


# --- precision advisories, TorchScript -----------------------------------------------------------

def test_a_precision_advisory(tmp_path):
    write(tmp_path, "attention.py", """
        import torch


        def scores(q, k, bias):
            s = torch.baddbmm(bias, q, k.transpose(1, 2))
            return torch.matmul(s, k) + q.matmul(k)  # only the resolved torch.matmul is advised
        """)
    report = scanner.scan(str(tmp_path))
    assert found(report, "precision_advice") == {
        ("attention.py", 5, "precision_advice", "review", "torch.baddbmm"),
        ("attention.py", 6, "precision_advice", "review", "torch.matmul"),
    }
    baddbmm = next(f for f in report["findings"] if f["api"] == "torch.baddbmm")
    assert "overflow" in baddbmm["message"] and "bmm + add" in baddbmm["message"]
    assert "溢出" in baddbmm["message_zh"] and "bmm + add" in baddbmm["message_zh"]
    # An advisory asks for a check, not for work: no effort beyond the base.
    assert report["effort"]["by_fix"]["review"] == 0 and report["effort"]["person_days"] == 0.5


def test_trace_is_supported_and_script_is_a_manual_change(tmp_path):
    write(tmp_path, "export.py", """
        import torch
        from torch.jit import script, trace


        def export(model, example):
            traced = torch.jit.trace(model, example)
            module = trace(model, example)
            scripted = torch.jit.script(model)
            return traced, module, script(model), scripted
        """)
    report = scanner.scan(str(tmp_path))
    assert found(report) == {
        ("export.py", 8, "jit", "manual", "torch.jit.script"),
        ("export.py", 9, "jit", "manual", "torch.jit.script"),
    }
    assert "torch.jit.trace is supported" in report["findings"][0]["message"]


# --- fingerprints -------------------------------------------------------------------------------

SHIFTED = {
    "model.py": '"""A docstring added above."""\nimport os\n\n\ndef new_helper():\n    return os.sep\n\n\n',
    "csrc/fused.cpp": "// Copyright notice added above.\n#include <vector>\n\n",
}


def test_fingerprints_survive_a_line_shift(tmp_path):
    write(tmp_path, "csrc/fused.cpp", FUSED_CPP)
    write(tmp_path, "csrc/kernel.cu", "#include <cuda_runtime.h>\n__global__ void k(float *x) {}\n")
    write(tmp_path, "model.py", """
        import torch
        from torch.utils.cpp_extension import load

        fused = load("fused", ["csrc/fused.cpp"])


        class Net(torch.nn.Module):
            def forward(self, x):
                x = x.cuda()
                x = x.cuda()  # the same line twice in the same function: two findings
                y = torch.baddbmm(x, x, x)
                return fused.fused_gelu(torch.cdist(y, y))


        def other(x):
            return x.cuda()
        """)
    before = scanner.scan(str(tmp_path))["findings"]
    fingerprints = [f["fingerprint"] for f in before]
    assert len(set(fingerprints)) == len(before) >= 10  # distinct, even for the same line twice

    for rel, header in SHIFTED.items():
        path = tmp_path / rel
        path.write_text(header + path.read_text(encoding="utf-8"), encoding="utf-8")
    after = scanner.scan(str(tmp_path))["findings"]

    def keyed(findings):
        return {f["fingerprint"]: (f["file"], f["category"], f["api"], f["scope"], f["code"]) for f in findings}

    assert keyed(after) == keyed(before)  # every finding keeps its identity...
    moved = {f["fingerprint"]: f["line"] for f in after}
    assert all(moved[f["fingerprint"]] > f["line"] for f in before if f["line"])  # ...though its line moved
    cuda = [f for f in after if f["api"] == ".cuda()"]
    assert [f["scope"] for f in cuda] == ["Net.forward", "Net.forward", "other"]
    assert cuda[0]["code"] == "x = x.cuda()" and cuda[1]["code"].startswith("x = x.cuda() # the same line")

    # Changing the line itself, or the function around it, makes another finding.
    path = tmp_path / "model.py"
    path.write_text(path.read_text().replace("y = torch.baddbmm(x, x, x)", "y = torch.baddbmm(x, x, x * 2)"))
    changed = {f["fingerprint"] for f in scanner.scan(str(tmp_path))["findings"]}
    baddbmm = next(f["fingerprint"] for f in before if f["api"] == "torch.baddbmm")
    assert baddbmm not in changed and len(changed & set(fingerprints)) == len(before) - 1


def test_the_fingerprint_is_the_documented_hash():
    finding = scanner.scan_source("import torch\n\n\ndef f():\n    return torch.cuda.is_available()\n", "a/b.py")[0]
    scanner._identify([finding])
    assert finding["fingerprint"] == scanner.fingerprint("a/b.py", "cuda_api", "torch.cuda.is_available", "f",
                                                         "return torch.cuda.is_available()", 0)
    import hashlib

    key = "\x1f".join(("a/b.py", "cuda_api", "torch.cuda.is_available", "f", "return torch.cuda.is_available()", "0"))
    assert finding["fingerprint"] == hashlib.sha256(key.encode()).hexdigest()[:32]


# --- the job kind: modes, versions, the official tool's files --------------------------------------

@pytest.fixture
def kind():
    from workers import kinds

    return kinds.get("migration_analysis")


class Host:
    ascend_home = "/usr/local/Ascend"


def test_the_job_offers_the_tools_modes_and_versions(kind):
    from assessments.kinds import migration_analysis as module

    assert [key for key, _label in kind.fields["official_mode"].choices] == [
        "torch_apis", "third_party", "affinity_apis", "dynamic_shape"]
    assert [key for key, _label in kind.fields["official_version"].choices] == list(module.OFFICIAL_VERSIONS)
    assert {"2.1.0", "2.6.0", "2.7.1", "2.8.0"} <= set(module.OFFICIAL_VERSIONS)
    assert [key for key, _label in kind.fields["torch_version"].choices] == ["2.1"]  # the data files present
    assert kind.clean({"code_dir": "/code"}) == {"code_dir": "/code", "torch_version": "2.1",
                                                 "official_mode": "torch_apis", "official_version": "2.1.0",
                                                 "timeout_s": 3600}
    for name, value in (("official_mode", "everything"), ("official_version", "2.0"), ("torch_version", "2.6")):
        with pytest.raises(ValidationError) as refused:
            kind.clean({"code_dir": "/code", name: value})
        assert name in refused.value.message_dict

    params = kind.clean({"code_dir": "/my code", "official_mode": "affinity_apis", "official_version": "2.6.0"})
    plan = kind.plan(params, Host())
    script = plan.argv[2]
    assert "--torch-version 2.1 --data-dir ." in script and "-v 2.6.0 -m affinity_apis" in script
    assert "official/*/affinity_api_call.csv" in script and "unsupported_api.csv" not in script
    assert set(plan.uploads) == {"ascend_scan.py", "unsupported_torch2.1.txt", "precision_advice.json"}
    assert plan.uploads["unsupported_torch2.1.txt"] == SHIPPED_LIST.read_bytes()
    assert "for f in" not in kind.plan(kind.clean({"code_dir": "/c", "official_mode": "dynamic_shape"}), Host()).argv[2]


def section(name, text):
    from workers.kinds import SECTION_MARK

    return f"{SECTION_MARK}official:{name}\n{text}\n"


def test_the_job_reads_the_third_party_and_affinity_files(kind):
    scan = json.dumps({"summary": {}, "effort": {"person_days": 0.5}, "findings": [], "files_scanned": 1,
                       "torch_version": "2.1"}).encode()
    log = ("official tool exit code 0\n"
           + section("framework_unsupported_op.csv", "Torch API,Affected 3rd-party API\n"
                     'torch.cdist,"mylib.knn\nmylib.dist"\n')
           + section("cuda_op.csv", "OP Name,Affected 3rd-party API\nnms_kernel,mylib.nms\n")
           + section("unsupported_api.csv", "File,Start Line,End Line,OP,Tips\ntrain.py,3,3,torch.cdist,NA\n"))
    result = kind.parse(log, {"scan.json": scan}, {"official_mode": "third_party", "official_version": "2.1.0"})
    rows = {(row["kind"], row["api"]): row for row in result["official"]}
    # unsupported_api.csv is no file of the third_party mode: not read.
    assert set(rows) == {("third_party_unsupported", "torch.cdist"), ("third_party_cuda_op", "nms_kernel")}
    tips = rows[("third_party_unsupported", "torch.cdist")]["tips"]
    assert tips == "Affected third-party APIs: mylib.knn\nmylib.dist"
    assert result["official_tool_ran"] and result["official_exit_code"] == 0
    chosen = (result["official_mode"], result["official_version"], result["torch_version"])
    assert chosen == ("third_party", "2.1.0", "2.1")

    affinity = section("affinity_api_call.csv", "File,Start Line,End Line,Api Type,Api Call Name,Affinity Api Name\n"
                       "train.py,7,7,function,torch.nn.functional.gelu,torch_npu.fast_gelu\n")
    result = kind.parse("official tool exit code 0\n" + affinity, {"scan.json": scan},
                        {"official_mode": "affinity_apis"})
    [row] = result["official"]
    assert (row["kind"], row["file"], row["start_line"], row["api"], row["tips"]) == (
        "affinity_api", "train.py", 7, "torch.nn.functional.gelu", "Affinity API: torch_npu.fast_gelu")

    failed = kind.parse("official tool exit code 1\n", {"scan.json": scan}, {})
    assert not failed["official_tool_ran"] and failed["official_exit_code"] == 1 and failed["official"] == []
    assert failed["official_mode"] == "torch_apis"  # a job stored before the mode was chosen


@pytest.mark.django_db
def test_a_rerun_analysis_carries_the_handling_of_its_findings_over(kind, engagement, consultant, tmp_path):
    """The job's record gives the scanner's findings their fingerprint: handled findings stay
    handled when the analysis runs again on code with lines added above them."""
    from assessments.models import Finding
    from assessments.services import check_resolve_findings
    from workers.models import AscendHost, Job

    host = AscendHost.objects.create(customer=engagement.customer, name="h", address="192.0.2.1", username="u",
                                     auth_method="key", secret="-", created_by=consultant)
    code = tmp_path / "code"
    write(code, "train.py", """
        import torch


        def step(x, grid):
            y = torch.nn.functional.grid_sample(x, grid)
            return torch.baddbmm(y, y, y).cuda()
        """)

    def run(first_line):
        job = Job.objects.create(kind="migration_analysis", engagement=engagement, stage=engagement.stages.first(),
                                 host=host, started_by=consultant, status="succeeded", exit_code=0,
                                 parameters=kind.clean({"code_dir": str(code)}))
        official = section("unsupported_api.csv", "File,Start Line,End Line,OP,Tips\n"
                           f"train.py,{first_line},{first_line},torch.nn.functional.grid_sample,NA\n")
        scan = json.dumps(scanner.scan(str(code))).encode()
        return kind.record(job, kind.parse(official, {"scan.json": scan}, job.parameters))

    first = run(5)
    assert first["findings_count"] == 4 and first["findings_carried_over"] == 0  # 3 scanner, 1 official
    findings = Finding.objects.filter(analysis_id=first["analysis_id"])
    assert all(len(f.fingerprint) == 40 for f in findings) and len({f.fingerprint for f in findings}) == 4
    check_resolve_findings(consultant, findings.filter(api="torch.nn.functional.grid_sample"),
                           Finding.Resolution.WORKAROUND, "Sampling runs on the CPU")
    check_resolve_findings(consultant, findings.filter(api="torch.baddbmm"), Finding.Resolution.RESOLVED)

    path = code / "train.py"
    path.write_text("# Copyright 2026\nimport os\n\n" + path.read_text())
    second = run(8)
    assert second["findings_carried_over"] == 3
    handled = Finding.objects.filter(analysis_id=second["analysis_id"]).exclude(resolution="open")
    assert sorted((f.source, f.line, f.api, f.resolution) for f in handled) == [
        ("official", 8, "torch.nn.functional.grid_sample", "workaround"),
        ("scanner", 8, "torch.nn.functional.grid_sample", "workaround"),
        ("scanner", 9, "torch.baddbmm", "resolved")]
