"""Quotes, planned vs actual and timesheets through the browser's endpoints."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from engagements import services as engagement_services
from reports import quotes
from reports.models import Quote, RateCardItem

pytestmark = pytest.mark.django_db


VALID = datetime.date.today() + datetime.timedelta(days=30)


def _dated(quote: Quote) -> Quote:
    """A quote is sent with a validity date."""
    Quote.objects.filter(pk=quote.pk).update(valid_until=VALID)
    quote.refresh_from_db()
    return quote


@pytest.fixture
def planned(engagement, pm):
    for stage in engagement.stages.all():
        engagement_services.check_plan_stage(pm, stage, {"planned_start": engagement.start_date,
                                                         "planned_end": engagement.start_date,
                                                         "planned_person_days": Decimal("5")})
    return engagement


def test_pm_builds_from_the_plan_edits_and_sends(client, pm, planned):
    client.force_login(pm)
    response = client.post(reverse("quote_from_plan", args=[planned.uuid]),
                           {"survey": RateCardItem.objects.get(code="survey-assessment").pk})
    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.lines.get().person_days == 5
    line_item = quote.lines.get().item.pk
    form = {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "cloud-TOTAL_FORMS": "1", "cloud-INITIAL_FORMS": "0",
            "lines-0-item": line_item, "lines-0-person_days": "5", "lines-0-rate": "3500", "lines-0-discount": "150",
            "lines-1-item": "", "cloud-0-resource": "", "cloud-0-monthly_cost": ""}
    bad = client.post(reverse("quote_detail", args=[quote.uuid]), form)
    assert bad.status_code == 400 and "A discount is between 0 and 100%." in bad.content.decode()
    assert quote.lines.get().discount == 0  # nothing changed
    form.update({"lines-1-person_days": "2", "lines-0-discount": "10"})  # a row without a service is not dropped
    bad = client.post(reverse("quote_detail", args=[quote.uuid]), form)
    assert bad.status_code == 400 and "Choose a service." in bad.content.decode()
    assert 'value="10"' in bad.content.decode()  # nothing typed is lost
    form["lines-1-person_days"] = ""
    form.update({"cloud-0-resource": "BMS", "cloud-0-monthly_cost": "45000", "cloud-0-months": "1",
                 "cloud-0-quantity": "1", "cloud-TOTAL_FORMS": "2", "cloud-1-quantity": "1", "cloud-1-months": "1",
                 "cloud-1-resource": "",
                 "lines-1-discount": "0"})  # blank rows as the browser posts them, defaults pre-filled
    assert client.post(reverse("quote_detail", args=[quote.uuid]), form).status_code == 302
    assert quote.totals().total == Decimal("15750.00") + Decimal("945.00") + Decimal("45000.00")
    xlsx = client.get(reverse("quote_export", args=[quote.uuid, "xlsx"]) + "?lang=en")
    assert load_workbook(io.BytesIO(xlsx.content)).active["F6"].value == "=ROUND(C6*D6*(1-E6),2)"
    assert client.get(reverse("quote_export", args=[quote.uuid, "pdf"])).content.startswith(b"%PDF")
    assert client.post(reverse("quote_header", args=[quote.uuid]), {  # a quote is sent with a validity date
        "title": quote.title, "tax_rate": "6", "valid_until": str(VALID), "notes": ""}).status_code == 302
    assert client.post(reverse("quote_send", args=[quote.uuid])).status_code == 302
    quote.refresh_from_db()
    assert quote.status == "sent"
    frozen = client.post(reverse("quote_detail", args=[quote.uuid]), form)
    assert frozen.status_code == 200 and quote.lines.get().discount == Decimal("0.1")  # no form for a sent quote
    assert "10%" in frozen.content.decode()


def test_pm_edits_a_draft_header_in_per_cent(client, pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    client.force_login(pm)
    url = reverse("quote_header", args=[quote.uuid])
    bad = client.post(url, {"title": "Q2", "tax_rate": "100", "valid_until": "", "notes": ""})
    assert bad.status_code == 400 and "A tax rate is at least 0% and below 100%." in bad.content.decode()
    assert 'value="Q2"' in bad.content.decode()
    good = client.post(url, {"title": "Q2", "tax_rate": "9", "valid_until": "2027-01-31", "notes": "n"})
    assert good.status_code == 302
    quote.refresh_from_db()
    assert (quote.title, quote.tax_rate, str(quote.valid_until)) == ("Q2", Decimal("0.09"), "2027-01-31")
    assert 'value="9"' in client.get(reverse("quote_detail", args=[quote.uuid])).content.decode()


def test_a_decision_error_stands_next_to_the_field_and_keeps_the_name(client, pm, contact, planned):
    quote = _dated(quotes.check_build_from_plan(pm, planned))
    quotes.check_send(pm, quote)
    client.force_login(contact)
    page = client.post(reverse("quote_accept", args=[quote.uuid]), {"name": "Li Na", "password": "wrong"})
    body = page.content.decode()
    assert page.status_code == 400 and 'data-field="password"' in body and 'value="Li Na"' in body
    quote.refresh_from_db()
    assert quote.status == "sent"


def test_customer_sees_sent_quotes_and_accepts(client, pm, contact, stranger, planned):
    quote = _dated(quotes.check_build_from_plan(pm, planned))
    client.force_login(contact)
    assert client.get(reverse("quote_detail", args=[quote.uuid])).status_code == 404  # a draft
    quotes.check_send(pm, quote)
    page = client.get(reverse("quote_detail", args=[quote.uuid])).content.decode()
    assert 'data-testid="decide"' in page
    client.post(reverse("quote_accept", args=[quote.uuid]), {"name": "Li Na", "password": "correct-horse-battery"})
    quote.refresh_from_db()
    assert quote.status == "accepted"
    client.force_login(stranger)
    assert client.get(reverse("quote_detail", args=[quote.uuid])).status_code == 404
    assert client.get(reverse("quote_list")).content.decode().count(quote.number) == 0


def test_economics_and_timesheets_pages(client, pm, consultant, contact, planned):
    survey = planned.stages.get(key="survey")
    engagement_services.check_transition_stage(consultant, survey, "in_progress")
    import datetime

    for n in range(6):
        engagement_services.check_log_work(consultant, survey, datetime.date.today() - datetime.timedelta(days=n + 1),
                                           "1", "work")
    client.force_login(pm)
    page = client.get(reverse("engagement_economics", args=[planned.uuid])).content.decode()
    assert 'data-testid="burn-chart"' in page and "6.00" in page
    sheet = client.get(reverse("timesheets"), {"start": "2020-01-01", "end": "2020-12-31"})
    assert sheet.status_code == 200
    bad = client.get(reverse("timesheets"), {"start": "2026-05-01", "end": "2026-04-01"})
    assert bad.status_code == 400 and "before its start" in bad.content.decode()
    today = datetime.date.today()
    xlsx = client.get(reverse("timesheets"), {"start": str(today - datetime.timedelta(days=30)), "end": str(today),
                                              "format": "xlsx"})
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert ws["D2"].value == 6.0
    client.force_login(contact)  # their own engagement, but the figures are internal: 403
    assert client.get(reverse("engagement_economics", args=[planned.uuid])).status_code == 403
    assert client.get(reverse("timesheets")).status_code == 403


def test_every_error_of_the_lines_shows_at_once(client, pm, customer_a, rate_card):
    """A discount that is not a number (the form's) and negative person-days on another line
    (the quote's rule) come back together, each next to its field; nothing is saved."""
    from reports import quotes as quote_services
    from reports.models import RateCardItem

    quote = quote_services.check_create_quote(pm, customer=customer_a, title="Errors")
    item = RateCardItem.objects.get(code="survey-assessment")
    client.force_login(pm)
    form = {"lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "cloud-TOTAL_FORMS": "1",
            "cloud-INITIAL_FORMS": "0",
            "lines-0-item": item.pk, "lines-0-person_days": "3", "lines-0-discount": "ten",
            "lines-1-item": item.pk, "lines-1-person_days": "-2", "lines-1-discount": "0",
            "cloud-0-resource": "", "cloud-0-monthly_cost": "500", "cloud-0-months": "2", "cloud-0-quantity": "1"}
    response = client.post(f"/quotes/{quote.uuid}/", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert page.count('data-field="discount"') == 1
    assert "Person-days cannot be negative" in page and 'data-field="person_days"' in page
    assert "Name the resource" in page and 'data-field="resource"' in page
    assert not quote.lines.exists()
