"""The tuning evidence's forms: uploads of the tools' files, and a measure with its evidence."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assessments.models import BenchmarkRun
from engagements.models import MigrationModel, Stage

from . import services
from .models import AccuracyComparison, AccuracyRow, Profile, ServiceConfig

TUNING_STAGES = ("training_adaptation", "training_tuning", "inference_migration", "inference_tuning")


class EngagementForm(forms.Form):
    """A form whose model and stage choices are the engagement's."""

    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False)
    model = forms.ModelChoiceField(label=_("Model"), queryset=MigrationModel.objects.none(), required=False)
    label = forms.CharField(label=_("Label"), max_length=200, required=False,
                            help_text=_("e.g. before fused attention, 8 x 910B"))

    def __init__(self, *args, engagement, stage_keys=TUNING_STAGES, **kwargs):
        super().__init__(*args, **kwargs)
        self.engagement = engagement
        if "stage" in self.fields:
            self.fields["stage"].queryset = engagement.stages.filter(key__in=stage_keys).order_by("order")
        self.fields["model"].queryset = engagement.migration_models.all()


class AccuracyUploadForm(EngagementForm):
    file = forms.FileField(label=_("Comparison result (CSV)"),
                           help_text=_("msprobe compare_result_*.csv (current or legacy header), or msaccucmp "
                                       "result_*.csv"))
    field_order = ["file", "stage", "model", "label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, stage_keys=("training_adaptation", "training_tuning"), **kwargs)


class ProfileUploadForm(EngagementForm):
    kernel_details = forms.FileField(label=_("kernel_details.csv"), required=False)
    step_trace = forms.FileField(label=_("step_trace_time.csv"), required=False)
    cluster_step_trace = forms.FileField(label=_("cluster_step_trace_time.csv"), required=False,
                                         help_text=_("msprof-analyze cluster analysis: the slow rank and stage"))
    flops_per_step = forms.FloatField(label=_("Model FLOPs per step"), required=False, min_value=0,
                                      help_text=_("For MFU: the model's floating-point operations in one step "
                                                  "of all devices, e.g. 3.2e15"))
    peak_tflops = forms.FloatField(label=_("Peak TFLOPS per device"), required=False, min_value=0, initial=313,
                                   help_text=_("e.g. 313 for an Atlas 800T A2 (910B) at fp16/bf16"))
    devices = forms.IntegerField(label=_("Devices"), min_value=1, max_value=100000, initial=1)
    field_order = ["kernel_details", "step_trace", "cluster_step_trace", "flops_per_step", "peak_tflops", "devices",
                   "stage", "model", "label"]

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in services.PROFILE_FILES):
            raise forms.ValidationError(_("Give at least one of kernel_details.csv, step_trace_time.csv or "
                                          "cluster_step_trace_time.csv."))
        return data


class ServiceConfigForm(EngagementForm):
    file = forms.FileField(label=_("MindIE config.json"))
    field_order = ["file", "model", "stage", "label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, stage_keys=("inference_migration", "inference_tuning"), **kwargs)


class AtcUploadForm(EngagementForm):
    file = forms.FileField(label=_("ATC console output"), help_text=_("What atc printed, saved as a text file"))
    command = forms.CharField(label=_("atc command"), required=False, max_length=5000,
                              help_text=_("The command line, when the output does not show it"))
    field_order = ["file", "command", "stage", "model", "label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, stage_keys=("inference_migration", "inference_tuning"), **kwargs)


class RowFilterForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), required=False,
                               choices=[("", _("Any result"))] + list(AccuracyRow.Result.choices))
    q = forms.CharField(label=_("Name contains"), required=False, max_length=200)
    mismatches = forms.BooleanField(label=_("Only mismatches"), required=False)


class ProfileCompareForm(forms.Form):
    before = forms.ModelChoiceField(label=_("Before"), queryset=Profile.objects.none())
    after = forms.ModelChoiceField(label=_("After"), queryset=Profile.objects.none())

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("before", "after"):
            self.fields[name].queryset = Profile.objects.filter(engagement=engagement)
            self.fields[name].to_field_name = "uuid"


class BenchmarkConfigForm(forms.Form):
    config = forms.ModelChoiceField(label=_("Ran under"), queryset=ServiceConfig.objects.none(), required=False)

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["config"].queryset = ServiceConfig.objects.filter(engagement=engagement).select_related("model")
        self.fields["config"].label_from_instance = lambda c: f"{c.model or '—'} · {c}"


def _benchmark_label(run: BenchmarkRun) -> str:
    summary = run.summary or {}
    figure = summary.get("generate_speed_token_s")
    return f"#{run.job_id} · {run.model or '—'}" + (f" · {figure:.4g} tokens/s" if figure is not None else "")


class MeasureEvidenceForm(forms.Form):
    """A tuning measure whose before/after figures are computed from its evidence."""

    model = forms.ModelChoiceField(label=_("Model"), queryset=MigrationModel.objects.none(), required=False)
    change = forms.CharField(label=_("What was changed"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    figure = forms.ChoiceField(label=_("Figure from the evidence"), choices=())
    profile_before = forms.ModelChoiceField(label=_("Profile before"), queryset=Profile.objects.none(), required=False)
    profile_after = forms.ModelChoiceField(label=_("Profile after"), queryset=Profile.objects.none(), required=False)
    benchmark_before = forms.ModelChoiceField(label=_("Benchmark before"), queryset=BenchmarkRun.objects.none(),
                                              required=False)
    benchmark_after = forms.ModelChoiceField(label=_("Benchmark after"), queryset=BenchmarkRun.objects.none(),
                                             required=False)
    accuracy_before = forms.ModelChoiceField(label=_("Accuracy comparison before"),
                                             queryset=AccuracyComparison.objects.none(), required=False)
    accuracy_after = forms.ModelChoiceField(label=_("Accuracy comparison after"),
                                            queryset=AccuracyComparison.objects.none(), required=False)

    def __init__(self, *args, engagement, **kwargs):
        super().__init__(*args, **kwargs)
        choices = services.evidence_choices(engagement)
        self.fields["model"].queryset = engagement.migration_models.all()
        self.fields["figure"].choices = services.figure_choices()
        for name in ("profile_before", "profile_after"):
            self.fields[name].queryset = choices["profiles"]
            self.fields[name].label_from_instance = _profile_label
        for name in ("benchmark_before", "benchmark_after"):
            self.fields[name].queryset = choices["benchmarks"]
            self.fields[name].label_from_instance = _benchmark_label
        for name in ("accuracy_before", "accuracy_after"):
            self.fields[name].queryset = choices["accuracy"]
            self.fields[name].label_from_instance = _accuracy_label


def _profile_label(profile: Profile) -> str:
    step = profile.step_time_ms
    return f"{profile} · {profile.created_at:%Y-%m-%d %H:%M}" + (f" · {step:.4g} ms" if step is not None else "")


def _accuracy_label(comparison: AccuracyComparison) -> str:
    return f"{comparison} · {comparison.created_at:%Y-%m-%d %H:%M} · {comparison.rows}"
