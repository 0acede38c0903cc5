"""Forms of the assessments that other pages show too (a stage's tuning measures)."""

from django import forms

from .models import TuningMeasure


class TuningMeasureForm(forms.ModelForm):
    class Meta:
        model = TuningMeasure
        fields = ["model", "change", "metric", "unit", "direction", "before", "after"]
        widgets = {"change": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, engagement=None, **kwargs):
        super().__init__(*args, **kwargs)
        if engagement is not None:
            self.fields["model"].queryset = engagement.migration_models.all()
