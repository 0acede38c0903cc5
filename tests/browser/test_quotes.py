"""A PM builds a quote from an engagement's plan, exports XLSX and PDF, sends it; the
customer contact accepts it."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from engagements import services as engagement_services
from reports.models import Quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pm_quotes_the_plan_and_the_customer_accepts(sign_in, live_server, pm, contact, engagement, rate_card):
    for stage in engagement.stages.all():
        engagement_services.check_plan_stage(pm, stage, {"planned_start": engagement.start_date,
                                                         "planned_end": engagement.start_date,
                                                         "planned_person_days": Decimal("4")})
    page = sign_in(pm)
    page.click(f"text={engagement.code}")
    page.click('[data-testid="quote-from-plan"]')
    page.click('[data-testid="build-quote"]')
    expect(page.locator('[data-testid="quote-status"]')).to_have_text("Draft")
    quote = Quote.objects.get()
    expect(page.locator('[data-testid="total"]')).to_have_text(f"¥{quote.totals().total:,}")

    with page.expect_download() as download:
        page.click('[data-testid="export-xlsx"]')
    workbook = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert workbook.active["F6"].value.startswith("=ROUND(C6*D6")
    with page.expect_download() as download:
        page.click('[data-testid="export-pdf"]')
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    page.click('[data-testid="send"]')  # no validity date yet: refused, saying so
    expect(page.locator('[data-testid="quote-status"]')).to_have_text("Draft")
    expect(page.get_by_text("valid until before sending")).to_be_visible()
    page.fill('[data-testid="header-form"] input[name="valid_until"]', "2027-06-30")
    page.click('[data-testid="save-header"]')
    page.click('[data-testid="send"]')
    expect(page.locator('[data-testid="quote-status"]')).to_have_text("Sent")
    page.click("text=Sign out")

    page = sign_in(contact)
    page.click('[data-testid="nav-quotes"]')
    page.click(f"text={quote.number} v1")
    decide = page.locator('[data-testid="decide"]')
    decide.locator('input[name="name"]').fill("Li Na")
    decide.locator('input[name="password"]').fill("correct-horse-battery")
    page.click('[data-testid="accept"]')
    expect(page.locator('[data-testid="quote-status"]')).to_have_text("Accepted")
    quote.refresh_from_db()
    assert quote.status == "accepted" and quote.events.last().signer_name == "Li Na"
