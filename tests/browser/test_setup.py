"""A PM sets up an engagement in the portal and invites the customer's contact, who sets a
password from the e-mail's link and signs in."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from engagements.models import Engagement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pm_creates_an_engagement_and_invites_a_contact_who_signs_in(sign_in, live_server, pm, consultant, page):
    sign_in(pm)
    page.click('[data-testid="customers-link"]')
    form = page.locator('[data-testid="customer-form"]')
    form.locator("#id_name").fill("Harbour Logistics 港口物流")
    form.locator("#id_short_name").fill("harbour")
    form.locator("button").click()
    expect(page.locator("h1")).to_have_text("Harbour Logistics 港口物流")

    invite = page.locator('[data-testid="invite-form"]')
    invite.locator("#id_email").fill("wang.fang@harbour.example.cn")
    invite.locator("#id_last_name").fill("王")
    invite.locator("#id_first_name").fill("芳")
    page.click('[data-testid="invite"]')
    expect(page.locator('[data-testid="contacts"]')).to_contain_text("Invited, no password yet")

    page.click('[data-testid="new-engagement-for-customer"]')
    page.fill("#id_code", "PORT-2027-001")
    page.fill("#id_title", "Container OCR on Ascend")
    page.fill("#id_start_date", "2027-02-01")
    page.fill("#id_end_date", "2027-05-28")
    page.fill("#id_source_platform", "4 x NVIDIA T4")
    page.fill("#id_target_platform", "Atlas 300I Duo")
    page.select_option("#id_target_framework", "mindspore")
    page.uncheck("#id_scope_training_migration")
    page.check(f'input[name="consultants"][value="{consultant.pk}"]')
    page.click('[data-testid="engagement-save"]')
    expect(page.locator("h1")).to_contain_text("PORT-2027-001")
    engagement = Engagement.objects.get(code="PORT-2027-001")
    assert engagement.customer.short_name == "harbour" and list(engagement.consultants.all()) == [consultant]

    page.click("text=Sign out")
    link = re.search(r"https?://\S+(/account/set-password/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(f"{live_server.url}{link}")
    page.fill("#id_new_password1", "Gang-kou!2027")
    page.fill("#id_new_password2", "Gang-kou!2027")
    page.click('[data-testid="set-password"] button')
    page.wait_for_url(f"{live_server.url}/login/")
    page.fill("#id_username", "wang.fang@harbour.example.cn")
    page.fill("#id_password", "Gang-kou!2027")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/engagements/")
    expect(page.locator("text=PORT-2027-001")).to_be_visible()
