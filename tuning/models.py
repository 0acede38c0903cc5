"""The evidence of tuning work, kept per engagement: accuracy comparisons (msprobe / msaccucmp)
with their rows, profiler summaries, MindIE service configurations (versions per model),
ATC conversions, and what links a tuning measure to its evidence.

Every record says where it came from: an upload (file name and SHA-256) or a job on the
customer's host (the job, its log and the parser)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.models import BenchmarkRun, TuningMeasure
from engagements.models import Engagement, MigrationModel, Stage


class Source(models.TextChoices):
    UPLOAD = "upload", _("Upload")
    JOB = "job", _("Job on the host")


class Evidence(models.Model):
    """What every evidence record holds: whose, from where, for which model and stage."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    model = models.ForeignKey(MigrationModel, verbose_name=_("model"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    job = models.OneToOneField("workers.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.UPLOAD)
    label = models.CharField(_("label"), max_length=200, blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or self.filename or f"#{self.pk}"


class AccuracyComparison(Evidence):
    """One msprobe ``compare`` (or legacy msaccucmp) result: counts per result, the first
    mismatching operator in execution order and the overflows; its rows are ``AccuracyRow``."""

    format = models.CharField(_("format"), max_length=30, blank=True)  # msprobe | msprobe_legacy | msaccucmp | ...
    mode = models.CharField(_("mode"), max_length=20, blank=True)  # tensor | statistics | md5 | ...
    rows = models.PositiveIntegerField(_("rows"), default=0)
    counts = models.JSONField(default=dict)  # result -> rows
    overflows = models.PositiveIntegerField(default=0)
    overflow_checked = models.BooleanField(default=False)
    first_mismatch = models.JSONField(null=True, blank=True)  # the first error row in execution order, or None
    first_warning = models.JSONField(null=True, blank=True)
    first_overflow = models.JSONField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True)  # the parser's warnings

    class Meta(Evidence.Meta):
        verbose_name = _("accuracy comparison")
        verbose_name_plural = _("accuracy comparisons")

    def count(self, result: str) -> int:
        return int((self.counts or {}).get(result, 0))

    @property
    def passed(self) -> int:
        return self.count("pass")

    @property
    def mismatches(self) -> int:
        return self.count("warning") + self.count("error")

    @property
    def pass_share(self) -> float | None:
        """Of the rows judged pass, warning or error, the share that passed (0..1)."""
        judged = self.passed + self.mismatches
        return self.passed / judged if judged else None

    @property
    def first_mismatch_op(self) -> str:
        return (self.first_mismatch or {}).get("op") or (self.first_mismatch or {}).get("name") or ""


class AccuracyRow(models.Model):
    """One compared API or operator of an accuracy comparison, in execution order."""

    class Result(models.TextChoices):
        PASS = "pass", _("pass")
        WARNING = "warning", _("warning")
        ERROR = "error", _("error")
        UNMATCHED = "unmatched", _("no bench data")
        SKIPPED = "skipped", _("skipped")
        UNKNOWN = "unknown", _("not judged")

    MISMATCHES = (Result.WARNING, Result.ERROR)

    # No index of its own ((comparison, position) below serves it) and no database-level foreign
    # key: a foreign-key trigger fires per row, and a comparison's rows are written only by the
    # import's COPY, in the transaction that creates the comparison (Django's CASCADE still deletes
    # them with it). Every index and trigger costs a million-row import.
    comparison = models.ForeignKey(AccuracyComparison, on_delete=models.CASCADE, related_name="row_set",
                                   db_index=False, db_constraint=False)
    position = models.PositiveIntegerField()  # execution order (the file's order, or msaccucmp's Index)
    npu_name = models.TextField()
    op = models.TextField(blank=True)  # the API or operator the tensor belongs to
    bench_name = models.TextField(blank=True)
    npu_dtype = models.CharField(max_length=40, blank=True)
    npu_shape = models.CharField(max_length=200, blank=True)
    cosine = models.FloatField(null=True)
    max_abs_err = models.FloatField(null=True)
    max_rel_err = models.FloatField(null=True)
    mean_rel_err = models.FloatField(null=True)
    one_thousandth = models.FloatField(null=True)
    five_thousandths = models.FloatField(null=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.UNKNOWN)
    raw_result = models.CharField(max_length=40, blank=True)
    overflow = models.BooleanField(null=True)  # None: not checked
    message = models.TextField(blank=True)
    stack = models.TextField(blank=True)

    class Meta:
        ordering = ["comparison", "position"]
        indexes = [models.Index(fields=["comparison", "position"], name="tuning_acc_row_position"),
                   models.Index(fields=["comparison", "result", "position"], name="tuning_acc_row_result")]

    def __str__(self) -> str:
        return self.npu_name


class Profile(Evidence):
    """A profiler run summarised: the step time split, the top kernels, the bottleneck, MFU when
    the model's FLOPs per step are given, and across ranks the slow rank and stage."""

    summary = models.JSONField(default=dict)  # assessments.parsers.profiler.ProfileSummary.as_dict
    kernels = models.JSONField(default=dict, blank=True)  # KernelSummary.as_dict (top N only)
    cluster = models.JSONField(default=dict, blank=True)  # ClusterAnalysis.as_dict
    files = models.JSONField(default=list, blank=True)  # [{name, size, sha256}]
    flops_per_step = models.FloatField(_("FLOPs per step"), null=True, blank=True)
    peak_tflops = models.FloatField(_("peak TFLOPS per device"), null=True, blank=True)
    devices = models.PositiveIntegerField(_("devices"), default=1)
    notes = models.JSONField(default=list, blank=True)

    class Meta(Evidence.Meta):
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    @property
    def step_time_ms(self) -> float | None:
        value = self.summary.get("step_time_us")
        return value / 1000 if value is not None else None


class ServiceConfig(Evidence):
    """A MindIE service ``config.json``, kept as numbered versions per model."""

    version = models.PositiveIntegerField(_("version"))
    config = models.JSONField(default=dict)  # the file as parsed
    fields = models.JSONField(default=dict)  # the settings that matter, flattened (mindie_config parser)

    class Meta(Evidence.Meta):
        verbose_name = _("MindIE configuration")
        verbose_name_plural = _("MindIE configurations")
        ordering = ["model", "-version"]
        constraints = [models.UniqueConstraint(fields=["engagement", "model", "version"], nulls_distinct=False,
                                               name="tuning_one_config_version_per_model")]

    def __str__(self) -> str:
        return f"v{self.version}" + (f" · {self.label}" if self.label else "")


class BenchmarkConfig(models.Model):
    """Which service configuration an inference benchmark ran under."""

    benchmark = models.OneToOneField(BenchmarkRun, on_delete=models.CASCADE, related_name="service_config_link")
    config = models.ForeignKey(ServiceConfig, on_delete=models.CASCADE, related_name="benchmarks")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Benchmark {self.benchmark_id} under config {self.config_id}"


class AtcConversion(Evidence):
    """An ATC model conversion (the offline route): its command and what it made or why not."""

    command = models.TextField(_("command"), blank=True)
    input_model = models.CharField(_("input model"), max_length=500, blank=True)
    framework = models.CharField(_("framework"), max_length=40, blank=True)
    output = models.CharField(_("output .om"), max_length=500, blank=True)
    soc_version = models.CharField(_("SoC version"), max_length=60, blank=True)
    input_shape = models.CharField(_("input shapes"), max_length=1000, blank=True)
    success = models.BooleanField(_("succeeded"), null=True)
    codes = models.JSONField(default=list, blank=True)  # [{code, level, message}]
    details = models.JSONField(default=dict, blank=True)  # the parser's other fields

    class Meta(Evidence.Meta):
        verbose_name = _("ATC conversion")
        verbose_name_plural = _("ATC conversions")


class MeasureEvidence(models.Model):
    """The evidence of a tuning measure, and the figure computed from it.

    The measure keeps its before/after figures (``TuningMeasure.before``/``after``, its gain);
    this record says where they come from and recomputes them from the evidence."""

    class Kind(models.TextChoices):
        PROFILE_PAIR = "profile_pair", _("Two profiles (before, after)")
        BENCHMARK_PAIR = "benchmark_pair", _("Two inference benchmarks (before, after)")
        ACCURACY = "accuracy", _("Accuracy comparisons")

    measure = models.OneToOneField(TuningMeasure, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("evidence"), max_length=20, choices=Kind.choices)
    figure = models.CharField(_("figure"), max_length=40)
    profile_before = models.ForeignKey(Profile, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    profile_after = models.ForeignKey(Profile, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    benchmark_before = models.ForeignKey(BenchmarkRun, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    benchmark_after = models.ForeignKey(BenchmarkRun, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    accuracy_before = models.ForeignKey(AccuracyComparison, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    accuracy_after = models.ForeignKey(AccuracyComparison, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    details = models.JSONField(default=dict, blank=True)  # the comparison the figure came from

    class Meta:
        verbose_name = _("evidence of a tuning measure")
        verbose_name_plural = _("evidence of tuning measures")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for measure {self.measure_id}"
