"""Hosts and jobs: registering hosts with pinned keys, starting, claiming, cancelling and
ending jobs. Every status change goes through ``_move`` (``common.states.move``: along
``Job.TRANSITIONS``, a guarded UPDATE), which records a JobTransition.
"""

import logging
import time
from datetime import timedelta

import kombu.exceptions
from celery import current_app
from django import db
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from common import access, states
from common.jsonsafe import jsonable
from engagements.models import Stage

from . import kinds, secrets, ssh
from .errors import JobError, PermanentError, Reason, Text, TransientError
from .models import AscendHost, Job, JobTransition

logger = logging.getLogger(__name__)

# --- hosts ---------------------------------------------------------------------------------


def target_for(host: AscendHost) -> ssh.Target:
    """Connection values for a host; the secret is decrypted here, in the worker, only."""
    host_key = None
    if host.host_key_pinned:
        host_key = ssh.HostKey(host.host_key_type, host.host_key_base64, host.host_key_fingerprint)
    try:
        secret = secrets.decrypt(host.secret) if host.secret else None
    except ImproperlyConfigured as exc:  # a job or a test fails with the reason; never hangs, never a 500
        raise PermanentError(N_("The host's stored key or password cannot be decrypted with the portal's "
                                "FERNET_KEYS (was a key dropped before rotate_secrets ran?). Restore the key, "
                                "or enter the secret again."), Reason.AUTHENTICATION) from exc
    return ssh.Target(
        address=host.address,
        port=host.port,
        username=host.username,
        host_key=host_key,
        private_key=secret if host.auth_method == AscendHost.AuthMethod.KEY else None,
        password=secret if host.auth_method == AscendHost.AuthMethod.PASSWORD else None,
    )


def _checked_secret(auth_method: str, secret: str) -> str:
    """The secret as stored: a key must load (and loses surrounding newlines); a password as typed."""
    secret = (secret or "").strip("\n") if auth_method == AscendHost.AuthMethod.KEY else (secret or "")
    if not secret:
        raise ValidationError({"secret": _("Enter the private key or the password.")})
    if auth_method == AscendHost.AuthMethod.KEY:
        try:
            ssh.load_private_key(secret)
        except JobError as exc:
            raise ValidationError({"secret": exc.message}) from None
    return secret


def check_register_host(user, fields: dict, secret: str) -> AscendHost:
    """Save a host with its encrypted secret; its key is fetched and must then be confirmed."""
    host = AscendHost(**fields, created_by=user)
    access.require(user, "change", host)
    host.secret = secrets.encrypt(_checked_secret(fields.get("auth_method"), secret))
    host.full_clean()
    host.save()
    return host


def check_update_host(user, host: AscendHost, fields: dict, secret: str = "") -> AscendHost:
    """Change a host's settings; a blank secret keeps the stored one (unless the login method
    changed). A new address or port is another machine as far as trust goes: the pinned key
    is dropped and must be confirmed again before jobs run there."""
    access.require(user, "change", host)
    host = AscendHost.objects.get(pk=host.pk)
    moved = (fields.get("address", host.address), fields.get("port", host.port)) != (host.address, host.port)
    method_changed = fields.get("auth_method", host.auth_method) != host.auth_method
    for name, value in fields.items():
        setattr(host, name, value)
    if secret or method_changed:
        host.secret = secrets.encrypt(_checked_secret(host.auth_method, secret))
    if moved:
        host.host_key_type = host.host_key_base64 = host.host_key_fingerprint = ""
        host.host_key_approved_by, host.host_key_approved_at, host.last_check = None, None, {}
    host.full_clean()
    host.save()
    return host


def fetch_key_for_confirmation(host: AscendHost) -> ssh.HostKey:
    """The key the host presents now, for a person to compare with the customer's fingerprint."""
    try:
        return ssh.fetch_host_key(host.address, host.port)
    except JobError as exc:
        raise ValidationError({"host_key": exc.message}) from None


def check_pin_host_key(user, host: AscendHost, key_type: str, key_base64: str,
                       confirmed_fingerprint: str) -> AscendHost:
    """Pin the key the consultant confirmed; it must be the one the host presents now."""
    access.require(user, "change", host)
    presented = fetch_key_for_confirmation(host)
    if ((presented.key_type, presented.base64) != (key_type, key_base64)
            or presented.fingerprint != confirmed_fingerprint):
        raise ValidationError({"host_key": _("The host now presents a different key (%(fp)s). Nothing was pinned; "
                                             "fetch the key again and confirm it with the customer.")
                               % {"fp": presented.fingerprint}})
    host.host_key_type, host.host_key_base64, host.host_key_fingerprint = key_type, key_base64, presented.fingerprint
    host.host_key_approved_by, host.host_key_approved_at = user, timezone.now()
    host.save(update_fields=["host_key_type", "host_key_base64", "host_key_fingerprint", "host_key_approved_by",
                             "host_key_approved_at"])
    return host


def check_connection(host: AscendHost) -> dict:
    """Connect and report latency, OS and whether npu-smi is there; stored on the host."""
    started = time.monotonic()
    try:
        with ssh.Session(target_for(host)) as session:
            connected = time.monotonic()
            result = session.run(
                "uname -srm; PATH=\"$PATH:/usr/local/bin:/usr/local/Ascend/driver/tools\""
                + (f":{_quote_path(host.tool_path)}" if host.tool_path else "")
                + " command -v npu-smi || echo 'npu-smi: missing'",
                timeout=20,
            )
        lines = result.stdout_text.strip().splitlines()
        check = {
            "ok": True,
            "latency_ms": round((connected - started) * 1000),
            "os": lines[0] if lines else "",
            "npu_smi": bool(lines[1:]) and "missing" not in lines[-1],
            "npu_smi_path": lines[-1] if len(lines) > 1 and "missing" not in lines[-1] else "",
        }
    except JobError as exc:
        check = {"ok": False, "reason": exc.reason, "message": exc.text.english, "detail": exc.text.as_json()}
    check["at"] = timezone.now().isoformat()
    host.last_check = check
    host.save(update_fields=["last_check"])
    return check


def _quote_path(path: str) -> str:
    return path.replace('"', "").replace("$", "").replace("`", "")


# --- starting and cancelling ---------------------------------------------------------------------


def check_start_job(user, stage: Stage, host: AscendHost, kind: str, params: dict, model=None) -> Job:
    """Queue a job of ``kind`` on ``host``. ``model``: the model under migration the job's result
    is evidence of (by default the engagement's only model, for kinds that produce evidence)."""
    engagement = stage.engagement
    access.require(user, "change", engagement, _("You can view this engagement but not run jobs for it."))
    if host.customer_id != engagement.customer_id:
        raise ValidationError({"host": _("This host belongs to another customer.")})
    if not host.host_key_pinned:
        raise ValidationError({"host": _("Confirm the host's key before running jobs on it.")})
    try:
        job_kind = kinds.get(kind)
    except KeyError:
        raise ValidationError({"kind": _("Unknown job kind.")}) from None
    cleaned = job_kind.clean(params or {})
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    if model is None and job_kind.per_model:
        models = list(engagement.migration_models.all()[:2])
        model = models[0] if len(models) == 1 else None
    with transaction.atomic():
        job = Job.objects.create(kind=kind, engagement=engagement, stage=stage, host=host, parameters=cleaned,
                                 started_by=user, model=model if job_kind.per_model else None)
        record(job, "", Job.Status.QUEUED, Text(N_("Started from the portal.")), actor=user)
        transaction.on_commit(lambda: enqueue_or_leave(job))
    return job


# The task is sent by name: ``tasks`` calls this module, never the other way round.
RUN_JOB_TASK = "workers.tasks.run_job"


def enqueue(job: Job, countdown: float | None = None) -> None:
    current_app.send_task(RUN_JOB_TASK, args=[job.pk], countdown=countdown)


def enqueue_or_leave(job: Job) -> None:
    """Send a new job to the workers; with the broker unreachable, leave it queued (it is saved):
    the reaper sends a queued job no task has looked at after ``JOB_REQUEUE_AFTER_SECONDS``."""
    try:
        enqueue(job)
    except (kombu.exceptions.OperationalError, OSError) as exc:
        logger.warning("Job %s stays queued: the broker is unreachable (%s); the reaper sends it later.", job.pk, exc)


def check_cancel_job(user, job: Job) -> Job:
    access.require(user, "cancel", job, _("You can view this job but not cancel it."))
    if job.is_final:
        raise ValidationError({"job": _("The job has already ended.")})
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
        if locked.status == Job.Status.QUEUED:
            _end(locked, Job.Status.CANCELLED, Job.Failure.CANCELLED, CANCELLED_BEFORE_START, actor=user)
        else:
            record(locked, locked.status, locked.status,
                   Text(N_("Cancel requested; stopping the remote process group.")), actor=user)
    job.refresh_from_db()
    return job


def cancel_requested(job: Job) -> bool:
    return Job.objects.filter(pk=job.pk, cancel_requested=True).exists()


# --- the worker's side ---------------------------------------------------------------------------

CANCELLED_BEFORE_START = Text(N_("Cancelled before it started."))
BUSY_RETRY_SECONDS = 5.0


def lease() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def claim(job_id: int) -> tuple[Job | None, float | None]:
    """Take a job for this worker: a queued one, or a running one whose worker stopped renewing.

    Returns (job, None) when claimed, (None, seconds) when the caller should try again later
    (the host is busy with another NPU job), and (None, None) when there is nothing to do
    (a live worker owns it, or it has ended).
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("host").filter(pk=job_id).first()
        if job is None or job.is_final:
            return None, None
        now = timezone.now()
        if job.status == Job.Status.RUNNING and job.lease_until and job.lease_until > now:
            return None, None  # a live worker owns it; the reaper steps in if its lease runs out
        if job.cancel_requested and job.status == Job.Status.QUEUED:
            # A running job being re-attached is claimed instead: its supervisor kills the remote run.
            _end(job, Job.Status.CANCELLED, Job.Failure.CANCELLED, CANCELLED_BEFORE_START)
            return None, None
        if job.attempts - _retried_pickups(job) >= settings.JOB_MAX_ATTEMPTS:
            _end(job, Job.Status.LOST, Job.Failure.WORKER_LOST,
                 Text(N_("The job was picked up %(n)s times and no worker finished it."), {"n": job.attempts}))
            return None, None
        if job.status == Job.Status.QUEUED and job.job_kind.exclusive:
            # One NPU job at a time per host: lock the host row, then look for a running one.
            AscendHost.objects.select_for_update().filter(pk=job.host_id).first()
            busy = Job.objects.filter(host_id=job.host_id, status=Job.Status.RUNNING,
                                      kind__in=kinds.exclusive_keys()).exclude(pk=job.pk).exists()
            if busy:
                # The lease of a waiting job: its task polls again before then, so the reaper leaves it be.
                job.phase = "waiting for the host"
                job.lease_until = now + timedelta(seconds=BUSY_RETRY_SECONDS + settings.JOB_LEASE_SECONDS)
                job.save(update_fields=["phase", "lease_until"])
                return None, BUSY_RETRY_SECONDS
        job.attempts += 1
        job.lease_until = lease()
        if job.status == Job.Status.QUEUED:
            job.started_at = now
            job.save(update_fields=["attempts", "lease_until", "started_at"])
            _move(job, Job.Status.RUNNING, Text(N_("Picked up by a worker.")))
        else:
            job.save(update_fields=["attempts", "lease_until"])
            record(job, job.status, job.status, Text(N_("Re-attached after the previous worker stopped.")))
        return job, None


def _retried_pickups(job: Job) -> int:
    """How many of the job's pick-ups ended in a transient failure (a lost connection to the host
    or to PostgreSQL) and gave the job back: their task retried, no worker was lost, so they use
    up no attempt. Each left an ``INTERRUPTED`` note (``after_transient_failure``)."""
    if not job.attempts:
        return 0
    return job.transitions.filter(from_status=Job.Status.RUNNING, to_status=Job.Status.RUNNING,
                                  reason_detail__msgid=INTERRUPTED).count()


def record(job: Job, from_status: str, to_status: str, reason: Text, *, actor=None, at=None) -> JobTransition:
    """A transition row that is not a move: the job's creation, or a note (from == to)."""
    return job.record_transition(from_status, to_status, actor=actor, reason=reason, at=at)


def _end(job: Job, status: str, failure: str, message: Text, *, actor=None, **fields) -> None:
    """End a job with a classified reason; the message is its failure text and its transition's reason."""
    _move(job, status, message, actor=actor, failure_reason=failure, failure_message=message.english,
          failure_detail=message.as_json(), **fields)


def _move(job: Job, to_status: str, reason: Text, *, actor=None, **fields) -> bool:
    """Change a job's status only along ``Job.TRANSITIONS`` and only from the status this copy
    holds (a job another process has moved stays as it is), and record the move."""
    now = timezone.now()
    if to_status in Job.FINAL:
        fields.update(finished_at=now, lease_until=None)
    return states.move(job, to_status, actor=actor, reason=reason, at=now, **fields)


def hand_over(job: Job) -> None:
    """The supervising task reached its time limit while the detached remote run goes on: a new
    task re-attaches at once. A hand-over is not a lost worker, so it uses up no attempt."""
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        lease_until=timezone.now(), phase="re-attaching", attempts=models.F("attempts") - 1)
    record(job, job.status, job.status, Text(N_("Handed over to a new supervising task (time limit of the old one).")))
    enqueue(job)


def after_transient_failure(job: Job, error: JobError, *, last_try: bool) -> bool:
    """A connection failed: True when the task should try again (with backoff). The job fails
    after the last try, and ends cancelled at once when someone asked (the host cannot be
    reached to stop a remote run, so nothing is waited for)."""
    if last_try:
        fail_from_error(job.pk, error)
        return False
    if cancel_requested(job):
        finish(job, Job.Status.CANCELLED, reason=Job.Failure.CANCELLED, message=Text(
            N_("Cancelled from the portal while the host could not be reached (%(error)s). If the command had "
               "started there, it may still be running."), {"error": error.text}))
        return False
    # Give the job back, so the retry can claim it at once; the note says why, and marks the
    # pick-up as one no worker was lost in (``claim`` does not count it against the attempts).
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(lease_until=timezone.now(),
                                                                          phase="retrying"):
            text = error.text if error.text.msgid == INTERRUPTED else Text(INTERRUPTED, {"error": error.text})
            record(job, Job.Status.RUNNING, Job.Status.RUNNING, text)
    return True


# PostgreSQL restarted or the connection to it dropped: another try (on a new connection) may help.
DATABASE_ERRORS = (db.OperationalError, db.InterfaceError)
INTERRUPTED = N_("Interrupted by a lost connection: %(error)s")


def database_unavailable(exc: Exception) -> TransientError:
    """The database failed before the job was claimed: retry on a fresh connection."""
    db.close_old_connections()
    return TransientError(INTERRUPTED, Reason.CONNECTION, error=_error_name(exc))


def after_unexpected_error(job: Job, exc: Exception, *, last_try: bool) -> TransientError | None:
    """An error the supervisor did not classify; the job never waits for the reaper with it.

    A lost connection (to the host, or to PostgreSQL) is transient: the job is given back like
    after any transient failure and the TransientError returned for the task to retry (stale
    database connections are closed first). Anything else ends the job failed at once, its
    message naming the error's type and text. None when the task should not retry."""
    logger.error("Job %s: unexpected %s", job.pk, type(exc).__name__, exc_info=exc)
    db.close_old_connections()
    if isinstance(exc, DATABASE_ERRORS) or ssh.is_transient(exc):
        error = TransientError(INTERRUPTED, Reason.CONNECTION, error=_error_name(exc))
        try:
            return error if after_transient_failure(job, error, last_try=last_try) else None
        except DATABASE_ERRORS:
            # Still unreachable, so the job could not be given back: retry once its lease has run out.
            db.close_old_connections()
            error.retry_after = settings.JOB_LEASE_SECONDS + 1
            return error
    fail_from_error(job.pk, PermanentError(N_("The job stopped on an unexpected error: %(error)s"), Reason.COMMAND,
                                           error=_error_name(exc)))
    return None


def _error_name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def set_phase(job: Job, phase: str, **fields) -> None:
    job.phase = phase
    for name, value in fields.items():
        setattr(job, name, value)
    Job.objects.filter(pk=job.pk).update(phase=phase, lease_until=lease(), **fields)


def heartbeat(job: Job, *, log_bytes: int, tail: str, progress: int) -> None:
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        log_bytes=log_bytes, output_tail=tail, progress=progress, lease_until=lease()
    )
    job.log_bytes, job.output_tail = log_bytes, tail


def finish(job: Job, status: str, *, reason: str, message: Text, exit_code=None) -> None:
    with transaction.atomic():
        _end(job, status, reason, message, exit_code=exit_code)


def complete(job: Job, exit_code: int, result: dict) -> None:
    """The job succeeded: its result (plain JSON: a NaN loss is None, never a lost job) is kept
    and its kind records what it means."""
    result = jsonable(result, "result")
    with transaction.atomic():
        _move(job, Job.Status.SUCCEEDED, Text(N_("Finished.")), exit_code=exit_code, result=result, progress=100)
        if job.status != Job.Status.SUCCEEDED:
            return
        job.result = jsonable(job.job_kind.record(job, dict(result)), "result")
        job.save(update_fields=["result"])


def fail_from_error(job_id: int, error: JobError) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is not None and not job.is_final:
        finish(job, Job.Status.FAILED, reason=error.reason, message=error.text)


def reap_lost_jobs() -> int:
    """Re-enqueue running jobs whose worker stopped renewing the lease; they re-attach or end lost."""
    stale = Job.objects.filter(status=Job.Status.RUNNING, lease_until__lt=timezone.now())
    count = 0
    for job in stale:
        enqueue(job)
        count += 1
    # A queued job whose message was lost (e.g. a broker restart without persistence): no task
    # has looked at it for a while. Its lease says when one last did (or when it was last re-sent),
    # so a job waiting for a busy host is not sent again and again.
    now = timezone.now()
    window = timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    lost = Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=now - window).filter(
        models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now))
    for job in lost:
        Job.objects.filter(pk=job.pk).update(lease_until=now + window)
        enqueue(job)
        count += 1
    return count
