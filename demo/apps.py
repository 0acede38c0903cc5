from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: seed data, the development runner and the simulated Ascend host. The top
    layer: the only app that may import every other."""

    name = "demo"
