"""Pure parsers of the Ascend tools' output: text in, plain data out, no I/O.

Formats drift between versions (npu-smi 23.x-25.x, CANN 7.0-8.5, MindIE 1.x-2.x), so every
parser is header-driven where the format has headers, keeps what it does not know, and
reports what it expected but did not find in ``warnings`` instead of failing.
"""

NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"


def to_number(text: str):
    """int or float from a token; None for '/', 'NA', '-' and anything else."""
    token = text.strip().rstrip("%")
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return None


def key_values(text: str, separators: str = ":=") -> dict[str, str]:
    """``key : value`` / ``key=value`` lines into a dict (first separator wins; '#' lines skipped)."""
    out = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        positions = [stripped.find(sep) for sep in separators if sep in stripped]
        if not positions:
            continue
        at = min(positions)
        key, value = stripped[:at].strip(), stripped[at + 1:].strip()
        if key and key not in out:
            out[key] = value
    return out
