from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    """What waits for each user (the "waiting for me" page) and the e-mails that tell them."""

    name = "inbox"
    verbose_name = _("Inbox")
