"""API representations. Reads are plain model fields plus computed figures; writes are
validated for shape here and then go through the ``check_*`` services."""

from rest_framework import serializers

from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, StageTransition, User, WorkLog


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["uuid", "name", "short_name"]


class EngagementSerializer(serializers.ModelSerializer):
    customer = serializers.SlugRelatedField(slug_field="uuid", queryset=Customer.objects.all())
    pm = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(role=User.Role.PM))
    consultants = serializers.SlugRelatedField(slug_field="username", many=True, required=False,
                                               queryset=User.objects.filter(role=User.Role.CONSULTANT))
    progress = serializers.SerializerMethodField()
    planned_person_days = serializers.DecimalField(source="planned_pd", max_digits=8, decimal_places=2, read_only=True)
    actual_person_days = serializers.DecimalField(source="actual_pd", max_digits=8, decimal_places=2, read_only=True)
    late_stages = serializers.IntegerField(read_only=True)

    class Meta:
        model = Engagement
        fields = ["uuid", "code", "title", "customer", "contract_number", "scope_training_migration",
                  "scope_inference_migration", "scope_tuning", "source_platform", "target_platform", "target_framework",
                  "start_date", "end_date", "pm", "consultants", "status", "loss_mre_threshold",
                  "score_diff_threshold", "loss_warmup_steps", "acceptance_signed_at", "progress",
                  "planned_person_days", "actual_person_days", "late_stages", "internal_notes"]
        read_only_fields = ["acceptance_signed_at"]

    def get_progress(self, engagement) -> float:
        return round(engagement.progress(), 4)

    def to_representation(self, engagement):
        data = super().to_representation(engagement)
        request = self.context.get("request")
        if request is None or not request.user.is_provider_staff:
            data.pop("internal_notes", None)  # never shown to the customer
        return data


class MigrationModelSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", queryset=Engagement.objects.all())

    class Meta:
        model = MigrationModel
        fields = ["id", "engagement", "name", "task_type", "size", "source_repository", "scope"]


class StageTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True)

    class Meta:
        model = StageTransition
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class StageSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    progress = serializers.SerializerMethodField()
    logged_person_days = serializers.DecimalField(source="actual_pd", max_digits=8, decimal_places=2, read_only=True)
    is_late = serializers.SerializerMethodField()
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Stage
        fields = ["uuid", "engagement", "key", "order", "status", "planned_start", "planned_end",
                  "planned_person_days", "actual_start", "actual_end", "progress", "logged_person_days", "is_late",
                  "allowed_moves"]
        read_only_fields = ["key", "order", "status", "actual_start", "actual_end"]

    def get_progress(self, stage) -> float:
        return round(stage.progress(), 4)

    def get_is_late(self, stage) -> bool:
        return stage.is_late()

    def get_allowed_moves(self, stage) -> list[str]:
        return stage.allowed_moves()


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Stage.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ChecklistItemSerializer(serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "stage", "position", "title_en", "title_zh", "required", "state", "waive_reason", "closed_at"]
        read_only_fields = fields


class ChecklistStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ChecklistItem.State.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class WorkLogSerializer(serializers.ModelSerializer):
    stage = serializers.SlugRelatedField(slug_field="uuid", queryset=Stage.objects.all())
    consultant = serializers.CharField(source="consultant.username", read_only=True)
    person_days = serializers.CharField(help_text="Person-days in steps of WORKLOG_STEP_DAYS, e.g. 0.5")

    class Meta:
        model = WorkLog
        fields = ["uuid", "stage", "consultant", "date", "person_days", "summary", "blockers", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, log):
        data = super().to_representation(log)
        data["person_days"] = str(log.person_days)
        return data


class RiskSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", queryset=Engagement.objects.all())
    owner = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), required=False,
                                         allow_null=True)
    score = serializers.IntegerField(read_only=True)

    class Meta:
        model = Risk
        fields = ["uuid", "engagement", "category", "description", "likelihood", "impact", "score", "mitigation",
                  "owner", "status", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
