"""Celery tasks: thin, take primary keys, call one service function."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import jobs, runner
from .errors import PermanentError, TransientError
from .models import Job


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientError,),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 300,
)
def run_job(self, job_id: int) -> None:
    try:
        job, later = jobs.claim(job_id)
    except jobs.DATABASE_ERRORS as exc:
        raise jobs.database_unavailable(exc) from exc  # nothing was claimed: retried with backoff
    if later is not None:
        # The host is busy: look again later in a fresh message. Not a retry, which would count
        # waiting turns against the retries a lost connection may use once the job has started.
        self.apply_async(args=[job_id], countdown=later)
        return
    if job is None:
        return
    try:
        runner.supervise(job)
    except TransientError as exc:
        if jobs.after_transient_failure(job, exc, last_try=self.request.retries >= self.max_retries):
            raise
    except PermanentError as exc:
        jobs.fail_from_error(job_id, exc)
    except SoftTimeLimitExceeded:
        # The remote run is detached and keeps its own time limit: a fresh task re-attaches to it.
        jobs.hand_over(job)
    except Exception as exc:
        # Never a dead task under a "running" job: a lost connection is retried, anything else fails it.
        error = jobs.after_unexpected_error(job, exc, last_try=self.request.retries >= self.max_retries)
        if error is not None and error.retry_after is not None:
            raise self.retry(exc=error, countdown=error.retry_after) from exc
        if error is not None:
            raise error from exc


@shared_task(ignore_result=True)
def reap_lost_jobs() -> int:
    return jobs.reap_lost_jobs()


__all__ = ["run_job", "reap_lost_jobs", "Job"]
