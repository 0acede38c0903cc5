"""The issuing firm's page (PMs)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from common import access
from common.forms import apply_errors
from engagements.models import Engagement

from . import firm as service
from .models import FirmProfile, RateCardItem


class FirmForm(forms.ModelForm):
    class Meta:
        model = FirmProfile
        fields = [*service.FIELDS, "logo"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2}), "payment_terms": forms.Textarea(attrs={"rows": 2})}


@login_required
def firm_settings(request):
    access.require(request.user, "manage", Engagement, _("Only a project manager keeps the firm's details."))
    instance = FirmProfile.current()
    form = FirmForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in service.FIELDS}
        try:
            service.check_save_firm(request.user, fields, request.FILES.get("logo"))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The firm's details are saved; new quotes and reports print them."))
            return redirect("firm_settings")
    placeholders = RateCardItem.objects.filter(placeholder=True, valid_to__isnull=True).order_by("position")
    return render(request, "reports/firm.html", {"form": form, "placeholders": placeholders})
