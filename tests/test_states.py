"""One style for every state machine (Stage, Job, Quote, ReportVersion), ``common.states``:
an allowed move changes the row and records who, from, to and why; a move the map does not
allow, or one from a copy someone else has already moved, changes and records nothing; quote
expiry goes through the map with an event per quote.

Every assertion reads the database again: nothing trusts what the code returned."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from common import states
from engagements import services as engagement_services
from engagements.models import Stage, StageTransition
from reports import quotes
from reports import services as report_services
from reports.models import Quote, QuoteEvent, RateCardItem, ReportVersion, ReportVersionTransition
from tests.factories import PASSWORD
from workers import jobs
from workers.models import AscendHost, Job, JobTransition

pytestmark = pytest.mark.django_db


def test_every_machine_declares_its_map_and_its_record():
    for model in (Stage, Job, Quote, ReportVersion):
        statuses = set(model.Status.values)
        assert model.TRANSITIONS and set(model.TRANSITIONS) <= statuses, model
        assert all(targets <= statuses for targets in model.TRANSITIONS.values()), model
        assert callable(model.record_transition), model
    assert states.allowed_from(Quote.TRANSITIONS, Quote.Status.EXPIRED) == ["sent"]


# --- stages --------------------------------------------------------------------------------------


def _survey(engagement) -> Stage:
    return engagement.stages.get(key="survey")


def test_a_stage_move_records_who_from_to_and_why(engagement, consultant):
    survey = _survey(engagement)
    engagement_services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    engagement_services.check_transition_stage(consultant, Stage.objects.get(pk=survey.pk), Stage.Status.BLOCKED,
                                               "Waiting for the customer's data")
    row = Stage.objects.get(pk=survey.pk)
    assert row.status == "blocked" and row.actual_start is not None
    assert list(StageTransition.objects.filter(stage=survey).values_list(
        "actor__username", "from_status", "to_status", "reason")) == [
        ("consultant", "not_started", "in_progress", ""),
        ("consultant", "in_progress", "blocked", "Waiting for the customer's data"),
    ]


def test_a_stage_move_outside_the_map_changes_and_records_nothing(engagement, consultant):
    survey = _survey(engagement)
    before = StageTransition.objects.count()
    assert not states.move(survey, Stage.Status.BLOCKED, actor=consultant, reason="not started yet")
    with pytest.raises(ValidationError):
        engagement_services.check_transition_stage(consultant, survey, Stage.Status.DONE, "skip ahead")
    assert Stage.objects.get(pk=survey.pk).status == "not_started"
    assert StageTransition.objects.count() == before


def test_a_stale_stage_copy_does_not_move(engagement, consultant):
    fresh, stale = _survey(engagement), _survey(engagement)
    assert states.move(fresh, Stage.Status.IN_PROGRESS, actor=consultant)
    before = StageTransition.objects.filter(stage=fresh).count()
    # "skipped" is allowed from the status the stale copy holds, but the row has moved on.
    assert not states.move(stale, Stage.Status.SKIPPED, actor=consultant, reason="out of scope")
    assert Stage.objects.get(pk=fresh.pk).status == "in_progress"
    assert StageTransition.objects.filter(stage=fresh).count() == before
    assert stale.status == "not_started"  # the copy is not told it moved


# --- jobs ----------------------------------------------------------------------------------------


@pytest.fixture
def job(engagement, consultant):
    host = AscendHost.objects.create(customer=engagement.customer, name="records-only", address="192.0.2.1",
                                     username="ascend", auth_method="key", secret="-", created_by=consultant)
    return Job.objects.create(kind="evaluation", engagement=engagement, stage=_survey(engagement), host=host,
                              started_by=consultant)


def test_a_job_move_records_who_from_to_and_why(job, consultant):
    jobs.check_cancel_job(consultant, job)
    row = Job.objects.get(pk=job.pk)
    assert row.status == "cancelled" and row.finished_at is not None and row.failure_reason == "cancelled"
    transition = JobTransition.objects.get(job=job)
    assert (transition.actor, transition.from_status, transition.to_status) == (consultant, "queued", "cancelled")
    assert transition.reason == "Cancelled before it started."
    assert transition.reason_detail == {"msgid": "Cancelled before it started.", "params": {}}


def test_a_worker_move_has_no_actor(job):
    claimed, _later = jobs.claim(job.pk)
    assert claimed is not None
    assert Job.objects.get(pk=job.pk).status == "running"
    assert list(JobTransition.objects.filter(job=job).values_list("actor", "from_status", "to_status", "reason")) == [
        (None, "queued", "running", "Picked up by a worker.")]


def test_a_job_move_outside_the_map_changes_and_records_nothing(job):
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    ended = Job.objects.get(pk=job.pk)
    jobs.finish(ended, Job.Status.FAILED, reason=Job.Failure.COMMAND, message=jobs.Text("late failure"))
    assert not states.move(ended, Job.Status.RUNNING, reason=jobs.Text("again"))
    row = Job.objects.get(pk=job.pk)
    assert (row.status, row.failure_reason, row.finished_at) == ("succeeded", "", None)
    assert not JobTransition.objects.filter(job=job).exists()


def test_a_stale_job_copy_does_not_move(job):
    stale = Job.objects.get(pk=job.pk)
    jobs.claim(job.pk)  # another worker picked it up: running now
    # Cancelled is allowed from queued (what the copy holds) and from running (what the row holds).
    jobs.finish(stale, Job.Status.CANCELLED, reason=Job.Failure.CANCELLED, message=jobs.CANCELLED_BEFORE_START)
    row = Job.objects.get(pk=job.pk)
    assert (row.status, row.failure_reason, row.finished_at) == ("running", "", None)
    assert list(JobTransition.objects.filter(job=job).values_list("from_status", "to_status")) == [
        ("queued", "running")]


# --- quotes --------------------------------------------------------------------------------------


def _sent_quote(pm, customer, valid_until=None) -> Quote:
    quote = quotes.check_create_quote(pm, customer=customer, title="Q", valid_until=valid_until or (
        timezone.localdate() + datetime.timedelta(days=365)))
    quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                        "person_days": "1"}])
    return quotes.check_send(pm, quote)


def test_a_quote_move_records_who_from_to_and_why(pm, contact, customer_a):
    quote = _sent_quote(pm, customer_a)
    quotes.check_decide(contact, Quote.objects.get(pk=quote.pk), accept=False, password=PASSWORD,
                        comment="Too expensive", request_meta={"REMOTE_ADDR": "192.0.2.9"})
    row = Quote.objects.get(pk=quote.pk)
    assert row.status == "rejected" and row.sent_at is not None
    assert list(QuoteEvent.objects.filter(quote=quote).values_list(
        "actor__username", "from_status", "to_status", "comment", "ip")) == [
        ("pm", "", "draft", "", None), ("pm", "draft", "sent", "", None),
        ("contact", "sent", "rejected", "Too expensive", "192.0.2.9")]


def test_revising_a_sent_quote_supersedes_it_through_the_map(pm, customer_a):
    quote = _sent_quote(pm, customer_a)
    copy = quotes.check_revise(pm, quote)
    assert Quote.objects.get(pk=quote.pk).status == "superseded"
    event = QuoteEvent.objects.filter(quote=quote).last()
    assert (event.actor, event.from_status, event.to_status, event.comment) == (
        pm, "sent", "superseded", "Revised as version 2")
    assert Quote.objects.get(pk=copy.pk).status == "draft"


def test_a_quote_move_outside_the_map_changes_and_records_nothing(pm, contact, customer_a):
    draft = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    before = QuoteEvent.objects.count()
    assert not states.move(draft, Quote.Status.ACCEPTED, actor=contact)
    assert not states.move(draft, Quote.Status.EXPIRED)
    assert Quote.objects.get(pk=draft.pk).status == "draft"
    assert QuoteEvent.objects.count() == before


def test_a_stale_quote_copy_does_not_move(pm, contact, customer_a):
    quote = _sent_quote(pm, customer_a)
    stale = Quote.objects.get(pk=quote.pk)
    quotes.check_decide(contact, quote, accept=True, password=PASSWORD, name="Li Na")
    before = QuoteEvent.objects.filter(quote=quote).count()
    assert not states.move(stale, Quote.Status.EXPIRED, reason=quotes.EXPIRY_REASON)
    assert Quote.objects.get(pk=quote.pk).status == "accepted"
    assert QuoteEvent.objects.filter(quote=quote).count() == before


def test_expiry_records_an_event_per_expired_quote_and_leaves_the_others(pm, contact, customer_a):
    now = timezone.localdate()
    today = now + datetime.timedelta(days=60)  # the day the expiry runs
    overdue = [_sent_quote(pm, customer_a, now + datetime.timedelta(days=days)) for days in (1, 59)]
    still_valid = _sent_quote(pm, customer_a, today)
    no_date = _sent_quote(pm, customer_a)
    draft = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=now)
    accepted = _sent_quote(pm, customer_a, now)  # decided while still valid
    quotes.check_decide(contact, accepted, accept=True, password=PASSWORD, name="Li Na")
    untouched = (still_valid, no_date, draft, accepted)
    others = {q.pk: (Quote.objects.get(pk=q.pk).status, q.events.count()) for q in untouched}

    assert quotes.expire_overdue_quotes(today) == 2

    for quote in overdue:
        assert Quote.objects.get(pk=quote.pk).status == "expired"
        expiry = list(QuoteEvent.objects.filter(quote=quote, to_status="expired").values_list(
            "actor", "from_status", "comment"))
        assert expiry == [(None, "sent", "validity date passed")]
    assert {q.pk: (Quote.objects.get(pk=q.pk).status, q.events.count()) for q in untouched} == others
    # Running again expires nothing and records nothing more.
    events = QuoteEvent.objects.count()
    assert quotes.expire_overdue_quotes(today) == 0
    assert QuoteEvent.objects.count() == events


def test_an_expired_quote_shows_no_actor_on_its_page(client, pm, customer_a):
    quote = _sent_quote(pm, customer_a, datetime.date(2026, 1, 1))
    quotes.expire_overdue_quotes(datetime.date(2026, 1, 2))
    client.force_login(pm)
    page = client.get(reverse("quote_detail", args=[quote.uuid])).content.decode()
    assert "validity date passed" in page and "None" not in page


# --- report versions -----------------------------------------------------------------------------


@pytest.fixture
def fake_render(monkeypatch):
    """Renders in no time: a passing report whose PDF is a placeholder (enough to issue and reject)."""
    monkeypatch.setattr(report_services, "build_report_data",
                        lambda engagement, number, language: {"passed": True, "overall": "pass",
                                                              "engagement": {"conclusions": "Accepted."}})
    monkeypatch.setattr(report_services, "render_html", lambda data, **kwargs: "<p>report</p>")
    monkeypatch.setattr(report_services, "render_pdf", lambda html: b"%PDF-1.4 placeholder")


def _history(version) -> list[tuple]:
    return list(ReportVersionTransition.objects.filter(version=version).values_list(
        "actor__username", "from_status", "to_status", "reason"))


def test_a_report_version_records_every_move_up_to_the_sign_off(pm, contact, acceptance_ready):
    version = report_services.check_request_render(pm, acceptance_ready, "en")
    report_services.render_version(version.pk)
    report_services.check_issue(pm, ReportVersion.objects.get(pk=version.pk))
    report_services.check_sign_off(contact, ReportVersion.objects.get(pk=version.pk), password=PASSWORD,
                                   name="Li Na", title="CTO", confirm=True)
    row = ReportVersion.objects.get(pk=version.pk)
    assert row.status == "signed" and row.issued_by == pm and row.rendered_at is not None
    assert _history(version) == [
        ("pm", "", "rendering", "Render requested."),
        (None, "rendering", "draft", "Rendered."),
        ("pm", "draft", "issued", ""),
        ("contact", "issued", "signed", ""),
    ]
    signed_at = row.events.get(action="signed").at
    assert ReportVersionTransition.objects.get(version=version, to_status="signed").created_at == signed_at


def test_a_rejection_and_a_failed_render_are_recorded_with_their_reason(pm, contact, engagement, fake_render,
                                                                       monkeypatch):
    version = report_services.check_request_render(pm, engagement, "en")
    report_services.render_version(version.pk)
    report_services.check_issue(pm, ReportVersion.objects.get(pk=version.pk))
    report_services.check_reject(contact, ReportVersion.objects.get(pk=version.pk), password=PASSWORD,
                                 comment="The loss figures are from last month")
    assert ReportVersion.objects.get(pk=version.pk).status == "rejected"
    assert _history(version)[-1] == ("contact", "issued", "rejected", "The loss figures are from last month")

    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(report_services, "render_pdf", broken)
    failing = report_services.check_request_render(pm, engagement, "en")
    report_services.render_version(failing.pk)
    row = ReportVersion.objects.get(pk=failing.pk)
    assert (row.status, row.failure) == ("failed", "RuntimeError: no fonts")
    assert _history(failing)[-1] == (None, "rendering", "failed", "The render failed.")


def test_a_report_version_move_outside_the_map_changes_and_records_nothing(pm, contact, engagement, fake_render):
    version = report_services.check_request_render(pm, engagement, "en")
    with pytest.raises(ValidationError):
        report_services.check_issue(pm, version)  # still rendering
    report_services.render_version(version.pk)
    draft = ReportVersion.objects.get(pk=version.pk)
    before = _history(version)
    assert not states.move(draft, ReportVersion.Status.SIGNED, actor=contact)
    assert not states.move(draft, ReportVersion.Status.RENDERING, actor=pm)
    row = ReportVersion.objects.get(pk=version.pk)
    assert (row.status, row.issued_by, row.issued_at) == ("draft", None, None)
    assert _history(version) == before


def test_a_stale_report_version_copy_does_not_move(pm, engagement, fake_render):
    version = report_services.check_request_render(pm, engagement, "en")
    stale = ReportVersion.objects.get(pk=version.pk)
    report_services.render_version(version.pk)  # another worker rendered it
    before = _history(version)
    assert not states.move(stale, ReportVersion.Status.FAILED, failure="a late failure")
    row = ReportVersion.objects.get(pk=version.pk)
    assert (row.status, row.failure) == ("draft", "")
    assert _history(version) == before


def test_the_version_page_lists_the_status_history(client, pm, engagement, fake_render):
    version = report_services.check_request_render(pm, engagement, "en")
    report_services.render_version(version.pk)
    client.force_login(pm)
    page = client.get(reverse("version_detail", args=[version.uuid])).content.decode()
    history = page.split('data-testid="transitions"', 1)[1].split("</ul>", 1)[0]
    assert "Status history" in page
    assert "Rendering → Draft — Rendered." in history and "the portal" in history
    assert "Render requested." in history and str(pm) in history
