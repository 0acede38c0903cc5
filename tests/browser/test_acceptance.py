"""The customer contact opens the acceptance report, reads every page of it, signs it off, and
the engagement shows it accepted; another customer's contact cannot see it."""

import pytest
from playwright.sync_api import expect

from reports import services
from reports.models import ReportPageView, ReportVersion
from tests.browser.reading import read_every_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def issued_version(pm, engagement) -> ReportVersion:
    version = services.render_version(services.check_request_render(pm, engagement, "en").pk)
    return services.check_issue(pm, version)


def test_the_contact_signs_off_and_the_engagement_shows_accepted(sign_in, live_server, pm, contact, stranger,
                                                                 acceptance_ready):
    version = issued_version(pm, acceptance_ready)

    page = sign_in(contact)
    page.click(f"text={acceptance_ready.code}")
    page.click('[data-testid="reports-link"]')
    page.click("text=v1")
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Issued for sign-off")
    pages = page.locator('[data-testid="report-page"]')
    count = pages.count()
    assert count >= 2
    read_every_page(page, count)
    expect(page.locator('[data-testid="sign"]')).to_be_enabled()
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
    assert page.request.get(f"{live_server.url}/reports/{version.uuid}/pages/1.png").status == 404


def test_the_sign_off_opens_only_after_every_page_was_seen(sign_in, live_server, pm, contact, acceptance_ready):
    version = issued_version(pm, acceptance_ready)
    page = sign_in(contact)
    page.set_viewport_size({"width": 1366, "height": 768})  # a laptop
    page.goto(f"{live_server.url}/reports/{version.uuid}/")

    figures = page.locator('[data-testid="report-page"]')
    count = figures.count()
    assert count >= 2
    expect(page.locator('[data-testid="report-page"] figcaption')).to_have_text(
        [f"Page {n} of {count}" for n in range(1, count + 1)])
    sign_button = page.locator('[data-testid="sign"]')
    expect(sign_button).to_be_disabled()
    expect(page.locator('[data-testid="reject"]')).to_be_disabled()
    expect(page.locator('[data-testid="review-notice"]')).to_have_text("Read every page of the report to sign it off.")
    expect(page.locator('[data-testid="review-done"]')).to_be_hidden()
    # The forms come after the last page.
    last_bottom = figures.nth(count - 1).evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    form_top = page.locator('[data-testid="sign-off"]').evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    assert form_top > last_bottom
    # A page is wide enough to read on a laptop.
    assert figures.first.locator("img").evaluate("e => e.getBoundingClientRect().width") >= 800
    # Jumping straight to the form skips the first page: the form stays closed.
    page.locator('[data-testid="sign-off"]').scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    assert page.locator('[data-review-page="1"] figcaption').evaluate(
        "e => e.getBoundingClientRect().bottom < 0")
    expect(sign_button).to_be_disabled()
    page.screenshot(path="/tmp/review_signoff_locked.png")
    page.evaluate("window.scrollTo(0, 0)")

    read_every_page(page, count)
    expect(sign_button).to_be_enabled()
    expect(page.locator('[data-testid="review-notice"]')).to_be_hidden()
    expect(page.locator('[data-testid="review-done"]')).to_be_visible()
    assert ReportPageView.objects.filter(version=version, user=contact).count() == count
    for n in range(1, count + 1):
        image = page.locator(f'[data-review-page="{n}"] img')
        assert image.evaluate("e => e.complete && e.naturalWidth > 1000")

    form = page.locator('[data-testid="sign-off"] form').first
    form.locator('input[name="name"]').fill("Li Na")
    form.locator('input[name="title"]').fill("CTO")
    form.locator('input[name="confirm"]').check()
    form.locator('input[name="password"]').fill("correct-horse-battery")
    page.locator('[data-testid="sign-off"]').scroll_into_view_if_needed()
    page.screenshot(path="/tmp/review_signoff.png", full_page=True)
    sign_button.click()
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Signed off")
    expect(page.locator('[data-testid="sign-off"]')).to_have_count(0)
    expect(page.locator('[data-testid="report-page"]')).to_have_count(count)
    version.refresh_from_db()
    assert version.status == ReportVersion.Status.SIGNED


def test_on_a_phone_the_pages_fit_and_the_contact_rejects_after_reading(sign_in, live_server, pm, contact,
                                                                         acceptance_ready):
    version = issued_version(pm, acceptance_ready)
    page = sign_in(contact)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/{version.uuid}/")
    count = page.locator('[data-testid="report-page"]').count()
    expect(page.locator('[data-testid="reject"]')).to_be_disabled()
    read_every_page(page, count)
    expect(page.locator('[data-testid="reject"]')).to_be_enabled()
    # No sideways scrolling: the whole page, and every report page, fit the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for n in range(1, count + 1):
        box = page.locator(f'[data-review-page="{n}"] img').bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path="/tmp/review_signoff_phone.png", full_page=True)
    form = page.locator('[data-testid="sign-off"] form').nth(1)
    form.locator('textarea[name="comment"]').fill("The C-Eval score is off.")
    form.locator('input[name="password"]').fill("correct-horse-battery")
    page.click('[data-testid="reject"]')
    expect(page.locator('[data-testid="version-status"]')).to_have_text("Rejected")
    version.refresh_from_db()
    assert version.status == ReportVersion.Status.REJECTED
