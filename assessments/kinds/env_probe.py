"""Environment probe: npu-smi, driver/firmware/CANN versions, OS, Python, torch, torch_npu.
Its result is a snapshot of the host's environment, kept per host (``EnvSnapshot``)."""

import shlex

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.errors import PermanentError, Reason
from workers.kinds import SECTION_MARK, JobKind, Plan, register, split_sections
from workers.models import EnvSnapshot

from ..parsers import npu_smi, versions


def probe_script(ascend_home: str) -> str:
    home = shlex.quote(ascend_home)
    sections = [
        ("npu_smi", "npu-smi info"),
        ("npu_smi_board", "npu-smi info -t board -i 0"),
        ("driver", f"cat {home}/driver/version.info"),
        ("firmware", f"cat {home}/firmware/version.info"),
        ("cann_version_cfg", f"cat {home}/ascend-toolkit/latest/version.cfg"),
        # Either place (older and newer layouts); whichever is missing is no error in the log.
        ("cann_install_info", f"for f in {home}/ascend-toolkit/latest/*-linux/ascend_toolkit_install.info "
                              f"{home}/cann/*-linux/ascend_toolkit_install.info; do "
                              '[ -f "$f" ] && cat "$f"; done; true'),
        ("os_release", "cat /etc/os-release"),
        ("uname", "uname -srm"),
        ("python", "python3 --version"),
        ("torch", "python3 -c 'import torch; print(torch.__version__)'"),
        ("torch_npu", "python3 -c 'import torch_npu; print(torch_npu.__version__)'"),
    ]
    return "\n".join(f"echo '{SECTION_MARK}{name}'; {command} 2>&1" for name, command in sections) + "\nexit 0"


def snapshot_from_sections(sections: dict[str, str]) -> dict:
    """Build the snapshot from the probe's sections with the pure parsers."""
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


def parse(log: str, files: dict, params: dict) -> dict:
    sections = split_sections(log)
    if not sections:
        raise PermanentError(N_("The probe printed nothing the portal can read."), Reason.PARSE)
    return snapshot_from_sections(sections)


def record(job, result: dict) -> dict:
    EnvSnapshot.objects.create(host=job.host, job=job, data=result)
    return result


ENV_PROBE = register(JobKind(
    key="env_probe",
    label=_("Environment probe"),
    clean=lambda params: {},
    plan=lambda params, host: Plan(argv=["sh", "-c", probe_script(host.ascend_home)], timeout_s=300),
    parse=parse,
    record=record,
    result_template="assessments/kinds/env_probe.html",
    parser="assessments.parsers.npu_smi, assessments.parsers.versions",
))
