"""Browser forms. They parse input; the rules live in ``services`` and come back as
ValidationErrors that ``apply_errors`` puts next to the right field."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from common.forms import DateInput
from common.validators import REASON_MAX

from .models import ChecklistItem, Customer, Engagement, Questionnaire, QuestionnaireModel, Risk, Stage, User


class LogWorkForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    person_days = forms.CharField(
        label=_("Person-days"), max_length=6, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 4})
    )
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 2}))
    blockers = forms.CharField(label=_("Blockers"), required=False, widget=forms.Textarea(attrs={"rows": 1}))


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=Stage.Status.choices)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ChecklistStateForm(forms.Form):
    state = forms.ChoiceField(choices=ChecklistItem.State.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX)


class StagePlanForm(forms.Form):
    planned_start = forms.DateField(label=_("Planned start"), required=False, widget=DateInput())
    planned_end = forms.DateField(label=_("Planned end"), required=False, widget=DateInput())
    planned_person_days = forms.DecimalField(
        label=_("Planned person-days"), min_value=0, max_digits=7, decimal_places=1
    )


class DeliverableForm(forms.Form):
    file = forms.FileField(label=_("File"))
    description = forms.CharField(label=_("Description"), required=False, max_length=300)


class RiskForm(forms.ModelForm):
    class Meta:
        model = Risk
        fields = ["category", "description", "likelihood", "impact", "mitigation", "owner", "status"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "mitigation": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, engagement: Engagement, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(pk__in=[engagement.pm_id, *engagement.consultants.values_list("pk", flat=True)])
        self.fields["owner"].queryset = staff.order_by("username")


class EngagementFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + Engagement.Status.choices)
    customer = forms.ChoiceField(label=_("Customer"), required=False)
    framework = forms.ChoiceField(
        label=_("Framework"), required=False, choices=[("", _("All"))] + Engagement.Framework.choices
    )
    health = forms.ChoiceField(
        label=_("Health"),
        required=False,
        choices=[("", _("All")), ("late", _("With late stages")), ("over", _("Over planned person-days"))],
    )

    def __init__(self, *args, customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", _("All"))] + [(str(c.uuid), c.name) for c in customers]


class QuestionnaireForm(forms.ModelForm):
    class Meta:
        model = Questionnaire
        fields = ["business_scenario", "source_hardware", "target_hardware", "target_framework", "inference_route",
                  "precision_baseline", "performance_baseline", "notes"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in
                   ("business_scenario", "precision_baseline", "performance_baseline", "notes")}


class QuestionnaireModelForm(forms.ModelForm):
    class Meta:
        model = QuestionnaireModel
        fields = ["name", "task_type", "scope", "size", "source_hardware", "source_framework", "target_framework",
                  "target_framework_version", "source_repository", "parameter_config", "weights", "datasets",
                  "inference_route"]
        widgets = {"datasets": forms.Textarea(attrs={"rows": 2})}


QuestionnaireModelFormSet = forms.inlineformset_factory(
    Questionnaire, QuestionnaireModel, form=QuestionnaireModelForm, extra=1, can_delete=True, max_num=50,
    validate_max=True)


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["name", "short_name"]


class InviteContactForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=[("", "—"), *settings.LANGUAGES], required=False)


class EngagementForm(forms.ModelForm):
    consultants = forms.ModelMultipleChoiceField(
        label=_("Team"), required=False, queryset=User.objects.filter(role=User.Role.CONSULTANT, is_active=True),
        widget=forms.CheckboxSelectMultiple, help_text=_("The consultants who work on it"))

    class Meta:
        model = Engagement
        fields = ["customer", "code", "title", "contract_number", "pm", "start_date", "end_date",
                  "scope_training_migration", "scope_inference_migration", "scope_tuning", "source_platform",
                  "target_platform", "target_framework", "loss_mre_threshold", "score_diff_threshold",
                  "loss_warmup_steps", "test_method", "reference_environment", "internal_notes"]
        widgets = {"start_date": DateInput(), "end_date": DateInput(),
                   **{name: forms.Textarea(attrs={"rows": 3})
                      for name in ("test_method", "reference_environment", "internal_notes")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pm"].queryset = User.objects.filter(role=User.Role.PM, is_active=True)


class CloseEngagementForm(forms.Form):
    confirm = forms.BooleanField(label=_("Close this engagement"), required=True)
