"""Reading a job's log by its sections (``workers.kinds.SECTION_MARK`` lines), a line at a
time: a comparison table of a million rows printed into the log is never held whole."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

from workers.kinds import SECTION_MARK
from workers.ssh import as_text

MARK = SECTION_MARK.encode()


def section_names(path: Path) -> list[str]:
    names = []
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.startswith(MARK):
                names.append(as_text(raw[len(MARK):]).strip())
    return names


def section_lines(path: Path, name: str) -> Iterator[str]:
    """The lines (with their line ends) of the last section called ``name``."""
    wanted = MARK + name.encode()
    start = None
    with open(path, "rb") as fh:
        offset = 0
        for raw in fh:
            if raw.rstrip(b"\r\n") == wanted:
                start = offset + len(raw)
            offset += len(raw)
    if start is None:
        return
    with open(path, "rb") as fh:
        fh.seek(start)
        for raw in fh:
            if raw.startswith(MARK):
                return
            yield as_text(raw)


def section_text(path: Path, name: str, limit: int = 4 * 1024 * 1024) -> str:
    out, size = [], 0
    for line in section_lines(path, name):
        out.append(line)
        size += len(line)
        if size > limit:
            break
    return "".join(out)


def before_first_section(path: Path, limit: int = 4 * 1024 * 1024) -> str:
    """What the command printed before the wrapper's first section line (its console output)."""
    out, size = [], 0
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.startswith(MARK) or size > limit:
                break
            out.append(as_text(raw))
            size += len(raw)
    return "".join(out)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
