from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementsConfig(AppConfig):
    """Customers, engagements, their seven stages, work logs, risks and the audit trail."""

    name = "engagements"
    verbose_name = _("Engagements")

    def ready(self) -> None:
        from . import access  # noqa: F401  (registers the access policies)
