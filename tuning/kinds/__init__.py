"""The tuning job kinds, one module each. Importing this package registers them all
(``TuningConfig.ready``). To add a kind, add a module here and import it below."""

from . import accuracy_compare, atc_convert, mindie_config_collect, profiler_collect

__all__ = ["accuracy_compare", "atc_convert", "mindie_config_collect", "profiler_collect"]
