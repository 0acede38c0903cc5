"""Units of performance figures and the metrics the portal measures, as plain data.

A baseline and a measurement compare only when their units measure the same thing; within a
dimension they are converted (ms <-> s). Anything else is "not comparable": never a FAIL,
and it blocks issuing the report until someone picks the right metric.
"""

# unit -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "samples/s": ("samples_rate", 1.0),
    "tokens/s": ("tokens_rate", 1.0),
    "req/s": ("requests_rate", 1.0),
    "ms": ("time", 0.001),
    "s": ("time", 1.0),
    "TFLOPS": ("compute", 1.0),
    "MFU %": ("utilisation", 1.0),
}
UNIT_CHOICES = [(unit, unit) for unit in UNITS]

# What the parsers measure: metric key -> unit. Training runs give throughput medians
# (``throughput_dict``); MindIE's benchmark gives its summary keys and table rows.
METRICS: dict[str, str] = {
    "samples_per_s": "samples/s",
    "tokens_per_s": "tokens/s",
    "ms_per_iteration": "ms",
    "tflops_per_device": "TFLOPS",
    "first_token_ms": "ms",
    "decode_ms": "ms",
    "generate_speed_token_s": "tokens/s",
    "generated_token_speed_token_s": "tokens/s",
    "throughput_req_s": "req/s",
    # MindIE table rows, by their own names
    "FirstTokenTime": "ms",
    "DecodeTime": "ms",
    "GenerateSpeed": "tokens/s",
    "OutputGenerateSpeed": "tokens/s",
    "GeneratedTokenSpeed": "tokens/s",
    "Throughput": "req/s",
    "TTFT": "ms",
    "TPOT": "ms",
}

# Spellings people type for a unit, read as the unit.
ALIASES = {"img/s": "samples/s", "images/s": "samples/s", "samples/sec": "samples/s", "token/s": "tokens/s",
           "tok/s": "tokens/s", "requests/s": "req/s", "qps": "req/s", "sec": "s", "mfu": "MFU %", "%": "MFU %"}


def normalise_unit(unit: str | None) -> str | None:
    """The known unit a spelling stands for, or None when it is not one of ``UNITS``."""
    if not unit:
        return None
    text = unit.strip()
    if text in UNITS:
        return text
    return ALIASES.get(text.lower()) or next((u for u in UNITS if u.lower() == text.lower()), None)


def convert(value: float, from_unit: str | None, to_unit: str | None) -> float | None:
    """``value`` in ``from_unit`` expressed in ``to_unit``; None when they do not measure the same thing."""
    source, target = normalise_unit(from_unit), normalise_unit(to_unit)
    if source is None or target is None:
        return None
    (source_dim, source_factor), (target_dim, target_factor) = UNITS[source], UNITS[target]
    if source_dim != target_dim:
        return None
    return value * source_factor / target_factor


def metric_key(metric: str) -> str:
    """A baseline's metric as the key the parsers use: "samples_per_s (images/s, batch 32)" -> "samples_per_s"."""
    return metric.split("(")[0].strip()
