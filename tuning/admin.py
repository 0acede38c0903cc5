"""Tuning evidence in the admin: for looking; it is imported and recorded through the portal."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import (
    AccuracyComparison,
    AccuracyRow,
    AtcConversion,
    BenchmarkConfig,
    MeasureEvidence,
    Profile,
    ServiceConfig,
)

for model in (AccuracyComparison, Profile, ServiceConfig, AtcConversion, BenchmarkConfig, MeasureEvidence):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(AccuracyRow)
class AccuracyRowAdmin(ReadOnlyAdmin):
    list_display = ["comparison", "position", "npu_name", "result", "cosine", "max_abs_err", "overflow"]
    list_filter = ["result"]
    show_full_result_count = False  # a comparison has up to millions of rows
