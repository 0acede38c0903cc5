from django.contrib import admin

from .models import (
    BenchmarkRun,
    CurvePair,
    EvaluationRun,
    Finding,
    LossCurve,
    MigrationAnalysis,
    ScoreBaseline,
    TuningMeasure,
)


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    fields = ["source", "category", "fix", "file", "line", "api", "resolution", "resolution_note"]


@admin.register(MigrationAnalysis)
class MigrationAnalysisAdmin(admin.ModelAdmin):
    list_display = ["engagement", "code_dir", "files_scanned", "effort_person_days", "created_at"]
    list_filter = ["official_tool_ran"]
    inlines = [FindingInline]


@admin.register(LossCurve)
class LossCurveAdmin(admin.ModelAdmin):
    list_display = ["engagement", "platform", "label", "points", "source", "created_at"]
    list_filter = ["platform", "source"]
    exclude = ["steps_blob", "losses_blob"]
    readonly_fields = ["points", "first_step", "last_step", "raw_sha256"]


admin.site.register(BenchmarkRun)
admin.site.register(EvaluationRun)
admin.site.register(ScoreBaseline)
admin.site.register(CurvePair)


@admin.register(TuningMeasure)
class TuningMeasureAdmin(admin.ModelAdmin):
    list_display = ["engagement", "stage", "model", "change", "before", "after"]
