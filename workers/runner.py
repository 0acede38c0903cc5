"""Supervising one job on its host: launch (or re-attach), stream the log, collect, parse.

Called from the Celery task with a job that ``jobs.claim`` has just marked running. The
database row is the record: log bytes go to a local file whose size is the offset into the
remote log, the last 64 KiB sit in ``output_tail``, and ``lease_until`` is renewed while
the worker lives, so the reaper can tell a dead worker from a slow job.
"""

import hashlib
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext_noop as N_

from . import jobs, kinds, remote
from .errors import JobError, PermanentError, Reason, Text, TransientError
from .models import Job, JobFile
from .ssh import Session, as_text

POLL_SECONDS = 1.0
SAVE_EVERY = 1.5
TAIL_BYTES = 64 * 1024
READ_BYTES = 8 * 1024 * 1024
KILL_GRACE_SECONDS = 10
RESULT_FILE_LIMIT = 64 * 1024 * 1024


def local_log_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs" / str(job.uuid) / "output.log"


def read_tail(path: Path, size: int = TAIL_BYTES) -> str:
    """The last ``size`` bytes of a log, without reading the rest."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            length = fh.tell()
            fh.seek(max(0, length - size))
            data = fh.read()
    except FileNotFoundError:
        return ""
    text = as_text(data)
    if length > size:
        text = text.split("\n", 1)[-1]
    return text


def supervise(job: Job) -> None:
    """Run the job to an end state. Raises TransientError for the task to retry."""
    kind = kinds.get(job.kind)
    plan = kind.plan(job.parameters, job.host)
    run_dir = remote.job_dir(job.host.work_root, str(job.uuid))
    log_path = local_log_path(job)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.touch(exist_ok=True)
    with Session(jobs.target_for(job.host)) as session:
        jobs.set_phase(job, "launching", remote_dir=run_dir)
        if plan.uploads:
            made = session.run(remote.mkdir_script(run_dir), timeout=30)
            if made.exit_code != 0:
                raise PermanentError(N_("Cannot create the job directory on the host: %(error)s"), Reason.COMMAND,
                                     error=made.stderr_text.strip()[:500])
            for name, data in plan.uploads.items():
                session.put_bytes(data, f"{run_dir}/{name}")
        launched = session.run(
            remote.launch_script(run_dir, plan.argv, workdir=plan.workdir, tool_path=job.host.tool_path,
                                 timeout_s=plan.timeout_s),
            timeout=60,
        )
        state, _code = remote.parse_state(launched.stdout_text)
        if launched.exit_code != 0:
            raise PermanentError(N_("The job could not be started: %(error)s"), Reason.COMMAND,
                                 error=launched.stderr_text.strip()[:500])
        if state == remote.VANISHED:
            jobs.finish(job, Job.Status.LOST, reason=Job.Failure.WORKER_LOST,
                        message=Text(N_("The worker was lost and the remote process is gone without an exit code.")))
            return
        jobs.set_phase(job, "running")
        exit_code = _follow(job, session, run_dir, log_path, kind)
        if exit_code is None:
            return  # cancelled
        _drain(job, session, run_dir, log_path)
        jobs.set_phase(job, "collecting")
        files = _fetch_results(job, session, run_dir, plan.result_files)
    if exit_code == 124:
        jobs.finish(job, Job.Status.FAILED, exit_code=exit_code, reason=Job.Failure.TIMEOUT,
                    message=Text(N_("The command ran past its time limit of %(s)s s and was stopped."),
                                 {"s": plan.timeout_s}))
        return
    if exit_code != 0:
        jobs.finish(job, Job.Status.FAILED, exit_code=exit_code, reason=Job.Failure.COMMAND,
                    message=_command_failure(exit_code, job.output_tail))
        return
    try:
        if kind.parse_file is not None:
            result = kind.parse_file(log_path, files, job.parameters)
        else:
            result = kind.parse(_read_log(log_path, kind.tail_bytes), files, job.parameters)
    except PermanentError as exc:
        jobs.finish(job, Job.Status.FAILED, exit_code=exit_code, reason=Job.Failure.PARSE, message=exc.text)
        return
    jobs.complete(job, exit_code, result)


EXIT_HINTS = {
    127: N_("command not found"),
    126: N_("not executable or the working directory is missing"),
    137: N_("killed (out of memory?)"),
}


def _command_failure(exit_code: int, tail: str) -> Text:
    # The last lines the command printed; the wrapper's own section lines are not its output.
    lines = [line for line in tail.strip().splitlines() if line.strip() and kinds.SECTION_MARK not in line]
    last = " | ".join(lines[-3:])
    params = {"code": exit_code, "last": last}
    if exit_code in EXIT_HINTS:
        params["hint"] = Text(EXIT_HINTS[exit_code])
        msgid = (N_("The command exited with code %(code)s (%(hint)s). Last output: %(last)s") if last
                 else N_("The command exited with code %(code)s (%(hint)s)."))
    else:
        msgid = (N_("The command exited with code %(code)s. Last output: %(last)s") if last
                 else N_("The command exited with code %(code)s."))
    return Text(msgid, params)


def _read_log(path: Path, tail: int | None = None, limit: int = 256 * 1024 * 1024) -> str:
    """The log for parsing: all of it (up to ``limit``), or only its last ``tail`` bytes."""
    with open(path, "rb") as fh:
        if tail is not None:
            fh.seek(max(0, path.stat().st_size - tail))
        return as_text(fh.read(tail or limit))


def _follow(job: Job, session: Session, run_dir: str, log_path: Path, kind) -> int | None:
    """Stream the remote log until the job is done; None when it was cancelled."""
    last_save = 0.0
    while True:
        chunk = _pull_log(job, session, run_dir, log_path)
        if chunk:
            progress = kind.progress(chunk[-65536:])
            if progress is not None:
                job.progress = progress
        now = time.monotonic()
        if now - last_save >= SAVE_EVERY:
            _save_progress(job, log_path)
            last_save = now
            if jobs.cancel_requested(job):
                _kill(session, run_dir)
                _pull_log(job, session, run_dir, log_path)
                _save_progress(job, log_path)
                jobs.finish(job, Job.Status.CANCELLED, reason=Job.Failure.CANCELLED,
                            message=Text(N_("Cancelled from the portal; the remote process group was stopped.")))
                return None
        result = session.run(remote.state_script(run_dir), timeout=30)
        state, exit_code = remote.parse_state(result.stdout_text)
        if state == remote.DONE:
            return exit_code if exit_code is not None else -1
        if state == remote.VANISHED:
            raise PermanentError(N_("The remote process disappeared without writing an exit code."), Reason.COMMAND)
        if not chunk:
            time.sleep(POLL_SECONDS)


def _drain(job: Job, session: Session, run_dir: str, log_path: Path) -> None:
    """After the command ended, pull the rest of its log, however long, renewing the lease."""
    while len(_pull_log(job, session, run_dir, log_path)) == READ_BYTES:
        _save_progress(job, log_path)
    _save_progress(job, log_path)


def _pull_log(job: Job, session: Session, run_dir: str, log_path: Path) -> bytes:
    """Append new remote log bytes to the local log; the local size is the offset."""
    offset = log_path.stat().st_size
    data = session.read_from(f"{run_dir}/output.log", offset, READ_BYTES)
    if data:
        with open(log_path, "ab") as fh:
            fh.write(data)
    return data


def _save_progress(job: Job, log_path: Path) -> None:
    size = log_path.stat().st_size
    jobs.heartbeat(job, log_bytes=size, tail=read_tail(log_path), progress=job.progress)


def _kill(session: Session, run_dir: str) -> None:
    result = session.run(remote.kill_script(run_dir, "TERM"), timeout=30)
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while "alive" in result.stdout_text and time.monotonic() < deadline:
        time.sleep(0.5)
        result = session.run(remote.kill_script(run_dir, "TERM"), timeout=30)
    if "alive" in result.stdout_text:
        session.run(remote.kill_script(run_dir, "KILL"), timeout=30)


def _fetch_results(job: Job, session: Session, run_dir: str, names: list[str]) -> dict[str, bytes]:
    """Fetch result files into storage (with SHA-256); small ones are also returned for parsing.

    A refused file (a link, outside the job directory, over the limit) fails the job with
    the refusal: every result file a kind names is one its parser needs."""
    fetched = {}
    for name in names:
        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as tmp:
            def sink(chunk: bytes, digest=digest) -> None:  # this file's digest, bound now
                digest.update(chunk)
                tmp.write(chunk)

            size = session.fetch_file(run_dir, name, sink, RESULT_FILE_LIMIT)
            tmp.seek(0)
            JobFile.objects.create(job=job, name=name, size=size, sha256=digest.hexdigest(), file=File(tmp, name=name))
            tmp.seek(0)
            if size <= 16 * 1024 * 1024:
                fetched[name] = tmp.read()
    return fetched


__all__ = ["supervise", "local_log_path", "read_tail", "JobError", "TransientError"]
