"""``df -P`` output (POSIX format), in blocks (``-k``) or inodes (``-i``).

    Filesystem     1024-blocks      Used Available Capacity Mounted on
    /dev/sda1        102687672  40395124  57033332      42% /
    Filesystem      Inodes  IUsed   IFree IUse% Mounted on
    /dev/sda1      6553600 512345 6041255    8% /

A long device name may push the figures to a line of their own; "-" stands for a figure the
file system does not keep (inodes on some network file systems).
"""


def _rows(text: str) -> list[list[str]]:
    """The data rows as word lists, a row wrapped after its device name joined again."""
    rows, pending = [], None
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] == "Filesystem":
            continue
        if pending is not None:
            words, pending = pending + words, None
        if len(words) == 1:
            pending = words
            continue
        if len(words) >= 6 and all(_figure(word) for word in words[1:5]):
            rows.append(words[:5] + [" ".join(words[5:])])
    return rows


def _figure(word: str) -> bool:
    """A df column: a count, a percentage, or "-" for one the file system does not keep."""
    return word == "-" or word.rstrip("%").isdigit()


def _number(word: str) -> int | None:
    word = word.rstrip("%")
    return int(word) if word.isdigit() else None


def parse_df(blocks_text: str, inodes_text: str = "") -> dict | None:
    """Free space (KiB) and inodes of the first file system listed; None when there is none."""
    blocks = _rows(blocks_text)
    if not blocks:
        return None
    device, size, used, free, capacity, mount = blocks[0]
    result = {"filesystem": device, "mount": mount, "size_kb": _number(size), "used_kb": _number(used),
              "free_kb": _number(free), "used_pct": _number(capacity),
              "inodes": None, "inodes_used": None, "inodes_free": None, "inodes_used_pct": None}
    inodes = _rows(inodes_text)
    if inodes:
        _device, total, iused, ifree, ipct, _mount = inodes[0]
        result.update(inodes=_number(total), inodes_used=_number(iused), inodes_free=_number(ifree),
                      inodes_used_pct=_number(ipct))
    return result
