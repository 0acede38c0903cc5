"""Waiting for a job, as the tests against a real worker do."""

import time


def wait_for(job, done, timeout):
    """Re-read ``job`` until ``done(job)``; fail with its status and phase after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if done(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status} ({job.phase}) for {timeout} s: {job.failure_message}")
