from django.apps import AppConfig


class TuningConfig(AppConfig):
    """The evidence of tuning work from the Ascend tools: msprobe accuracy comparisons, profiler
    summaries, MindIE service configurations, ATC conversions, and the evidence of each tuning
    measure (``assessments.TuningMeasure``) with the gain computed from it."""

    name = "tuning"

    def ready(self) -> None:
        from . import access, kinds  # noqa: F401  (registers the access policies and the job kinds)
