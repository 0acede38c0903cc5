"""Celery tasks of reports: thin, take primary keys, call one service function."""

from celery import shared_task

from . import quotes, services


@shared_task(acks_late=True, ignore_result=True)
def render_report(version_id: int) -> None:
    services.render_version(version_id)


@shared_task(ignore_result=True)
def expire_quotes() -> int:
    return quotes.expire_overdue_quotes()


@shared_task(ignore_result=True)
def fail_stale_renders() -> int:
    return services.fail_stale_renders()
