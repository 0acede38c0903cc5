"""Each role opens "Waiting for me" and follows an item to where it is done."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements import questionnaire, services
from engagements.models import Stage
from reports.models import Quote, ReportVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inbox_of_each_role(sign_in, live_server, engagement, pm, consultant, contact, page):
    issued = ReportVersion.objects.create(engagement=engagement, number=1, language="en", status="issued",
                                          requested_by=pm, issued_at=timezone.now())
    draft = ReportVersion.objects.create(engagement=engagement, number=2, language="en", status="draft",
                                         requested_by=pm)
    Quote.objects.create(number="Q-2026-0099", customer=engagement.customer, engagement=engagement, title="Plan",
                         status="sent", created_by=pm, valid_until=timezone.localdate() + datetime.timedelta(days=3),
                         sent_at=timezone.now())
    form = questionnaire.check_start(consultant, engagement)
    questionnaire.check_send(consultant, form)
    survey = engagement.stages.get(key="survey")
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    services.check_transition_stage(consultant, survey, Stage.Status.BLOCKED, "Waiting for the VPN account")

    sign_in(contact)
    page.click('[data-testid="nav-inbox"]')
    inbox = page.locator('[data-testid="inbox"]')
    for kind in ("sign", "accept_quote", "fill"):
        expect(inbox.locator(f'tr[data-kind="{kind}"]')).to_have_count(1)
    inbox.locator('tr[data-kind="sign"] a').click()
    page.wait_for_url(f"{live_server.url}/reports/{issued.uuid}/")
    page.click("text=Sign out")

    sign_in(pm)
    page.click('[data-testid="nav-inbox"]')
    inbox = page.locator('[data-testid="inbox"]')
    expect(inbox.locator('tr[data-kind="issue"]')).to_contain_text(f"{engagement.code} v2")
    expect(inbox.locator('tr[data-kind="quote_expiring"]')).to_contain_text("Q-2026-0099")
    inbox.locator('tr[data-kind="issue"] a').click()
    page.wait_for_url(f"{live_server.url}/reports/{draft.uuid}/")
    page.click("text=Sign out")

    sign_in(consultant)
    page.click('[data-testid="nav-inbox"]')
    blocked = page.locator('[data-testid="inbox"] tr[data-kind="blocked"]')
    expect(blocked).to_contain_text("Waiting for the VPN account")
    blocked.locator("a").click()
    page.wait_for_url(f"{live_server.url}/stages/{survey.uuid}/")
    page.goto(f"{live_server.url}/account/notifications/")
    page.check('input[name="frequency"][value="daily"]')
    page.click('[data-testid="notifications-save"]')
    page.wait_for_url(f"{live_server.url}/inbox/")
