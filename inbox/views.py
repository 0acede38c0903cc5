"""The "waiting for me" page and the notification setting."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import services
from .forms import NotificationSettingForm
from .items import waiting_for
from .models import NotificationSetting


@login_required
def inbox(request):
    return render(request, "inbox/inbox.html", {"items": waiting_for(request.user)})


@login_required
def notification_settings(request):
    instance = NotificationSetting(user=request.user, frequency=services.frequency_of(request.user))
    form = NotificationSettingForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.check_set_frequency(request.user, form.cleaned_data["frequency"])
        messages.success(request, _("Your notification setting is saved."))
        return redirect("inbox")
    return render(request, "inbox/settings.html", {"form": form})
