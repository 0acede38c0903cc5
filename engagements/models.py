"""The engagement lifecycle: customers, users and their roles, engagements, the seven
stages with their checklists and transitions, work logs, risks and the audit trail.

Status fields change only through ``engagements.services``; every figure a screen shows
(progress, actual person-days, lateness) is computed from these rows, never typed in.
"""

import uuid
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from common.units import UNIT_CHOICES
from common.validators import DATE_BOUNDS


class Customer(models.Model):
    """A customer organisation: owns the model, the code, the data and the Ascend hosts."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal user with exactly one role; a customer contact is bound to one customer."""

    class Role(models.TextChoices):
        CONSULTANT = "consultant", _("Consultant")
        PM = "pm", _("Project manager")
        CUSTOMER = "customer", _("Customer contact")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CONSULTANT)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="customer", customer__isnull=False) | (~Q(role="customer") & Q(customer__isnull=True))
                ),
                name="customer_contact_has_customer",
                violation_error_message=_("A customer contact belongs to exactly one customer; staff to none."),
            )
        ]

    def __str__(self) -> str:
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"  # Chinese names: family name first, no space
        return self.get_full_name() or self.username

    @property
    def is_pm(self) -> bool:
        return self.role == self.Role.PM

    @property
    def is_consultant(self) -> bool:
        return self.role == self.Role.CONSULTANT

    @property
    def is_customer_contact(self) -> bool:
        return self.role == self.Role.CUSTOMER

    @property
    def is_provider_staff(self) -> bool:
        return self.role in (self.Role.PM, self.Role.CONSULTANT)


class StageKey(models.TextChoices):
    """The seven stages of every engagement, in order (DOMAIN.md, seed 001 chapter 3)."""

    SURVEY = "survey", _("Survey and assessment")
    PLAN = "plan", _("Migration plan design")
    ENV_SETUP = "env_setup", _("Environment setup")
    TRAINING_ADAPTATION = "training_adaptation", _("Training adaptation")
    TRAINING_TUNING = "training_tuning", _("Training tuning")
    INFERENCE_MIGRATION = "inference_migration", _("Inference migration")
    INFERENCE_TUNING = "inference_tuning", _("Inference tuning")


STAGE_ORDER = {key: index for index, key in enumerate(StageKey.values, start=1)}

# Dates out of order: the constraints' messages, which clean() puts on the end field.
END_BEFORE_START = _("The end date cannot be before the start date.")
PLANNED_END_BEFORE_START = _("The planned end cannot be before the planned start.")


def _choice_label(choices, value: str) -> str:
    """A choice's label in the active language, looked up alone (the value when unknown)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class EngagementQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EngagementQuerySet":
        """The single scoping rule. I can see an engagement when:

        - I am a PM (all engagements);
        - I am a consultant assigned to it;
        - I am a contact of its customer.
        Anyone else, including anonymous users and inactive accounts, sees nothing.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.role == User.Role.PM:
            return self
        if user.role == User.Role.CONSULTANT:
            return self.filter(consultants=user)
        if user.role == User.Role.CUSTOMER and user.customer_id:
            return self.filter(customer_id=user.customer_id)
        return self.none()

    def with_stages(self) -> "EngagementQuerySet":
        """Prefetch the stages in order with their figures (for progress without a query per row).

        They land in a plain list, ``prefetched_stages``, which ``ordered_stages()`` and
        ``progress()`` read: a list costs nothing per row, where a prefetched
        ``stages.all()`` clones the annotated stage queryset once for every engagement.
        """
        stages = Stage.objects.with_figures().order_by("order")
        return self.prefetch_related(models.Prefetch("stages", queryset=stages, to_attr="prefetched_stages"))

    def with_progress(self) -> "EngagementQuerySet":
        """Annotate ``progress_share``: ``Engagement.progress()`` computed by the database.

        For lists that need the progress but not the stages themselves (the API): no stage
        rows are fetched. The rule of ``progress()``, in double precision like Python's
        floats (only the order of the additions may differ); ``progress()`` returns this
        annotation when it is there.
        """
        weight = models.functions.Cast("planned_person_days", models.FloatField())
        done = Stage.progress_expression()
        counted = Stage.objects.filter(engagement=models.OuterRef("pk")).exclude(status=Stage.Status.SKIPPED)
        share = (
            counted.order_by().values("engagement")
            .annotate(weights=Sum(weight), weighted=Sum(weight * done), unweighted=models.Avg(done))
            .annotate(share=models.Case(
                models.When(weights__gt=0, then=models.F("weighted") / models.F("weights")),
                default=models.F("unweighted"),  # no stage has planned person-days: all weigh the same
                output_field=models.FloatField(),
            ))
            .values("share")
        )
        return self.annotate(progress_share=models.functions.Coalesce(
            models.Subquery(share, output_field=models.FloatField()), models.Value(0.0)))

    def with_figures(self) -> "EngagementQuerySet":
        """Annotate planned and logged person-days (``planned_pd``, ``logged_pd``) and late stages in one query."""
        today = timezone.localdate()
        # .order_by(): without it the models' default orderings join the engagement (and the
        # stage) into every subquery, for nothing.
        stages = Stage.objects.filter(engagement=models.OuterRef("pk")).order_by()
        planned = stages.values("engagement").annotate(total=Sum("planned_person_days")).values("total")
        late = stages.filter(Stage.late_q(today)).values("engagement").annotate(n=Count("pk")).values("n")
        return self.annotate(
            planned_pd=models.functions.Coalesce(
                models.Subquery(planned), Decimal("0"), output_field=models.DecimalField()
            ),
            logged_pd=WorkLog.objects.person_days_per("stage__engagement"),
            late_stages=models.functions.Coalesce(models.Subquery(late), 0),
        )


class Framework(models.TextChoices):
    """The framework a model runs on after migration (目标框架)."""

    PYTORCH = "pytorch", _("PyTorch + torch_npu")
    MINDSPORE = "mindspore", _("MindSpore")
    TENSORFLOW1 = "tensorflow1", _("TensorFlow 1.15 + TF Adapter")
    TENSORFLOW2 = "tensorflow2", _("TensorFlow 2.x + TF Adapter")
    MINDIE = "mindie", _("MindIE")
    MINDSPEED = "mindspeed", _("MindSpeed")


class InferenceRoute(models.TextChoices):
    """How a model is served on Ascend (推理路线)."""

    NONE = "", _("No inference")
    OFFLINE = "offline", _("Offline (ATC conversion to .om)")
    MINDIE_LLM = "mindie_llm", _("MindIE-LLM service")
    ONLINE = "online", _("Online (PyTorch + torch_npu)")


class Engagement(models.Model):
    """One customer engagement: a GPU-to-Ascend migration and tuning project."""

    Framework = Framework

    class Status(models.TextChoices):
        PLANNING = "planning", _("Planning")
        ACTIVE = "active", _("Active")
        ON_HOLD = "on_hold", _("On hold")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="engagements")
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Short unique code, e.g. CSI-2025-007."))
    title = models.CharField(_("title"), max_length=200)
    contract_number = models.CharField(_("contract number"), max_length=60, blank=True)
    scope_training_migration = models.BooleanField(_("training migration"), default=True)
    scope_inference_migration = models.BooleanField(_("inference migration"), default=True)
    scope_tuning = models.BooleanField(_("tuning"), default=True)
    source_platform = models.CharField(_("source platform"), max_length=120, help_text=_("e.g. 8 x A100"))
    target_platform = models.CharField(_("target platform"), max_length=120,
                                       help_text=_("e.g. Atlas 800T A2, 8 x 910B"))
    target_framework = models.CharField(_("target framework"), max_length=20, choices=Framework.choices)
    start_date = models.DateField(_("start date"), validators=DATE_BOUNDS)
    end_date = models.DateField(_("end date"), validators=DATE_BOUNDS)
    pm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project manager"),
        on_delete=models.PROTECT,
        related_name="managed_engagements",
        limit_choices_to={"role": User.Role.PM},
    )
    consultants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consultants"),
        related_name="engagements",
        blank=True,
        limit_choices_to={"role": User.Role.CONSULTANT},
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PLANNING)
    loss_mre_threshold = models.DecimalField(
        _("loss-curve mean relative error threshold"),
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.02"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("As a fraction: 0.02 means 2%."),
    )
    score_diff_threshold = models.DecimalField(
        _("evaluation score difference threshold"),
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.02"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("As a fraction: 0.02 means 2%."),
    )
    loss_warmup_steps = models.PositiveIntegerField(
        _("warm-up steps left out of the loss comparison"),
        default=20,
        help_text=_("Public practice compares loss curves from step 21 on."),
    )
    acceptance_signed_at = models.DateTimeField(_("acceptance signed off"), null=True, blank=True, editable=False)
    # The acceptance criteria's version: changing them after a report was issued starts a new one.
    criteria_version = models.PositiveIntegerField(_("acceptance criteria version"), default=1, editable=False)
    criteria_issued = models.BooleanField(default=False, editable=False)  # a report with this version went out
    test_method = models.TextField(
        _("test data sets and method"), blank=True,
        help_text=_("How the migrated models are tested: data sets, sample sizes, commands, precision."))
    reference_environment = models.TextField(
        _("GPU reference environment"), blank=True,
        help_text=_("Hardware, framework and versions the reference figures were measured on."))
    conclusions = models.TextField(
        _("conclusions and recommendations"), blank=True,
        help_text=_("Written by the consultant for the acceptance report; required before it is issued."))
    internal_notes = models.TextField(_("internal notes"), blank=True, help_text=_("Never shown to the customer."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "code"]
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="engagement_dates_in_order",
                violation_error_message=END_BEFORE_START,
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def clean(self):
        """The dates in order (also a constraint), reported on the end date field."""
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": END_BEFORE_START})

    def scope_labels(self) -> list[str]:
        labels = []
        if self.scope_training_migration:
            labels.append(_("training migration"))
        if self.scope_inference_migration:
            labels.append(_("inference migration"))
        if self.scope_tuning:
            labels.append(_("tuning"))
        return labels

    def _stages(self) -> list["Stage"]:
        """The stages, from ``EngagementQuerySet.with_stages()`` when it fetched them."""
        prefetched = getattr(self, "prefetched_stages", None)
        return prefetched if prefetched is not None else list(self.stages.all())

    def ordered_stages(self) -> list["Stage"]:
        """The seven stages in order, from a prefetch when there is one."""
        return sorted(self._stages(), key=lambda stage: stage.order)

    def progress(self) -> float:
        """Share of the engagement done, 0..1, weighted by each stage's planned person-days.

        Skipped stages do not count; when no stage has planned person-days every
        counted stage weighs the same.
        """
        if hasattr(self, "progress_share"):  # EngagementQuerySet.with_progress()
            return self.progress_share
        stages = [s for s in self._stages() if s.status != Stage.Status.SKIPPED]
        if not stages:
            return 0.0
        weights = [float(s.planned_person_days) for s in stages]
        if sum(weights) <= 0:
            weights = [1.0] * len(stages)
        return sum(w * s.progress() for w, s in zip(weights, stages, strict=True)) / sum(weights)

    @property
    def progress_percent(self) -> int:
        return round(self.progress() * 100)


class PerformanceBaseline(models.Model):
    """A performance figure agreed in the contract: the migrated model must meet it."""

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    class Category(models.TextChoices):
        TRAINING = "training", _("Training performance")
        INFERENCE = "inference", _("Inference performance")

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="baselines")
    model = models.ForeignKey("MigrationModel", verbose_name=_("model"), on_delete=models.CASCADE, null=True,
                              blank=True, related_name="performance_baselines")
    category = models.CharField(_("measured in"), max_length=10, choices=Category.choices, default=Category.INFERENCE)
    metric = models.CharField(_("metric"), max_length=100,
                              help_text=_("The measured figure's key, e.g. samples_per_s, first_token_ms, "
                                          "generate_speed_token_s; text in brackets is a note."))
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=30, blank=True, choices=UNIT_CHOICES)
    required_fraction = models.DecimalField(
        _("required fraction of the baseline"), max_digits=5, decimal_places=2, default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01"))], help_text=_("1.00 means the full baseline."))

    class Meta:
        ordering = ["metric"]
        verbose_name = _("performance baseline")
        verbose_name_plural = _("performance baselines")
        constraints = [models.UniqueConstraint(fields=["engagement", "model", "metric"], nulls_distinct=False,
                                               name="one_baseline_per_model_metric")]

    def __str__(self) -> str:
        return f"{self.metric} {self.get_direction_display()} {self.value} {self.unit}".strip()


class MigrationModel(models.Model):
    """A model under migration; one engagement covers one or many."""

    class TaskType(models.TextChoices):
        CV = "cv", _("Computer vision")
        NLP = "nlp", _("NLP")
        LLM = "llm", _("Large language model")
        MULTIMODAL = "multimodal", _("Multimodal")

    class Scope(models.TextChoices):
        TRAINING = "training", _("Training")
        INFERENCE = "inference", _("Inference")
        BOTH = "both", _("Training and inference")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="migration_models")
    name = models.CharField(_("name"), max_length=120)
    task_type = models.CharField(_("task type"), max_length=20, choices=TaskType.choices)
    size = models.CharField(_("size"), max_length=40, blank=True, help_text=_("e.g. 7B parameters, 46 MB"))
    source_repository = models.CharField(_("source repository"), max_length=300, blank=True)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default=Scope.BOTH)
    precision = models.CharField(_("inference precision"), max_length=40, blank=True,
                                 help_text=_("e.g. bf16, fp16, W8A8"))
    excluded_reason = models.TextField(
        _("excluded from acceptance because"), blank=True,
        help_text=_("Leave empty to accept this model; the report shows the reason of an excluded one."))
    source_framework = models.CharField(_("source framework and version"), max_length=80, blank=True,
                                        help_text=_("e.g. PyTorch 2.1.0, TensorFlow 1.15"))
    source_hardware = models.CharField(_("hardware it runs on now"), max_length=120, blank=True,
                                       help_text=_("Type and exact model, e.g. 8 x NVIDIA A100 80GB"))
    target_framework = models.CharField(_("target framework"), max_length=20, choices=Framework.choices, blank=True)
    target_framework_version = models.CharField(_("target framework version"), max_length=40, blank=True,
                                                help_text=_("e.g. torch_npu 2.1.0.post8, MindSpore 2.3"))
    parameter_config = models.CharField(_("parameter configuration"), max_length=300, blank=True)
    weights = models.CharField(_("model weights"), max_length=300, blank=True,
                               help_text=_("Where the weights are, and their format"))
    datasets = models.TextField(_("test data sets"), blank=True)
    inference_route = models.CharField(_("inference route"), max_length=20, choices=InferenceRoute.choices,
                                       blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("model under migration")
        verbose_name_plural = _("models under migration")
        constraints = [models.UniqueConstraint(fields=["engagement", "name"], name="unique_model_name_per_engagement")]

    def __str__(self) -> str:
        return self.name


class Questionnaire(models.Model):
    """The model information questionnaire (模型信息采集表) of an engagement, one version at a time.

    Staff prepare it and send it; the customer's contact fills it in and submits it; staff
    correct it and accept it, which makes its models the models under migration. An accepted
    version is frozen: a change is a new version (``services.check_revise_questionnaire``).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent to the customer")
        FILLED = "filled", _("Filled in")
        ACCEPTED = "accepted", pgettext_lazy("questionnaire status", "Accepted")

    # Staff may also fill it in themselves (from a meeting, say) and accept it without sending it.
    TRANSITIONS = {
        Status.DRAFT: {Status.SENT, Status.ACCEPTED},
        Status.SENT: {Status.FILLED, Status.ACCEPTED},
        Status.FILLED: {Status.SENT, Status.ACCEPTED},
        Status.ACCEPTED: set(),
    }

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="questionnaires")
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT,
                              editable=False)
    business_scenario = models.TextField(_("business needs and scenario"), blank=True)
    source_hardware = models.CharField(_("hardware before migration"), max_length=200, blank=True,
                                       help_text=_("e.g. 8 x NVIDIA A100 80GB, CUDA 12.1"))
    target_hardware = models.CharField(_("target Ascend hardware"), max_length=200, blank=True,
                                       help_text=_("e.g. Atlas 800T A2, 8 x 910B"))
    target_framework = models.CharField(_("target framework"), max_length=20, choices=Framework.choices, blank=True)
    inference_route = models.CharField(_("inference route"), max_length=20, choices=InferenceRoute.choices,
                                       blank=True)
    precision_baseline = models.TextField(_("precision reference baseline"), blank=True,
                                          help_text=_("The data sets and scores the migrated models must match"))
    performance_baseline = models.TextField(_("performance reference baseline"), blank=True,
                                            help_text=_("Throughput or latency on the current hardware"))
    notes = models.TextField(_("other notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "-version"]
        verbose_name = _("model information questionnaire")
        verbose_name_plural = _("model information questionnaires")
        constraints = [models.UniqueConstraint(fields=["engagement", "version"], name="unique_questionnaire_version")]

    def __str__(self) -> str:
        return f"{self.engagement.code} v{self.version}"

    def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None):
        return QuestionnaireTransition.objects.create(questionnaire=self, from_status=from_status,
                                                      to_status=to_status, actor=actor, reason=reason,
                                                      created_at=at or timezone.now())


class QuestionnaireModel(models.Model):
    """One target model as the questionnaire describes it."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="models")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("model name"), max_length=120)
    task_type = models.CharField(_("task type"), max_length=20, choices=MigrationModel.TaskType.choices)
    scope = models.CharField(_("scope"), max_length=20, choices=MigrationModel.Scope.choices,
                             default=MigrationModel.Scope.BOTH)
    size = models.CharField(_("size"), max_length=40, blank=True, help_text=_("e.g. 7B parameters, 46 MB"))
    source_hardware = models.CharField(_("hardware it runs on now"), max_length=120, blank=True,
                                       help_text=_("Type and exact model, e.g. 8 x NVIDIA A100 80GB"))
    source_framework = models.CharField(_("source framework and version"), max_length=80, blank=True,
                                        help_text=_("e.g. PyTorch 2.1.0, TensorFlow 1.15"))
    target_framework = models.CharField(_("target framework"), max_length=20, choices=Framework.choices, blank=True)
    target_framework_version = models.CharField(_("target framework version"), max_length=40, blank=True)
    source_repository = models.CharField(_("source code"), max_length=300, blank=True,
                                         help_text=_("Repository URL or path, with the branch or commit"))
    parameter_config = models.CharField(_("parameter configuration"), max_length=300, blank=True)
    weights = models.CharField(_("model weights"), max_length=300, blank=True)
    datasets = models.TextField(_("test data sets"), blank=True)
    inference_route = models.CharField(_("inference route"), max_length=20, choices=InferenceRoute.choices,
                                       blank=True)

    class Meta:
        ordering = ["questionnaire", "position", "id"]
        verbose_name = _("questionnaire model")
        verbose_name_plural = _("questionnaire models")

    def __str__(self) -> str:
        return self.name


class QuestionnaireTransition(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=Questionnaire.Status.choices)
    to_status = models.CharField(max_length=20, choices=Questionnaire.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.questionnaire}: {self.from_status} -> {self.to_status}"


class StageQuerySet(models.QuerySet):
    def visible_to(self, user) -> "StageQuerySet":
        return self.filter(engagement__in=Engagement.objects.visible_to(user))

    def with_figures(self) -> "StageQuerySet":
        """Annotate checklist counts and logged person-days with subqueries (no join fan-out)."""
        # .order_by(): the default orderings would join the stage and the engagement in.
        items = ChecklistItem.objects.filter(stage=models.OuterRef("pk")).order_by().values("stage")
        total = items.annotate(n=Count("pk")).values("n")
        closed = items.exclude(state=ChecklistItem.State.OPEN).annotate(n=Count("pk")).values("n")
        return self.annotate(
            items_total=models.functions.Coalesce(models.Subquery(total), 0),
            items_closed=models.functions.Coalesce(models.Subquery(closed), 0),
            logged_pd=WorkLog.objects.person_days_per("stage"),
        )


class Stage(models.Model):
    """One of the seven stages of an engagement.

    Allowed moves of ``status`` are declared in ``TRANSITIONS``; only
    ``services.do_transition_stage`` changes it, through ``common.states.move``, which
    records a ``StageTransition`` (``record_transition``).
    """

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        BLOCKED = "blocked", _("Blocked")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    # from-status -> the statuses it may move to.
    TRANSITIONS = {
        Status.NOT_STARTED: {Status.IN_PROGRESS, Status.SKIPPED},
        Status.IN_PROGRESS: {Status.BLOCKED, Status.DONE, Status.SKIPPED},
        Status.BLOCKED: {Status.IN_PROGRESS},
        Status.DONE: {Status.IN_PROGRESS},
        Status.SKIPPED: {Status.NOT_STARTED},
    }
    # Moves that must say why.
    NEEDS_REASON = {Status.BLOCKED, Status.SKIPPED}
    FINISHED = {Status.DONE, Status.SKIPPED}

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="stages")
    key = models.CharField(_("stage"), max_length=30, choices=StageKey.choices)
    order = models.PositiveSmallIntegerField(editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED,
                              editable=False)
    planned_start = models.DateField(_("planned start"), null=True, blank=True, validators=DATE_BOUNDS)
    planned_end = models.DateField(_("planned end"), null=True, blank=True, validators=DATE_BOUNDS)
    planned_person_days = models.DecimalField(
        _("planned person-days"),
        max_digits=7,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    actual_start = models.DateField(_("actual start"), null=True, blank=True, editable=False)
    actual_end = models.DateField(_("actual end"), null=True, blank=True, editable=False)

    objects = StageQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "order"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["engagement", "key"], name="one_stage_per_key"),
            models.CheckConstraint(
                condition=(
                    Q(planned_end__isnull=True)
                    | Q(planned_start__isnull=True)
                    | Q(planned_end__gte=models.F("planned_start"))
                ),
                name="stage_planned_dates_in_order",
                violation_error_message=PLANNED_END_BEFORE_START,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement.code} · {self.get_key_display()}"

    def save(self, *args, **kwargs):
        self.order = STAGE_ORDER[self.key]
        super().save(*args, **kwargs)

    # Django's generated get_FOO_display() hashes every (lazily translated) choice label on
    # each call, translating them all; lists show these labels for every stage of every row.
    def get_key_display(self) -> str:
        return _choice_label(StageKey, self.key)

    def get_status_display(self) -> str:
        return _choice_label(Stage.Status, self.status)

    def clean(self):
        """The planned dates in order (also a constraint), reported on the planned end field."""
        super().clean()
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            raise ValidationError({"planned_end": PLANNED_END_BEFORE_START})

    @staticmethod
    def late_q(today) -> Q:
        """Late: past its planned end and not finished, or finished after its planned end."""
        unfinished = ~Q(status__in=[Stage.Status.DONE, Stage.Status.SKIPPED]) & Q(planned_end__lt=today)
        finished_late = Q(status=Stage.Status.DONE, actual_end__gt=models.F("planned_end"))
        return unfinished | finished_late

    @staticmethod
    def progress_expression() -> models.Expression:
        """``progress()`` as an SQL expression over a stage row (a float, 0..1)."""
        closed_share = (
            ChecklistItem.objects.filter(stage=models.OuterRef("pk")).order_by().values("stage")
            .annotate(share=models.Avg(models.Case(
                models.When(state=ChecklistItem.State.OPEN, then=models.Value(0.0)),
                default=models.Value(1.0),
                output_field=models.FloatField(),
            )))
            .values("share")
        )
        unfinished = models.functions.Least(
            models.functions.Coalesce(
                models.Subquery(closed_share, output_field=models.FloatField()), models.Value(0.0)
            ),
            models.Value(0.95),  # an unfinished stage never shows as complete
        )
        return models.Case(
            models.When(status__in=sorted(Stage.FINISHED), then=models.Value(1.0)),
            default=unfinished,
            output_field=models.FloatField(),
        )

    def is_late(self, today=None) -> bool:
        today = today or timezone.localdate()
        if self.planned_end is None:
            return False
        if self.status == Stage.Status.SKIPPED:
            return False
        if self.status == Stage.Status.DONE:
            return self.actual_end is not None and self.actual_end > self.planned_end
        return self.planned_end < today

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())

    def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None) -> "StageTransition":
        """The ``StageTransition`` of a move (``common.states.move`` calls this)."""
        return StageTransition.objects.create(stage=self, from_status=from_status, to_status=to_status, actor=actor,
                                              reason=reason, created_at=at or timezone.now())

    def last_reason(self) -> str:
        """Why the stage is in its current status, from the latest transition."""
        latest = self.transitions.order_by("-created_at", "-pk").first()
        return latest.reason if latest else ""

    def allowed_moves(self) -> list[str]:
        return [s for s in Stage.Status.values if self.can_move_to(s)]

    def progress(self) -> float:
        """Done and skipped stages are complete; otherwise the share of checklist items closed.

        Uses the ``items_total`` / ``items_closed`` annotations of ``with_figures()`` when
        present, so lists of stages cost no query per stage.
        """
        if self.status in self.FINISHED:
            return 1.0
        if hasattr(self, "items_total"):
            total, closed = self.items_total, self.items_closed
        else:
            states = list(self.checklist.values_list("state", flat=True))
            total, closed = len(states), sum(1 for state in states if state != ChecklistItem.State.OPEN)
        if not total:
            return 0.0
        # An unfinished stage never shows as complete.
        return min(closed / total, 0.95)

    @property
    def progress_percent(self) -> int:
        return round(self.progress() * 100)


class StageTransition(models.Model):
    """A recorded status change of a stage: who, when, from, to and why."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=Stage.Status.choices)
    to_status = models.CharField(max_length=20, choices=Stage.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")

    def __str__(self) -> str:
        return f"{self.stage}: {self.from_status} → {self.to_status}"


class ChecklistItem(models.Model):
    """An activity of a stage, seeded from DOMAIN.md in Chinese and English."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        WAIVED = "waived", _("Waived")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField(default=0)
    title_en = models.CharField(_("title (English)"), max_length=300)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300)
    required = models.BooleanField(_("required"), default=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN, editable=False)
    waive_reason = models.TextField(_("waive reason"), blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["stage", "position", "pk"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.title_zh if (get_language() or "").startswith("zh") else self.title_en


def deliverable_path(instance: "Deliverable", filename: str) -> str:
    # The stored name is a fresh UUID; the user's name lives only in the database.
    return f"deliverables/{instance.stage.engagement.uuid}/{uuid.uuid4()}"


class Deliverable(models.Model):
    """A file delivered in a stage: plan, scripts, reports, documentation."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="deliverables")
    file = models.FileField(upload_to=deliverable_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")

    def __str__(self) -> str:
        return self.original_name


class WorkLogQuerySet(models.QuerySet):
    """Work logs. Logged person-days, wherever a page, an export, the API or a check shows them
    (a stage's, an engagement's, a consultant's, a day's), are summed here and nowhere else:
    ``person_days()`` for one figure, ``person_days_by()`` per group, ``person_days_per()``
    as a subquery annotation of stages or engagements."""

    @staticmethod
    def _total():
        """The one sum: the logs' person-days, 0 (never NULL) when there are none."""
        return models.functions.Coalesce(Sum("person_days"), Decimal("0"), output_field=models.DecimalField())

    def person_days(self) -> Decimal:
        """The logged person-days of these work logs, in one aggregate query."""
        return self.aggregate(logged=self._total())["logged"]

    def person_days_by(self, *fields: str) -> "WorkLogQuerySet":
        """``person_days()`` per distinct value of ``fields``: rows of ``fields`` and ``logged``."""
        return self.order_by().values(*fields).annotate(logged=self._total())

    def person_days_per(self, path: str) -> models.Expression:
        """``person_days()`` of each row of an outer queryset, as an annotation (a subquery,
        no join fan-out). ``path``: from a work log to the outer model, "stage" for stages,
        "stage__engagement" for engagements."""
        logged = self.filter(**{path: models.OuterRef("pk")}).person_days_by(path).values("logged")
        return models.functions.Coalesce(models.Subquery(logged), Decimal("0"), output_field=models.DecimalField())


class WorkLog(models.Model):
    """Person-days a consultant spent on a stage on one day. Person-days are the stored unit."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="worklogs")
    # Indexed by "worklog_stage_days" below, which also carries the person-days.
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="worklogs", db_index=False)
    date = models.DateField(_("date"))
    person_days = models.DecimalField(_("person-days"), max_digits=3, decimal_places=2)
    summary = models.TextField(_("summary"))
    blockers = models.TextField(_("blockers"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkLogQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-created_at"]
        verbose_name = _("work log")
        verbose_name_plural = _("work logs")
        indexes = [
            models.Index(fields=["consultant", "date"]),
            # The stage's logs, and their person-days summed from the index alone (an
            # index-only scan): every list sums them per stage and per engagement.
            models.Index(fields=["stage", "person_days"], name="worklog_stage_days"),
            # The API's newest-first list (-date, -pk) read from the index, not a sort of every log
            # (bench/load.py: 90-240 ms of SQL for a PM's page on 63,000 logs, then 0.6 ms).
            models.Index(fields=["date", "id"], name="worklog_date_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(person_days__gt=0) & Q(person_days__lte=1),
                name="worklog_person_days_in_range",
                violation_error_message=_("Person-days must be more than 0 and at most 1."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.consultant} {self.date} {self.person_days}"


class Risk(models.Model):
    """An entry of the survey stage's risk register (seed 001, 3.1.4)."""

    class Category(models.TextChoices):
        MODEL_VERSION = "model_version", _("Model version")
        ENV_DEPENDENCIES = "env_dependencies", _("Environment dependencies")
        DATASET = "dataset", _("Data set")
        INFERENCE_FRAMEWORK = "inference_framework", _("Inference framework")
        TARGETS = "targets", _("Precision / performance targets")
        NETWORK = "network", _("Network")
        TIME = "time", _("Time")
        LABOUR = "labour", _("Labour")

    class Level(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MITIGATING = "mitigating", _("Mitigating")
        CLOSED = "closed", _("Closed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="risks")
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    description = models.TextField(_("description"))
    likelihood = models.PositiveSmallIntegerField(_("likelihood"), choices=Level.choices)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices)
    mitigation = models.TextField(_("mitigation"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "-likelihood", "-impact", "pk"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description[:60]}"

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


class AuditEvent(models.Model):
    """Who changed what and when, on engagements, stages, checklists, logs and risks."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        TRANSITION = "transition", _("Status changed")

    engagement = models.ForeignKey(Engagement, null=True, on_delete=models.SET_NULL, related_name="audit_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)  # in English; object_names has it in every language
    object_names = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_repr}"

    @property
    def object_name(self) -> str:
        """The changed object's name in the reader's language (stage names, checklist titles)."""
        return self.object_names.get(get_language() or "", self.object_repr)

    @property
    def object_label(self) -> str:
        """The changed object's kind in the reader's language, e.g. "checklist item"."""
        try:
            return apps.get_model("engagements", self.object_type)._meta.verbose_name
        except LookupError:
            return self.object_type
