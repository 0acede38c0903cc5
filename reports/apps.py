from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The acceptance report and its sign-off, quotes, and the exports."""

    name = "reports"

    def ready(self) -> None:
        from . import access  # noqa: F401  (registers the access policies)
