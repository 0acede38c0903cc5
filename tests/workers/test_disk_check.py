"""The disk_check job kind: free space and inodes under the host's work root.

Added as one module (``assessments/kinds/disk_check.py``) plus its parser and template; it
proves the layout's promise that a job kind is one module. The figures are checked against
``os.statvfs`` of the same directory, computed here independently of ``df``."""

import os
import pwd
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from assessments.parsers.df import parse_df
from workers import jobs, kinds
from workers.models import Job

from .test_jobs_e2e import wait_for


def statvfs_figures(path) -> dict:
    """Free KiB (for unprivileged users, as df's Available) and free inodes, from the kernel."""
    st_ = os.statvfs(path)
    return {"free_kb": st_.f_bavail * st_.f_frsize // 1024, "size_kb": st_.f_blocks * st_.f_frsize // 1024,
            "inodes": st_.f_files, "inodes_free": st_.f_ffree}


def test_df_output_of_this_machine_matches_statvfs(tmp_path):
    blocks = subprocess.run(["df", "-P", "-k", str(tmp_path)], capture_output=True, text=True, check=True).stdout
    inodes = subprocess.run(["df", "-P", "-i", str(tmp_path)], capture_output=True, text=True, check=True).stdout
    parsed, kernel = parse_df(blocks, inodes), statvfs_figures(tmp_path)
    assert parsed["size_kb"] == kernel["size_kb"]
    assert abs(parsed["free_kb"] - kernel["free_kb"]) <= 64 * 1024  # other processes write meanwhile
    assert parsed["inodes"] == kernel["inodes"]
    assert abs(parsed["inodes_free"] - kernel["inodes_free"]) <= 1000
    assert parsed["mount"].startswith("/") and 0 <= parsed["used_pct"] <= 100


def test_a_device_name_that_wraps_and_a_file_system_without_inodes():
    blocks = ("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
              "/dev/mapper/vg--ascend--data-lv--very--long--name\n"
              "      976762584 429301232 547461352      44% /data/ascend work\n")
    inodes = "Filesystem Inodes IUsed IFree IUse% Mounted on\nnfs:/export - - - - /data/ascend work\n"
    parsed = parse_df(blocks, inodes)
    assert parsed["filesystem"] == "/dev/mapper/vg--ascend--data-lv--very--long--name"
    assert parsed["mount"] == "/data/ascend work"  # a mount point with a space
    assert (parsed["free_kb"], parsed["used_pct"]) == (547461352, 44)
    assert parsed["inodes"] is None and parsed["inodes_free"] is None


def test_no_file_system_is_none():
    assert parse_df("") is None
    assert parse_df("df: /nowhere: No such file or directory\n") is None


@given(size=st.integers(0, 10**12), used=st.integers(0, 10**12), free=st.integers(0, 10**12),
       pct=st.integers(0, 100), mount=st.from_regex(r"/[a-z0-9_/]{0,20}", fullmatch=True))
def test_any_df_row_round_trips(size, used, free, pct, mount):
    text = f"Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x {size} {used} {free} {pct}% {mount}\n"
    parsed = parse_df(text)
    assert (parsed["size_kb"], parsed["used_kb"], parsed["free_kb"], parsed["used_pct"], parsed["mount"]) == (
        size, used, free, pct, mount)


def test_the_kind_is_registered_from_its_own_module():
    kind = kinds.get("disk_check")
    assert kind.__class__ is kinds.JobKind and not kind.exclusive and kind.fields == {}
    assert ("disk_check", kind.label) in kinds.choices()
    assert Job._meta.get_field("kind").choices  # the model's choices come from the registry
    assert "disk_check" in dict(Job._meta.get_field("kind").choices)


@pytest.mark.django_db(transaction=True)
def test_a_disk_check_job_reports_the_work_roots_space_and_inodes(worker, consultant, engagement, sim_host, simhost):
    stage = engagement.stages.get(key="env_setup")
    job = jobs.check_start_job(consultant, stage, sim_host, "disk_check", {})
    wait_for(job, Job.FINAL)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    work_root = Path(pwd.getpwnam(simhost.username).pw_dir) / sim_host.work_root
    kernel = statvfs_figures(work_root)
    assert job.result["size_kb"] == kernel["size_kb"]
    assert abs(job.result["free_kb"] - kernel["free_kb"]) <= 256 * 1024
    assert job.result["inodes"] == kernel["inodes"]
    assert abs(job.result["inodes_free"] - kernel["inodes_free"]) <= 10_000
    client = Client()
    client.force_login(consultant)
    page = client.get(f"/jobs/{job.uuid}/").content.decode()
    assert 'data-testid="disk-check"' in page and f"{kernel['inodes']:,}" in page
