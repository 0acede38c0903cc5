"""The API and the forms keep the same limits: dates within 2000–2100, reasons of at most
1,000 characters. What one door refuses, the other refuses too, with the field named."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(consultant):
    client = APIClient()
    client.force_authenticate(consultant)
    return client


def test_a_stage_cannot_be_planned_in_year_1_or_9999_through_the_api_or_the_form(api, client, consultant, engagement):
    stage = engagement.stages.get(key="survey")
    bad = api.patch(f"/api/stages/{stage.uuid}/", {"planned_start": "0001-01-01", "planned_end": "9999-12-31"},
                    format="json")
    assert bad.status_code == 400 and {"planned_start", "planned_end"} <= set(bad.json())
    client.force_login(consultant)
    form = client.post(reverse("stage_plan", args=[stage.uuid]), {
        "planned_start": "1999-12-31", "planned_end": "2026-02-01", "planned_person_days": "3"})
    assert form.status_code == 400 and 'data-field="planned_start"' in form.content.decode()
    stage.refresh_from_db()
    assert stage.planned_start is None and stage.planned_end is None


def test_a_waive_reason_over_1000_characters_is_refused_by_the_api_as_by_the_form(api, engagement):
    item = engagement.stages.get(key="survey").checklist.first()
    response = api.post(f"/api/checklist-items/{item.uuid}/set-state/", {"state": "waived", "reason": "x" * 10_000},
                        format="json")
    assert response.status_code == 400 and "reason" in response.json()
    item.refresh_from_db()
    assert item.state == "open" and item.waive_reason == ""
    ok = api.post(f"/api/checklist-items/{item.uuid}/set-state/", {"state": "waived", "reason": "x" * 1000},
                  format="json")
    assert ok.status_code == 200


def test_a_stage_move_reason_is_limited_too(api, engagement):
    stage = engagement.stages.get(key="survey")
    response = api.post(f"/api/stages/{stage.uuid}/transition/", {"to": "skipped", "reason": "y" * 1001},
                        format="json")
    assert response.status_code == 400
    stage.refresh_from_db()
    assert stage.status == "not_started"


def test_a_quote_cannot_be_valid_until_year_1(pm, customer_a, client):
    import datetime

    from django.core.exceptions import ValidationError

    from reports import quotes
    from reports.models import Quote

    with pytest.raises(ValidationError) as refused:
        quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=datetime.date(1, 1, 1))
    assert "valid_until" in refused.value.message_dict and not Quote.objects.exists()
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    client.force_login(pm)
    response = client.post(reverse("quote_header", args=[quote.uuid]), {
        "title": "Q", "tax_rate": "6", "valid_until": "9999-12-31", "notes": ""})
    quote.refresh_from_db()
    assert quote.valid_until is None and response.status_code in (302, 400)
