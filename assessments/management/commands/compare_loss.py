"""Compare an NPU training log's loss curve with a reference (GPU) log, from the command line."""

import re
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.comparison import FAIL, PASS, compare_loss
from assessments.parsers.training_log import parse_training_log


class Command(BaseCommand):
    help = ("Compare two training logs' loss curves: mean relative error of the NPU curve against the "
            "reference after the warm-up. Exits 0 on PASS, 1 on FAIL (including NaN or inf in a curve), 2 when "
            "the curves cannot be compared or the input is unusable.")

    def add_arguments(self, parser):
        parser.add_argument("reference", type=Path, help="the reference (GPU) training log")
        parser.add_argument("npu", type=Path, help="the migrated (NPU) training log")
        parser.add_argument("--skip", type=int, default=20, help="warm-up steps left out (default 20)")
        parser.add_argument("--threshold", type=float, default=0.02, help="PASS below this MRE (default 0.02)")
        parser.add_argument("--pattern", default=None, help="regular expression for the loss in other log formats")

    def handle(self, *args, reference, npu, skip, threshold, pattern, **options):
        if skip < 0 or not 0 < threshold < 1:
            raise CommandError("--skip must be 0 or more and --threshold between 0 and 1 (0.02 means 2%).",
                               returncode=2)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise CommandError(f"--pattern is not a valid regular expression: {exc}", returncode=2) from None
        curves = []
        for label, path in (("reference", reference), ("NPU", npu)):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise CommandError(f"Cannot read the {label} log {path}: {exc.strerror}", returncode=2) from None
            log = parse_training_log(text, pattern=pattern)
            if not log.steps:
                raise CommandError(f"No loss values were found in the {label} log {path}: give --pattern.",
                                   returncode=2)
            self.stdout.write(f"{label} log: {path} ({log.format}, {len(log.steps)} points, "
                              f"steps {log.steps[0]}-{log.steps[-1]})")
            curves.append(log)
        with translation.override("en"):  # the command speaks English throughout
            result = compare_loss(curves[0].steps, curves[0].losses, curves[1].steps, curves[1].losses,
                                  skip=skip, threshold=threshold)
        self.stdout.write(f"formula: {result.formula}")
        self.stdout.write(f"skip: {skip}  threshold: {threshold:.2%}  compared steps: {result.compared_points}"
                          + (f" ({result.first_step}-{result.last_step})" if result.compared_points else ""))
        if result.interval_note:
            self.stdout.write(result.interval_note)
        if result.mean_relative_error is not None:
            self.stdout.write(f"mean relative error: {result.mean_relative_error:.3%}")
            self.stdout.write(f"max relative error: {result.max_relative_error:.3%} at step "
                              f"{result.max_relative_error_step}")
            self.stdout.write(f"mean absolute error: {result.mean_absolute_error:.6g}")
        if result.reason:
            self.stdout.write(f"reason: {result.reason}")
        self.stdout.write(f"verdict: {result.verdict.upper()}")
        if result.verdict != PASS:
            sys.exit(1 if result.verdict == FAIL else 2)
