"""Celery tasks: thin, call one service function."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def notify_immediately() -> int:
    return services.notify_immediately()


@shared_task(ignore_result=True)
def send_digests() -> int:
    return services.send_digests()
