"""The job kinds, one module each. Importing this package registers them all
(``AssessmentsConfig.ready``). To add a kind, add a module here and import it below."""

from . import disk_check, env_probe, evaluation, inference_benchmark, migration_analysis, training_run

__all__ = ["disk_check", "env_probe", "evaluation", "inference_benchmark", "migration_analysis", "training_run"]
