"""The REST API against PostgreSQL: token auth, the permission matrix, filters, pagination,
bad input (nothing changes), and the OpenAPI schema."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from engagements.models import ChecklistItem, Engagement, Risk, Stage, WorkLog

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def api():
    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
    return _client


def test_a_token_for_username_and_password_and_requests_with_it(consultant, engagement):
    client = APIClient()
    assert client.post("/api/auth/token/", {"username": consultant.username, "password": "wrong"}).status_code == 400
    token = client.post("/api/auth/token/", {"username": consultant.username, "password": PASSWORD}).json()["token"]
    assert APIClient().get("/api/engagements/").status_code in (401, 403)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = client.get("/api/engagements/").json()
    assert [row["code"] for row in body["results"]] == [engagement.code]


# --- the permission matrix: endpoint x role x own/other object ---------------------------------

def detail_urls(engagement):
    stage = engagement.stages.get(key="survey")
    return {
        "engagement": f"/api/engagements/{engagement.uuid}/",
        "stage": f"/api/stages/{stage.uuid}/",
        "checklist": f"/api/checklist-items/{stage.checklist.first().pk}/",
        "customer": f"/api/customers/{engagement.customer.uuid}/",
    }


ROLES = ["pm", "consultant", "other_consultant", "contact", "stranger"]
# Who reads an engagement's objects: (own engagement -> customer_a, consultant assigned).
READS = {"pm": True, "consultant": True, "other_consultant": False, "contact": True, "stranger": False}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", ["engagement", "stage", "checklist", "customer"])
def test_reading_objects_of_an_engagement(api, request, engagement, role, what):
    user = request.getfixturevalue(role)
    response = api(user).get(detail_urls(engagement)[what])
    assert response.status_code == (200 if READS[role] else 404)


@pytest.mark.parametrize("role,expected", [("pm", 201), ("consultant", 201), ("other_consultant", 400),
                                           ("contact", 403), ("stranger", 403)])
def test_logging_work_through_the_api(api, request, engagement, role, expected):
    user = request.getfixturevalue(role)
    stage = engagement.stages.get(key="survey")
    response = api(user).post("/api/worklogs/", {"stage": str(stage.uuid), "date": str(datetime.date.today()),
                                                 "person_days": "0.5", "summary": "Surveyed"})
    assert response.status_code == expected, response.content
    assert WorkLog.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("role,expected", [("pm", 200), ("consultant", 200), ("other_consultant", 404),
                                           ("contact", 403), ("stranger", 403)])
def test_moving_a_stage_through_the_api(api, request, engagement, role, expected):
    stage = engagement.stages.get(key="survey")
    response = api(request.getfixturevalue(role)).post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"})
    assert response.status_code == expected
    stage.refresh_from_db()
    assert (stage.status == "in_progress") == (expected == 200)


@pytest.mark.parametrize("role,status_code", [("pm", 200), ("consultant", 404), ("contact", 404),
                                              ("stranger", 200)])
def test_the_other_customers_engagement(api, request, other_engagement, role, status_code):
    """customer_b's engagement: its own contact (stranger) and PMs see it; nobody else."""
    response = api(request.getfixturevalue(role)).get(f"/api/engagements/{other_engagement.uuid}/")
    assert response.status_code == status_code


def test_customer_contacts_see_no_internal_notes_work_logs_or_risks(api, consultant, contact, engagement):
    Engagement.objects.filter(pk=engagement.pk).update(internal_notes="Customer is slow to give access")
    stage = engagement.stages.get(key="survey")
    api(consultant).post("/api/worklogs/", {"stage": str(stage.uuid), "date": str(datetime.date.today()),
                                            "person_days": "1", "summary": "x"})
    api(consultant).post("/api/risks/", {"engagement": str(engagement.uuid), "category": "network",
                                         "description": "No internet", "likelihood": 2, "impact": 2})
    staff = api(consultant).get(f"/api/engagements/{engagement.uuid}/").json()
    assert staff["internal_notes"] == "Customer is slow to give access"
    client = api(contact)
    body = client.get(f"/api/engagements/{engagement.uuid}/").json()
    assert "internal_notes" not in body and body["code"] == engagement.code
    assert client.get("/api/worklogs/").json()["results"] == []
    assert client.get("/api/risks/").json()["results"] == []
    risk = Risk.objects.get()
    assert client.get(f"/api/risks/{risk.uuid}/").status_code == 404
    assert client.delete(f"/api/risks/{risk.uuid}/").status_code == 403
    assert Risk.objects.count() == 1 and WorkLog.objects.count() == 1


def test_a_customer_contact_cannot_write_anything(api, contact, engagement):
    client = api(contact)
    stage = engagement.stages.get(key="survey")
    item = stage.checklist.first()
    assert client.patch(f"/api/engagements/{engagement.uuid}/", {"title": "Hacked"}).status_code in (403, 405)
    assert client.post(f"/api/checklist-items/{item.pk}/set-state/", {"state": "done"}).status_code == 403
    assert client.patch(f"/api/stages/{stage.uuid}/", {"planned_person_days": "3"}).status_code == 403
    engagement.refresh_from_db()
    item.refresh_from_db()
    assert engagement.title != "Hacked" and item.state == "open"
    assert "read-only" in client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "done"}).json()["detail"]


# --- bad input: a clear error and nothing changed ----------------------------------------

@pytest.mark.parametrize("days,message", [("-0.5", "person_days"), ("1.5", "person_days"), ("0.3", "person_days"),
                                          ("abc", "person_days")])
def test_bad_person_days(api, consultant, engagement, days, message):
    stage = engagement.stages.get(key="survey")
    response = api(consultant).post("/api/worklogs/", {"stage": str(stage.uuid), "date": str(datetime.date.today()),
                                                       "person_days": days, "summary": "x"})
    assert response.status_code == 400 and message in response.json()
    assert not WorkLog.objects.exists()


def test_more_than_one_person_day_a_day_across_engagements(api, consultant, engagement, pm, customer_b):
    from tests.factories import make_engagement

    second = make_engagement(pm, customer_b, consultants=[consultant])
    client = api(consultant)
    today = str(datetime.date.today())
    for eng, expected in ((engagement, 201), (second, 201), (second, 400)):
        stage = eng.stages.get(key="survey")
        response = client.post("/api/worklogs/", {"stage": str(stage.uuid), "date": today, "person_days": "0.5",
                                                  "summary": "x"})
        assert response.status_code == expected
    assert sum(WorkLog.objects.values_list("person_days", flat=True)) == Decimal("1")


def test_dates_out_of_order_and_done_with_open_items(api, consultant, engagement):
    stage = engagement.stages.get(key="survey")
    client = api(consultant)
    response = client.patch(f"/api/stages/{stage.uuid}/", {"planned_start": "2026-03-10", "planned_end": "2026-03-01"})
    assert response.status_code == 400
    stage.refresh_from_db()
    assert stage.planned_start is None
    client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"})
    response = client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "done"})
    assert response.status_code == 400
    stage.refresh_from_db()
    assert stage.status == "in_progress"


def test_checklist_waive_needs_a_reason_and_then_done_works(api, consultant, engagement):
    stage = engagement.stages.get(key="survey")
    client = api(consultant)
    client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"})
    items = list(stage.checklist.filter(required=True))
    assert client.post(f"/api/checklist-items/{items[0].pk}/set-state/", {"state": "waived"}).status_code == 400
    for item in items:
        assert client.post(f"/api/checklist-items/{item.pk}/set-state/",
                           {"state": "waived", "reason": "Customer did it"}).status_code == 200
    assert client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "done"}).json()["status"] == "done"
    transitions = client.get(f"/api/stages/{stage.uuid}/transitions/").json()
    assert [(t["from_status"], t["to_status"]) for t in transitions][-2:] == [("not_started", "in_progress"),
                                                                             ("in_progress", "done")]
    assert ChecklistItem.objects.filter(stage=stage, state="waived").count() == len(items)


def test_only_a_pm_creates_engagements(api, pm, consultant, customer_a):
    payload = {"customer": str(customer_a.uuid), "code": "NEW-1", "title": "New", "source_platform": "8 x A100",
               "target_platform": "Atlas 800T A2", "target_framework": "pytorch", "start_date": "2026-01-01",
               "end_date": "2026-03-01", "pm": pm.username, "consultants": [consultant.username]}
    assert api(consultant).post("/api/engagements/", payload).status_code == 403
    created = api(pm).post("/api/engagements/", payload)
    assert created.status_code == 201, created.content
    assert created.json()["consultants"] == [consultant.username]
    assert Stage.objects.filter(engagement__code="NEW-1").count() == 7
    bad = api(pm).post("/api/engagements/", {**payload, "code": "NEW-2", "end_date": "2025-01-01"})
    assert bad.status_code == 400 and not Engagement.objects.filter(code="NEW-2").exists()


# --- filters and pagination --------------------------------------------------------------

def test_filters_and_pagination(api, pm, customer_a, customer_b, consultant):
    from tests.factories import make_engagement

    for _ in range(7):
        make_engagement(pm, customer_a, consultants=[consultant])
    make_engagement(pm, customer_b)
    client = api(pm)
    page = client.get("/api/engagements/", {"page_size": 3}).json()
    assert page["count"] == 8 and len(page["results"]) == 3 and page["next"]
    only_a = client.get("/api/engagements/", {"customer": str(customer_a.uuid), "page_size": 200}).json()
    assert only_a["count"] == 7
    assert client.get("/api/engagements/", {"consultant": consultant.username}).json()["count"] == 7
    first = Engagement.objects.filter(customer=customer_a).first()
    stages = client.get("/api/stages/", {"engagement": str(first.uuid)}).json()
    assert [s["key"] for s in stages["results"]][:2] == ["survey", "plan"] and stages["count"] == 7
    assert client.get("/api/engagements/", {"page_size": 1000}).json()["results"].__len__() == 8  # capped at 200


# --- schema and docs ----------------------------------------------------------------------

def test_the_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/stages/{uuid}/transition/" in out.read_text()


def test_schema_and_docs_pages(api, consultant):
    client = api(consultant)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "swagger" in docs.content.decode().lower()
    assert "'unsafe-inline'" in docs["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/api/engagements/")["Content-Security-Policy"]
