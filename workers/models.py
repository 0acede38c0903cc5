"""Customers' Ascend hosts and the jobs the portal runs on them over SSH."""

import uuid

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.models import Customer, Engagement, MigrationModel, Stage

from . import kinds, secrets
from .errors import Text, localize

secrets.register("workers.AscendHost", "secret")

hostname_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9.\-:]*$", _("Enter a host name or an IP address (letters, digits, dots, dashes, colons).")
)
username_validator = RegexValidator(r"^[a-z_][a-z0-9_.\-]*$", _("Enter a Unix user name."))
path_validator = RegexValidator(r"^[^\x00\n\r]*$", _("A path cannot hold control characters."))


class AscendHost(models.Model):
    """A customer's Ascend server, reached over SSH with a pinned host key."""

    class AuthMethod(models.TextChoices):
        KEY = "key", _("Private key")
        PASSWORD = "password", _("Password")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="hosts")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=255, validators=[hostname_validator])
    port = models.PositiveIntegerField(_("port"), default=22,
                                       validators=[MinValueValidator(1), MaxValueValidator(65535)])
    username = models.CharField(_("user"), max_length=64, validators=[username_validator])
    auth_method = models.CharField(_("authentication"), max_length=10, choices=AuthMethod.choices)
    # Fernet token of the private key or password; never shown again, never logged.
    secret = models.TextField(editable=False)
    host_key_type = models.CharField(max_length=40, blank=True, editable=False)
    host_key_base64 = models.TextField(blank=True, editable=False)
    host_key_fingerprint = models.CharField(_("host key fingerprint"), max_length=100, blank=True, editable=False)
    host_key_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    host_key_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    ascend_home = models.CharField(_("Ascend install path"), max_length=255, default="/usr/local/Ascend",
                                   validators=[path_validator])
    tool_path = models.CharField(_("extra PATH"), max_length=500, blank=True, validators=[path_validator],
                                 help_text=_("Directories put in front of PATH for jobs, separated by colons."))
    work_root = models.CharField(_("job directory"), max_length=255, default=".ascend-portal/runs",
                                 validators=[path_validator],
                                 help_text=_("Where job folders are made; relative to the user's home."))
    last_check = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "name"]
        verbose_name = _("Ascend host")
        verbose_name_plural = _("Ascend hosts")
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="unique_host_name_per_customer")]

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.address}:{self.port})"

    def validate_constraints(self, exclude=None) -> None:
        """As Django's, but a name the customer already uses is an error on the name field
        (Django reports a two-field unique constraint above the form)."""
        try:
            super().validate_constraints(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            clashes = [error for error in general if getattr(error, "code", "") == "unique_together"]
            if clashes:
                errors.setdefault("name", []).extend(clashes)
            if len(clashes) < len(general):
                errors[NON_FIELD_ERRORS] = [error for error in general if error not in clashes]
            raise ValidationError(errors) from None

    @property
    def last_check_message(self) -> str:
        return localize(self.last_check.get("detail"), self.last_check.get("message", ""))

    @property
    def host_key_pinned(self) -> bool:
        return bool(self.host_key_base64 and self.host_key_approved_at)


class Job(models.Model):
    """A job on a host, of one of the registered kinds (``workers.kinds``).

    Allowed status moves are in ``TRANSITIONS``; ``workers.jobs`` changes the status, through
    ``common.states.move``, which records a ``JobTransition`` (``record_transition``) for every move.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        LOST = "lost", _("Lost")

    class Failure(models.TextChoices):
        CONNECTION = "connection", _("Connection")
        AUTHENTICATION = "authentication", _("Authentication")
        HOST_KEY = "host_key", _("Host key")
        COMMAND = "command", _("Command")
        TIMEOUT = "timeout", _("Timeout")
        PARSE = "parse", _("Parse")
        CANCELLED = "cancelled", _("Cancelled")
        WORKER_LOST = "worker_lost", _("Worker lost")

    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.CANCELLED, Status.FAILED, Status.LOST},
        Status.RUNNING: {Status.QUEUED, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.LOST},
    }
    # What a running or queued job is doing now (the stored value is the key).
    PHASES = {
        "launching": _("launching"),
        "running": _("running"),
        "collecting": _("collecting results"),
        "waiting for the host": _("waiting for the host"),
        "re-attaching": _("re-attaching"),
        "retrying": _("retrying"),
    }
    FINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.LOST}

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=30, choices=kinds.choices)
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="jobs")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="jobs")
    # The model under migration whose evidence the job produces (curves, scores, benchmarks).
    model = models.ForeignKey(MigrationModel, verbose_name=_("model"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    host = models.ForeignKey(AscendHost, on_delete=models.PROTECT, related_name="jobs")
    parameters = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    phase = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    failure_message = models.TextField(blank=True)  # in English; failure_detail renders it in the reader's language
    failure_detail = models.JSONField(default=dict, blank=True)
    remote_dir = models.CharField(max_length=500, blank=True)
    log_bytes = models.PositiveBigIntegerField(default=0)
    remote_offset = models.PositiveBigIntegerField(default=0)
    output_tail = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [models.Index(fields=["host", "status"]), models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.host.name} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None) -> "JobTransition":
        """A ``JobTransition`` (a move, or with from == to a note); ``reason`` is a ``Text``, stored
        in English and as msgid and parameters for the reader's language, or a plain string."""
        detail = reason.as_json() if isinstance(reason, Text) else {}
        return JobTransition.objects.create(job=self, from_status=from_status, to_status=to_status, actor=actor,
                                            reason=str(reason or ""), reason_detail=detail,
                                            created_at=at or timezone.now())

    @property
    def job_kind(self) -> "kinds.JobKind":
        return kinds.get(self.kind)

    @property
    def result_template(self) -> str:
        """The template of this kind's result (the job page asks the kind, never branches on it)."""
        return self.job_kind.result_template

    @property
    def failure_text(self) -> str:
        return localize(self.failure_detail, self.failure_message)

    @property
    def phase_display(self) -> str:
        return str(self.PHASES.get(self.phase, self.phase))

    def elapsed_seconds(self) -> int:
        if not self.started_at:
            return 0
        end = self.finished_at or timezone.now()
        return int((end - self.started_at).total_seconds())


class JobTransition(models.Model):
    """A recorded status change of a job (who, when, from, to, why), or a note (from == to)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=Job.Status.choices)
    to_status = models.CharField(max_length=20, choices=Job.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(blank=True)  # in English; reason_detail renders it in the reader's language
    reason_detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"job {self.job_id}: {self.from_status} → {self.to_status}"

    @property
    def reason_text(self) -> str:
        return localize(self.reason_detail, self.reason)


def job_file_path(instance: "JobFile", filename: str) -> str:
    return f"jobs/{instance.job.uuid}/{uuid.uuid4()}"


class JobFile(models.Model):
    """A result file fetched from the job's remote directory (or the job's full log)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to=job_file_path)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (job {self.job_id})"


class EnvSnapshot(models.Model):
    """What an environment probe found on a host: NPUs, versions, processes."""

    host = models.ForeignKey(AscendHost, on_delete=models.CASCADE, related_name="snapshots")
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="snapshot")
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"host {self.host_id} at {self.created_at:%Y-%m-%d %H:%M}"


class JobTemplate(models.Model):
    """A job's settings kept under a name for one engagement (kind, host, model, parameters), so a
    consultant launches the same job again in one click. Launching goes through the same checks
    as the job form (``workers.jobs.check_start_job`` and the kind's ``clean``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="job_templates")
    # The stage its jobs are filed under (the stage it was saved from).
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="job_templates")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=kinds.choices)
    host = models.ForeignKey(AscendHost, verbose_name=_("host"), on_delete=models.CASCADE,
                             related_name="job_templates")
    model = models.ForeignKey(MigrationModel, verbose_name=_("model"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    # The kind's form values, as its ``clean`` checked them (what the form shows, nothing derived).
    parameters = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("job template")
        verbose_name_plural = _("job templates")
        constraints = [models.UniqueConstraint(fields=["engagement", "name"], name="unique_job_template_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def job_kind(self) -> "kinds.JobKind":
        return kinds.get(self.kind)
