"""Pages and htmx fragments. Each view parses input, makes one ``services.check_*`` call
and renders; objects are always fetched through the ``visible_to`` scope (404 outside it)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors

from . import services
from .forms import (
    ChecklistStateForm,
    DeliverableForm,
    EngagementFilterForm,
    LogWorkForm,
    RiskForm,
    StagePlanForm,
    TransitionForm,
)
from .models import AuditEvent, ChecklistItem, Customer, Deliverable, Engagement, Risk, Stage, StageTransition, WorkLog
from .timeline import build_timeline

ENGAGEMENTS_PER_PAGE = 25


@login_required
def home(request):
    return redirect("engagement_list")


@login_required
def engagement_list(request):
    """My engagements (consultant), all engagements with health (PM), my organisation's (customer)."""
    visible = access.scope(request.user, Engagement)
    customers = Customer.objects.filter(engagements__in=visible).distinct() if request.user.is_pm else []
    form = EngagementFilterForm(request.GET or None, customers=customers)
    engagements = visible.with_figures()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            engagements = engagements.filter(
                Q(code__icontains=data["q"]) | Q(title__icontains=data["q"]) | Q(customer__name__icontains=data["q"])
            )
        if data["status"]:
            engagements = engagements.filter(status=data["status"])
        if data["customer"]:
            engagements = engagements.filter(customer__uuid=data["customer"])
        if data["framework"]:
            engagements = engagements.filter(target_framework=data["framework"])
        if data["health"] == "late":
            engagements = engagements.filter(late_stages__gt=0)
        elif data["health"] == "over":
            engagements = engagements.filter(logged_pd__gt=F("planned_pd"))
    # Paginate the ids, then fetch the page's rows. A filter on the figures ("over planned
    # person-days" sums every engagement's work logs) then runs once, not once for the
    # paginator's count and again for the page; the figures are computed for the page only.
    ids = list(engagements.order_by("-start_date", "code").values_list("pk", flat=True))
    page = Paginator(ids, ENGAGEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = visible.filter(pk__in=page.object_list).with_figures().select_related("customer", "pm").with_stages()
    by_pk = {engagement.pk: engagement for engagement in rows}
    page.object_list = [by_pk[pk] for pk in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "engagements/engagement_list.html",
        {"page": page, "form": form, "query": query.urlencode()},
    )


def _visible_engagement(request, uuid) -> Engagement:
    return get_object_or_404(
        access.scope(request.user, Engagement)
        .with_figures()
        .select_related("customer", "pm")
        .with_stages()
        .prefetch_related("consultants", "migration_models", "baselines"),
        uuid=uuid,
    )


@login_required
def engagement_detail(request, uuid):
    engagement = _visible_engagement(request, uuid)
    stages = engagement.ordered_stages()
    staff = access.can(request.user, "view_internal", engagement)
    context = {
        "engagement": engagement,
        "stages": stages,
        "timeline": build_timeline(engagement, stages, timezone.localdate()),
        "can_edit": access.can(request.user, "change", engagement),
        "show_internal": staff,
        "recent_events": (
            AuditEvent.objects.filter(engagement=engagement).select_related("actor")[:15] if staff else []
        ),
        "open_risks": engagement.risks.exclude(status=Risk.Status.CLOSED).count() if staff else None,
    }
    return render(request, "engagements/engagement_detail.html", context)


# --- risks ---------------------------------------------------------------------------------


def _staff_engagement(request, uuid) -> Engagement:
    """An engagement in scope whose risk register the user may read (403 for customers)."""
    engagement = _visible_engagement(request, uuid)
    access.require(request.user, "view_internal", engagement,
                   _("The risk register is internal to the service provider."))
    return engagement


@login_required
def risk_register(request, uuid):
    engagement = _staff_engagement(request, uuid)
    form = None
    if request.method == "POST":
        risk = None
        if request.POST.get("risk"):
            risk = get_object_or_404(Risk, engagement=engagement, uuid=request.POST["risk"])
        form = RiskForm(request.POST, instance=risk, engagement=engagement)
        if form.is_valid():
            try:
                fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
                # The ModelForm already wrote cleaned values onto the instance; services re-apply
                # them with their own checks and record the audit event.
                if risk is not None:
                    risk.refresh_from_db()
                services.check_save_risk(request.user, engagement, fields, risk)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The risk register is saved."))
                return redirect("risk_register", uuid=engagement.uuid)
    risks = engagement.risks.select_related("owner")
    edit = None
    if request.method == "GET" and request.GET.get("edit"):
        edit = get_object_or_404(Risk, engagement=engagement, uuid=request.GET["edit"])
        form = RiskForm(instance=edit, engagement=engagement)
    return render(
        request,
        "engagements/risk_register.html",
        {
            "engagement": engagement,
            "risks": risks,
            "form": form or RiskForm(engagement=engagement),
            "editing": edit or (risk if request.method == "POST" else None),
            "can_edit": access.can(request.user, "change", engagement),
        },
    )


@login_required
@require_POST
def risk_delete(request, uuid, risk_uuid):
    engagement = _staff_engagement(request, uuid)
    risk = get_object_or_404(Risk, engagement=engagement, uuid=risk_uuid)
    services.check_delete_risk(request.user, risk)
    messages.success(request, _("The risk is deleted."))
    return redirect("risk_register", uuid=engagement.uuid)


# --- stages --------------------------------------------------------------------------------


def _visible_stage(request, uuid) -> Stage:
    return access.get_or_404(request.user, Stage, related=("engagement__customer",), uuid=uuid)


def _stage_context(request, stage: Stage, **forms) -> dict:
    staff = access.can(request.user, "view_internal", stage.engagement)
    can_edit = access.can(request.user, "change", stage)
    worklogs = []
    if staff:
        worklogs = stage.worklogs.select_related("consultant").order_by("-date", "-created_at")
    # The page shows the progress four times; it is counted from the items listed (the counts
    # Stage.progress() takes from with_figures()), not read from the checklist each time.
    checklist = list(stage.checklist.select_related("closed_by"))
    stage.items_total = len(checklist)
    stage.items_closed = sum(1 for item in checklist if item.state != ChecklistItem.State.OPEN)
    return {
        "stage": stage,
        "engagement": stage.engagement,
        "can_edit": can_edit,
        "show_internal": staff,
        "checklist": checklist,
        "worklogs": worklogs,
        "logged_days": stage.worklogs.person_days() if staff else None,
        "deliverables": stage.deliverables.select_related("uploaded_by"),
        "transitions": StageTransition.objects.filter(stage=stage).select_related("actor"),
        "moves": [(status, Stage.Status(status).label) for status in stage.allowed_moves()],
        "log_form": forms.get("log_form") or LogWorkForm(initial={"date": timezone.localdate(), "person_days": "1"}),
        "transition_form": forms.get("transition_form") or TransitionForm(),
        "deliverable_form": forms.get("deliverable_form") or DeliverableForm(),
        "plan_form": forms.get("plan_form")
        or StagePlanForm(
            initial={
                "planned_start": stage.planned_start,
                "planned_end": stage.planned_end,
                "planned_person_days": stage.planned_person_days,
            }
        ),
        "checklist_error": forms.get("checklist_error"),
    }


def _respond(request, stage: Stage, fragment: str | None, status: int = 200, **forms):
    """htmx gets the section it asked for; a plain form post gets the whole page."""
    context = _stage_context(request, stage, **forms)
    if request.htmx and fragment:
        return render(request, f"engagements/partials/{fragment}.html", context, status=status)
    return render(request, "engagements/stage_detail.html", context, status=status)


def _done(request, stage: Stage, fragment: str, message: str):
    if request.htmx:
        return _respond(request, stage, fragment)
    messages.success(request, message)
    return redirect("stage_detail", uuid=stage.uuid)


@login_required
def stage_detail(request, uuid):
    return _respond(request, _visible_stage(request, uuid), None)


@login_required
@require_POST
def stage_transition(request, uuid):
    stage = _visible_stage(request, uuid)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.check_transition_stage(request.user, stage, form.cleaned_data["to_status"],
                                            form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The stage is now %(status)s.") % {"status": stage.get_status_display()})
            return redirect("stage_detail", uuid=stage.uuid)
    return _respond(request, stage, None, status=400, transition_form=form)


@login_required
@require_POST
def stage_plan(request, uuid):
    stage = _visible_stage(request, uuid)
    form = StagePlanForm(request.POST)
    if form.is_valid():
        try:
            services.check_plan_stage(request.user, stage, form.cleaned_data)
        except ValidationError as exc:
            stage.refresh_from_db()
            apply_errors(form, exc)
        else:
            return _done(request, stage, "plan", _("The plan of the stage is saved."))
    return _respond(request, stage, "plan", status=400, plan_form=form)


@login_required
@require_POST
def checklist_item_state(request, uuid, item_id):
    stage = _visible_stage(request, uuid)
    item = get_object_or_404(ChecklistItem, stage=stage, pk=item_id)
    form = ChecklistStateForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.check_set_checklist_item(request.user, item, form.cleaned_data["state"],
                                              form.cleaned_data["reason"])
        except ValidationError as exc:
            error = {"item": item.pk, "messages": exc.messages}
    else:
        error = {"item": item.pk, "messages": [_("Choose a valid state.")]}
    if error:
        return _respond(request, stage, "checklist", status=400, checklist_error=error)
    return _done(request, stage, "checklist", _("The checklist is saved."))


@login_required
@require_POST
def log_work(request, uuid):
    stage = _visible_stage(request, uuid)
    form = LogWorkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.check_log_work(
                request.user, stage, data["date"], data["person_days"], data["summary"], data["blockers"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, stage, "worklogs", _("Your work is logged."))
    return _respond(request, stage, "worklogs", status=400, log_form=form)


@login_required
@require_POST
def worklog_delete(request, uuid, log_uuid):
    stage = _visible_stage(request, uuid)
    log = get_object_or_404(WorkLog, stage=stage, uuid=log_uuid)
    services.check_delete_work_log(request.user, log)
    return _done(request, stage, "worklogs", _("The work log is deleted."))


@login_required
@require_POST
def deliverable_upload(request, uuid):
    stage = _visible_stage(request, uuid)
    form = DeliverableForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.check_upload_deliverable(
                request.user, stage, form.cleaned_data["file"], form.cleaned_data["description"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, stage, "deliverables", _("The file is uploaded."))
    return _respond(request, stage, "deliverables", status=400, deliverable_form=form)


@login_required
def deliverable_download(request, uuid):
    deliverable = get_object_or_404(
        access.scope(request.user, Deliverable), uuid=uuid
    )
    response = FileResponse(deliverable.file.open("rb"), as_attachment=True, filename=deliverable.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- account -------------------------------------------------------------------------------


@login_required
@require_POST
def set_language(request):
    """Save the user's language and serve them in it from now on."""
    language = request.POST.get("language", "")
    valid = {code for code, _name in request.user._meta.get_field("language").choices}
    if language in valid:
        request.user.language = language
        request.user.save(update_fields=["language"])
        translation.activate(language)
    target = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    if language in valid:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=request.is_secure())
    return response
