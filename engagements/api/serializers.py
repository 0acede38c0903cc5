"""API representations. Reads are model fields plus computed figures; writes are checked
for shape here and then go through the ``check_*`` services, which decide the rest.

Fields listed in ``Meta.staff_only_fields`` are what the HTML pages show only to the
service provider's staff: customer contacts never receive them."""

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from common import access

from ..access import is_staff
from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, StageTransition, User, WorkLog

STAFF_ONLY = _("Provider staff only: absent for customer contacts.")


class StaffOnlyFieldsMixin:
    """Drops ``Meta.staff_only_fields`` unless the request comes from provider staff.

    The schema generator (a view with ``swagger_fake_view``) documents every field.
    """

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        request = self.context.get("request")
        if getattr(view, "swagger_fake_view", False) or (request is not None and is_staff(request.user)):
            return fields
        for name in getattr(self.Meta, "staff_only_fields", ()):
            fields.pop(name, None)
        return fields


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A reference to an object the requesting user may see (else "does not exist")."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        return access.scope(request.user, self.model)


class ConsultantUsernamesField(serializers.ManyRelatedField):
    """The assigned consultants, as their usernames in order; written as usernames too.

    Reads ``consultant_usernames`` when the view fetched them for a whole page in one query
    (``EngagementViewSet.paginate_queryset``): no user rows, no related manager per row.
    """

    def get_attribute(self, instance):
        names = getattr(instance, "consultant_usernames", None)
        if names is None:
            if instance.pk is None:
                return []
            names = instance.consultants.order_by("username").values_list("username", flat=True)
        return list(names)

    def to_representation(self, usernames):
        return list(usernames)


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["uuid", "name", "short_name"]


class InviteContactSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=[("", "—"), *settings.LANGUAGES], required=False, allow_blank=True)


class ContactSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    invited = serializers.SerializerMethodField(help_text="True until the contact has set a password")

    class Meta:
        model = User
        fields = ["username", "email", "first_name", "last_name", "customer", "invited"]

    def get_invited(self, user) -> bool:
        return not user.has_usable_password()


@extend_schema_serializer(deprecate_fields=["actual_person_days"])
class EngagementSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="uuid", queryset=Customer.objects.all(),
                                            help_text=_("Customer UUID"))
    pm = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(role=User.Role.PM),
                                      help_text=_("Username of the project manager"))
    consultants = ConsultantUsernamesField(
        child_relation=serializers.SlugRelatedField(slug_field="username", required=False,
                                                    queryset=User.objects.filter(role=User.Role.CONSULTANT),
                                                    help_text=_("Usernames of the assigned consultants")),
        required=False, help_text=_("Usernames of the assigned consultants"))
    progress = serializers.SerializerMethodField(help_text=_("Share done, 0..1"))
    planned_person_days = serializers.DecimalField(source="planned_pd", max_digits=8, decimal_places=2,
                                                   read_only=True, help_text=STAFF_ONLY)
    logged_person_days = serializers.DecimalField(source="logged_pd", max_digits=8, decimal_places=2,
                                                  read_only=True, help_text=STAFF_ONLY)
    actual_person_days = serializers.DecimalField(
        source="logged_pd", max_digits=8, decimal_places=2, read_only=True,
        help_text=format_lazy("{} {}", _("Deprecated: the same figure as logged_person_days, which replaces it."),
                              STAFF_ONLY))
    late_stages = serializers.IntegerField(read_only=True, help_text=STAFF_ONLY)

    class Meta:
        model = Engagement
        fields = ["uuid", "code", "title", "customer", "contract_number", "scope_training_migration",
                  "scope_inference_migration", "scope_tuning", "source_platform", "target_platform", "target_framework",
                  "start_date", "end_date", "pm", "consultants", "status", "loss_mre_threshold",
                  "score_diff_threshold", "loss_warmup_steps", "acceptance_signed_at", "progress",
                  "planned_person_days", "logged_person_days", "actual_person_days", "late_stages", "internal_notes"]
        read_only_fields = ["acceptance_signed_at"]
        staff_only_fields = ["planned_person_days", "logged_person_days", "actual_person_days", "late_stages",
                             "internal_notes"]

    def get_progress(self, engagement) -> float:
        return round(engagement.progress(), 4)


class MigrationModelSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = MigrationModel
        fields = ["uuid", "engagement", "name", "task_type", "size", "source_repository", "scope",
                  "source_framework", "source_hardware", "target_framework", "target_framework_version",
                  "parameter_config", "weights", "datasets", "inference_route"]
        read_only_fields = fields
        staff_only_fields = ["source_repository"]


class StageTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True)

    class Meta:
        model = StageTransition
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class StageSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    """A stage and its plan. ``status`` changes only through the ``transition`` action."""

    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    progress = serializers.SerializerMethodField(help_text=_("Share done, 0..1"))
    logged_person_days = serializers.DecimalField(source="logged_pd", max_digits=8, decimal_places=2,
                                                  read_only=True, help_text=STAFF_ONLY)
    is_late = serializers.SerializerMethodField()
    allowed_moves = serializers.SerializerMethodField(help_text=_("Statuses the stage may move to now"))

    class Meta:
        model = Stage
        fields = ["uuid", "engagement", "key", "order", "status", "planned_start", "planned_end",
                  "planned_person_days", "actual_start", "actual_end", "progress", "logged_person_days", "is_late",
                  "allowed_moves"]
        read_only_fields = ["key", "order", "status", "actual_start", "actual_end"]
        extra_kwargs = {"planned_person_days": {"help_text": STAFF_ONLY}}
        staff_only_fields = ["planned_person_days", "logged_person_days"]

    def validate(self, attrs):
        if "status" in getattr(self, "initial_data", {}):  # read-only fields are otherwise dropped silently
            raise serializers.ValidationError({"status": _("The status changes only with POST …/transition/.")})
        return super().validate(attrs)

    def get_progress(self, stage) -> float:
        return round(stage.progress(), 4)

    def get_is_late(self, stage) -> bool:
        return stage.is_late()

    def get_allowed_moves(self, stage) -> list[str]:
        return stage.allowed_moves()


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Stage.Status.choices, help_text=_("The status to move to"))
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text=_("Required to block, skip or reopen a stage"))


class ChecklistItemSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text=STAFF_ONLY)

    class Meta:
        model = ChecklistItem
        fields = ["uuid", "stage", "position", "title_en", "title_zh", "required", "state", "waive_reason",
                  "closed_by", "closed_at"]
        read_only_fields = fields
        staff_only_fields = ["closed_by", "closed_at"]


class ChecklistStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ChecklistItem.State.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text=_("Required to waive an item"))


class WorkLogSerializer(serializers.ModelSerializer):
    stage = ScopedSlugRelatedField(Stage, slug_field="uuid", help_text=_("Stage UUID"))
    consultant = serializers.CharField(source="consultant.username", read_only=True)
    # Parsed and checked by the services (steps, at most 1 a day): a string keeps "0.5" exact.
    person_days = serializers.CharField(help_text=_("Person-days in steps of WORKLOG_STEP_DAYS, e.g. 0.5 or 1"))

    class Meta:
        model = WorkLog
        fields = ["uuid", "stage", "consultant", "date", "person_days", "summary", "blockers", "created_at"]
        read_only_fields = ["created_at"]


class RiskSerializer(serializers.ModelSerializer):
    engagement = ScopedSlugRelatedField(Engagement, slug_field="uuid",
                                        help_text=_("Engagement UUID; fixed once the risk exists"))
    owner = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), required=False,
                                         allow_null=True, help_text=_("Username of someone on the engagement"))
    score = serializers.IntegerField(read_only=True, help_text=_("Likelihood x impact"))

    class Meta:
        model = Risk
        fields = ["uuid", "engagement", "category", "description", "likelihood", "impact", "score", "mitigation",
                  "owner", "status", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_engagement(self, engagement):
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("A risk cannot move to another engagement."))
        return engagement
