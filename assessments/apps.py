from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    """What the jobs' results mean: the job kinds, parsers, analyses, loss curves and the
    acceptance comparisons."""

    name = "assessments"

    def ready(self) -> None:
        from . import access, kinds  # noqa: F401  (registers the access policies and every job kind)
