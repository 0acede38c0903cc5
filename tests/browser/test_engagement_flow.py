"""A consultant works a stage to done; a customer follows; Chinese is one click away."""

import re

import pytest
from playwright.sync_api import expect

from engagements.models import ChecklistItem, Stage, WorkLog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_consultant_ticks_items_logs_work_and_finishes_a_stage(sign_in, live_server, consultant, engagement):
    page = sign_in(consultant)
    page.click(f"text={engagement.code}")
    page.click("text=1. Survey and assessment")
    page.click('[data-testid="move-in_progress"]')
    expect(page.locator('[data-testid="stage-status"]')).to_have_text("In progress")

    survey = engagement.stages.get(key="survey")
    required = list(survey.checklist.filter(required=True))
    waived, *required = required
    page.click(f'[data-testid="item-{waived.pk}"] summary')
    page.fill(f'[data-testid="waive-reason-{waived.pk}"]', "The customer supplied the server list")
    page.press(f'[data-testid="waive-reason-{waived.pk}"]', "Enter")  # Enter waives, it does not tick
    expect(page.locator(f'[data-testid="item-{waived.pk}"]')).to_contain_text("The customer supplied the server list")
    waived.refresh_from_db()
    assert waived.state == ChecklistItem.State.WAIVED
    for item in required:
        page.click(f'[data-testid="tick-{item.pk}"]')  # htmx swaps the checklist in place
        expect(page.locator(f'[data-testid="untick-{item.pk}"]')).to_be_visible()

    form = page.locator('[data-testid="log-work-form"]')
    form.locator('input[name="person_days"]').fill("0.5")
    form.locator('textarea[name="summary"]').fill("Surveyed 3 servers and the model versions")
    form.locator("button.primary").click()
    expect(page.locator("#worklogs")).to_contain_text("Surveyed 3 servers and the model versions")

    page.confirm = False  # "Mark this stage done?" -- Cancel: nothing happens
    page.click('[data-testid="move-done"]')
    assert "Mark this stage done?" in page.dialogs[-1]
    expect(page.locator('[data-testid="stage-status"]')).not_to_have_text("Done")
    survey.refresh_from_db()
    assert survey.status == Stage.Status.IN_PROGRESS
    page.confirm = True
    page.click('[data-testid="move-done"]')
    expect(page.locator('[data-testid="stage-status"]')).to_have_text("Done")
    survey.refresh_from_db()
    assert survey.status == Stage.Status.DONE
    assert survey.checklist.filter(required=True, state=ChecklistItem.State.OPEN).count() == 0
    assert WorkLog.objects.get().summary == "Surveyed 3 servers and the model versions"


def test_a_log_work_error_shows_next_to_the_field_and_keeps_the_text(sign_in, live_server, consultant, engagement):
    page = sign_in(consultant)
    survey = engagement.stages.get(key="survey")
    page.goto(f"{live_server.url}/stages/{survey.uuid}/")
    form = page.locator('[data-testid="log-work-form"]')
    form.locator('input[name="person_days"]').fill("2")
    form.locator('textarea[name="summary"]').fill("Long day 很长的一天")
    form.locator("button.primary").click()
    expect(page.locator('[data-field="person_days"]')).to_contain_text("at most 1 person-day")
    expect(page.locator('textarea[name="summary"]')).to_have_value("Long day 很长的一天")
    assert WorkLog.objects.count() == 0


def test_a_customer_contact_follows_progress_and_sees_no_other_customer(
    sign_in, live_server, contact, engagement, other_engagement
):
    page = sign_in(contact)
    table = page.locator('[data-testid="engagement-table"]')
    expect(table).to_contain_text(engagement.code)
    expect(table).not_to_contain_text(other_engagement.code)
    page.click(f"text={engagement.code}")
    expect(page.locator("h1")).to_contain_text(engagement.code)
    expect(page.locator("body")).not_to_contain_text("INTERNAL-NOTE-DO-NOT-SHOW")
    expect(page.locator("body")).not_to_contain_text("Risk register")
    response = page.goto(f"{live_server.url}/engagements/{other_engagement.uuid}/")
    assert response.status == 404


def test_switching_to_chinese(sign_in, live_server, consultant, engagement):
    page = sign_in(consultant)
    expect(page.locator("h1")).to_have_text("My engagements")
    page.click('[data-testid="lang-zh-hans"]')
    expect(page.locator("h1")).to_have_text("我的项目")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click(f"text={engagement.code}")
    expect(page.locator("body")).to_contain_text("场景调研评估")
    page.screenshot(path=str(live_server.url and "/tmp/browser_zh.png"), full_page=True)
    assert re.search(r"\d+%", page.locator("body").inner_text())


def test_on_a_phone_no_page_scrolls_sideways(sign_in, live_server, pm, engagement):
    page = sign_in(pm)
    page.set_viewport_size({"width": 390, "height": 844})
    stage = engagement.stages.get(key="survey")
    for path in ("/engagements/", f"/engagements/{engagement.uuid}/", f"/stages/{stage.uuid}/", "/hosts/", "/quotes/",
                 f"/stages/{stage.uuid}/jobs/"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # wide tables scroll inside their card instead
