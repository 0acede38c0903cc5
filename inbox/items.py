"""What waits for a user: computed from the data each time, never stored, so an item is gone
the moment its cause is (a report signed, a stage unblocked, a job run again).

Each item has a stable ``key`` (what it is about, and the state that makes it wait), so the
e-mails can tell a user about it once (``inbox.services``). Texts are made in the active
language: build the list inside ``translation.override(user's language)`` for an e-mail.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.models import ChecklistItem, Engagement, Questionnaire, Stage
from reports.models import Quote, QuoteEvent, ReportVersion
from workers.models import Job

RECENT_DAYS = 7  # decided quotes and failed jobs stay this long
EXPIRY_WARNING_DAYS = 7
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class Item:
    key: str
    kind: str  # what to do: sign, acknowledge, accept_quote, fill, issue, rejected, quote_decided, quote_expiring,
    #            late, over_budget, blocked, failed_job, checklist_due, review_questionnaire
    text: str
    url: str
    engagement: str  # its code
    since: datetime.datetime | datetime.date | None = None


def waiting_for(user, today: datetime.date | None = None) -> list[Item]:
    if not user.is_authenticated or not user.is_active:
        return []
    today = today or timezone.localdate()
    if user.is_customer_contact:
        return _contact(user)
    if user.is_pm:
        return _pm(user, today)
    if user.is_consultant:
        return _consultant(user, today)
    return []


def _version_text(version: ReportVersion, template: str) -> str:
    return template % {"code": version.engagement.code, "number": version.number}


def _contact(user) -> list[Item]:
    items = []
    issued = ReportVersion.objects.filter(engagement__customer=user.customer_id, status=ReportVersion.Status.ISSUED) \
        .select_related("engagement").order_by("issued_at")
    for version in issued:
        if version.kind == ReportVersion.Kind.ASSESSMENT:
            kind, text = "acknowledge", _("Read and acknowledge the migration assessment report %(code)s v%(number)s")
        else:
            kind, text = "sign", _("Review and sign off (or reject) the acceptance report %(code)s v%(number)s")
        items.append(Item(f"{kind}:{version.pk}", kind, _version_text(version, text),
                          reverse("version_detail", args=[version.uuid]), version.engagement.code, version.issued_at))
    quotes = Quote.objects.filter(customer=user.customer_id, status=Quote.Status.SENT).select_related("engagement")
    for quote in quotes.order_by("sent_at"):
        items.append(Item(f"accept_quote:{quote.pk}", "accept_quote",
                          _("Accept or reject quote %(number)s (valid until %(date)s)")
                          % {"number": quote.number, "date": quote.valid_until or "—"},
                          reverse("quote_detail", args=[quote.uuid]),
                          quote.engagement.code if quote.engagement else "", quote.sent_at))
    for questionnaire in Questionnaire.objects.filter(engagement__customer=user.customer_id,
                                                      status=Questionnaire.Status.SENT).select_related("engagement"):
        items.append(Item(f"fill:{questionnaire.pk}:{questionnaire.updated_at.timestamp():.0f}", "fill",
                          _("Fill in the model information questionnaire of %(code)s")
                          % {"code": questionnaire.engagement.code},
                          reverse("questionnaire", args=[questionnaire.engagement.uuid]),
                          questionnaire.engagement.code, questionnaire.updated_at))
    return items


def _latest_versions(engagements) -> list[ReportVersion]:
    """The newest version of each report kind of these engagements (older ones are superseded)."""
    newest = ReportVersion.objects.filter(engagement__in=engagements).values("engagement", "kind") \
        .annotate(n=Max("number"))
    wanted = {(row["engagement"], row["kind"], row["n"]) for row in newest}
    candidates = ReportVersion.objects.filter(engagement__in=engagements,
                                              status__in=[ReportVersion.Status.DRAFT, ReportVersion.Status.REJECTED]) \
        .select_related("engagement")
    return [v for v in candidates if (v.engagement_id, v.kind, v.number) in wanted]


def _questionnaires_to_review(engagements) -> list[Item]:
    """Questionnaires the customer filled in, for staff of these engagements."""
    items = []
    for questionnaire in Questionnaire.objects.filter(engagement__in=engagements,
                                                      status=Questionnaire.Status.FILLED).select_related("engagement"):
        items.append(Item(f"review_questionnaire:{questionnaire.pk}:{questionnaire.updated_at.timestamp():.0f}",
                          "review_questionnaire",
                          _("Review the questionnaire %(code)s filled in by the customer, then accept it or return it")
                          % {"code": questionnaire.engagement.code},
                          reverse("questionnaire", args=[questionnaire.engagement.uuid]),
                          questionnaire.engagement.code, questionnaire.updated_at))
    return items


def _failed_jobs(jobs) -> list[Item]:
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    items = []
    for job in jobs.filter(status__in=[Job.Status.FAILED, Job.Status.LOST], finished_at__gte=since) \
            .select_related("engagement").order_by("-finished_at"):
        items.append(Item(f"failed_job:{job.pk}", "failed_job",
                          _("Job #%(id)s (%(kind)s) %(status)s: %(reason)s")
                          % {"id": job.pk, "kind": job.get_kind_display(), "status": job.get_status_display().lower(),
                             "reason": (job.failure_message or "—")[:160]},
                          reverse("job_detail", args=[job.uuid]), job.engagement.code, job.finished_at))
    return items


def _pm(user, today) -> list[Item]:
    engagements = Engagement.objects.filter(pm=user).exclude(status=Engagement.Status.CLOSED)
    items = []
    for version in _latest_versions(engagements):
        if version.status == ReportVersion.Status.DRAFT:
            items.append(Item(f"issue:{version.pk}", "issue",
                              _version_text(version, _("Review and issue %(code)s v%(number)s to the customer")),
                              reverse("version_detail", args=[version.uuid]), version.engagement.code,
                              version.created_at))
        else:
            items.append(Item(f"rejected:{version.pk}", "rejected",
                              _version_text(version, _("The customer rejected %(code)s v%(number)s: fix and render "
                                                       "a new version")),
                              reverse("version_detail", args=[version.uuid]), version.engagement.code,
                              version.created_at))
    recent = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    for event in QuoteEvent.objects.filter(quote__created_by=user, at__gte=recent,
                                           to_status__in=[Quote.Status.ACCEPTED, Quote.Status.REJECTED]) \
            .select_related("quote__engagement").order_by("-at"):
        quote = event.quote
        text = (_("Quote %(number)s was accepted") if event.to_status == Quote.Status.ACCEPTED
                else _("Quote %(number)s was rejected")) % {"number": quote.number}
        items.append(Item(f"quote_decided:{event.pk}", "quote_decided", text,
                          reverse("quote_detail", args=[quote.uuid]),
                          quote.engagement.code if quote.engagement else "", event.at))
    horizon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    for quote in Quote.objects.filter(created_by=user, status=Quote.Status.SENT, valid_until__lte=horizon) \
            .select_related("engagement"):
        items.append(Item(f"quote_expiring:{quote.pk}:{quote.valid_until}", "quote_expiring",
                          _("Quote %(number)s expires on %(date)s without an answer")
                          % {"number": quote.number, "date": quote.valid_until},
                          reverse("quote_detail", args=[quote.uuid]),
                          quote.engagement.code if quote.engagement else "", quote.valid_until))
    stages = Stage.objects.filter(engagement__in=engagements).exclude(status=Stage.Status.SKIPPED) \
        .with_figures().select_related("engagement")
    for stage in stages:
        if stage.status != Stage.Status.DONE and stage.is_late(today):
            items.append(Item(f"late:{stage.pk}:{stage.planned_end}", "late",
                              _("%(code)s: %(stage)s is late (planned to end %(date)s)")
                              % {"code": stage.engagement.code, "stage": stage.get_key_display(),
                                 "date": stage.planned_end},
                              reverse("stage_detail", args=[stage.uuid]), stage.engagement.code, stage.planned_end))
        if stage.planned_person_days and stage.logged_pd > stage.planned_person_days:
            items.append(Item(f"over_budget:{stage.pk}:{stage.planned_person_days}", "over_budget",
                              _("%(code)s: %(stage)s is over budget (%(logged)s of %(planned)s person-days)")
                              % {"code": stage.engagement.code, "stage": stage.get_key_display(),
                                 "logged": stage.logged_pd.normalize(),
                                 "planned": stage.planned_person_days.normalize()},
                              reverse("stage_detail", args=[stage.uuid]), stage.engagement.code, None))
    items += _questionnaires_to_review(engagements)
    items += _failed_jobs(Job.objects.filter(engagement__in=engagements))
    return items


def _consultant(user, today) -> list[Item]:
    engagements = Engagement.objects.filter(consultants=user).exclude(status=Engagement.Status.CLOSED)
    items = []
    for stage in Stage.objects.filter(engagement__in=engagements, status=Stage.Status.BLOCKED) \
            .select_related("engagement"):
        items.append(Item(f"blocked:{stage.pk}", "blocked",
                          _("%(code)s: %(stage)s is blocked: %(reason)s")
                          % {"code": stage.engagement.code, "stage": stage.get_key_display(),
                             "reason": stage.last_reason() or "—"},
                          reverse("stage_detail", args=[stage.uuid]), stage.engagement.code, None))
    due = today + datetime.timedelta(days=DUE_SOON_DAYS)
    stages = Stage.objects.filter(engagement__in=engagements, status=Stage.Status.IN_PROGRESS,
                                  planned_end__lte=due, checklist__required=True,
                                  checklist__state=ChecklistItem.State.OPEN) \
        .select_related("engagement").distinct()
    for stage in stages:
        open_items = stage.checklist.filter(required=True, state=ChecklistItem.State.OPEN).count()
        items.append(Item(f"checklist_due:{stage.pk}:{stage.planned_end}", "checklist_due",
                          _("%(code)s: %(n)s required checklist items of %(stage)s open, due %(date)s")
                          % {"code": stage.engagement.code, "n": open_items, "stage": stage.get_key_display(),
                             "date": stage.planned_end},
                          reverse("stage_detail", args=[stage.uuid]), stage.engagement.code, stage.planned_end))
    items += _questionnaires_to_review(engagements)
    items += _failed_jobs(Job.objects.filter(engagement__in=engagements, started_by=user))
    return items


__all__ = ["Item", "waiting_for"]
