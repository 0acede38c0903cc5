"""Driver / firmware ``version.info``, CANN ``version.cfg`` and ``ascend_toolkit_install.info``."""

import re

from . import key_values

CFG_VERSION = re.compile(r"^(\w+?)_running_version=\[([^:\]]*):([^\]]*)\]", re.M)


def parse_version_info(text: str) -> dict[str, str]:
    """All ``key=value`` (or MindIE's ``key : value``) pairs, keys as the file spells them."""
    return key_values(text, separators="=" if "=" in text else ":")


def parse_version_cfg(text: str) -> dict[str, str]:
    """Component -> CANN version from ``version.cfg``: the part after the colon of
    ``<component>_running_version=[<inner>:<version>]``."""
    return {component: version.strip() for component, _inner, version in CFG_VERSION.findall(text)}


def cann_version(version_cfg: str, install_info: str) -> dict:
    """The CANN version, preferring the toolkit's install info, falling back to version.cfg."""
    info = key_values(install_info, separators="=")
    components = parse_version_cfg(version_cfg)
    if info.get("version"):
        return {"version": info["version"], "innerversion": info.get("innerversion", ""),
                "arch": info.get("arch", ""), "source": "ascend_toolkit_install.info", "components": components}
    if components:
        version = components.get("toolkit") or components.get("runtime") or next(iter(components.values()))
        return {"version": version, "innerversion": "", "arch": "", "source": "version.cfg", "components": components}
    return {"version": None, "innerversion": "", "arch": "", "source": None, "components": {}}
