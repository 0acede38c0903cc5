""""Waiting for me": each role's list, and the e-mails that tell them once."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from engagements import questionnaire, services
from engagements.models import Stage, User, WorkLog
from inbox import services as notify
from inbox.items import waiting_for
from inbox.models import NotificationSetting, Notified
from reports.models import Quote, QuoteEvent, ReportVersion
from tests.factories import UserFactory
from workers.models import AscendHost, Job

pytestmark = pytest.mark.django_db


def version(engagement, pm, number, status, kind=ReportVersion.Kind.ACCEPTANCE):
    return ReportVersion.objects.create(engagement=engagement, kind=kind, number=number, language="en", status=status,
                                        requested_by=pm, issued_at=timezone.now() if status == "issued" else None)


def quote(engagement, pm, status, valid_until=None):
    return Quote.objects.create(number=f"Q-{Quote.objects.count() + 1}", customer=engagement.customer,
                                engagement=engagement, title="Migration", status=status, created_by=pm,
                                valid_until=valid_until, sent_at=timezone.now())


def failed_job(engagement, consultant, **fields):
    host = AscendHost.objects.create(customer=engagement.customer, name=f"h{Job.objects.count()}",
                                     address="192.0.2.1", username="ascend", auth_method="key", secret="-",
                                     created_by=consultant)
    return Job.objects.create(kind="evaluation", engagement=engagement, stage=engagement.stages.first(), host=host,
                              started_by=consultant, status=Job.Status.FAILED, failure_message="exit 1: no NPU found",
                              finished_at=timezone.now(), **fields)


def kinds(user):
    return sorted(item.kind for item in waiting_for(user))


def test_a_contact_sees_what_to_sign_accept_and_fill_and_nothing_of_another_customer(
        engagement, other_engagement, pm, consultant, contact, stranger):
    signable = version(engagement, pm, 1, "issued")
    version(engagement, pm, 1, "issued", kind=ReportVersion.Kind.ASSESSMENT)
    version(engagement, pm, 2, "draft")  # not issued: not for the customer
    sent = quote(engagement, pm, "sent", datetime.date(2026, 12, 31))
    quote(engagement, pm, "draft")
    form = questionnaire.check_start(consultant, engagement)
    questionnaire.check_send(consultant, form)
    version(other_engagement, pm, 1, "issued")
    quote(other_engagement, pm, "sent")

    items = waiting_for(contact)
    assert sorted(item.kind for item in items) == ["accept_quote", "acknowledge", "fill", "sign"]
    urls = {item.kind: item.url for item in items}
    assert urls["sign"] == f"/reports/{signable.uuid}/" and urls["accept_quote"] == f"/quotes/{sent.uuid}/"
    assert {item.engagement for item in items} == {engagement.code}
    assert kinds(stranger) == ["accept_quote", "sign"]  # customer B's own, none of A's


def test_a_pm_sees_versions_to_issue_rejections_decided_and_expiring_quotes_late_and_over_budget_stages(
        engagement, pm, consultant, contact):
    version(engagement, pm, 1, "rejected")
    to_issue = version(engagement, pm, 2, "draft")
    version(engagement, pm, 1, "rejected", kind=ReportVersion.Kind.ASSESSMENT)  # the newest of its kind
    accepted = quote(engagement, pm, "accepted")
    QuoteEvent.objects.create(quote=accepted, from_status="sent", to_status="accepted", actor=contact)
    quote(engagement, pm, "sent", valid_until=timezone.localdate() + datetime.timedelta(days=2))
    quote(engagement, pm, "sent", valid_until=timezone.localdate() + datetime.timedelta(days=30))  # not yet
    survey = engagement.stages.get(key="survey")
    services.check_plan_stage(pm, survey, {"planned_start": datetime.date(2026, 1, 5),
                                           "planned_end": datetime.date(2026, 1, 9),
                                           "planned_person_days": Decimal("1")})
    for day in (6, 7):
        WorkLog.objects.create(stage=survey, consultant=consultant, date=datetime.date(2026, 1, day),
                               person_days=Decimal("0.75"), summary="survey")
    failed_job(engagement, consultant)

    items = {item.kind: item for item in waiting_for(pm)}
    assert set(items) == {"issue", "rejected", "quote_decided", "quote_expiring", "late", "over_budget",
                          "failed_job"}
    assert items["issue"].url == f"/reports/{to_issue.uuid}/"  # v2 supersedes the rejected v1
    assert "1.5 of 1 person-days" in items["over_budget"].text
    assert "no NPU found" in items["failed_job"].text
    assert waiting_for(UserFactory(role=User.Role.PM)) == []  # another PM's engagements are theirs


def test_a_consultant_sees_blocked_stages_their_failed_jobs_and_required_items_due(
        engagement, pm, consultant, other_consultant):
    engagement.consultants.add(other_consultant)
    survey, plan = engagement.ordered_stages()[:2]
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    services.check_transition_stage(consultant, survey, Stage.Status.BLOCKED, "Waiting for the firewall")
    services.check_plan_stage(pm, plan, {"planned_start": datetime.date(2026, 1, 5),
                                         "planned_end": datetime.date(2026, 1, 30), "planned_person_days": 3})
    services.check_transition_stage(consultant, plan, Stage.Status.IN_PROGRESS)
    failed_job(engagement, consultant)
    failed_job(engagement, other_consultant)

    items = {item.kind: item for item in waiting_for(consultant, today=datetime.date(2026, 1, 29))}
    assert set(items) == {"blocked", "checklist_due", "failed_job"}
    assert "Waiting for the firewall" in items["blocked"].text
    # Their own failed job only; the plan's items are due for every consultant on the engagement,
    # but only from three days before its planned end:
    assert kinds(other_consultant) == ["blocked", "checklist_due", "failed_job"]
    assert "checklist_due" not in {i.kind for i in waiting_for(other_consultant, today=datetime.date(2026, 1, 20))}


def test_immediate_e_mails_go_once_per_item_in_the_users_language_with_portal_links(settings, engagement, pm,
                                                                                   contact, consultant):
    settings.PORTAL_URL = "https://portal.example.cn"
    User.objects.filter(pk=contact.pk).update(language="zh-hans")
    signable = version(engagement, pm, 1, "issued")
    assert notify.notify_immediately() == 1
    message = mail.outbox[-1]
    assert message.to == [contact.email]
    assert "验收报告" in message.subject
    assert f"https://portal.example.cn/reports/{signable.uuid}/" in message.body
    assert notify.notify_immediately() == 0  # told once
    quote(engagement, pm, "sent", datetime.date(2026, 12, 31))
    assert notify.notify_immediately() == 1  # only the new one


def test_a_digest_collects_new_items_and_off_means_off(engagement, pm, contact, consultant, stranger):
    notify.check_set_frequency(contact, NotificationSetting.Frequency.DAILY)
    notify.check_set_frequency(stranger, NotificationSetting.Frequency.OFF)
    version(engagement, pm, 1, "issued")
    quote(engagement, pm, "sent", datetime.date(2026, 12, 31))
    User.objects.exclude(pk=contact.pk).update(email="")  # only the contact has an address here
    assert notify.notify_immediately() == 0  # the contact wants a digest
    assert notify.send_digests() == 1
    digest = mail.outbox[-1]
    assert digest.to == [contact.email] and "2 things wait for you" in digest.subject
    assert digest.body.count("\n- ") == 2
    assert notify.send_digests() == 0
    assert not Notified.objects.filter(user=stranger).exists()


def test_the_inbox_page_and_the_setting_page(client, engagement, pm, contact):
    version(engagement, pm, 1, "issued")
    client.force_login(contact)
    page = client.get("/inbox/").content.decode()
    assert "Review and sign off" in page and "/reports/" in page
    response = client.post("/account/notifications/", {"frequency": "daily"})
    assert response.status_code == 302
    assert NotificationSetting.objects.get(user=contact).frequency == "daily"
    page = client.post("/account/notifications/", {"frequency": "hourly"}).content.decode()
    assert 'data-field="frequency"' in page
    assert NotificationSetting.objects.get(user=contact).frequency == "daily"
