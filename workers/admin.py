"""Hosts and jobs in the admin: for looking, not for running. Secrets are never shown; host
keys are pinned and jobs started through the portal's own pages."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import AscendHost, EnvSnapshot, Job, JobFile, JobTemplate, JobTransition


@admin.register(AscendHost)
class AscendHostAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "address", "port", "username", "auth_method", "host_key_fingerprint"]
    list_filter = ["customer", "auth_method"]
    exclude = ["secret"]
    readonly_fields = ["host_key_type", "host_key_fingerprint", "host_key_approved_by", "host_key_approved_at",
                       "last_check"]

    def has_add_permission(self, request):
        return False  # registering fetches and confirms the host key: the Hosts page does that


class TransitionInline(admin.TabularInline):
    model = JobTransition
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in JobTransition._meta.fields]


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["uuid", "kind", "engagement", "host", "status", "failure_reason", "created_at"]
    list_filter = ["kind", "status", "failure_reason"]
    exclude = ["output_tail"]
    inlines = [TransitionInline]


admin.site.register(JobFile, ReadOnlyAdmin)
admin.site.register(EnvSnapshot, ReadOnlyAdmin)


@admin.register(JobTemplate)
class JobTemplateAdmin(ReadOnlyAdmin):
    list_display = ["name", "engagement", "kind", "host", "updated_at"]
    list_filter = ["kind"]
