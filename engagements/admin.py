from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import audit
from .models import (
    AuditEvent,
    ChecklistItem,
    Customer,
    Deliverable,
    Engagement,
    MigrationModel,
    PerformanceBaseline,
    Questionnaire,
    QuestionnaireModel,
    QuestionnaireTransition,
    Risk,
    Stage,
    StageTransition,
    User,
    WorkLog,
)
from .services import do_create_engagement


def _engagement_of(obj):
    for path in ("engagement", "stage.engagement"):
        target = obj
        for part in path.split("."):
            target = getattr(target, part, None)
        if target is not None:
            return target
    return obj if isinstance(obj, Engagement) else None


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits land in the audit trail like any other change."""

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj)
        changes = audit.diff(before, after) if change else after
        if changes:
            audit.record(request.user, obj, audit.UPDATE if change else audit.CREATE,
                         engagement=_engagement_of(obj), changes=changes)

    def delete_model(self, request, obj):
        audit.record(request.user, obj, audit.DELETE, engagement=_engagement_of(obj), changes=audit.snapshot(obj))
        super().delete_model(request, obj)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "customer", "is_active")
    list_filter = ("role", "customer", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (("Portal", {"fields": ("role", "customer", "language")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Portal", {"fields": ("role", "customer")}),)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "created_at")
    search_fields = ("name", "short_name")


class BaselineInline(admin.TabularInline):
    model = PerformanceBaseline
    extra = 0


class ModelInline(admin.TabularInline):
    model = MigrationModel
    extra = 0


@admin.register(Engagement)
class EngagementAdmin(AuditedAdmin):
    list_display = ("code", "title", "customer", "pm", "status", "start_date", "end_date")
    list_filter = ("status", "target_framework", "customer")
    search_fields = ("code", "title", "contract_number")
    filter_horizontal = ("consultants",)
    inlines = [ModelInline, BaselineInline]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            do_create_engagement(request.user, obj)


class ChecklistInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    readonly_fields = ("state", "waive_reason", "closed_by", "closed_at")


class TransitionInline(admin.TabularInline):
    model = StageTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Stage)
class StageAdmin(AuditedAdmin):
    list_display = ("engagement", "key", "status", "planned_start", "planned_end", "planned_person_days")
    list_filter = ("key", "status")
    readonly_fields = ("status", "actual_start", "actual_end")
    inlines = [ChecklistInline, TransitionInline]

    def has_add_permission(self, request):
        return False  # stages are created with their engagement


@admin.register(WorkLog)
class WorkLogAdmin(AuditedAdmin):
    list_display = ("date", "consultant", "stage", "person_days")
    list_filter = ("date",)
    search_fields = ("summary", "consultant__username")


@admin.register(Risk)
class RiskAdmin(AuditedAdmin):
    list_display = ("engagement", "category", "likelihood", "impact", "status", "owner")
    list_filter = ("category", "status")


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ("original_name", "stage", "size", "uploaded_by", "uploaded_at")
    readonly_fields = ("sha256", "size", "content_type")


@admin.register(MigrationModel)
class MigrationModelAdmin(AuditedAdmin):
    list_display = ("name", "engagement", "task_type", "size", "scope")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_repr", "engagement")
    list_filter = ("action", "object_type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class QuestionnaireModelInline(admin.TabularInline):
    model = QuestionnaireModel
    extra = 0


class QuestionnaireTransitionInline(admin.TabularInline):
    model = QuestionnaireTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "reason", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    """For looking: the questionnaire is sent, filled and accepted on its own page."""

    list_display = ["engagement", "version", "status", "updated_at"]
    list_filter = ["status"]
    readonly_fields = ["engagement", "version", "status", "created_by"]
    inlines = [QuestionnaireModelInline, QuestionnaireTransitionInline]
