"""The score of an evaluation run: by a pattern, a JSON key, or the usual names."""

import json
import re

from common.patterns import compile_user_pattern

from . import NUMBER, to_number

USUAL_KEYS = ("score", "accuracy", "acc", "exact_match", "em", "f1", "bleu", "rouge_l", "pass@1")
USUAL_LINE = re.compile(rf"\b(?:score|accuracy|acc|f1|bleu|exact_match)\b\s*[:=]\s*({NUMBER})\s*%?", re.I)


def _lookup(record, dotted: str):
    value = record
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _json_records(text: str):
    """JSON objects in the output, last first: whole-output JSON or one object per line."""
    try:
        whole = json.loads(text)
        if isinstance(whole, dict):
            yield whole
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def extract_score(text: str, pattern: str | None = None, json_key: str | None = None) -> float | None:
    """The last score the output reports, or None when there is none."""
    if pattern:
        regex = compile_user_pattern(pattern)
        for match in reversed(list(regex.finditer(text))):
            group = match.group("score") if "score" in regex.groupindex else match.group(1)
            value = to_number(group or "")
            if value is not None:
                return float(value)
        return None
    for record in _json_records(text):
        for key in ([json_key] if json_key else USUAL_KEYS):
            value = _lookup(record, key)
            if value is not None:
                return value
    if json_key:
        return None
    matches = USUAL_LINE.findall(text)
    return float(matches[-1]) if matches else None
