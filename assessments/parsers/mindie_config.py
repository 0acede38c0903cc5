"""MindIE Service ``config.json`` (``mindie-service/conf/config.json``): the fields that shape
inference performance, and the whole file flattened to dotted keys so that two versions compare.

``BackendConfig`` holds ``npuDeviceIds`` and, under it, ``ModelDeployConfig`` (``maxSeqLen``,
``maxInputTokenLen``, ``ModelConfig``: a list with one entry per model, ``worldSize``,
``cpuMemSize`` / ``npuMemSize`` = the KV cache's CPU swap and NPU memory in GB, -1 = automatic)
and ``ScheduleConfig`` (``cacheBlockSize``, ``maxPrefillTokens``, ``maxPrefillBatchSize``,
``maxBatchSize``, ``maxIterTimes``, ...). Releases move and add fields (MindIE 1.x to 2.x), so
the known ones are looked up by name wherever they sit, and everything else is kept flattened.

Quantisation is not a field of older service configs (it is in the weights' own config.json):
it is read from a ``quant*`` key when there is one, else recognised in the model's name or
weight path (``...-W8A8``), and ``quantization_source`` says which.
"""

import json
import re
from dataclasses import dataclass, field


class MindieConfigError(ValueError):
    """Not a MindIE config.json; the message says why and what to upload."""


QUANT_IN_NAME = re.compile(r"(?<![a-z0-9])(w8a8(?:sc|s|c8)?|w8a16|w4a16|w4a8|w8a8_dynamic|int8|int4|fp8|c8)"
                           r"(?![a-z0-9])", re.I)
FIELDS = {  # attribute -> the config key, searched in this order of sections
    "max_seq_len": "maxSeqLen",
    "max_input_token_len": "maxInputTokenLen",
    "max_prefill_tokens": "maxPrefillTokens",
    "max_prefill_batch_size": "maxPrefillBatchSize",
    "max_batch_size": "maxBatchSize",
    "max_iter_times": "maxIterTimes",
    "cache_block_size": "cacheBlockSize",
    "max_queue_delay_us": "maxQueueDelayMicroseconds",
}
MODEL_FIELDS = {"world_size": "worldSize", "cpu_mem_size_gb": "cpuMemSize", "npu_mem_size_gb": "npuMemSize",
                "model_name": "modelName", "model_weight_path": "modelWeightPath", "backend_type": "backendType"}


@dataclass
class MindieConfig:
    version: str | None = None
    npu_device_ids: list = field(default_factory=list)  # as written: a list per model instance, [[0, 1, 2, 3]]
    world_size: int | None = None
    max_seq_len: int | None = None
    max_input_token_len: int | None = None
    max_prefill_tokens: int | None = None
    max_prefill_batch_size: int | None = None
    max_batch_size: int | None = None
    max_iter_times: int | None = None
    max_queue_delay_us: int | None = None
    cache_block_size: int | None = None  # tokens per KV-cache block
    cpu_mem_size_gb: float | None = None  # KV cache swap space on the host
    npu_mem_size_gb: float | None = None  # KV cache on the NPU; -1 = whatever is free
    model_name: str | None = None
    model_weight_path: str | None = None
    backend_type: str | None = None  # atb | ms
    models: int = 0  # entries in ModelConfig
    quantization: str | None = None
    quantization_source: str | None = None  # "config" | "model name or path" | None
    model_deploy: dict[str, object] = field(default_factory=dict)  # ModelDeployConfig flattened (dotted keys)
    schedule: dict[str, object] = field(default_factory=dict)  # ScheduleConfig flattened
    flat: dict[str, object] = field(default_factory=dict)  # the whole file flattened
    warnings: list[str] = field(default_factory=list)

    def key_fields(self) -> dict:
        """The fields that matter for tuning, for a table."""
        return {name: getattr(self, name) for name in (
            "npu_device_ids", "world_size", "max_seq_len", "max_input_token_len", "max_prefill_tokens",
            "max_prefill_batch_size", "max_batch_size", "max_iter_times", "cache_block_size", "cpu_mem_size_gb",
            "npu_mem_size_gb", "quantization", "backend_type", "model_name")}

    def as_dict(self) -> dict:
        return {**self.key_fields(), "version": self.version, "model_weight_path": self.model_weight_path,
                "max_queue_delay_us": self.max_queue_delay_us, "models": self.models,
                "quantization_source": self.quantization_source, "model_deploy": dict(self.model_deploy),
                "schedule": dict(self.schedule), "flat": dict(self.flat), "warnings": list(self.warnings)}


def flatten(value, prefix: str = "") -> dict[str, object]:
    """Nested dicts to ``{"A.b.c": leaf}``; a list of dicts indexes its items (``ModelConfig[0].worldSize``);
    other lists (``npuDeviceIds``, file lists) stay whole, as values."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def _load(text) -> tuple[dict, bool]:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MindieConfigError("The config.json is not UTF-8 text: upload MindIE's conf/config.json "
                                    "as it is on the host.") from None
    text = str(text).removeprefix("\ufeff")
    if not text.strip():
        raise MindieConfigError("The config.json is empty: upload mindie-service/conf/config.json.")
    embedded = False
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        data, embedded = _embedded(text), True
        if data is None:
            raise MindieConfigError(
                f"The config.json is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
                "MindIE itself refuses such a file; check for a missing comma or quote, or a comment.") from None
    if not isinstance(data, dict):
        raise MindieConfigError("The config.json must hold a JSON object ({ ... }) with BackendConfig in it, "
                                f"not a {type(data).__name__}.")
    return data, embedded


def _embedded(text: str):
    """The JSON object in a console capture or a note (``cat config.json`` among other lines): the
    first line that starts with ``{`` up to its matching ``}``; None when there is none."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^[ \t]*\{", text, re.M):
        try:
            data, _end = decoder.raw_decode(text, match.end() - 1)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and data:
            return data
    return None


def _find(data, key: str):
    """The first value of ``key`` anywhere in ``data`` (depth-first, dicts and lists)."""
    if isinstance(data, dict):
        if key in data:
            return data[key]
        items = data.values()
    elif isinstance(data, list):
        items = data
    else:
        return None
    for item in items:
        found = _find(item, key)
        if found is not None:
            return found
    return None


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def parse_mindie_config(text) -> MindieConfig:
    """A MindIE config.json (text or bytes): the key fields, sections flattened, whatever is missing reported."""
    data, embedded = _load(text)
    backend = data.get("BackendConfig")
    if not isinstance(backend, dict):
        found = [key for key in ("ModelDeployConfig", "ScheduleConfig", "npuDeviceIds") if _find(data, key) is not None]
        if not found:
            raise MindieConfigError(
                "This JSON is not a MindIE Service config.json: it has no BackendConfig (nor ModelDeployConfig "
                f"or ScheduleConfig); its top-level keys are {', '.join(list(data)[:8]) or 'none'}.")
        backend = data
    config = MindieConfig(version=str(data["Version"]) if "Version" in data else None)
    if embedded:
        config.warnings.append("The text around the JSON object was ignored.")
    config.flat = flatten(data)
    deploy = _find(backend, "ModelDeployConfig") or _find(data, "ModelDeployConfig")
    schedule = _find(backend, "ScheduleConfig") or _find(data, "ScheduleConfig")
    config.model_deploy = flatten(deploy) if isinstance(deploy, dict) else {}
    config.schedule = flatten(schedule) if isinstance(schedule, dict) else {}
    if not isinstance(deploy, dict):
        config.warnings.append("No ModelDeployConfig section.")
    if not isinstance(schedule, dict):
        config.warnings.append("No ScheduleConfig section.")
    devices = _find(backend, "npuDeviceIds")
    config.npu_device_ids = devices if isinstance(devices, list) else []
    for attr, key in FIELDS.items():
        value = _find(backend, key)
        setattr(config, attr, _number(value if value is not None else _find(data, key)))
    models = _find(deploy, "ModelConfig") if isinstance(deploy, dict) else _find(backend, "ModelConfig")
    models = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else \
        [models] if isinstance(models, dict) else []
    config.models = len(models)
    first = models[0] if models else {}
    for attr, key in MODEL_FIELDS.items():
        value = first.get(key)
        if value is None and key in ("worldSize", "cpuMemSize", "npuMemSize"):
            value = _find(backend, key)
        setattr(config, attr, _number(value) if key in ("worldSize", "cpuMemSize", "npuMemSize")
                else (str(value) if value is not None else None))
    if len(models) > 1:
        config.warnings.append(f"ModelConfig lists {len(models)} models: the key fields are the first one's "
                               f"({config.model_name}); all are in the flattened keys.")
    _quantization(config, first, backend)
    missing = [key for attr, key in {**FIELDS, "world_size": "worldSize"}.items()
               if getattr(config, attr) is None and attr != "max_queue_delay_us"]
    if not config.npu_device_ids:
        missing.insert(0, "npuDeviceIds")
    if missing:
        config.warnings.append("Not in this config: " + ", ".join(missing))
    groups = [g for g in config.npu_device_ids if isinstance(g, list)]
    if config.world_size and any(len(group) != config.world_size for group in groups):
        sizes = ", ".join(str(len(group)) for group in groups)
        config.warnings.append(f"worldSize is {config.world_size} but npuDeviceIds lists {sizes} NPUs per instance.")
    return config


def _quantization(config: MindieConfig, model: dict, backend: dict) -> None:
    for scope in (model, backend):
        for key, value in flatten(scope).items():
            leaf = key.rsplit(".", 1)[-1].lower()
            if leaf.startswith("quant") and value not in (None, "", False):
                config.quantization, config.quantization_source = str(value), "config"
                return
    for text in (config.model_name or "", config.model_weight_path or ""):
        match = QUANT_IN_NAME.search(text)
        if match:
            config.quantization, config.quantization_source = match.group(1).upper(), "model name or path"
            return


@dataclass(slots=True)
class ConfigDifference:
    key: str  # dotted
    a: object  # None when the key is absent on that side (see in_a / in_b)
    b: object
    in_a: bool = True
    in_b: bool = True

    def as_dict(self) -> dict:
        return {"key": self.key, "a": self.a, "b": self.b, "in_a": self.in_a, "in_b": self.in_b}


def _flat_of(config) -> dict:
    if isinstance(config, MindieConfig):
        return config.flat
    if isinstance(config, (str, bytes, bytearray)):
        return parse_mindie_config(config).flat
    if isinstance(config, dict):
        return flatten(config) if any(isinstance(v, dict) for v in config.values()) else dict(config)
    raise TypeError(f"diff_configs takes MindieConfig, dicts or config.json text, not {type(config).__name__}")


def diff_configs(a, b) -> list[ConfigDifference]:
    """The dotted keys whose values differ between two configs (or that only one has), sorted by key.

    ``a`` and ``b``: ``MindieConfig`` results, config.json texts, or dicts (nested, or already flat)."""
    flat_a, flat_b = _flat_of(a), _flat_of(b)
    out = []
    for key in sorted(set(flat_a) | set(flat_b)):
        in_a, in_b = key in flat_a, key in flat_b
        value_a, value_b = flat_a.get(key), flat_b.get(key)
        if in_a and in_b and value_a == value_b and isinstance(value_a, bool) == isinstance(value_b, bool):
            continue
        out.append(ConfigDifference(key=key, a=value_a, b=value_b, in_a=in_a, in_b=in_b))
    return out
