"""E-mails about what waits for users: each item once, immediately or in a daily digest, in
the user's language, with links from ``PORTAL_URL``. The periodic tasks call these."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from engagements.models import User

from .items import Item, waiting_for
from .models import NotificationSetting, Notified

Frequency = NotificationSetting.Frequency


def frequency_of(user) -> str:
    setting = NotificationSetting.objects.filter(user=user).first()
    return setting.frequency if setting else Frequency.IMMEDIATELY


def check_set_frequency(user, frequency: str) -> NotificationSetting:
    setting, _created = NotificationSetting.objects.update_or_create(user=user, defaults={"frequency": frequency})
    setting.full_clean()
    return setting


def _new_items(user, items: list[Item]) -> list[Item]:
    told = set(Notified.objects.filter(user=user, key__in=[item.key for item in items]).values_list("key", flat=True))
    return [item for item in items if item.key not in told]


def _mark(user, items: list[Item]) -> list[Item]:
    """Record the items as told; only those this call recorded (a concurrent run may have)."""
    recorded = []
    for item in items:
        try:
            with transaction.atomic():
                Notified.objects.create(user=user, key=item.key)
        except IntegrityError:
            continue
        recorded.append(item)
    return recorded


def _users(frequency: str):
    users = User.objects.filter(is_active=True).exclude(email="")
    if frequency == Frequency.IMMEDIATELY:
        return users.exclude(notification_setting__frequency__in=[Frequency.DAILY, Frequency.OFF])
    return users.filter(notification_setting__frequency=frequency)


def _send(user, items: list[Item], digest: bool) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if digest:
            subject = _("%(n)s things wait for you in the Ascend migration portal") % {"n": len(items)}
        else:
            subject = items[0].text[:150]
        body = render_to_string("inbox/email.txt", {"user": user, "items": items, "portal": settings.PORTAL_URL,
                                                    "digest": digest})
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def notify_immediately() -> int:
    """One e-mail per new item for users who want them at once; returns how many were sent."""
    sent = 0
    for user in _users(Frequency.IMMEDIATELY):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            fresh = _new_items(user, waiting_for(user))
        for item in _mark(user, fresh):
            _send(user, [item], digest=False)
            sent += 1
    return sent


def send_digests() -> int:
    """One e-mail per user who wants a digest and has new items; returns how many were sent."""
    sent = 0
    for user in _users(Frequency.DAILY):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            fresh = _mark(user, _new_items(user, waiting_for(user)))
        if fresh:
            _send(user, fresh, digest=True)
            sent += 1
    return sent
