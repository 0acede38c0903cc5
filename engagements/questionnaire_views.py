"""The model information questionnaire's page: read, fill in, and move along."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from common import access
from common.forms import apply_errors

from . import questionnaire as services
from .forms import QuestionnaireForm, QuestionnaireModelFormSet
from .models import Engagement, Questionnaire, StageKey

DONE_MESSAGES = {
    "send": gettext_lazy("The questionnaire is with the customer now."),
    "submit": gettext_lazy("Thank you: the questionnaire is submitted."),
    "accept": gettext_lazy("The questionnaire is accepted; the models under migration follow it."),
    "revise": gettext_lazy("A new version is started from the accepted one."),
}


def _rows(formset) -> list[dict]:
    return [{name: value for name, value in form.cleaned_data.items() if name not in ("DELETE", "id", "questionnaire")}
            for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


@login_required
def questionnaire_page(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    questionnaire = services.current(engagement)
    if questionnaire is not None and not access.can(request.user, "view", questionnaire):
        questionnaire = None  # a draft is the provider's until it is sent
    editable = questionnaire is not None and access.can(request.user, "edit", questionnaire)
    form = formset = None
    if editable:
        data = request.POST if request.method == "POST" else None
        form = QuestionnaireForm(data, instance=questionnaire, prefix="q")
        formset = QuestionnaireModelFormSet(data, instance=questionnaire, prefix="models")
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            fields = {name: form.cleaned_data[name] for name in QuestionnaireForm.Meta.fields}
            try:
                questionnaire.refresh_from_db()
                services.check_save(request.user, questionnaire, fields, _rows(formset))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The questionnaire is saved."))
                if request.POST.get("then") == "submit":
                    return questionnaire_action(request, uuid, "submit")
                return redirect("questionnaire", uuid=engagement.uuid)
    elif request.method == "POST":
        if questionnaire is None:
            raise Http404
        access.require(request.user, "edit", questionnaire)
    context = {
        "engagement": engagement,
        "questionnaire": questionnaire,
        "form": form,
        "formset": formset,
        "can_start": questionnaire is None and access.can(request.user, "change", engagement),
        "versions": [version for version in engagement.questionnaires.all()
                     if access.can(request.user, "view", version)],
    }
    if questionnaire is not None:
        plan = services.plan_for(questionnaire)
        context.update(
            plan=[(StageKey(line.stage).label, line) for line in plan],
            plan_total=sum(line.person_days for line in plan),
            missing=services.missing_answers(questionnaire),
            transitions=questionnaire.transitions.select_related("actor"),
            rows=questionnaire.models.all(),
        )
    return render(request, "engagements/questionnaire.html", context)


@login_required
@require_POST
def questionnaire_start(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    services.check_start(request.user, engagement)
    return redirect("questionnaire", uuid=engagement.uuid)


ACTIONS = {
    "send": lambda user, q, post: services.check_send(user, q, post.get("reason", "")),
    "submit": lambda user, q, post: services.check_submit(user, q),
    "accept": lambda user, q, post: services.check_accept(user, q),
    "revise": lambda user, q, post: services.check_revise(user, q),
}


@login_required
@require_POST
def questionnaire_action(request, uuid, action):
    if action not in ACTIONS and action != "apply_plan":
        raise Http404
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    questionnaire = access.get_or_404(request.user, Questionnaire, engagement=engagement,
                                      pk=request.POST.get("questionnaire") or 0)
    try:
        if action == "apply_plan":
            changed = services.check_apply_plan(request.user, questionnaire)
            messages.success(request, _("The suggested person-days are set on %(n)s stages not yet started.")
                             % {"n": changed})
        else:
            ACTIONS[action](request.user, questionnaire, request.POST)
            messages.success(request, DONE_MESSAGES[action])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("questionnaire", uuid=engagement.uuid)
