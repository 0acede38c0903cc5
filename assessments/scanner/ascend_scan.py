#!/usr/bin/env python3
"""ascend_scan: find what keeps a PyTorch code base from running as is on Ascend NPUs.

Usage::

    python3 ascend_scan.py CODE_DIR           # category counts and findings, as a table
    python3 ascend_scan.py CODE_DIR --json    # the report as JSON (what the portal reads)

One self-contained file, standard library only, Python 3.8 or newer: the portal copies it to
the customer's host and runs it there. Exit code 0 when the scan ran (findings or not), 2 on
bad arguments (CODE_DIR missing or not a directory).

What it reads. Python files (``*.py``) are parsed with ``ast``, never imported or run; CUDA
sources (``*.cu``, ``*.cuh``) and C/C++ sources that include CUDA headers are reported as
custom operators. A Python file with none of the words a finding needs (see TRIGGERS) is
only compiled, to catch syntax errors, not parsed into a tree. A file that does not parse
(syntax error, not valid text in its declared encoding, null bytes, too deep, too big)
becomes one finding of category ``unparsable`` and is skipped. Version-control, cache,
virtual-environment (any directory holding ``pyvenv.cfg``), ``site-packages`` and
``node_modules`` directories are skipped, and no symbolic link is followed (files reached
through links lie outside the tree or are scanned at their real place).

Every finding has: ``file`` (path relative to CODE_DIR, ``/``-separated), ``line`` and
``col`` (1-based; the column counts characters; 0 and 0 mean the file as a whole), ``api``
(the resolved dotted name, the string literal, or what was found), ``category``, ``fix``,
``message`` (English) and ``message_zh`` (Simplified Chinese).

Categories: cuda_api, device_string, distributed, data_parallel, amp_apex, jit,
memory_format, custom_op, cuda_library, cudnn, unparsable.

Fixes: ``auto`` (automatic migration, torch_npu's transfer_to_npu or msFmkTransplt, covers
it), ``manual`` (change by hand), ``replace_library`` (use an Ascend alternative),
``port_custom_op`` (port a custom CUDA operator).

Effort estimate, in person-days::

    auto              0.02 a finding
    manual            0.25 a finding
    replace_library   1.0  a distinct library (apex and amp_C count as one)
    port_custom_op    3.0  a distinct file (a .cu/.cuh source, a C/C++ source including
                           CUDA headers, or a Python file building a CUDA extension)
    + 0.5 base when there is any finding; the total is rounded up to the nearest 0.5.
"""

import argparse
import ast
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
VERSION = "1.0"

CATEGORIES = ("cuda_api", "device_string", "distributed", "data_parallel", "amp_apex", "jit",
              "memory_format", "custom_op", "cuda_library", "cudnn", "unparsable")
FIXES = ("auto", "manual", "replace_library", "port_custom_op")
WEIGHTS = {"auto": 0.02, "manual": 0.25, "replace_library": 1.0, "port_custom_op": 3.0}
UNIT_NAMES = {"auto": ("findings", "finding"), "manual": ("findings", "finding"),
              "replace_library": ("libraries", "library"), "port_custom_op": ("files", "file")}
BASE_DAYS = 0.5

SKIP_DIRS = frozenset((".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs", "site-packages", "dist-packages",
                       ".ipynb_checkpoints"))
MAX_FILE_BYTES = 10 * 1024 * 1024
PY_SUFFIXES = (".py",)
CUDA_SUFFIXES = (".cu", ".cuh")
CPP_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx")

CUDA_INCLUDE = re.compile(
    r'^[ \t]*#[ \t]*include[ \t]*[<"]('
    r'(?:cuda\w*|cu(?:blas|dnn|rand|fft|sparse|solver)\w*|nccl|nvrtc|nvToolsExt)\.h\w*'
    r'|(?:thrust|cub|ATen/cuda|c10/cuda)/[^>"]*)[>"]',
    re.MULTILINE)
CUDA_KERNEL = re.compile(r"__global__[^(;{}]*?(\w+)\s*\(")
LAUNCH_BOUNDS = re.compile(r"__launch_bounds__\s*\([^)]*\)")
NCCL_ENV = re.compile(r"^NCCL_[A-Z0-9_]+$")
# A component of every rule name below, and every string and keyword the scanner reports.
TRIGGERS = re.compile(r"cuda|CUDA|cudnn|NCCL|nccl|DataParallel|data_parallel|jit|channels_last|memory_format"
                      r"|cpp_extension|apex|amp_C|flash_attn|xformers|bitsandbytes|triton|cupy|dali|tensorrt|deepspeed"
                      r"|transformer_engine|pynvml")
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
_EXT_EN = ("CUDA C++ extension ({api}): its CUDA kernels must be ported to Ascend C custom operators "
           "(or replaced by torch_npu operators) and the build changed.")
_EXT_ZH = ("CUDA C++ 扩展（{api}）：其中的 CUDA 算子需移植为 Ascend C 自定义算子（或改用 torch_npu 算子），"
           "并修改构建方式。")
_JIT_EN = ("{api} is not supported under automatic migration: transfer_to_npu turns torch.jit.script into a "
           "no-op with a warning. Remove it, or keep it off the NPU path (for inference graphs use torchair "
           "or ONNX + ATC).")
_JIT_ZH = ("自动迁移不支持 {api}：transfer_to_npu 会将 torch.jit.script 置为空操作并告警。请删除，或使其不在 NPU 路径上"
           "（推理图请使用 torchair 或 ONNX + ATC）。")
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
    "torch.jit.trace": _rule("jit", "manual", _JIT_EN, _JIT_ZH),
    "torch.jit.trace_module": _rule("jit", "manual", _JIT_EN, _JIT_ZH),
    "torch.channels_last": _rule(
        "memory_format", "manual",
        "{api}: Ascend NPU uses its own internal formats and channels_last usually costs performance; "
        "remove it or benchmark it (automatic migration leaves it).",
        "{api}：昇腾 NPU 使用自有内部格式，channels_last 通常降低性能；请删除或实测（自动迁移不处理）。"),
    "torch.utils.cpp_extension.load": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.load_inline": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
    "torch.utils.cpp_extension.CUDAExtension": _rule("custom_op", "port_custom_op", _EXT_EN, _EXT_ZH),
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


# --- one Python file ------------------------------------------------------------------------

class _PythonFile:
    """The findings of one parsed Python file: one pass over the tree collecting imports,
    name chains, calls, comparisons and strings; names are resolved after the pass, so an
    import below a function body still counts."""

    def __init__(self, rel, text):
        self.rel = rel
        self.text = text
        self._lines = None
        self.findings = []
        self.aliases = {}
        self.chains = []
        self.memory_formats = []
        self.compared = set()

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
            stack.extend(ast.iter_child_nodes(node))
        self._resolve()
        return self.findings

    # positions
    def _col(self, lineno, byte_offset):
        if self._lines is None:
            self._lines = re.split(r"\r\n|\r|\n", self.text)
        if not 0 < lineno <= len(self._lines):
            return byte_offset + 1
        line = self._lines[lineno - 1]
        if line.isascii():
            return byte_offset + 1
        return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1

    def add(self, node, api, category, fix, en, zh, position=None):
        lineno, offset = position or (node.lineno, node.col_offset)
        self.findings.append({"file": self.rel, "line": lineno, "col": self._col(lineno, offset), "api": api,
                              "category": category, "fix": fix, "message": en, "message_zh": zh})

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
        if type(func) is ast.Attribute and func.attr == "cuda":
            position = None
            if getattr(func, "end_lineno", None) and func.end_col_offset >= 4:
                position = (func.end_lineno, func.end_col_offset - 4)
            self.add(node, ".cuda()", "cuda_api", "auto",
                     ".cuda(): automatic migration maps it to .npu() (torch.Tensor.npu / torch.nn.Module.npu).",
                     ".cuda()：自动迁移会将其映射为 .npu()（torch.Tensor.npu / torch.nn.Module.npu）。", position)
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
        if node.level or not node.module:
            return  # relative imports name the project's own modules
        module = node.module
        names = [alias for alias in node.names if alias.name != "*"]
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
        for dotted, node in self.chains:
            full = self._qualified(dotted)
            hit = match_rule(full) if full is not None else None
            if hit is not None:
                self._add_rule(node, full, hit[1])
        for value in self.memory_formats:
            full = self._qualified(dotted_name(value))
            if full is None or (full not in MEMORY_FORMATS_OK and match_rule(full) is None):
                api = full or dotted_name(value)
                self.add(value, api, "memory_format", "manual",
                         "memory_format={0}: make sure it is not channels_last on Ascend NPU (usually slower there; "
                         "automatic migration leaves it).".format(api),
                         "memory_format={0}：请确认在昇腾 NPU 上不是 channels_last"
                         "（通常更慢，自动迁移不处理）。".format(api))


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


def scan_python(data, rel):
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
    return scan_source(text, rel)


def scan_source(text, rel="<source>"):
    """The findings of one Python source text; never raises.

    Every finding needs one of the TRIGGERS words in the text (resolved names are made of the
    file's own identifiers), so a file without any is only compiled, to report syntax errors:
    several times faster than building its syntax tree."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like are not our business
            if TRIGGERS.search(text) is None:
                compile(text, rel, "exec", dont_inherit=True)
                return []
            tree = ast.parse(text, filename=rel)
    except SyntaxError as error:
        return [_unparsable(rel, error, error.lineno or 0, error.offset or 0)]
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, too deep
        return [_unparsable(rel, error)]
    try:
        return _PythonFile(rel, text).scan(tree)
    except (RecursionError, MemoryError) as error:
        return [_unparsable(rel, error)]
    except Exception as error:  # never let one odd file stop the scan
        return [_unparsable(rel, error)]


def scan_cuda_source(data, rel):
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
    return [_file_finding(rel, os.path.splitext(rel)[1], "custom_op", "port_custom_op", en, zh)]


def scan_cpp_source(data, rel):
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
    return findings


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


def scan_file(path, rel):
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
        return scan_python(data, rel)
    if path.endswith(CUDA_SUFFIXES):
        return scan_cuda_source(data, rel)
    return scan_cpp_source(data, rel)


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
             "port_custom_op 3.0 a distinct file; 0.5 base when there is any finding)").format(
                 base, " + ".join(terms), raw, total)
    return {"person_days": total, "basis": basis, "units": units,
            "by_fix": dict((fix, round(WEIGHTS[fix] * units[fix], 2)) for fix in FIXES)}


def scan(root):
    """The report on the tree at ``root`` (a directory)."""
    root = os.path.abspath(root)
    findings = []
    files = 0
    for path, rel in iter_files(root):
        found = scan_file(path, rel)
        if found is None:
            continue
        files += 1
        findings.extend(found)
    findings.sort(key=_sort_key)
    summary = dict((category, 0) for category in CATEGORIES)
    by_fix = dict((fix, 0) for fix in FIXES)
    for finding in findings:
        summary[finding["category"]] = summary.get(finding["category"], 0) + 1
        by_fix[finding["fix"]] = by_fix.get(finding["fix"], 0) + 1
    return {"tool": TOOL, "version": VERSION, "root": root, "files_scanned": files, "summary": summary,
            "by_fix": by_fix, "effort": estimate_effort(findings), "findings": findings}


# --- output -----------------------------------------------------------------------------------

def format_table(report):
    findings = report["findings"]
    out = ["{0} {1}: {2}".format(TOOL, VERSION, report["root"]),
           "{0} files scanned, {1} findings".format(report["files_scanned"], len(findings)), ""]
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
            out.append("{0:<{w}}  {1:<14} {2:<15} {3}".format(where, f["category"], f["fix"], f["api"], w=width))
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
    parser.add_argument("code_dir", help="the directory to scan")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.code_dir):
        parser.error("not a directory: {0}".format(args.code_dir))
    report = scan(args.code_dir)
    if args.json:
        _emit(json.dumps(report, ensure_ascii=True, indent=1) + "\n")
    else:
        _emit(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
