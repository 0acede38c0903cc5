"""What the jobs found, kept per engagement: migration analyses and their findings, loss
curves, benchmark and evaluation results. Each record points at the job (or upload) it came
from, so every figure traces back to its source."""

import hashlib
import uuid
import zlib
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.units import UNIT_CHOICES
from engagements.models import Engagement, MigrationModel, Stage


class MigrationAnalysis(models.Model):
    """A migration analysis of an engagement's training code (the portal's scanner, and the official
    analysis tool where the host has it): its findings and the estimated effort in person-days."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="analyses")
    stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.OneToOneField("workers.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="analysis")
    code_dir = models.CharField(_("code directory"), max_length=500)
    files_scanned = models.PositiveIntegerField(default=0)
    effort_person_days = models.DecimalField(_("estimated effort (person-days)"), max_digits=7, decimal_places=1,
                                             default=0)
    effort_basis = models.TextField(blank=True)
    official_tool_ran = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("migration analysis")
        verbose_name_plural = _("migration analyses")

    def __str__(self) -> str:
        return f"{self.engagement.code} {self.code_dir}"


class Finding(models.Model):
    """One thing a migration analysis found in the code (an unsupported API, a third-party library, a
    custom CUDA operator, ...): where, how it is fixed, and whether that is done."""

    class Source(models.TextChoices):
        SCANNER = "scanner", _("Portal scanner")
        OFFICIAL = "official", _("Official analysis tool")

    class Fix(models.TextChoices):
        AUTO = "auto", _("Automatic migration covers it")
        MANUAL = "manual", _("Change by hand")
        REPLACE_LIBRARY = "replace_library", _("Replace the library")
        PORT_CUSTOM_OP = "port_custom_op", _("Port the custom CUDA operator")
        REVIEW = "review", _("Review")

    class Resolution(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Fixed")
        WORKAROUND = "workaround", _("Worked around")
        NOT_NEEDED = "not_needed", _("Not needed")
        WONT_FIX = "wont_fix", _("Won't fix")

    analysis = models.ForeignKey(MigrationAnalysis, on_delete=models.CASCADE, related_name="findings")
    source = models.CharField(max_length=20, choices=Source.choices)
    category = models.CharField(_("category"), max_length=40)
    fix = models.CharField(_("fix"), max_length=20, choices=Fix.choices)
    file = models.CharField(_("file"), max_length=500, blank=True)
    line = models.PositiveIntegerField(_("line"), null=True, blank=True)
    api = models.CharField(_("API"), max_length=300, blank=True)
    message = models.TextField(blank=True)
    message_zh = models.TextField(blank=True)
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices, default=Resolution.OPEN)
    resolution_note = models.TextField(_("how it was handled"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The same finding in a re-run analysis, whatever its line (``assessments.findings``).
    fingerprint = models.CharField(max_length=40, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["file", "line", "id"]
        indexes = [models.Index(fields=["analysis", "category"]), models.Index(fields=["analysis", "fix"])]

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.api}"


class LossCurve(models.Model):
    """A loss curve, stored compactly: step deltas (int64) and losses (float64) as
    zlib-compressed little-endian arrays, so a million-step curve is one row of about 8 MB."""

    class Platform(models.TextChoices):
        NPU = "npu", _("NPU (migrated)")
        GPU = "gpu", _("GPU (reference)")

    class Source(models.TextChoices):
        JOB = "job", _("Training job")
        UPLOAD = "upload", _("Uploaded log")
        API = "api", _("Pushed through the API")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="loss_curves")
    model = models.ForeignKey(MigrationModel, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="loss_curves")
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    job = models.OneToOneField("workers.Job", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="loss_curve")
    label = models.CharField(_("label"), max_length=200, blank=True)
    log_format = models.CharField(max_length=40)
    loss_key = models.CharField(max_length=60, blank=True)
    points = models.PositiveIntegerField(default=0)
    first_step = models.BigIntegerField(null=True)
    last_step = models.BigIntegerField(null=True)
    steps_blob = models.BinaryField()
    losses_blob = models.BinaryField()
    raw_sha256 = models.CharField(max_length=64, blank=True)
    raw_log = models.FileField(upload_to="curves/%Y/%m/", blank=True)
    throughput = models.JSONField(default=dict, blank=True)
    checkpoints = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.shown_label}"

    @property
    def shown_label(self) -> str:
        """A job's curve is named after its job in the reader's language (its stored label is
        in the language of the worker that recorded it); an uploaded one by its label."""
        if self.job_id:
            return f"{self.job.get_kind_display()} #{self.job_id}"
        return self.label or str(self.pk)

    def set_series(self, steps, losses) -> None:
        steps = np.asarray(steps, dtype="<i8")
        losses = np.asarray(losses, dtype="<f8")
        if steps.shape != losses.shape:
            raise ValueError("steps and losses differ in length")
        deltas = np.diff(steps, prepend=np.int64(0)).astype("<i8")  # mostly equal: compresses to almost nothing
        self.steps_blob = zlib.compress(deltas.tobytes(), 6)
        self.losses_blob = zlib.compress(losses.tobytes(), 6)
        self.points = int(steps.size)
        self.first_step = int(steps[0]) if steps.size else None
        self.last_step = int(steps[-1]) if steps.size else None

    def series(self) -> tuple[np.ndarray, np.ndarray]:
        steps = np.cumsum(np.frombuffer(zlib.decompress(bytes(self.steps_blob)), dtype="<i8"))
        losses = np.frombuffer(zlib.decompress(bytes(self.losses_blob)), dtype="<f8")
        return steps, losses

    @property
    def first_nan_step(self) -> int | None:
        steps, losses = self.series()
        bad = ~np.isfinite(losses)
        return int(steps[np.argmax(bad)]) if bad.any() else None

    @property
    def loss_changed(self) -> bool:
        _steps, losses = self.series()
        finite = losses[np.isfinite(losses)]
        return finite.size >= 2 and bool(finite[0] != finite[-1])

    @staticmethod
    def sha256(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()


class BenchmarkRun(models.Model):
    """The figures of one inference benchmark job (MindIE ``benchmark`` tables), compared with the
    engagement's performance baselines in acceptance."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="benchmark_runs")
    model = models.ForeignKey(MigrationModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.OneToOneField("workers.Job", on_delete=models.CASCADE, related_name="benchmark_run")
    summary = models.JSONField(default=dict)
    performance = models.JSONField(default=dict)
    common = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Benchmark run {self.pk} (job {self.job_id})"


class EvaluationRun(models.Model):
    """The score one evaluation job measured on a data set, compared with the pre-migration score
    (``ScoreBaseline``) in acceptance."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="evaluation_runs")
    model = models.ForeignKey(MigrationModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    job = models.OneToOneField("workers.Job", on_delete=models.CASCADE, related_name="evaluation_run")
    dataset = models.CharField(_("data set"), max_length=200, blank=True)
    score = models.FloatField(_("score"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dataset or 'Evaluation'}: {self.score}"


class ScoreBaseline(models.Model):
    """The pre-migration evaluation score on a data set, that the migrated model must match."""

    class Mode(models.TextChoices):
        RELATIVE = "relative", _("Relative difference (%)")
        ABSOLUTE = "absolute", _("Absolute points")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better (only a drop counts)")
        LOWER = "lower", _("Lower is better (only a rise counts)")
        TWO_SIDED = "two_sided", _("Either way counts")

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="score_baselines")
    model = models.ForeignKey(MigrationModel, verbose_name=_("model"), on_delete=models.CASCADE, null=True,
                              blank=True, related_name="score_baselines")
    dataset = models.CharField(_("data set"), max_length=200)
    score = models.FloatField(_("pre-migration score"))
    mode = models.CharField(_("compare as"), max_length=10, choices=Mode.choices, default=Mode.RELATIVE)
    threshold = models.DecimalField(_("threshold"), max_digits=6, decimal_places=3, default=Decimal("2.0"),
                                    validators=[MinValueValidator(Decimal("0"))],
                                    help_text=_("In per cent (relative) or in points (absolute)."))
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)

    class Meta:
        ordering = ["dataset"]
        constraints = [models.UniqueConstraint(fields=["engagement", "model", "dataset"], nulls_distinct=False,
                                               name="one_score_baseline_per_model_dataset")]

    def __str__(self) -> str:
        return f"{self.dataset}: {self.score}"


class CurvePair(models.Model):
    """A reference (GPU) curve and the NPU curve it is compared with, for acceptance."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="curve_pairs")
    model = models.ForeignKey(MigrationModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reference = models.ForeignKey(LossCurve, on_delete=models.PROTECT, related_name="+")
    npu = models.ForeignKey(LossCurve, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["reference", "npu"], name="unique_curve_pair")]

    def __str__(self) -> str:
        return f"Curve {self.reference_id} vs curve {self.npu_id}"


class TuningMeasure(models.Model):
    """A tuning measure a consultant took on a stage (what was changed, for which model) and its
    effect: the figure before and after, in one unit. Listed in the acceptance report."""

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="tuning_measures")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="tuning_measures")
    model = models.ForeignKey(MigrationModel, verbose_name=_("model"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="tuning_measures")
    change = models.TextField(_("what was changed"))
    metric = models.CharField(_("figure"), max_length=100, blank=True,
                              help_text=_("e.g. samples/s, first-token latency"))
    unit = models.CharField(_("unit"), max_length=30, blank=True, choices=UNIT_CHOICES)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    before = models.FloatField(_("before"), null=True, blank=True)
    after = models.FloatField(_("after"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage__order", "created_at"]
        verbose_name = _("tuning measure")
        verbose_name_plural = _("tuning measures")

    def __str__(self) -> str:
        return self.change[:80]

    @property
    def gain(self) -> float | None:
        """The improvement as a fraction (positive is better), when both figures are there."""
        if self.before in (None, 0) or self.after is None:
            return None
        change = (self.after - self.before) / abs(self.before)
        return change if self.direction == self.Direction.HIGHER else -change
