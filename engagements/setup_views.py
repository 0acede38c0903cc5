"""A PM's set-up pages: customers and their contacts, new and copied engagements, closing."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors

from . import services, setup
from .forms import CloseEngagementForm, CustomerForm, EngagementForm, InviteContactForm
from .models import Customer, Engagement


def _require_pm(request) -> None:
    access.require(request.user, "manage", Customer, _("Only a project manager can set up customers and engagements."))


@login_required
def customer_list(request):
    _require_pm(request)
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = setup.check_create_customer(request.user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The customer is added. Invite their contacts next."))
            return redirect("customer_detail", uuid=customer.uuid)
    customers = Customer.objects.order_by("name").prefetch_related("contacts")
    return render(request, "engagements/customer_list.html", {"customers": customers, "form": form})


@login_required
def customer_detail(request, uuid):
    _require_pm(request)
    customer = access.get_or_404(request.user, Customer, uuid=uuid)
    form = InviteContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = setup.check_invite_contact(request.user, customer, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(email)s is invited: they set a password with the link in the e-mail.")
                             % {"email": contact.email})
            return redirect("customer_detail", uuid=customer.uuid)
    return render(request, "engagements/customer_detail.html", {
        "customer": customer, "form": form, "contacts": customer.contacts.order_by("email"),
        "engagements": customer.engagements.order_by("-start_date")})


@login_required
@require_POST
def contact_reinvite(request, uuid, user_id):
    _require_pm(request)
    customer = access.get_or_404(request.user, Customer, uuid=uuid)
    contact = customer.contacts.filter(pk=user_id).first()
    if contact is None:
        return redirect("customer_detail", uuid=customer.uuid)
    try:
        setup.check_resend_invitation(request.user, contact)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The invitation is sent again to %(email)s.") % {"email": contact.email})
    return redirect("customer_detail", uuid=customer.uuid)


@login_required
def engagement_new(request):
    access.require(request.user, "manage", Engagement, _("Only a project manager can create engagements."))
    source = None
    if request.GET.get("copy") or request.POST.get("copy"):
        source = access.get_or_404(request.user, Engagement, uuid=request.GET.get("copy") or request.POST.get("copy"))
    initial = {"pm": request.user}
    if source is not None:
        initial.update(setup.copy_fields(source), consultants=list(source.consultants.all()),
                       title=_("%(title)s (copy)") % {"title": source.title})
    if request.GET.get("customer"):
        initial["customer"] = Customer.objects.filter(uuid=request.GET["customer"]).first()
    form = EngagementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EngagementForm.Meta.fields}
        consultants = list(form.cleaned_data["consultants"])
        try:
            if source is not None:
                engagement = setup.check_copy_engagement(request.user, source, fields, consultants)
            else:
                engagement = services.check_create_engagement(request.user, fields, consultants)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The engagement is created with its seven stages. Plan them, and send the "
                                        "model information questionnaire."))
            return redirect("engagement_detail", uuid=engagement.uuid)
    return render(request, "engagements/engagement_form.html", {"form": form, "source": source})


@login_required
def engagement_edit(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "manage", engagement)
    form = EngagementForm(request.POST or None, instance=engagement,
                          initial={"consultants": list(engagement.consultants.all())})
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EngagementForm.Meta.fields}
        try:
            engagement.refresh_from_db()
            services.check_update_engagement(request.user, engagement, fields, list(form.cleaned_data["consultants"]))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The engagement is saved."))
            return redirect("engagement_detail", uuid=engagement.uuid)
    return render(request, "engagements/engagement_form.html", {"form": form, "engagement": engagement,
                                                                "close_form": CloseEngagementForm()})


@login_required
@require_POST
def engagement_close(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    form = CloseEngagementForm(request.POST)
    access.require(request.user, "manage", engagement)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm closing the engagement."))
        return redirect("engagement_edit", uuid=engagement.uuid)
    try:
        setup.check_close_engagement(request.user, engagement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The engagement is closed. It stays in the list under the status Closed."))
    return redirect("engagement_detail", uuid=engagement.uuid)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """An invited contact's one-time link: set a password, then sign in."""

    template_name = "registration/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        messages.success(self.request, _("Your password is set. Sign in with your e-mail address."))
        return super().form_valid(form)



