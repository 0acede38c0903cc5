#!/usr/bin/env python3
"""ascend_scan: find what keeps a PyTorch code base from running as is on Ascend NPUs.

Usage::

    python3 ascend_scan.py CODE_DIR           # category counts and findings, as a table
    python3 ascend_scan.py CODE_DIR --json    # the report as JSON (what the portal reads)
    python3 ascend_scan.py CODE_DIR --json --torch-version 2.1 --data-dir DIR

One self-contained file, standard library only, Python 3.8 or newer: the portal copies it to
the customer's host and runs it there, with its data files beside it. Exit code 0 when the
scan ran (findings or not), 2 on bad arguments (CODE_DIR missing or not a directory, no
unsupported-API list for the torch version asked for).

Data (``data/`` beside this file, or ``--data-dir``; see ``data/README.md``):
``unsupported_torch<major>.<minor>.txt``, the APIs the official analysis tool (msFmkTransplt)
reports as unsupported for that PyTorch version, one file a version (``--torch-version``
chooses one; default DEFAULT_TORCH_VERSION, the versions are the files present), and
``precision_advice.json``, the APIs the official tool raises precision advice for. Without
them the scan runs with empty lists.

What it reads. Python files (``*.py``) are parsed with ``ast``, never imported or run. A
Python file without the words a finding needs (a TRIGGERS word, every component of a listed
API, or a name the tree's C/C++ extensions bind) is only compiled, to catch syntax errors,
not parsed into a tree. CUDA sources (``*.cu``, ``*.cuh``) and C/C++ sources that
include CUDA headers are reported as custom operators, and so is every function a C/C++
extension binds (pybind11 ``PYBIND11_MODULE`` + ``m.def("name", ...)``, ``TORCH_LIBRARY`` +
``m.def("op(...)")``). C/C++ files are read first, so the Python files' calls of those
functions (``module.func(...)``, ``torch.ops.ns.op(...)``, a ``load``/``load_inline``
handle's ``.func(...)``) are found too: the official tool's "User-defined CUDA Operator". The
extension's module name comes from ``PYBIND11_MODULE(name, m)``, or, for
``TORCH_EXTENSION_NAME``, from the ``CUDAExtension``/``CppExtension``/``load`` building the
file (by source name; a build whose sources are not string literals names every unnamed
module), or else the file's stem. A file that does not parse (syntax error, not valid text in
its declared encoding, null bytes, too deep, too big) becomes one finding of category
``unparsable`` and is skipped. Version-control, cache, virtual-environment (any directory
holding ``pyvenv.cfg``), ``site-packages`` and ``node_modules`` directories are skipped, and
no symbolic link is followed (files reached through links lie outside the tree or are
scanned at their real place).

Every finding has: ``file`` (path relative to CODE_DIR, ``/``-separated), ``line`` and
``col`` (1-based; the column counts characters; 0 and 0 mean the file as a whole), ``api``
(the resolved dotted name, the string literal, or what was found), ``category``, ``fix``,
``message`` (English), ``message_zh`` (Simplified Chinese), ``scope`` (the enclosing
function or class, dotted, e.g. ``Net.forward``; empty at module level and in C/C++),
``code`` (the source line, whitespace collapsed, at most 240 characters; empty for a file as
a whole) and ``fingerprint``, the finding's identity across runs (see ``fingerprint``): 32
hex digits of the SHA-256 of the file, category, API, scope, whole normalised source line
and the finding's rank among the file's findings with those same five, never of the line
number, so a finding keeps it when lines are added or removed above it.

Categories: cuda_api, device_string, distributed, data_parallel, amp_apex, jit,
memory_format, custom_op (CUDA sources, CUDA includes, extension builds, the functions and
operators C/C++ extensions bind), custom_op_call (Python calls of those), cuda_library,
cudnn, unsupported_api (on the official unsupported list of the chosen torch version),
precision_advice (APIs the official tool gives precision advice on), unparsable.
``torch.jit.trace`` is supported (no finding); ``torch.jit.script`` is a manual change.

Fixes: ``auto`` (automatic migration, torch_npu's transfer_to_npu or msFmkTransplt, covers
it), ``manual`` (change by hand), ``replace_library`` (use an Ascend alternative),
``port_custom_op`` (port a custom CUDA operator), ``review`` (check it while aligning
precision; no change needed unless precision suffers).

Effort estimate, in person-days::

    auto              0.02 a finding
    manual            0.25 a finding
    replace_library   1.0  a distinct library (apex and amp_C count as one)
    port_custom_op    3.0  a distinct file (a .cu/.cuh source, a C/C++ source including
                           CUDA headers or binding extension functions, or a Python file
                           building a CUDA extension); the Python calls of the extension's
                           functions (custom_op_call) are covered by their source
    review            0.0  a finding (advisories)
    + 0.5 base when there is any finding; the total is rounded up to the nearest 0.5.
"""

import argparse
import ast
import bisect
import hashlib
import io
import json
import math
import os
import re
import stat
import sys
import tokenize
import warnings

TOOL = "ascend_scan"
VERSION = "1.1"

CATEGORIES = ("cuda_api", "device_string", "distributed", "data_parallel", "amp_apex", "jit",
              "memory_format", "custom_op", "custom_op_call", "cuda_library", "cudnn", "unsupported_api",
              "precision_advice", "unparsable")
FIXES = ("auto", "manual", "replace_library", "port_custom_op", "review")
WEIGHTS = {"auto": 0.02, "manual": 0.25, "replace_library": 1.0, "port_custom_op": 3.0, "review": 0.0}
UNIT_NAMES = {"auto": ("findings", "finding"), "manual": ("findings", "finding"),
              "replace_library": ("libraries", "library"), "port_custom_op": ("files", "file"),
              "review": ("findings", "finding")}
BASE_DAYS = 0.5

SKIP_DIRS = frozenset((".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages", "dist-packages",
                       ".ipynb_checkpoints"))
MAX_FILE_BYTES = 10 * 1024 * 1024
PY_SUFFIXES = (".py",)
CUDA_SUFFIXES = (".cu", ".cuh")
CPP_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx")

# The data files (see data/README.md).
DATA_DIR_NAME = "data"
DEFAULT_TORCH_VERSION = "2.1"
UNSUPPORTED_FILE = re.compile(r"^unsupported_torch(\d+\.\d+)\.txt$")
PRECISION_FILE = "precision_advice.json"

CUDA_INCLUDE = re.compile(
    r'^[ \t]*#[ \t]*include[ \t]*[<"]('
    r'(?:cuda\w*|cu(?:blas|dnn|rand|fft|sparse|solver)\w*|nccl|nvrtc|nvToolsExt)\.h\w*'
    r'|(?:thrust|cub|ATen/cuda|c10/cuda)/[^>"]*)[>"]',
    re.MULTILINE)
CUDA_KERNEL = re.compile(r"__global__[^(;{}]*?(\w+)\s*\(")
LAUNCH_BOUNDS = re.compile(r"__launch_bounds__\s*\([^)]*\)")
# C/C++ extensions: the module (or operator library) macros, and the functions bound in them.
EXT_MACRO = re.compile(r"\b(PYBIND11_MODULE|TORCH_LIBRARY(?:_FRAGMENT)?|TORCH_LIBRARY_IMPL)\s*\(\s*(\w+)\s*,"
                       r"\s*(\w+)\s*(?:,\s*(\w+)\s*)?\)")
EXT_DEF = re.compile(r'\b(\w+)\s*\.\s*(def|impl)\s*\(\s*(?:TORCH_SELECTIVE_SCHEMA\s*\(\s*)?'
                     r'"(?:\w+::)?([A-Za-z_]\w*)')
EXT_CLASS = re.compile(r'\bclass_\s*<[^;{]*?>\s*\(\s*(\w+)\s*,\s*"([A-Za-z_]\w*)"')
EXT_BUILDS = frozenset(("torch.utils.cpp_extension.CUDAExtension", "torch.utils.cpp_extension.CppExtension",
                        "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline"))
EXT_LOADERS = frozenset(("torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline"))
EXT_BUILD_NAMES = frozenset(name.rsplit(".", 1)[1] for name in EXT_BUILDS)
EXT_HELPER_VAR = re.compile(r"\b(?:py|pybind11)::module_?\s*&\s*(\w+)")
NCCL_ENV = re.compile(r"^NCCL_[A-Z0-9_]+$")
# A component of every rule name below, and every string and keyword the scanner reports.
TRIGGERS = re.compile(r"cuda|CUDA|cudnn|NCCL|nccl|DataParallel|data_parallel|jit|channels_last|memory_format"
                      r"|cpp_extension|apex|amp_C|flash_attn|xformers|bitsandbytes|triton|cupy|dali|tensorrt|deepspeed"
                      r"|transformer_engine|pynvml")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# Components too common to tell a file that may use a listed API (any other component does).
COMMON_COMPONENTS = frozenset(("torch", "nn", "Tensor", "Module", "functional", "utils", "cuda", "data", "modules",
                               "module", "forward", "optim", "step"))
CODE_CHARS = 240  # of a finding's source line in the report
MEMORY_FORMATS_OK = frozenset(("torch.contiguous_format", "torch.preserve_format"))


# --- rules for dotted names -------------------------------------------------------------------
# A dotted name matches the rule of its longest prefix (whole components only). ``on_import``:
# importing the name is a finding too (not only using it). ``group``: the library a
# replace_library finding counts towards in the effort estimate.

def _rule(category, fix, en, zh, on_import=False, group=None):
    return {"category": category, "fix": fix, "en": en, "zh": zh, "on_import": on_import, "group": group}


_CUDA_EN = "CUDA API {api}: automatic migration (transfer_to_npu / msFmkTransplt) maps it to {npu}."
_CUDA_ZH = "CUDA 接口 {api}：自动迁移（transfer_to_npu / msFmkTransplt）会将其映射为 {npu}。"
_MEM_EN = ("CUDA memory API {api}: automatic migration maps it to {npu}; the figures come from the NPU "
           "caching allocator and are not comparable with GPU numbers.")
_MEM_ZH = "CUDA 显存接口 {api}：自动迁移会将其映射为 {npu}；数值来自 NPU 缓存分配器，不能与 GPU 数值直接比较。"
_EXT_EN = ("C++/CUDA extension ({api}): its operators must be ported to Ascend C custom operators "
           "(or replaced by torch_npu operators) and the build changed.")
_EXT_ZH = ("C++/CUDA 扩展（{api}）：其中的算子需移植为 Ascend C 自定义算子（或改用 torch_npu 算子），"
           "并修改构建方式。")
_JIT_EN = ("{api} is not supported under automatic migration: transfer_to_npu turns torch.jit.script into a "
           "no-op with a warning. Remove it, trace instead (torch.jit.trace is supported), or keep it off the NPU "
           "path (for inference graphs use torchair or ONNX + ATC).")
_JIT_ZH = ("自动迁移不支持 {api}：transfer_to_npu 会将 torch.jit.script 置为空操作并告警。请删除、改用 torch.jit.trace"
           "（已支持），或使其不在 NPU 路径上（推理图请使用 torchair 或 ONNX + ATC）。")
_DP_EN = ("{api} is not supported on Ascend NPU; use torch.nn.parallel.DistributedDataParallel "
          "(one process per NPU, HCCL backend).")
_DP_ZH = "昇腾 NPU 不支持 {api}，请改用 torch.nn.parallel.DistributedDataParallel（每个 NPU 一个进程，HCCL 后端）。"
_APEX_EN = ("NVIDIA Apex ({api}) is CUDA-only: use Apex for Ascend (Ascend/apex) or torch_npu's native AMP "
            "(torch.npu.amp / torch.autocast('npu')) and fused optimizers (torch_npu.optim).")
_APEX_ZH = ("NVIDIA Apex（{api}）仅支持 CUDA：请改用昇腾版 Apex（Ascend/apex），或 torch_npu 原生混合精度"
            "（torch.npu.amp / torch.autocast('npu')）及融合优化器（torch_npu.optim）。")

RULES = {
    "torch.cuda": _rule("cuda_api", "auto", _CUDA_EN, _CUDA_ZH, on_import=True),
    "torch.cuda.amp": _rule(
        "cuda_api", "auto",
        "CUDA mixed precision {api}: automatic migration maps it to {npu}; torch_npu supports native AMP "
        "(torch.npu.amp, torch.autocast('npu')).",
        "CUDA 混合精度 {api}：自动迁移会将其映射为 {npu}；"
        "torch_npu 支持原生混合精度（torch.npu.amp、torch.autocast('npu')）。",
        on_import=True),
    "torch.cuda.default_generators": _rule(
        "cuda_api", "manual",
        "{api} is not redirected by automatic migration; use torch_npu.npu.default_generators by hand.",
        "自动迁移不会替换 {api}，请手动改为 torch_npu.npu.default_generators。", on_import=True),
    "torch.cuda.DoubleTensor": _rule(
        "cuda_api", "auto",
        "{api}: automatic migration maps it to torch.npu.FloatTensor (float64 is not supported on NPU); "
        "check the precision the code needs.",
        "{api}：自动迁移会将其映射为 torch.npu.FloatTensor（NPU 不支持 float64），请确认所需精度。", on_import=True),
    "torch.backends.cudnn": _rule(
        "cudnn", "auto",
        "cuDNN setting {api} has no effect on Ascend NPU; it is harmless after automatic migration and can "
        "be removed.",
        "cuDNN 设置 {api} 在昇腾 NPU 上不起作用；自动迁移后无害，可以删除。"),
    "torch.backends.cuda": _rule(
        "cudnn", "auto",
        "CUDA backend setting {api} has no effect on Ascend NPU; if TF32 mattered, review the NPU precision "
        "settings (HF32) by hand.",
        "CUDA 后端设置 {api} 在昇腾 NPU 上不起作用；如依赖 TF32，请手动检查 NPU 精度设置（HF32）。"),
    "torch.nn.DataParallel": _rule("data_parallel", "manual", _DP_EN, _DP_ZH),
    "torch.nn.parallel.DataParallel": _rule("data_parallel", "manual", _DP_EN, _DP_ZH),
    "torch.nn.parallel.data_parallel": _rule("data_parallel", "manual", _DP_EN, _DP_ZH),
    "torch.jit.script": _rule("jit", "manual", _JIT_EN, _JIT_ZH),
    "torch.jit.script_method": _rule("jit", "manual", _JIT_EN, _JIT_ZH),
    "torch.channels_last": _rule(
        "memory_format", "manual",
        "{api}: Ascend NPU uses its own internal formats and channels_last usually costs performance; "
        "remove it or benchmark it (automatic migration leaves it).",
        "{api}：昇腾 NPU 使用自有内部格式，channels_last 通常降低性能；请删除或实测（自动迁移不处理）。"),
    "torch.utils.cpp_extension.load": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.load_inline": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.CUDAExtension": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.CppExtension": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.BuildExtension": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.distributed.Backend.NCCL": _rule(
        "distributed", "auto", "NCCL backend {api}: automatic migration sets the backend to hccl.",
        "NCCL 后端 {api}：自动迁移会将后端设为 hccl。"),
    "torch.distributed.is_nccl_available": _rule(
        "distributed", "manual",
        "{api} returns False on Ascend; check torch.distributed.is_hccl_available() (torch_npu) instead.",
        "{api} 在昇腾上返回 False，请改为检查 torch.distributed.is_hccl_available()（torch_npu）。"),
    # Apex and its CUDA extension.
    "apex": _rule("amp_apex", "replace_library", _APEX_EN, _APEX_ZH, on_import=True, group="apex"),
    "apex.amp": _rule(
        "amp_apex", "replace_library",
        "Apex AMP ({api}) is CUDA-only: use torch_npu's native AMP (torch.npu.amp.autocast / GradScaler) or "
        "Apex for Ascend.",
        "Apex 混合精度（{api}）仅支持 CUDA："
        "请改用 torch_npu 原生混合精度（torch.npu.amp.autocast / GradScaler）或昇腾版 Apex。",
        on_import=True, group="apex"),
    "apex.optimizers": _rule(
        "amp_apex", "replace_library",
        "Apex fused optimizer ({api}) is CUDA-only: use torch_npu.optim (e.g. NpuFusedAdamW), Apex for "
        "Ascend, or the plain torch.optim optimizer.",
        "Apex 融合优化器（{api}）仅支持 CUDA："
        "请改用 torch_npu.optim（如 NpuFusedAdamW）、昇腾版 Apex 或普通 torch.optim 优化器。",
        on_import=True, group="apex"),
    "apex.parallel": _rule(
        "amp_apex", "replace_library",
        "{api} is CUDA-only: use torch.nn.parallel.DistributedDataParallel (and torch.nn.SyncBatchNorm) "
        "with the HCCL backend.",
        "{api} 仅支持 CUDA："
        "请改用 HCCL 后端的 torch.nn.parallel.DistributedDataParallel（及 torch.nn.SyncBatchNorm）。",
        on_import=True, group="apex"),
    "amp_C": _rule(
        "amp_apex", "replace_library",
        "amp_C is Apex's CUDA extension and does not exist on Ascend: remove it, use torch_npu's native AMP "
        "and fused optimizers.",
        "amp_C 是 Apex 的 CUDA 扩展，昇腾上不存在：请删除，改用 torch_npu 原生混合精度与融合优化器。",
        on_import=True, group="apex"),
    "apex_C": _rule("amp_apex", "replace_library", _APEX_EN, _APEX_ZH, on_import=True, group="apex"),
    # CUDA-only libraries and their Ascend alternatives.
    "flash_attn": _rule(
        "cuda_library", "replace_library",
        "flash-attn ({api}) is CUDA-only: use torch_npu.npu_fusion_attention (FlashAttentionScore) or "
        "MindSpeed's flash attention.",
        "flash-attn（{api}）仅支持 CUDA："
        "请改用 torch_npu.npu_fusion_attention（FlashAttentionScore）或 MindSpeed 的 Flash Attention。",
        on_import=True, group="flash_attn"),
    "xformers": _rule(
        "cuda_library", "replace_library",
        "xformers ({api}) is CUDA-only: use torch_npu.npu_fusion_attention or "
        "torch.nn.functional.scaled_dot_product_attention.",
        "xformers（{api}）仅支持 CUDA："
        "请改用 torch_npu.npu_fusion_attention 或 torch.nn.functional.scaled_dot_product_attention。",
        on_import=True, group="xformers"),
    "bitsandbytes": _rule(
        "cuda_library", "replace_library",
        "bitsandbytes ({api}) is CUDA-only and has no Ascend equivalent: change the quantisation approach "
        "(bf16/fp16 training, msModelSlim for inference quantisation).",
        "bitsandbytes（{api}）仅支持 CUDA，昇腾上无对应库：请更换量化方案（bf16/fp16 训练，推理量化用 msModelSlim）。",
        on_import=True, group="bitsandbytes"),
    "triton": _rule(
        "cuda_library", "replace_library",
        "Triton kernels ({api}) target NVIDIA GPUs: port them to Triton-Ascend or write Ascend C custom "
        "operators.",
        "Triton 算子（{api}）面向 NVIDIA GPU：请移植到 Triton-Ascend，或编写 Ascend C 自定义算子。",
        on_import=True, group="triton"),
    "cupy": _rule(
        "cuda_library", "replace_library",
        "CuPy ({api}) is CUDA-only: use NumPy on the CPU or torch/torch_npu tensor operations on the NPU.",
        "CuPy（{api}）仅支持 CUDA：请在 CPU 上使用 NumPy，或在 NPU 上使用 torch/torch_npu 张量运算。",
        on_import=True, group="cupy"),
    "pycuda": _rule(
        "cuda_library", "replace_library",
        "PyCUDA ({api}) is CUDA-only: use torch_npu tensors or the AscendCL Python API (pyACL).",
        "PyCUDA（{api}）仅支持 CUDA：请改用 torch_npu 张量或 AscendCL Python 接口（pyACL）。",
        on_import=True, group="pycuda"),
    "nvidia.dali": _rule(
        "cuda_library", "replace_library",
        "NVIDIA DALI ({api}) is CUDA-only: use torchvision data loading (torchvision_npu / DVPP for decoding "
        "on Ascend) or CPU workers.",
        "NVIDIA DALI（{api}）仅支持 CUDA："
        "请改用 torchvision 数据加载（昇腾上可用 torchvision_npu / DVPP 解码）或 CPU 进程。",
        on_import=True, group="nvidia.dali"),
    "tensorrt": _rule(
        "cuda_library", "replace_library",
        "TensorRT ({api}) is NVIDIA-only: for inference on Ascend use ATC offline models (.om), MindIE, or "
        "torch_npu graph mode (torchair).",
        "TensorRT（{api}）仅支持 NVIDIA：昇腾推理请使用 ATC 离线模型（.om）、MindIE 或 torch_npu 图模式（torchair）。",
        on_import=True, group="tensorrt"),
    "torch_tensorrt": _rule(
        "cuda_library", "replace_library",
        "Torch-TensorRT ({api}) is NVIDIA-only: use torch_npu graph mode (torchair), MindIE Torch or ATC.",
        "Torch-TensorRT（{api}）仅支持 NVIDIA：请改用 torch_npu 图模式（torchair）、MindIE Torch 或 ATC。",
        on_import=True, group="torch_tensorrt"),
    "deepspeed.ops": _rule(
        "cuda_library", "replace_library",
        "DeepSpeed CUDA ops ({api}): use DeepSpeed's Ascend accelerator with torch_npu (its NPU op builders) "
        "or MindSpeed.",
        "DeepSpeed CUDA 算子（{api}）：请使用 DeepSpeed 的昇腾加速器（torch_npu，NPU 算子构建器）或 MindSpeed。",
        on_import=True, group="deepspeed.ops"),
    "transformer_engine": _rule(
        "cuda_library", "replace_library",
        "Transformer Engine ({api}) is NVIDIA-only: use MindSpeed's fused operators on Ascend.",
        "Transformer Engine（{api}）仅支持 NVIDIA：昇腾上请使用 MindSpeed 的融合算子。",
        on_import=True, group="transformer_engine"),
    "pynvml": _rule(
        "cuda_library", "replace_library",
        "NVML ({api}) is NVIDIA-only: query Ascend NPUs with npu-smi or the DCMI interface.",
        "NVML（{api}）仅支持 NVIDIA：请用 npu-smi 或 DCMI 接口查询昇腾 NPU。",
        on_import=True, group="pynvml"),
}
for _name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
              "memory_cached", "max_memory_cached", "memory_stats", "memory_summary", "memory_snapshot",
              "mem_get_info", "reset_peak_memory_stats", "reset_max_memory_allocated", "empty_cache",
              "set_per_process_memory_fraction"):
    RULES["torch.cuda." + _name] = _rule("cuda_api", "auto", _MEM_EN, _MEM_ZH, on_import=True)
RULES["torch.channels_last_3d"] = RULES["torch.channels_last"]
RULE_ROOTS = frozenset(name.split(".", 1)[0] for name in RULES)


def match_rule(dotted):
    """The (prefix, rule) of the longest rule prefix of ``dotted`` (whole components), or None."""
    if dotted.split(".", 1)[0] not in RULE_ROOTS:
        return None
    name = dotted
    while True:
        rule = RULES.get(name)
        if rule is not None:
            return name, rule
        cut = name.rfind(".")
        if cut < 0:
            return None
        name = name[:cut]


def dotted_name(node):
    """``a.b.c`` for a chain of attributes on a name, else None (Python 3.8 has no unparse helper)."""
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None
    parts.append(node.id)
    parts.reverse()
    return ".".join(parts)


def _npu_name(api):
    if api == "torch.cuda" or api.startswith("torch.cuda."):
        return "torch.npu" + api[len("torch.cuda"):]
    return api


# --- string literals ------------------------------------------------------------------------

def _string_rule(value, compared):
    """(category, fix, api, en, zh) for a string literal that matters, else None."""
    if not value or value[0] not in "cnNCt":
        return None
    if value == "cuda" or value.startswith("cuda:"):
        npu = "npu" + value[4:]
        if compared:
            return ("device_string", "manual", value,
                    "Comparison with the device string '{0}': automatic migration does not rewrite comparisons; "
                    "compare with '{1}' (or the device type of the tensor) by hand.".format(value, npu),
                    "与设备字符串 '{0}' 比较：自动迁移不会改写比较，"
                    "请手动改为与 '{1}'（或张量的设备类型）比较。".format(value, npu))
        return ("device_string", "auto", value,
                "Device string '{0}': automatic migration maps it to '{1}'.".format(value, npu),
                "设备字符串 '{0}'：自动迁移会将其映射为 '{1}'。".format(value, npu))
    if value == "nccl":
        if compared:
            return ("distributed", "manual", value,
                    "Comparison with the backend 'nccl': automatic migration does not rewrite comparisons and the "
                    "backend is 'hccl' on Ascend; change the comparison by hand.",
                    "与后端 'nccl' 比较：自动迁移不会改写比较，昇腾上后端为 'hccl'，请手动修改该比较。")
        return ("distributed", "auto", value,
                "NCCL backend 'nccl': automatic migration maps it to 'hccl' (HCCL).",
                "NCCL 后端 'nccl'：自动迁移会将其映射为 'hccl'（HCCL）。")
    if compared:
        return None
    if NCCL_ENV.match(value):
        return ("distributed", "manual", value,
                "NCCL environment variable {0} has no effect on Ascend; set the HCCL equivalent "
                "(e.g. HCCL_CONNECT_TIMEOUT, HCCL_BUFFSIZE) if it matters.".format(value),
                "NCCL 环境变量 {0} 在昇腾上不起作用；"
                "如有需要请设置对应的 HCCL 变量（如 HCCL_CONNECT_TIMEOUT、HCCL_BUFFSIZE）。".format(value))
    if value == "CUDA_VISIBLE_DEVICES":
        return ("cuda_api", "manual", value,
                "CUDA_VISIBLE_DEVICES has no effect on Ascend NPUs; set ASCEND_RT_VISIBLE_DEVICES instead.",
                "CUDA_VISIBLE_DEVICES 对昇腾 NPU 不起作用，请改设 ASCEND_RT_VISIBLE_DEVICES。")
    if value.startswith("torch.cuda.") and " " not in value:
        return ("cuda_api", "manual", value,
                "String naming the CUDA type or API {0}: automatic migration does not rewrite strings; use "
                "{1} (or torch.set_default_device('npu')) by hand.".format(value, _npu_name(value)),
                "字符串中的 CUDA 类型或接口 {0}：自动迁移不会改写字符串，"
                "请手动改为 {1}（或 torch.set_default_device('npu')）。".format(value, _npu_name(value)))
    return None


# --- the data: unsupported APIs and precision advisories --------------------------------------

def default_data_dir():
    """``data/`` beside this file, or else this file's own directory (where the portal puts the
    data files beside the uploaded script)."""
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(here, DATA_DIR_NAME)
    return data if os.path.isdir(data) else here


def normalise_torch_version(version):
    """'2.1' for '2.1', '2.1.0', 'v2.1.0' or '2.1.0+cpu'; None when it is not a version."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:[.+-][\w.+-]*)?$", str(version or "").strip())
    return "{0}.{1}".format(int(match.group(1)), int(match.group(2))) if match else None


def _version_key(version):
    return tuple(int(part) for part in version.split("."))


def torch_versions(data_dir=None):
    """The torch versions that have an unsupported-API list in ``data_dir``, oldest first."""
    try:
        names = os.listdir(data_dir or default_data_dir())
    except OSError:
        return []
    return sorted((match.group(1) for match in map(UNSUPPORTED_FILE.match, names) if match), key=_version_key)


def unsupported_list_path(data_dir, version):
    return os.path.join(data_dir or default_data_dir(), "unsupported_torch{0}.txt".format(version))


def load_unsupported(data_dir, version):
    """The API names of one version's unsupported list; OSError when it is missing."""
    with io.open(unsupported_list_path(data_dir, version), encoding="utf-8") as handle:
        names = [line.strip() for line in handle]
    return frozenset(name for name in names if name and not name.startswith("#"))


def load_precision_advice(data_dir):
    """API -> (English, Chinese) advice, from precision_advice.json; empty when the file is missing."""
    try:
        with io.open(os.path.join(data_dir or default_data_dir(), PRECISION_FILE), encoding="utf-8") as handle:
            entries = json.load(handle).get("advice", [])
    except OSError:
        return {}
    return dict((entry["api"], (entry["en"], entry["zh"])) for entry in entries)


def distinctive_word(dotted):
    """A component of a dotted name a file must contain to use it: the longest uncommon one."""
    parts = [part for part in dotted.split(".") if part]
    return max([part for part in parts if part not in COMMON_COMPONENTS] or parts, key=len)


def _needed_words(names):
    """distinctive word -> the component sets of the names it stands for. A file can use a
    dotted name only if it holds every component as an identifier (its imports name them)."""
    needed = {}
    for name in names:
        needed.setdefault(distinctive_word(name), []).append(frozenset(part for part in name.split(".") if part))
    return needed


class Context(object):
    """What a scan knows beyond one file: the chosen torch version's unsupported APIs, the
    precision advisories, and the tree's C/C++ extensions (filled in as the tree is read)."""

    def __init__(self, torch_version=None, unsupported=(), precision=None):
        self.torch_version = torch_version
        self.unsupported = frozenset(unsupported)
        self.precision = dict(precision or {})
        self.extensions = Extensions()
        self.list_words = _needed_words(set(self.unsupported) | set(self.precision))
        self.extension_words = frozenset()
        self.words = frozenset(self.list_words)

    @classmethod
    def load(cls, torch_version=None, data_dir=None):
        """The lists of ``torch_version`` (default DEFAULT_TORCH_VERSION) from ``data_dir``
        (default ``default_data_dir()``). ValueError when that version has no list; a copy of
        the script without any data runs with empty lists when no version is asked for."""
        data_dir = data_dir or default_data_dir()
        version = normalise_torch_version(torch_version or DEFAULT_TORCH_VERSION)
        available = torch_versions(data_dir)
        if version not in available:
            if torch_version is None and not available:
                return cls(None, (), load_precision_advice(data_dir))
            raise ValueError("no unsupported-API list for torch {0} in {1} (there are: {2})".format(
                torch_version, data_dir, ", ".join(available) or "none"))
        return cls(version, load_unsupported(data_dir, version), load_precision_advice(data_dir))

    def fresh(self):
        """The same lists, no extensions."""
        copy = Context.__new__(Context)
        copy.__dict__.update(self.__dict__)
        copy.extensions = Extensions()
        copy.extension_words = frozenset()
        copy.words = frozenset(copy.list_words)
        return copy

    def extensions_read(self):
        """After the C/C++ files: the names they bind make a Python file worth parsing too."""
        self.extension_words = self.extensions.words()
        self.words = frozenset(self.list_words) | self.extension_words

    def needs_tree(self, text):
        """Whether a Python text can hold a finding (else it is only compiled): it has a TRIGGERS
        word, a name a C/C++ extension of the tree binds, or every component of a listed API."""
        if TRIGGERS.search(text) is not None:
            return True
        if not self.words:
            return False
        identifiers = set(IDENTIFIER.findall(text))
        for word in self.words.intersection(identifiers):
            if word in self.extension_words or any(parts <= identifiers for parts in self.list_words[word]):
                return True
        return False


_DEFAULT_CONTEXT = []


def default_context():
    """The default data's context (empty lists when there is none), read once."""
    if not _DEFAULT_CONTEXT:
        try:
            _DEFAULT_CONTEXT.append(Context.load())
        except (OSError, ValueError):
            _DEFAULT_CONTEXT.append(Context())
    return _DEFAULT_CONTEXT[0]


def _unsupported_message(api, version):
    return ("{0} is on the official list of APIs not supported on Ascend NPU for PyTorch {1} (msFmkTransplt, "
            "unsupported_api.csv): replace it with a supported equivalent, run it on the CPU, or check whether a "
            "newer torch_npu supports it.".format(api, version or "?"),
            "{0} 在官方不支持的 API 清单中（PyTorch {1}，msFmkTransplt 的 unsupported_api.csv）：请改用支持的等价接口、"
            "放到 CPU 上执行，或确认更新版本的 torch_npu 是否已支持。".format(api, version or "?"))


def _precision_message(api, advice):
    en, zh = advice
    return ("Precision advisory for {0} (the official tool's api_precision_advice.csv): {1}".format(api, en),
            "{0} 的精度建议（官方工具 api_precision_advice.csv）：{1}".format(api, zh))


# --- C/C++ extensions -------------------------------------------------------------------------

class Extensions(object):
    """The C/C++ extensions of a tree: the modules pybind11 binds and the operator libraries
    TORCH_LIBRARY registers (from the C/C++ files), and the builds that name the modules
    (``CUDAExtension``/``CppExtension``/``load`` in the Python files)."""

    def __init__(self):
        self.modules = []  # {"name": literal or None (TORCH_EXTENSION_NAME), "file", "functions", "display"}
        self.libraries = {}  # namespace -> {"files": set, "ops": set}
        self.builds = []  # (module name, source base names, or None when they are no literals)
        self.functions = frozenset()
        self._names = None

    def add_module(self, name, rel):
        module = {"name": name, "file": rel, "functions": set(), "display": name or os.path.splitext(
            os.path.basename(rel))[0]}
        self.modules.append(module)
        return module

    def add_library(self, namespace, rel):
        library = self.libraries.setdefault(namespace, {"files": set(), "ops": set()})
        library["files"].add(rel)
        return library

    def words(self):
        functions = set()
        for module in self.modules:
            functions |= module["functions"]
        self.functions = frozenset(functions)
        return self.functions | frozenset(self.libraries)

    def names(self):
        """Module name as Python imports it (its last component) -> {"display" (its full name),
        "functions", "files"}. An unnamed module takes the names of the builds that compile its
        file (by base name), or else of the builds whose sources are no literals, or else its
        file's stem. Also sets each module's display name. Call once every file is read."""
        if self._names is not None:
            return self._names
        by_source, unsourced = {}, []
        for name, sources in self.builds:
            if sources is None:
                unsourced.append(name)
            for source in sources or ():
                by_source.setdefault(source, []).append(name)
        names = {}
        for module in self.modules:
            if module["name"]:
                known = [module["name"]]
            else:
                known = sorted(set(by_source.get(os.path.basename(module["file"])) or unsourced)) or [module["display"]]
                module["display"] = known[0]
            for full in known:
                entry = names.setdefault(full.rsplit(".", 1)[-1], {"display": full, "functions": set(), "files": set()})
                entry["functions"] |= module["functions"]
                entry["files"].add(module["file"])
        self._names = names
        return names

    def summary(self):
        """The extensions for the report: kind, name, files, functions."""
        self.names()
        out = [{"kind": "pybind11", "name": module["display"], "files": [module["file"]],
                "functions": sorted(module["functions"])} for module in self.modules]
        out += [{"kind": "torch_library", "name": "torch.ops." + namespace, "files": sorted(library["files"]),
                 "functions": sorted(library["ops"])} for namespace, library in sorted(self.libraries.items())]
        return sorted(out, key=lambda entry: (entry["kind"], entry["name"], entry["files"]))


def _listed(files, most=3):
    files = sorted(files)
    return ", ".join(files[:most]) + (", ..." if len(files) > most else "")


def _def_message(kind, api, key=None):
    if kind == "module":
        return ("C++ extension module {0} (pybind11) in this file: its functions are custom operators (the official "
                "tool's \"User-defined CUDA Operator\"). Port them to Ascend C custom operators (or replace them with "
                "torch_npu / torch operators) and build the extension for Ascend.".format(api),
                "C++ 扩展模块 {0}（pybind11，在本文件中）：其函数均为自定义算子（官方工具的“User-defined CUDA "
                "Operator”）。请移植为 Ascend C 自定义算子（或改用 torch_npu / torch 算子），"
                "并为昇腾构建该扩展。".format(api))
    if kind == "pybind11":
        return ("C++ extension function {0}, bound with pybind11 in this file: Python calls it as a custom operator "
                "(the official tool's \"User-defined CUDA Operator\"). Port it to an Ascend C custom operator (or "
                "replace it with torch_npu / torch operators) and build the extension for Ascend; if it only computes "
                "on the CPU, keep its tensors on the CPU.".format(api),
                "C++ 扩展函数 {0}（在本文件中用 pybind11 绑定）：Python 将其作为自定义算子调用（官方工具的"
                "“User-defined CUDA Operator”）。请移植为 Ascend C 自定义算子（或改用 torch_npu / torch 算子），"
                "并为昇腾构建该扩展；如仅在 CPU 上计算，请让其张量留在 CPU 上。".format(api))
    if kind == "impl":
        return ("{0} implementation of the custom operator {1}: port it to an Ascend C kernel registered for the NPU "
                "(PrivateUse1).".format(key, api),
                "自定义算子 {1} 的 {0} 实现：请移植为 Ascend C 核函数，并注册到 NPU（PrivateUse1）。".format(key, api))
    namespace = api.split(".")[2] if api.count(".") >= 2 else api
    return ("Custom operator {0}, registered with TORCH_LIBRARY in this file: it has no NPU kernel. Register an NPU "
            "implementation (TORCH_LIBRARY_IMPL({1}, PrivateUse1, m)) backed by an Ascend C kernel, or replace the "
            "operator with torch_npu / torch operators.".format(api, namespace),
            "自定义算子 {0}（在本文件中用 TORCH_LIBRARY 注册）：没有 NPU 实现。请注册由 Ascend C 核函数实现的 NPU 实现"
            "（TORCH_LIBRARY_IMPL({1}, PrivateUse1, m)），或改用 torch_npu / torch 算子。".format(api, namespace))


def _call_message(api, files):
    where = _listed(files)
    return ("Call of {0}, a function of the C++ extension bound in {1}: a custom operator (the official tool's "
            "\"User-defined CUDA Operator\"). It runs on Ascend only once the operator is ported; change this call if "
            "the ported operator's name or signature differs.".format(api, where),
            "调用 {0}：该函数由 {1} 中的 C++ 扩展绑定，属于自定义算子（官方工具的“User-defined CUDA Operator”）。"
            "算子移植后才能在昇腾上运行；如移植后的算子名称或签名不同，请修改此调用。".format(api, where))


def _commented(text, position):
    """Whether a C/C++ position sits after ``//`` (or a ``*`` comment line) on its line."""
    start = text.rfind("\n", 0, position) + 1
    return text[start:position].lstrip().startswith(("//", "/*", "*"))


def _extension_findings(text, rel, ctx):
    """The functions and operators a C/C++ file binds (one finding each, registered in
    ``ctx.extensions``): pybind11 modules, TORCH_LIBRARY operators, CUDA TORCH_LIBRARY_IMPL
    kernels. ``m.def`` in a file that uses ``py::module`` without the module macro (a helper
    the module calls, ``void init(py::module &m)``) binds functions of an unnamed module."""
    helper = frozenset(EXT_HELPER_VAR.findall(text)) if "::module" in text else frozenset()
    if "PYBIND11_MODULE" not in text and "TORCH_LIBRARY" not in text and not helper:
        return []
    ext = ctx.extensions
    blocks = []  # (start, kind, the variable(s) it binds with, module or library, namespace / (namespace, key))
    if helper:
        blocks.append((0, "pybind11", helper, None, None))
    for match in EXT_MACRO.finditer(text):
        if _commented(text, match.start()):
            continue
        macro, first, second, third = match.groups()
        if macro == "PYBIND11_MODULE":
            name = None if first.isupper() else first  # TORCH_EXTENSION_NAME and other macros: named by the build
            blocks.append((match.start(), "pybind11", second, ext.add_module(name, rel), None))
        elif macro == "TORCH_LIBRARY_IMPL":
            if third:
                blocks.append((match.start(), "impl", third, ext.add_library(first, rel), (first, second)))
        else:
            blocks.append((match.start(), "library", second, ext.add_library(first, rel), first))
    if not blocks:
        return []
    starts = [block[0] for block in blocks]
    findings, defined = [], set()
    classes = dict((match.start(), match.groups()) for match in EXT_CLASS.finditer(text))
    matches = [(match.start(), match.group(1), match.group(2), match.group(3)) for match in EXT_DEF.finditer(text)]
    matches += [(start, var, "def", name) for start, (var, name) in classes.items()]
    for start, var, method, name in sorted(matches):
        index = bisect.bisect_right(starts, start) - 1
        if index < 0 or _commented(text, start):
            continue
        _start, kind, block_var, target, extra = blocks[index]
        if var != block_var and var not in (block_var if type(block_var) is frozenset else ()):
            continue
        line = text.count("\n", 0, start) + 1
        col = start - text.rfind("\n", 0, start)
        if kind == "pybind11":
            if method != "def":
                continue
            module = target if target is not None else blocks[0][3]
            if module is None:  # the helper block's module, made on first use
                module = ext.add_module(None, rel)
                blocks[0] = (0, "pybind11", helper, module, None)
            module["functions"].add(name)
            finding = _file_finding(rel, name, "custom_op", "port_custom_op", "", "", line, col)
            finding["_module"] = (module, name)
        elif kind == "library":
            target["ops"].add(name)
            if method != "def":
                continue
            api = "torch.ops.{0}.{1}".format(extra, name)
            en, zh = _def_message("library", api)
            finding = _file_finding(rel, api, "custom_op", "port_custom_op", en, zh, line, col)
        else:
            namespace, key = extra
            target["ops"].add(name)
            if "CUDA" not in key:
                continue
            api = "torch.ops.{0}.{1}".format(namespace, name)
            en, zh = _def_message("impl", api, key)
            finding = _file_finding(rel, api, "custom_op", "port_custom_op", en, zh, line, col)
        defined.add(index)
        findings.append(finding)
    for index, (start, kind, _var, target, extra) in enumerate(blocks):
        if index in defined or start == 0 and target is None or kind == "impl":
            continue  # a block with no bound function: the block itself is the finding
        line = text.count("\n", 0, start) + 1
        col = start - text.rfind("\n", 0, start)
        if kind == "pybind11":
            finding = _file_finding(rel, "", "custom_op", "port_custom_op", "", "", line, col)
            finding["_module"] = (target, None)
        else:
            api = "torch.ops." + extra
            en, zh = _def_message("library", api)
            finding = _file_finding(rel, api, "custom_op", "port_custom_op", en, zh, line, col)
        findings.append(finding)
    return findings


def _finish_extension_finding(finding, ctx):
    """Name a C/C++ binding once the builds are known, and keep a Python call only when its
    module is one of the tree's extensions and binds the function; False to drop it."""
    module, name = finding.pop("_module", (None, None))
    if module is not None:
        ctx.extensions.names()
        finding["api"] = module["display"] + ("." + name if name else "")
        finding["message"], finding["message_zh"] = _def_message("pybind11" if name else "module", finding["api"])
        return True
    call = finding.pop("_call", None)
    if call is None:
        return True
    module_name, function = call
    entry = ctx.extensions.names().get(module_name)
    if entry is None or function not in entry["functions"]:
        return False
    finding["api"] = entry["display"] + "." + function
    finding["message"], finding["message_zh"] = _call_message(finding["api"], entry["files"])
    return True


# --- one Python file ------------------------------------------------------------------------

class _PythonFile:
    """The findings of one parsed Python file: one pass over the tree collecting imports,
    name chains, calls, comparisons and strings; names are resolved after the pass, so an
    import below a function body still counts."""

    def __init__(self, rel, text, ctx):
        self.rel = rel
        self.text = text
        self.ctx = ctx
        self._lines = None
        self.findings = []
        self.aliases = {}
        self.chains = []
        self.memory_formats = []
        self.compared = set()
        self.builds = []
        self.assigned = []

    def scan(self, tree):
        stack = [tree]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Attribute:
                dotted = dotted_name(node)
                if dotted is not None:
                    self.chains.append((dotted, node))
                    continue
            elif kind is ast.Name:
                if type(node.ctx) is ast.Load:
                    self.chains.append((node.id, node))
                continue
            elif kind is ast.Constant:
                if type(node.value) is str and id(node) not in self.compared:
                    self._string(node, False)
                continue
            elif kind is ast.Call:
                self._call(node)
            elif kind is ast.Compare:
                self._compare(node)
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)
                continue
            elif kind is ast.Assign:
                if type(node.value) is ast.Call and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
                    self.assigned.append((node.targets[0].id, node.value))
            stack.extend(ast.iter_child_nodes(node))
        self._resolve()
        if self.findings:
            _annotate(self.findings, self._source_lines(), _scopes(tree))
        return self.findings

    # positions
    def _source_lines(self):
        if self._lines is None:
            self._lines = re.split(r"\r\n|\r|\n", self.text)
        return self._lines

    def _col(self, lineno, byte_offset):
        lines = self._source_lines()
        if not 0 < lineno <= len(lines):
            return byte_offset + 1
        line = lines[lineno - 1]
        if line.isascii():
            return byte_offset + 1
        return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1

    def add(self, node, api, category, fix, en, zh, position=None):
        lineno, offset = position or (node.lineno, node.col_offset)
        finding = {"file": self.rel, "line": lineno, "col": self._col(lineno, offset), "api": api,
                   "category": category, "fix": fix, "message": en, "message_zh": zh}
        self.findings.append(finding)
        return finding

    def _add_rule(self, node, api, rule):
        npu = _npu_name(api)
        self.add(node, api, rule["category"], rule["fix"], rule["en"].format(api=api, npu=npu),
                 rule["zh"].format(api=api, npu=npu))

    # visitors
    def _string(self, node, compared):
        hit = _string_rule(node.value, compared)
        if hit is not None:
            category, fix, api, en, zh = hit
            self.add(node, api, category, fix, en, zh)

    def _call(self, node):
        func = node.func
        kind = type(func)
        if kind is ast.Attribute:
            if func.attr == "cuda":
                position = None
                if getattr(func, "end_lineno", None) and func.end_col_offset >= 4:
                    position = (func.end_lineno, func.end_col_offset - 4)
                self.add(node, ".cuda()", "cuda_api", "auto",
                         ".cuda(): automatic migration maps it to .npu() (torch.Tensor.npu / torch.nn.Module.npu).",
                         ".cuda()：自动迁移会将其映射为 .npu()（torch.Tensor.npu / torch.nn.Module.npu）。", position)
            elif func.attr in EXT_BUILD_NAMES:
                self.builds.append(node)
        elif kind is ast.Name and func.id in EXT_BUILD_NAMES:
            self.builds.append(node)
        for keyword in node.keywords:
            if keyword.arg == "memory_format" and dotted_name(keyword.value) is not None:
                self.memory_formats.append(keyword.value)

    def _compare(self, node):
        for operand in [node.left] + list(node.comparators):
            elements = operand.elts if type(operand) in (ast.Tuple, ast.List, ast.Set) else (operand,)
            for element in elements:
                if type(element) is ast.Constant and type(element.value) is str and _string_rule(element.value, True):
                    self.compared.add(id(element))
                    self._string(element, True)

    def _import(self, node):
        if type(node) is ast.Import:
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    self.aliases[head] = head
                self._import_finding(node, alias.name)
            return
        names = [alias for alias in node.names if alias.name != "*"]
        if node.level:
            # The project's own modules: no rule applies, but an extension may be imported so.
            prefix = "." * node.level + (node.module + "." if node.module else "")
            for alias in names:
                self.aliases[alias.asname or alias.name] = prefix + alias.name
            return
        if not node.module:
            return
        module = node.module
        for alias in names:
            self.aliases[alias.asname or alias.name] = module + "." + alias.name
        if not self._import_finding(node, module):
            for alias in names:
                self._import_finding(node, module + "." + alias.name)

    def _import_finding(self, node, dotted):
        hit = match_rule(dotted)
        if hit is not None and hit[1]["on_import"]:
            self._add_rule(node, dotted, hit[1])
            return True
        return False

    def _qualified(self, dotted):
        head, dot, rest = dotted.partition(".")
        target = self.aliases.get(head)
        return None if target is None else target + dot + rest

    def _resolve(self):
        ctx = self.ctx
        unsupported, precision = ctx.unsupported, ctx.precision
        functions, libraries = ctx.extensions.functions, ctx.extensions.libraries
        handles = self._extension_builds() if self.builds else {}
        for dotted, node in self.chains:
            full = self._qualified(dotted)
            if full is None:
                if handles and "." in dotted:
                    head, _dot, rest = dotted.partition(".")
                    if head in handles:
                        self._handle_call(node, handles[head], rest.split(".", 1)[0])
                continue
            hit = match_rule(full)
            if full in unsupported and (hit is None or hit[0] != full):
                self.add(node, full, "unsupported_api", "manual", *_unsupported_message(full, ctx.torch_version))
            elif hit is not None:
                self._add_rule(node, full, hit[1])
            advice = precision.get(full)
            if advice is not None:
                self.add(node, full, "precision_advice", "review", *_precision_message(full, advice))
            if functions or libraries:
                self._extension_call(node, full, functions, libraries)
        for value in self.memory_formats:
            full = self._qualified(dotted_name(value))
            if full is None or (full not in MEMORY_FORMATS_OK and match_rule(full) is None):
                api = full or dotted_name(value)
                self.add(value, api, "memory_format", "manual",
                         "memory_format={0}: make sure it is not channels_last on Ascend NPU (usually slower there; "
                         "automatic migration leaves it).".format(api),
                         "memory_format={0}：请确认在昇腾 NPU 上不是 channels_last"
                         "（通常更慢，自动迁移不处理）。".format(api))

    # C/C++ extensions
    def _extension_builds(self):
        """Register the extension builds of this file; the variables holding a ``load``/
        ``load_inline`` module: name -> (module name, the functions it binds, or None)."""
        loaded = {}
        for call in self.builds:
            dotted = dotted_name(call.func)
            full = self._qualified(dotted) if dotted is not None else None
            if full not in EXT_BUILDS:
                continue
            name = _literal(_argument(call, 0, "name"))
            if type(name) is not str:
                continue
            if full.endswith("load_inline"):
                functions = _literal(_argument(call, 3, "functions"))
                if type(functions) is str:
                    functions = [functions]
                loaded[id(call)] = (name, frozenset(functions) if type(functions) is list else None)
                continue
            sources = _literal(_argument(call, 1, "sources"))
            if type(sources) is str:
                sources = [sources]
            self.ctx.extensions.builds.append(
                (name, [os.path.basename(source) for source in sources] if type(sources) is list else None))
            if full in EXT_LOADERS:
                loaded[id(call)] = (name, None)
        handles = {}
        for target, call in self.assigned:
            if id(call) in loaded:
                handles[target] = loaded[id(call)]
        return handles

    def _handle_call(self, node, handle, attribute):
        name, functions = handle
        if attribute.startswith("__") or (functions is not None and attribute not in functions):
            return
        api = name + "." + attribute
        self.add(node, api, "custom_op_call", "port_custom_op", *_call_message(api, [self.rel]))

    def _extension_call(self, node, full, functions, libraries):
        parts = full.split(".")
        if len(parts) >= 4 and parts[0] == "torch" and parts[1] == "ops":
            library = libraries.get(parts[2])
            if library is not None and (parts[3] in library["ops"] or not library["ops"]):
                api = ".".join(parts[:4])
                self.add(node, api, "custom_op_call", "port_custom_op", *_call_message(api, library["files"]))
            return
        for index in range(len(parts) - 1):
            if parts[index + 1] in functions and parts[index]:
                # Named and kept at the end of the scan, if the module is one of the tree's extensions.
                finding = self.add(node, ".".join(parts[:index + 2]), "custom_op_call", "port_custom_op", "", "")
                finding["_call"] = (parts[index], parts[index + 1])
                return


def _argument(call, index, keyword):
    """A call's argument given by keyword, or else at a position (None when it is not there)."""
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    args = call.args
    if index is None or index >= len(args) or any(type(arg) is ast.Starred for arg in args[:index + 1]):
        return None
    return args[index]


def _literal(node):
    """A string constant, or a list/tuple of them; None for anything else."""
    if type(node) is ast.Constant and type(node.value) is str:
        return node.value
    if type(node) in (ast.List, ast.Tuple):
        values = [element.value for element in node.elts if type(element) is ast.Constant]
        if len(values) == len(node.elts) and all(type(value) is str for value in values):
            return values
    return None


def _scopes(tree):
    """(first line, last line, dotted name) of every function and class of a module."""
    scopes, stack = [], [(tree.body, "")]
    while stack:
        body, prefix = stack.pop()
        for node in body:
            if type(node) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                name = prefix + node.name
                scopes.append((node.lineno, getattr(node, "end_lineno", None) or node.lineno, name))
                stack.append((node.body, name + "."))
                continue
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(node, field, None)
                if type(inner) is list and inner:
                    stack.append((inner, prefix))
    return scopes


def _annotate(findings, lines, scopes=()):
    """Each finding's ``scope`` (the innermost function or class around its line) and ``code``
    (its whole source line, whitespace collapsed; capped by ``_identify``)."""
    for finding in findings:
        line = finding["line"]
        scope, start = "", -1
        for first, last, name in scopes:
            if first <= line <= last and first > start:
                scope, start = name, first
        finding["scope"] = scope
        finding["code"] = " ".join(lines[line - 1].split()) if 0 < line <= len(lines) else ""


def fingerprint(file, category, api, scope, code, rank=0):
    """A finding's identity across runs: 32 hex digits of the SHA-256 of its file, category, API,
    scope (enclosing function or class), normalised source line (the whole of it) and its rank
    among the file's findings sharing those five (0 for the first). Not of its line number:
    adding or removing lines elsewhere in the file keeps it."""
    key = "\x1f".join((file, category, api, scope, code, str(rank)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _identify(findings):
    """Give every finding (in sorted order) its ``fingerprint``, and cap its ``code``."""
    seen = {}
    for finding in findings:
        code = finding.setdefault("code", "")
        key = (finding["file"], finding["category"], finding["api"], finding.setdefault("scope", ""), code)
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        finding["fingerprint"] = fingerprint(*key, rank=rank)
        finding["code"] = code[:CODE_CHARS]


def _file_finding(rel, api, category, fix, en, zh, line=0, col=0):
    return {"file": rel, "line": line, "col": col, "api": api, "category": category, "fix": fix,
            "message": en, "message_zh": zh}


def _unparsable(rel, error, line=0, col=0):
    name = type(error).__name__
    detail = getattr(error, "msg", None) or str(error) or name
    return _file_finding(
        rel, name, "unparsable", "manual",
        "The file could not be parsed ({0}: {1}) and was skipped; check it by hand (Python 2 code, another "
        "encoding, a template?).".format(name, detail),
        "该文件无法解析（{0}：{1}），已跳过；请人工检查（Python 2 代码、其他编码或模板文件？）。".format(name, detail),
        line, col)


def scan_python(data, rel, ctx=None):
    """The findings of one Python file's bytes; never raises."""
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:  # no usable coding cookie and the first lines are not UTF-8
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        return [_unparsable(rel, error, data.count(b"\n", 0, error.start) + 1)]
    except LookupError as error:
        return [_unparsable(rel, error)]
    return scan_source(text, rel, ctx)


def scan_source(text, rel="<source>", ctx=None):
    """The findings of one Python source text; never raises. ``ctx``: the scan's Context (by
    default the default data's lists, no extensions). Like every function reading one file, it
    gives the findings without their ``fingerprint``: ``scan`` adds it once the tree is read.

    Every finding needs one of the words of ``ctx.needs_tree`` in the text (resolved names are
    made of the file's own identifiers), so a file without any is only compiled, to report
    syntax errors: several times faster than building its syntax tree."""
    ctx = ctx if ctx is not None else default_context().fresh()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are not our business
            if not ctx.needs_tree(text):
                compile(text, rel, "exec", dont_inherit=True)
                return []
            tree = ast.parse(text, filename=rel)
    except SyntaxError as error:
        return [_unparsable(rel, error, error.lineno or 0, error.offset or 0)]
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, too deep
        return [_unparsable(rel, error)]
    try:
        return _PythonFile(rel, text, ctx).scan(tree)
    except (RecursionError, MemoryError) as error:
        return [_unparsable(rel, error)]
    except Exception as error:  # never let one odd file stop the scan
        return [_unparsable(rel, error)]


def _c_lines(findings, text):
    if findings:
        _annotate(findings, re.split(r"\r\n|\r|\n", text))
    return findings


def scan_cuda_source(data, rel, ctx=None):
    text = data.decode("utf-8", "replace")
    kernels = CUDA_KERNEL.findall(LAUNCH_BOUNDS.sub("", text))
    listed = ", ".join(kernels[:20]) + (", ..." if len(kernels) > 20 else "")
    en = "CUDA source file"
    zh = "CUDA 源文件"
    if kernels:
        en += " with {0} kernel(s): {1}".format(len(kernels), listed)
        zh += "，含 {0} 个核函数：{1}".format(len(kernels), listed)
    en += "; port them to Ascend C custom operators (or replace them with torch_npu operators)."
    zh += "；请移植为 Ascend C 自定义算子（或改用 torch_npu 算子）。"
    findings = [_file_finding(rel, os.path.splitext(rel)[1], "custom_op", "port_custom_op", en, zh)]
    findings += _extension_findings(text, rel, ctx if ctx is not None else Context())
    return _c_lines(findings, text)


def scan_cpp_source(data, rel, ctx=None):
    text = data.decode("utf-8", "replace")
    findings = []
    for match in CUDA_INCLUDE.finditer(text):
        header = match.group(1)
        findings.append(_file_finding(
            rel, header, "custom_op", "port_custom_op",
            "C/C++ source including the CUDA header <{0}>: part of a custom CUDA operator; port it to Ascend C "
            "(and the host code to the torch_npu / AscendCL APIs).".format(header),
            "C/C++ 源文件包含 CUDA 头文件 <{0}>：属于自定义 CUDA 算子，"
            "请移植为 Ascend C（主机侧代码改用 torch_npu / AscendCL 接口）。".format(header),
            text.count("\n", 0, match.start()) + 1, match.start(1) - text.rfind("\n", 0, match.start()) - 1))
    findings += _extension_findings(text, rel, ctx if ctx is not None else Context())
    return _c_lines(findings, text)


# --- the tree ---------------------------------------------------------------------------------

def iter_files(root):
    """(path, relative path) of the regular files to scan, in a stable order; no links followed."""
    for dirpath, dirnames, filenames in os.walk(root):
        keep = []
        for name in sorted(dirnames):
            path = os.path.join(dirpath, name)
            if name in SKIP_DIRS or os.path.islink(path) or os.path.exists(os.path.join(path, "pyvenv.cfg")):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            if name.endswith(PY_SUFFIXES) or name.endswith(CUDA_SUFFIXES) or name.endswith(CPP_SUFFIXES):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                yield path, rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def scan_file(path, rel, ctx=None):
    """The findings of one file, or None when it is not a regular file; never raises."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_FILE_BYTES:
            return [_file_finding(
                rel, "size", "unparsable", "manual",
                "The file is larger than {0} MB and was skipped; check it by hand.".format(MAX_FILE_BYTES >> 20),
                "该文件超过 {0} MB，已跳过；请人工检查。".format(MAX_FILE_BYTES >> 20))]
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return [_unparsable(rel, error)]
    if path.endswith(PY_SUFFIXES):
        return scan_python(data, rel, ctx)
    if path.endswith(CUDA_SUFFIXES):
        return scan_cuda_source(data, rel, ctx)
    return scan_cpp_source(data, rel, ctx)


def _sort_key(finding):
    return (finding["file"], finding["line"], finding["col"], finding["category"], finding["api"])


def library_of(api):
    hit = match_rule(api)
    if hit is None:
        return api
    return hit[1]["group"] or hit[0]


def estimate_effort(findings):
    """Person-days from findings (weights in the module docstring)."""
    units = dict((fix, 0) for fix in FIXES)
    libraries, op_files = set(), set()
    for finding in findings:
        fix = finding.get("fix")
        if fix == "replace_library":
            libraries.add(library_of(finding.get("api", "")))
        elif fix == "port_custom_op":
            if finding.get("category") != "custom_op_call":  # covered by the operator's source
                op_files.add(finding.get("file", ""))
        elif fix in units:
            units[fix] += 1
    units["replace_library"] = len(libraries)
    units["port_custom_op"] = len(op_files)
    base = BASE_DAYS if findings else 0.0
    raw = base + sum(WEIGHTS[fix] * units[fix] for fix in FIXES)
    total = math.ceil(round(raw * 2, 6)) / 2.0
    terms = ["{0} {1} x {2} {3}".format(fix, WEIGHTS[fix], units[fix], UNIT_NAMES[fix][units[fix] == 1])
             for fix in FIXES]
    basis = ("{0} base + {1} = {2:.2f}, rounded up to the nearest 0.5: {3} person-days (weights in person-days: "
             "auto 0.02 a finding, manual 0.25 a finding, replace_library 1.0 a distinct library, "
             "port_custom_op 3.0 a distinct operator source file (calls of the operators count with their source), "
             "review 0.0 (advisories); 0.5 base when there is any finding)").format(
                 base, " + ".join(terms), raw, total)
    return {"person_days": total, "basis": basis, "units": units,
            "by_fix": dict((fix, round(WEIGHTS[fix] * units[fix], 2)) for fix in FIXES)}


def scan(root, torch_version=None, data_dir=None, ctx=None):
    """The report on the tree at ``root`` (a directory), with the unsupported-API list of
    ``torch_version`` from ``data_dir`` (see ``Context.load``; ValueError when there is none).
    C/C++ files are read first, so the Python files' calls of their functions are known."""
    root = os.path.abspath(root)
    ctx = ctx if ctx is not None else Context.load(torch_version, data_dir)
    paths = list(iter_files(root))
    findings = []
    files = 0
    for python in (False, True):
        if python:
            ctx.extensions_read()
        for path, rel in paths:
            if path.endswith(PY_SUFFIXES) is not python:
                continue
            found = scan_file(path, rel, ctx)
            if found is not None:
                files += 1
                findings.extend(found)
    findings = [finding for finding in findings if _finish_extension_finding(finding, ctx)]
    findings.sort(key=_sort_key)
    _identify(findings)
    summary = dict((category, 0) for category in CATEGORIES)
    by_fix = dict((fix, 0) for fix in FIXES)
    for finding in findings:
        summary[finding["category"]] = summary.get(finding["category"], 0) + 1
        by_fix[finding["fix"]] = by_fix.get(finding["fix"], 0) + 1
    return {"tool": TOOL, "version": VERSION, "root": root, "files_scanned": files,
            "torch_version": ctx.torch_version,
            "lists": {"unsupported_apis": len(ctx.unsupported), "precision_advice": len(ctx.precision)},
            "summary": summary, "by_fix": by_fix, "effort": estimate_effort(findings),
            "extensions": ctx.extensions.summary(), "findings": findings}



# --- output -----------------------------------------------------------------------------------

def format_table(report):
    findings = report["findings"]
    out = ["{0} {1}: {2}".format(TOOL, VERSION, report["root"]),
           "{0} files scanned, {1} findings".format(report["files_scanned"], len(findings))]
    lists = report.get("lists") or {}
    out.append("unsupported-API list: PyTorch {0} ({1} APIs); precision advice on {2} APIs".format(
        report.get("torch_version") or "none", lists.get("unsupported_apis", 0), lists.get("precision_advice", 0)))
    out.append("")
    out.append("{0:<16}{1:>9}".format("category", "findings"))
    for category, count in report["summary"].items():
        out.append("{0:<16}{1:>9}".format(category, count))
    out.append("")
    out.append("{0:<16}{1:>9}{2:>14}".format("fix", "findings", "person-days"))
    for fix, count in report["by_fix"].items():
        out.append("{0:<16}{1:>9}{2:>14}".format(fix, count, report["effort"]["by_fix"].get(fix, 0)))
    out.append("")
    out.append("Estimated effort: {0} person-days".format(report["effort"]["person_days"]))
    out.append("  " + report["effort"]["basis"])
    if findings:
        out.append("")
        width = min(max(len("{0}:{1}:{2}".format(f["file"], f["line"], f["col"])) for f in findings), 60)
        for f in findings:
            where = "{0}:{1}:{2}".format(f["file"], f["line"], f["col"])
            out.append("{0:<{w}}  {1:<16} {2:<15} {3}".format(where, f["category"], f["fix"], f["api"], w=width))
            out.append("{0:<{w}}  {1}".format("", f["message"], w=width))
    return "\n".join(out) + "\n"


def _emit(text):
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="ascend_scan.py",
        description="Find CUDA-only and NPU-unsupported usages in a PyTorch code base before migrating it to Ascend.")
    parser.add_argument("code_dir", nargs="?", help="the directory to scan")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--torch-version", metavar="X.Y",
                        help="the PyTorch version whose unsupported-API list applies (default {0})".format(
                            DEFAULT_TORCH_VERSION))
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where the lists are (default: data/ beside this script, or its own directory)")
    parser.add_argument("--list-versions", action="store_true",
                        help="print the PyTorch versions that have an unsupported-API list, and exit")
    args = parser.parse_args(argv)
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        parser.error("not a directory: {0}".format(args.data_dir))
    if args.list_versions:
        _emit("".join(version + "\n" for version in torch_versions(args.data_dir)))
        return 0
    if args.code_dir is None:
        parser.error("the directory to scan is required")
    if not os.path.isdir(args.code_dir):
        parser.error("not a directory: {0}".format(args.code_dir))
    if args.torch_version is not None and normalise_torch_version(args.torch_version) is None:
        parser.error("not a PyTorch version: {0}".format(args.torch_version))
    try:
        ctx = Context.load(args.torch_version, args.data_dir)
    except ValueError as error:
        parser.error(str(error))
    except (OSError, KeyError, TypeError) as error:  # unreadable or malformed data files
        parser.error("cannot read the data files: {0}".format(error))
    report = scan(args.code_dir, ctx=ctx)
    if args.json:
        _emit(json.dumps(report, ensure_ascii=True, indent=1) + "\n")
    else:
        _emit(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
