"""One accepted quote per engagement (a second acceptance is refused), and no quote is sent
without a validity date."""

import datetime
import importlib
import threading

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.urls import reverse
from django.utils import timezone, translation

from reports import quotes
from reports.models import Quote, RateCardItem
from tests.factories import make_engagement

PASSWORD = "correct-horse-battery"


def _sent(pm, engagement, title="Q", valid_until=None) -> Quote:
    if not RateCardItem.objects.exists():  # a transactional test's flush empties the seeded rate card
        importlib.import_module("reports.migrations.0004_seed_rate_card").seed(django_apps, None)
    quote = quotes.check_create_quote(pm, customer=engagement.customer, engagement=engagement, title=title,
                                      valid_until=valid_until or timezone.localdate() + datetime.timedelta(days=30))
    quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                        "person_days": "1"}])
    return quotes.check_send(pm, quote)


@pytest.mark.django_db
def test_a_second_quote_of_an_engagement_cannot_be_accepted(pm, contact, engagement):
    first, second = _sent(pm, engagement, "A"), _sent(pm, engagement, "B")
    quotes.check_decide(contact, first, accept=True, password=PASSWORD, name="Li Na")
    with pytest.raises(ValidationError, match=f"{first.number} version 1 is already accepted"):
        quotes.check_decide(contact, second, accept=True, password=PASSWORD, name="Li Na")
    assert Quote.objects.get(pk=second.pk).status == "sent"
    quotes.check_decide(contact, second, accept=False, password=PASSWORD, comment="We took the other one")
    assert list(Quote.objects.filter(status="accepted")) == [first]
    assert quotes.planned_vs_actual(engagement)["quote"] == first


@pytest.mark.django_db
def test_the_browser_shows_the_refusal(client, pm, contact, engagement):
    first, second = _sent(pm, engagement, "A"), _sent(pm, engagement, "B")
    quotes.check_decide(contact, first, accept=True, password=PASSWORD, name="Li Na")
    client.force_login(contact)
    page = client.post(reverse("quote_accept", args=[second.uuid]), {"name": "Li Na", "password": PASSWORD})
    assert page.status_code == 400 and "is already accepted" in page.content.decode()
    assert Quote.objects.get(pk=second.pk).status == "sent"


@pytest.mark.django_db
def test_quotes_of_other_engagements_and_without_one_are_independent(pm, contact, engagement, customer_a):
    other = make_engagement(pm, customer_a)
    quotes.check_decide(contact, _sent(pm, engagement), accept=True, password=PASSWORD, name="Li Na")
    quotes.check_decide(contact, _sent(pm, other), accept=True, password=PASSWORD, name="Li Na")
    loose = [quotes.check_create_quote(pm, customer=customer_a, title=f"L{n}",
                                       valid_until=timezone.localdate()) for n in range(2)]
    for quote in loose:
        quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                            "person_days": "1"}])
        quotes.check_send(pm, quote)
        quotes.check_decide(contact, quote, accept=True, password=PASSWORD, name="Li Na")
    assert Quote.objects.filter(status="accepted").count() == 4


@pytest.mark.django_db
def test_the_database_refuses_a_second_accepted_quote(pm, engagement):
    first, second = _sent(pm, engagement, "A"), _sent(pm, engagement, "B")
    Quote.objects.filter(pk=first.pk).update(status=Quote.Status.ACCEPTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.filter(pk=second.pk).update(status=Quote.Status.ACCEPTED)


@pytest.mark.django_db(transaction=True)
def test_two_racing_acceptances_leave_one(pm, contact, engagement):
    racing = [_sent(pm, engagement, "A"), _sent(pm, engagement, "B")]
    barrier = threading.Barrier(len(racing))
    outcomes = []

    def accept(quote):
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # a new thread speaks the default language
                quotes.check_decide(contact, quote, accept=True, password=PASSWORD, name="Li Na")
            outcomes.append("accepted")
        except ValidationError as exc:
            outcomes.append("refused" if "already accepted" in str(exc) else str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(quote,)) for quote in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "refused"]
    assert Quote.objects.filter(engagement=engagement, status="accepted").count() == 1


@pytest.mark.django_db
def test_a_quote_without_a_validity_date_is_not_sent(client, pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                        "person_days": "1"}])
    with pytest.raises(ValidationError) as exc:
        quotes.check_send(pm, quote)
    assert set(exc.value.message_dict) == {"valid_until"}
    client.force_login(pm)
    client.post(reverse("quote_send", args=[quote.uuid]))
    quote.refresh_from_db()
    assert quote.status == "draft" and quote.sent_at is None and quote.events.count() == 1
    quotes.check_update_quote(pm, quote, title="Q", tax_rate="0.06", valid_until=timezone.localdate())
    quotes.check_send(pm, quote)
    assert Quote.objects.get(pk=quote.pk).status == "sent"
