"""Tuning evidence in the admin: for looking; it is imported and recorded through the portal."""

from django.contrib import admin

from .models import (
    AccuracyComparison,
    AccuracyRow,
    AtcConversion,
    BenchmarkConfig,
    MeasureEvidence,
    Profile,
    ServiceConfig,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


for model in (AccuracyComparison, Profile, ServiceConfig, AtcConversion, BenchmarkConfig, MeasureEvidence):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(AccuracyRow)
class AccuracyRowAdmin(ReadOnlyAdmin):
    list_display = ["comparison", "position", "npu_name", "result", "cosine", "max_abs_err", "overflow"]
    list_filter = ["result"]
    show_full_result_count = False  # a comparison has up to millions of rows
