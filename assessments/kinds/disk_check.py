"""Disk check: free space and free inodes of the file system that holds the host's job
directory (the work root), before a long run fills it."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from workers.errors import PermanentError, Reason
from workers.kinds import SECTION_MARK, JobKind, Plan, register, split_sections

from ..parsers.df import parse_df

# The job runs in <work root>/<job uuid>/, so ".." is the work root itself.
SCRIPT = f"echo '{SECTION_MARK}blocks'; df -P -k ..; echo '{SECTION_MARK}inodes'; df -P -i ..; true"


def parse(log: str, files: dict, params: dict) -> dict:
    sections = split_sections(log)
    result = parse_df(sections.get("blocks", ""), sections.get("inodes", ""))
    if result is None:
        raise PermanentError(N_("df printed no file system for the job directory."), Reason.PARSE)
    return result


DISK_CHECK = register(JobKind(
    key="disk_check",
    label=_("Disk check"),
    clean=lambda params: {},
    plan=lambda params, host: Plan(argv=["sh", "-c", SCRIPT], timeout_s=60),
    parse=parse,
    result_template="assessments/kinds/disk_check.html",
    parser="assessments.parsers.df",
))
