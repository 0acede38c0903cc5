"""The customer contact opens the acceptance report, signs it off, and the engagement shows
it accepted; another customer's contact cannot see it."""

import pytest
from playwright.sync_api import expect

from reports import services
from reports.models import ReportVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_contact_signs_off_and_the_engagement_shows_accepted(sign_in, live_server, pm, contact, stranger,
                                                                 acceptance_ready):
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    services.check_issue(pm, version)

    page = sign_in(contact)
    page.click(f"text={acceptance_ready.code}")
    page.click('[data-testid="reports-link"]')
    page.click("text=v1")
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Issued for sign-off")
    expect(page.locator("iframe.report-preview")).to_be_visible()
    form = page.locator('[data-testid="sign-off"] form').first
    form.locator('input[name="name"]').fill("Li Na")
    form.locator('input[name="title"]').fill("CTO")
    form.locator('input[name="confirm"]').check()
    form.locator('input[name="password"]').fill("correct-horse-battery")
    page.click('[data-testid="sign"]')
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Signed off")
    expect(page.locator('[data-testid="signed-pdf"]')).to_be_visible()
    page.goto(f"{live_server.url}/engagements/")
    expect(page.locator('[data-testid="accepted"]')).to_be_visible()
    version.refresh_from_db()
    assert version.status == ReportVersion.Status.SIGNED

    page.click("text=Sign out")
    page = sign_in(stranger)
    expect(page.locator(f"text={acceptance_ready.code}")).to_have_count(0)
    response = page.goto(f"{live_server.url}/reports/{version.uuid}/")
    assert response.status == 404
