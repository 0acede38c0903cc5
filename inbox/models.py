"""A user's notification setting, and which waiting items they were already told about."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationSetting(models.Model):
    class Frequency(models.TextChoices):
        IMMEDIATELY = "immediately", _("Immediately, one e-mail per item")
        DAILY = "daily", _("In a daily digest")
        OFF = "off", _("Off")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_setting")
    frequency = models.CharField(_("e-mail notifications"), max_length=20, choices=Frequency.choices,
                                 default=Frequency.IMMEDIATELY)

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"{self.user}: {self.frequency}"


class Notified(models.Model):
    """An item a user was e-mailed about (immediately or in a digest): never e-mailed twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notified_once_per_item")]

    def __str__(self) -> str:
        return f"{self.user}: {self.key}"
