"""The quote editor adds up as you type, and what it shows is what the portal saves."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from reports import quotes
from reports.models import Quote, RateCardItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_totals_follow_the_typing_and_match_the_saved_quote(sign_in, live_server, pm, customer_a, rate_card, page):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Two models", tax_rate="0.06")
    survey = RateCardItem.objects.get(code="survey-assessment")
    sign_in(pm)
    page.goto(f"{live_server.url}/quotes/{quote.uuid}/")
    row = page.locator("[data-quote-line]").first
    row.locator('select[name="lines-0-item"]').select_option(str(survey.pk))
    row.locator('input[name="lines-0-person_days"]').fill("2.5")
    row.locator('input[name="lines-0-rate"]').fill("3333.33")
    row.locator('input[name="lines-0-discount"]').fill("10")
    expect(row.locator("[data-line-total]")).to_have_text("¥7,499.99")  # 2.5 x 3333.33 x 0.9, half-up

    second = page.locator("[data-quote-line]").nth(1)
    second.locator('select[name="lines-1-item"]').select_option(str(survey.pk))
    second.locator('input[name="lines-1-person_days"]').fill("4")  # no rate typed: the rate card's
    expect(second.locator("[data-line-total]")).to_have_text(f"¥{Decimal(4) * survey.rate:,.2f}")

    cloud = page.locator("[data-cloud-line]").first
    cloud.locator('input[name="cloud-0-resource"]').fill("BMS 8 x 910B")
    cloud.locator('input[name="cloud-0-monthly_cost"]').fill("45000.5")
    cloud.locator('input[name="cloud-0-months"]').fill("3")
    expect(cloud.locator("[data-line-total]")).to_have_text("¥135,001.50")
    expect(page.locator('[data-testid="totals-note"]')).to_be_visible()
    shown = {key: page.locator(f'[data-live="{key}"]').text_content() for key in ("services", "tax", "cloud", "total")}

    page.click('[data-testid="save-lines"]')
    expect(page.locator('[data-testid="totals-note"]')).to_be_hidden()
    totals = Quote.objects.get(pk=quote.pk).totals()
    assert shown == {key: f"¥{getattr(totals, key):,.2f}" for key in ("services", "tax", "cloud", "total")}

    # A value that is not a number shows "?" at once, and the server says what is wrong.
    row = page.locator("[data-quote-line]").first
    row.locator('input[name="lines-0-person_days"]').fill("two")
    expect(row.locator("[data-line-total]")).to_have_text("?")
    expect(page.locator('[data-live="total"]')).to_have_text("?")
