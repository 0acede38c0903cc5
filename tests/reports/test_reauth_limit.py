"""The password typed again at a report's sign-off or rejection and at a quote's decision has an
attempt limit per user: after REAUTH_MAX_FAILURES wrong passwords even the right one is refused,
nothing is decided, every failure and the lockout are recorded; after the window, or an
administrator's unlock, it works again."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from reports import quotes, reauth, services
from reports.models import Quote, RateCardItem, ReauthEvent, ReportVersion, SignOffEvent

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.REAUTH_MAX_FAILURES = 3
    settings.REAUTH_WINDOW_SECONDS = 600
    return settings


@pytest.fixture
def sent_quote(pm, customer_a, engagement):
    quote = quotes.check_create_quote(pm, customer=customer_a, engagement=engagement, title="Q",
                                      valid_until=timezone.localdate() + datetime.timedelta(days=30))
    quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                        "person_days": "1"}])
    return quotes.check_send(pm, quote)


@pytest.fixture
def issued(pm, acceptance_ready):
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    return services.check_issue(pm, version)


def _accept(contact, quote, password):
    return quotes.check_decide(contact, Quote.objects.get(pk=quote.pk), accept=True, password=password,
                               name="Li Na", request_meta={"REMOTE_ADDR": "192.0.2.5", "HTTP_USER_AGENT": "pytest"})


def _kinds(user):
    return list(ReauthEvent.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))


def _later(monkeypatch, seconds):
    moment = timezone.now() + datetime.timedelta(seconds=seconds)
    monkeypatch.setattr(reauth, "_now", lambda: moment)


def test_wrong_passwords_lock_the_quote_decision_then_the_window_passes(contact, sent_quote, monkeypatch):
    for _attempt in range(2):
        with pytest.raises(ValidationError, match="The password is not correct"):
            _accept(contact, sent_quote, "wrong")
    with pytest.raises(ValidationError, match="Too many wrong passwords") as exc:
        _accept(contact, sent_quote, "wrong")
    assert set(exc.value.message_dict) == {"password"}
    with pytest.raises(ValidationError, match="Too many wrong passwords"):
        _accept(contact, sent_quote, PASSWORD)  # even the right one
    assert Quote.objects.get(pk=sent_quote.pk).status == "sent"
    assert _kinds(contact) == ["failed", "failed", "failed", "locked", "refused"]
    event = ReauthEvent.objects.filter(user=contact).first()
    assert (event.purpose, event.ip, event.user_agent) == (reauth.QUOTE_DECISION, "192.0.2.5", "pytest")
    _later(monkeypatch, 599)
    with pytest.raises(ValidationError, match="Too many wrong passwords"):
        _accept(contact, sent_quote, PASSWORD)
    _later(monkeypatch, 601)
    _accept(contact, sent_quote, PASSWORD)
    assert Quote.objects.get(pk=sent_quote.pk).status == "accepted"


def test_wrong_passwords_lock_the_report_sign_off(contact, issued, sent_quote):
    for _attempt in range(3):
        with pytest.raises(ValidationError):
            services.check_reject(contact, ReportVersion.objects.get(pk=issued.pk), password="wrong", comment="x")
    with pytest.raises(ValidationError, match="Too many wrong passwords"):
        services.check_sign_off(contact, ReportVersion.objects.get(pk=issued.pk), password=PASSWORD, name="A",
                                title="B", confirm=True)
    assert ReportVersion.objects.get(pk=issued.pk).status == "issued"
    assert not SignOffEvent.objects.filter(version=issued).exclude(action="issued").exists()
    with pytest.raises(ValidationError, match="Too many wrong passwords"):  # one limit per user, for every decision
        _accept(contact, sent_quote, PASSWORD)
    assert _kinds(contact) == ["failed", "failed", "failed", "locked", "refused", "refused"]
    assert set(ReauthEvent.objects.filter(kind="failed").values_list("purpose", flat=True)) == {
        reauth.REPORT_DECISION}


def test_an_administrator_unlocks(contact, admin_user, sent_quote):
    for _attempt in range(3):
        with pytest.raises(ValidationError):
            _accept(contact, sent_quote, "wrong")
    call_command("reauth_unlock", "contact", "--by", admin_user.username)
    assert ReauthEvent.objects.filter(user=contact).last().actor == admin_user
    _accept(contact, sent_quote, PASSWORD)
    assert Quote.objects.get(pk=sent_quote.pk).status == "accepted"


def test_a_right_password_before_the_limit_starts_the_count_again(contact, sent_quote, pm, customer_a):
    for _attempt in range(2):
        with pytest.raises(ValidationError):
            _accept(contact, sent_quote, "wrong")
    with pytest.raises(ValidationError, match="State your name"):  # right password, the form still incomplete
        quotes.check_decide(contact, sent_quote, accept=True, password=PASSWORD, name="")
    for _attempt in range(2):
        with pytest.raises(ValidationError, match="The password is not correct"):
            _accept(contact, sent_quote, "wrong")
    _accept(contact, sent_quote, PASSWORD)
    assert _kinds(contact) == ["failed", "failed", "cleared", "failed", "failed", "cleared"]


def test_failures_older_than_the_window_do_not_count(contact, sent_quote, monkeypatch):
    for _attempt in range(2):
        with pytest.raises(ValidationError):
            _accept(contact, sent_quote, "wrong")
    _later(monkeypatch, 601)
    with pytest.raises(ValidationError, match="The password is not correct"):
        _accept(contact, sent_quote, "wrong")
    assert reauth.locked_until(contact, reauth._now()) is None


def test_the_browser_shows_the_lockout_at_the_password(client, contact, sent_quote):
    client.force_login(contact)
    url = reverse("quote_accept", args=[sent_quote.uuid])
    for _attempt in range(3):
        client.post(url, {"name": "Li Na", "password": "wrong"})
    page = client.post(url, {"name": "Li Na", "password": PASSWORD})
    body = page.content.decode()
    assert page.status_code == 400 and 'data-field="password"' in body and "Too many wrong passwords" in body
    assert Quote.objects.get(pk=sent_quote.pk).status == "sent"
