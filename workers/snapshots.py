"""Environment snapshots: what an env probe found, as plain JSON, and what changed since
the previous snapshot of the same host."""


def snapshot_from_sections(sections: dict[str, str]) -> dict:
    """Build the snapshot from the probe's sections with the pure parsers."""
    from .parsers import npu_smi, versions

    npus = npu_smi.parse_npu_smi_info(sections.get("npu_smi", ""))
    return {
        "npus": [npu.as_dict() for npu in npus.npus],
        "processes": [proc.as_dict() for proc in npus.processes],
        "npu_smi_version": npus.version,
        "board": npu_smi.parse_board(sections.get("npu_smi_board", "")),
        "driver": versions.parse_version_info(sections.get("driver", "")),
        "firmware": versions.parse_version_info(sections.get("firmware", "")),
        "cann": versions.cann_version(sections.get("cann_version_cfg", ""), sections.get("cann_install_info", "")),
        "os": _os_name(sections.get("os_release", "")),
        "kernel": sections.get("uname", "").strip(),
        "arch": (sections.get("uname", "").split() or [""])[-1],
        "python": sections.get("python", "").strip().replace("Python ", ""),
        "torch": _version_line(sections.get("torch", "")),
        "torch_npu": _version_line(sections.get("torch_npu", "")),
    }


def _os_name(os_release: str) -> str:
    for line in os_release.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def _version_line(text: str) -> str | None:
    """A bare version on the last line, or None when the import failed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or "Error" in text or "Traceback" in text:
        return None
    return lines[-1]


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
