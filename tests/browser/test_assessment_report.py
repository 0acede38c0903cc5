"""The migration assessment report in the browser: a consultant renders it, the PM issues it, the
customer's contact reads every page and acknowledges it; another customer's contact cannot see it."""

import pytest
from playwright.sync_api import expect

from reports import services
from reports.models import ReportVersion, SignOffEvent
from tests.browser.reading import read_every_page
from tests.factories import MigrationModelFactory, RiskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RISK = "The customer's data set is not available before April"


def test_the_pm_issues_and_the_contact_acknowledges(sign_in, live_server, pm, consultant, contact, stranger,
                                                    engagement):
    MigrationModelFactory(engagement=engagement, name="YOLOv5s")
    RiskFactory(engagement=engagement, description=RISK, mitigation="Start with the public COCO subset")

    # The consultant asks for a render on the reports page; a worker renders it (here: at once).
    page = sign_in(consultant)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/reports/")
    section = page.locator('[data-testid="assessment-report"]')
    section.locator('select[name="language"]').select_option("en")
    section.locator('[data-testid="render-assessment"]').click()
    version = ReportVersion.objects.get(kind=ReportVersion.Kind.ASSESSMENT)
    assert version.language == "en" and version.number == 1
    assert not ReportVersion.objects.filter(kind=ReportVersion.Kind.ACCEPTANCE).exists()
    services.render_version(version.pk)
    page.click("text=Sign out")

    # The PM reads the draft's pages and issues it.
    page = sign_in(pm)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/reports/")
    expect(page.locator('[data-testid="assessment-status"]')).to_have_text("Draft")
    page.click('[data-testid="assessment-version"]')
    expect(page.locator("h1")).to_contain_text("Migration assessment report v1")
    assert page.locator('[data-testid="report-page"]').count() >= 2
    page.click('[data-testid="issue"]')
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Issued")
    expect(page.locator('[data-testid="acknowledge"]')).to_have_count(0)  # staff do not acknowledge
    page.click("text=Sign out")

    # The contact finds it from the engagement, reads every page, then acknowledges it.
    page = sign_in(contact)
    page.click(f"text={engagement.code}")
    page.click('[data-testid="reports-link"]')
    page.click('[data-testid="assessment-version"]')
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Issued")
    expect(page.locator('[data-testid="acknowledge"]')).to_be_disabled()
    expect(page.locator('[data-testid="review-notice"]')).to_have_text(
        "Read every page of the report to acknowledge it.")
    count = page.locator('[data-testid="report-page"]').count()
    read_every_page(page, count)
    expect(page.locator('[data-testid="acknowledge"]')).to_be_enabled()
    page.click('[data-testid="acknowledge"]')
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Acknowledged")
    expect(page.locator('[data-testid="acknowledged"]')).to_contain_text(version.sha256[:14])
    expect(page.locator('[data-testid="events"]')).to_contain_text("Acknowledged")
    page.screenshot(path="/tmp/assessment_acknowledged.png", full_page=True)
    version.refresh_from_db()
    event = SignOffEvent.objects.get(version=version, action=SignOffEvent.Action.ACKNOWLEDGED)
    assert version.status == ReportVersion.Status.ACKNOWLEDGED
    assert event.user == contact and event.version_sha256 == version.sha256
    page.click("text=Sign out")

    page = sign_in(stranger)
    expect(page.locator(f"text={engagement.code}")).to_have_count(0)
    assert page.goto(f"{live_server.url}/reports/{version.uuid}/").status == 404
    assert page.request.get(f"{live_server.url}/reports/{version.uuid}/pdf/").status == 404
