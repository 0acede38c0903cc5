from django.apps import AppConfig


class WorkersConfig(AppConfig):
    """Customers' Ascend hosts, SSH, and jobs: runs remote work and hands back raw results."""

    name = "workers"

    def ready(self) -> None:
        from . import access  # noqa: F401  (registers the access policies)
