"""What changed between two environment snapshots of the same host (a snapshot is the
env_probe kind's result: plain JSON)."""


def _flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


# Readings that change every time and say nothing about the environment.
VOLATILE = ("power", "temperature", "aicore", "hbm_used", "memory_used", "processes")


def diff_snapshots(previous: dict, current: dict) -> dict[str, tuple]:
    """Path -> (old, new) for every setting that changed between two snapshots."""
    old, new = _flatten(previous), _flatten(current)
    changes = {}
    for path in sorted(set(old) | set(new)):
        if any(word in path.lower() for word in VOLATILE):
            continue
        if old.get(path) != new.get(path):
            changes[path] = (old.get(path), new.get(path))
    return changes
