"""Reports in the browser: render, issue, preview, download, sign off or reject (the acceptance
report), acknowledge (the migration assessment report), and verify a PDF. Views parse input and
call ``reports.services``."""

import logging

from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors
from engagements import services as engagement_services
from engagements.models import Engagement

from . import review, services
from .models import ReportVersion, SignOffEvent

VERIFY_MAX_BYTES = 50 * 1024 * 1024

logger = logging.getLogger(__name__)


class RenderForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=ReportVersion.Language.choices)
    # Which report: the acceptance report unless the form says otherwise.
    kind = forms.ChoiceField(choices=ReportVersion.Kind.choices, required=False, widget=forms.HiddenInput)

    def clean_kind(self):
        return self.cleaned_data.get("kind") or ReportVersion.Kind.ACCEPTANCE


class SignOffForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    title = forms.CharField(label=gettext_lazy("Your title"), max_length=100)
    confirm = forms.BooleanField(label=gettext_lazy("I accept the report as meeting the agreed criteria"))
    password = forms.CharField(label=gettext_lazy("Your password, again"), widget=forms.PasswordInput)


class RejectForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Why is the report rejected?"),
                              widget=forms.Textarea(attrs={"rows": 3}))
    password = forms.CharField(label=gettext_lazy("Your password, again"), widget=forms.PasswordInput)


class WriteUpForm(forms.ModelForm):
    """The report's write-up: test method, GPU reference environment, conclusions."""

    class Meta:
        model = Engagement
        fields = ["test_method", "reference_environment", "conclusions"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in fields}


class VerifyForm(forms.Form):
    pdf = forms.FileField(label=gettext_lazy("PDF file"))


def _version(request, uuid) -> ReportVersion:
    return access.get_or_404(request.user, ReportVersion, uuid=uuid)


@login_required
def engagement_reports(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, related=("customer",), uuid=uuid)
    form = RenderForm(request.POST or None, initial={"language": request.user.language or "zh-hans"})
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        services.check_request_render(request.user, engagement, form.cleaned_data["language"], kind=kind)
        messages.success(request, _("A new version is being rendered; this page shows it when it is ready."))
        anchor = "#assessment-report" if kind == ReportVersion.Kind.ASSESSMENT else ""
        return redirect(reverse("engagement_reports", kwargs={"uuid": engagement.uuid}) + anchor)
    if form.is_bound and form.data.get("kind") == ReportVersion.Kind.ASSESSMENT:
        form.auto_id = "assessment_%s"
        return _reports_page(request, engagement, assessment_form=form)
    return _reports_page(request, engagement, form=form)


def _reports_page(request, engagement, *, form=None, assessment_form=None, writeup_form=None, status=200):
    """An engagement's report versions (acceptance, then assessment), the render forms and, for
    whoever may render, the acceptance report's write-up."""
    in_scope = access.scope(request.user, ReportVersion).filter(engagement=engagement)
    versions = in_scope.filter(kind=ReportVersion.Kind.ACCEPTANCE)
    assessment_versions = in_scope.filter(kind=ReportVersion.Kind.ASSESSMENT)
    can_render = access.can(request.user, "change", engagement)
    if can_render and writeup_form is None:
        writeup_form = WriteUpForm(instance=engagement)
    language = request.user.language or "zh-hans"
    return render(request, "reports/engagement_reports.html", {
        "engagement": engagement, "versions": versions, "assessment_versions": assessment_versions,
        "can_render": can_render,
        "form": form or RenderForm(initial={"language": language}),
        "assessment_form": assessment_form or RenderForm(initial={"language": language,
                                                                  "kind": ReportVersion.Kind.ASSESSMENT},
                                                         auto_id="assessment_%s"),
        "writeup_form": writeup_form if can_render else None,
        "rendering": in_scope.filter(status=ReportVersion.Status.RENDERING).exists(),
    }, status=status)


@login_required
@require_POST
def acceptance_writeup(request, uuid):
    """Save the report's write-up; the next rendered version carries it."""
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    form = WriteUpForm(request.POST, instance=Engagement.objects.get(pk=engagement.pk))
    if form.is_valid():
        try:
            engagement_services.check_update_acceptance_text(request.user, engagement, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved. Render a new version to put it in the report."))
            return redirect("engagement_reports", uuid=engagement.uuid)
    return _reports_page(request, engagement, writeup_form=form, status=400)


def _detail_context(request, version: ReportVersion, **overrides) -> dict:
    """The version page: its facts, every page of its PDF, then the decision forms (disabled until
    the deciding contact has been served every page: ``reports.review``)."""
    pages = review.pages(version)
    can_decide = version.status == ReportVersion.Status.ISSUED and access.can(request.user, "decide", version)
    can_acknowledge = (version.status == ReportVersion.Status.ISSUED
                       and access.can(request.user, "acknowledge", version))
    context = {
        "can_acknowledge": can_acknowledge,
        "acknowledged": version.events.filter(action=SignOffEvent.Action.ACKNOWLEDGED).select_related("user").first(),
        "version": version, "engagement": version.engagement, "events": version.events.select_related("user"),
        "transitions": version.transitions.select_related("actor"),
        "sign_form": SignOffForm(), "reject_form": RejectForm(), "can_decide": can_decide,
        "statement": services.STATEMENT[version.language], "signed": version.events.filter(action="signed").first(),
        "pages": pages, "page_count": len(pages),
    }
    context.update(overrides)
    context["reviewed"] = (bool(context["can_decide"] or context["can_acknowledge"])
                           and review.has_seen_every_page(request.user, version, len(pages)))
    return context


@login_required
def version_detail(request, uuid):
    version = _version(request, uuid)
    return render(request, "reports/version_detail.html", _detail_context(request, version))


@login_required
def version_page(request, uuid, number):
    """One page of the version's PDF as PNG. Served to a contact who may decide on the issued
    version, it is recorded: they sign off or reject only after every page was served to them."""
    version = _version(request, uuid)
    if not 1 <= number <= len(review.pages(version)):
        raise Http404
    try:
        png = review.page_png(version, number)
    except review.PageRenderError:
        logger.exception("Page %s of report version %s could not be rendered", number, version.uuid)
        return HttpResponse(status=503)
    if version.status == ReportVersion.Status.ISSUED and access.can(request.user, "review", version):
        review.record_view(request.user, version, number)
    response = HttpResponse(png, content_type="image/png")
    # Every view reaches the server (and is recorded): no copy in the browser's cache.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@xframe_options_sameorigin
@csp_replace({"style-src": ["'unsafe-inline'"], "frame-ancestors": ["'self'"], "img-src": ["data:"]})
def version_preview(request, uuid):
    version = _version(request, uuid)
    if not version.data:
        raise Http404
    return HttpResponse(services.version_html(version))


@login_required
def version_pdf(request, uuid):
    version = _version(request, uuid)
    if not version.pdf:
        raise Http404
    return _pdf_response(bytes(version.pdf), version.filename)


@login_required
def signed_pdf(request, uuid):
    version = _version(request, uuid)
    event = get_object_or_404(SignOffEvent, version=version, action=SignOffEvent.Action.SIGNED)
    return _pdf_response(bytes(event.signed_pdf), version.filename.replace(".pdf", "-signed.pdf"))


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def version_issue(request, uuid):
    version = _version(request, uuid)
    try:
        services.check_issue(request.user, version, request.META)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Issued; the customer's contacts were notified.") if version.is_assessment
                         else _("Issued for sign-off; the customer's contacts were notified."))
    return redirect("version_detail", uuid=version.uuid)


@login_required
@require_POST
def version_acknowledge(request, uuid):
    """A contact of the customer acknowledges an issued assessment report they have read whole."""
    version = _version(request, uuid)
    access.require(request.user, "acknowledge", version)
    try:
        services.check_acknowledge(request.user, version, request.META)
    except ValidationError as exc:
        context = _detail_context(request, version, acknowledge_errors=exc.messages)
        return render(request, "reports/version_detail.html", context, status=400)
    messages.success(request, _("Acknowledged. Thank you."))
    return redirect("version_detail", uuid=version.uuid)


@login_required
@require_POST
def version_decide(request, uuid, decision):
    version = _version(request, uuid)
    form = (SignOffForm if decision == "sign" else RejectForm)(request.POST)
    if (version.status == ReportVersion.Status.ISSUED and access.can(request.user, "decide", version)
            and not review.has_seen_every_page(request.user, version)):
        form.is_valid()  # keeps what was typed, with its own errors
        form.add_error(None, _("Read every page of the report before you sign it off or reject it."))
    elif form.is_valid():
        data = form.cleaned_data
        try:
            if decision == "sign":
                services.check_sign_off(request.user, version, password=data["password"], name=data["name"],
                                        title=data["title"], confirm=data["confirm"], request_meta=request.META)
            else:
                services.check_reject(request.user, version, password=data["password"], comment=data["comment"],
                                      request_meta=request.META)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Signed off. Thank you.") if decision == "sign"
                             else _("Rejected; the team is notified."))
            return redirect("version_detail", uuid=version.uuid)
    context = _detail_context(request, version, sign_form=form if decision == "sign" else SignOffForm(),
                              reject_form=form if decision == "reject" else RejectForm(), can_decide=True, signed=None)
    return render(request, "reports/version_detail.html", context, status=400)


@login_required
def verify(request):
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["pdf"]
        if upload.size > VERIFY_MAX_BYTES:
            form.add_error("pdf", _("The file is larger than 50 MB."))
        else:
            result = services.verify_pdf(upload.read())
    return render(request, "reports/verify.html", {"form": form, "result": result},
                  status=400 if form.is_bound and form.errors else 200)
