"""The password typed again before a decision (a report's sign-off or rejection, a quote's
acceptance or rejection), with an attempt limit per user.

After ``REAUTH_MAX_FAILURES`` wrong passwords within ``REAUTH_WINDOW_SECONDS`` the user is locked
out of these re-checks for ``REAUTH_WINDOW_SECONDS``: every attempt is refused, even with the
right password, until the window passes or an administrator unlocks them
(``manage.py reauth_unlock``). A right password before the limit starts the count again.
Each failure, lockout, refusal and unlock is a ``ReauthEvent`` row (append-only), the audit
trail; a lockout is also logged.

This is separate from django-axes, which limits the login per username and IP address: a
decision is taken by a signed-in user, so the limit here is per user, whatever the address.

``check_password`` writes its events in its own transaction: call it before (outside) the
transaction of the decision, which rolls back when it refuses.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import ReauthEvent

logger = logging.getLogger(__name__)

REPORT_DECISION = "report_decision"
QUOTE_DECISION = "quote_decision"
# Events that start the count of failures again.
_RESETS = (ReauthEvent.Kind.LOCKED, ReauthEvent.Kind.CLEARED, ReauthEvent.Kind.UNLOCKED)


def max_failures() -> int:
    return int(getattr(settings, "REAUTH_MAX_FAILURES", 5))


def window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "REAUTH_WINDOW_SECONDS", 15 * 60)))


def _now() -> datetime:
    return timezone.now()


def locked_until(user, now: datetime | None = None) -> datetime | None:
    """When the user's lockout ends, or None when they are not locked out."""
    now = now or _now()
    lock = (ReauthEvent.objects.filter(user=user, kind=ReauthEvent.Kind.LOCKED, at__gt=now - window())
            .order_by("-pk").first())
    if lock is None or ReauthEvent.objects.filter(user=user, kind=ReauthEvent.Kind.UNLOCKED, pk__gt=lock.pk).exists():
        return None
    return lock.at + window()


def failures(user, now: datetime | None = None) -> int:
    """Wrong passwords within the window since the last lockout, right password or unlock."""
    now = now or _now()
    rows = ReauthEvent.objects.filter(user=user, kind=ReauthEvent.Kind.FAILED, at__gt=now - window())
    reset = ReauthEvent.objects.filter(user=user, kind__in=_RESETS).order_by("-pk").first()
    return rows.filter(pk__gt=reset.pk).count() if reset else rows.count()


def _locked_message(until: datetime) -> str:
    return _("Too many wrong passwords: confirming with your password is locked until %(time)s. "
             "Try again then, or ask an administrator to unlock it.") % {
        "time": formats.date_format(timezone.localtime(until), "DATETIME_FORMAT")}


def check_password(user, password: str, *, purpose: str, request_meta: dict | None = None) -> None:
    """Nothing when ``password`` is the user's and they are not locked out; otherwise a
    ``ValidationError`` on ``password`` (the wrong password, or the lockout and until when)."""
    meta = request_meta or {}
    client = {"purpose": purpose, "ip": meta.get("REMOTE_ADDR") or None,
              "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:500]}
    with transaction.atomic():
        # One user's re-checks one at a time: two wrong passwords at once both count.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        now = _now()
        until = locked_until(user, now)
        if until is not None:
            ReauthEvent.objects.create(user=user, kind=ReauthEvent.Kind.REFUSED, at=now, **client)
            error = _locked_message(until)
        elif user.check_password(password or ""):
            if failures(user, now):
                ReauthEvent.objects.create(user=user, kind=ReauthEvent.Kind.CLEARED, at=now, **client)
            return
        else:
            ReauthEvent.objects.create(user=user, kind=ReauthEvent.Kind.FAILED, at=now, **client)
            if failures(user, now) >= max_failures():
                ReauthEvent.objects.create(user=user, kind=ReauthEvent.Kind.LOCKED, at=now, **client)
                logger.warning("Re-authentication locked for user %s (%s) after %s wrong passwords", user.pk,
                               purpose, max_failures())
                error = _locked_message(now + window())
            else:
                error = _("The password is not correct.")
    raise ValidationError({"password": error})


def unlock(user, actor=None) -> bool:
    """An administrator lifts the user's lockout (and their count of failures). True when they were locked."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        was_locked = locked_until(user) is not None
        ReauthEvent.objects.create(user=user, kind=ReauthEvent.Kind.UNLOCKED, at=_now(), actor=actor)
    logger.warning("Re-authentication unlocked for user %s by %s", user.pk, getattr(actor, "pk", None))
    return was_locked
