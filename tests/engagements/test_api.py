"""The REST API against PostgreSQL: token and session auth, the permission matrix (endpoint x
role x own/other engagement), what customer contacts never receive, bad input (a clear 400/403
and the database unchanged), filters and pagination, the error handler, the OpenAPI schema and
the docs page under the site's CSP."""

import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
import yaml
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.api_errors import field_errors, handler
from engagements import services
from engagements.models import AuditEvent, ChecklistItem, Engagement, Risk, Stage, WorkLog
from tests.factories import PASSWORD, MigrationModelFactory, UserFactory, make_engagement

pytestmark = pytest.mark.django_db

ROLES = ["pm", "consultant", "other_consultant", "contact", "stranger"]
TARGETS = ["own", "other"]
# Which engagement each role sees: "own" is customer A's (consultant assigned), "other" customer B's.
SEES = {"pm": {"own", "other"}, "consultant": {"own"}, "other_consultant": set(), "contact": {"own"},
        "stranger": {"other"}}
STAFF = {"pm", "consultant", "other_consultant"}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def db_state():
    """Everything the API's writes can touch, to assert that a refused request changed nothing."""
    return (
        sorted(Engagement.objects.values_list("uuid", "title", "end_date", "status")),
        sorted(Stage.objects.values_list("uuid", "status", "planned_start", "planned_end", "planned_person_days")),
        sorted(ChecklistItem.objects.values_list("pk", "state", "waive_reason")),
        sorted(WorkLog.objects.values_list("uuid", "stage_id", "date", "person_days", "summary")),
        sorted(Risk.objects.values_list("uuid", "engagement_id", "mitigation", "owner_id", "status")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def world(pm, consultant, engagement, other_engagement):
    """Both engagements with a model, a risk and a work log each (the own log is the
    consultant's, the other the PM's), all made through the services."""
    objects = {}
    for target, eng, author in (("own", engagement, consultant), ("other", other_engagement, pm)):
        stage = eng.stages.get(key="survey")
        objects[target] = {
            "engagement": eng,
            "stage": stage,
            "item": stage.checklist.order_by("position").first(),
            "model": MigrationModelFactory(engagement=eng, source_repository="git@internal:secret.git"),
            "risk": services.check_save_risk(pm, eng, {"category": "network", "description": "No internet",
                                                       "likelihood": 2, "impact": 3}),
            "log": services.check_log_work(author, stage, yesterday(), "0.5", f"Surveyed {target}"),
        }
    return objects


# --- authentication -------------------------------------------------------------------------

def test_a_token_for_username_and_password_then_requests_with_it(consultant, engagement, other_engagement):
    anonymous = APIClient()
    assert anonymous.post("/api/auth/token/", {"username": "consultant", "password": "wrong"}).status_code == 400
    token = anonymous.post("/api/auth/token/", {"username": "consultant", "password": PASSWORD}).json()["token"]
    assert token == Token.objects.get(user=consultant).key
    again = anonymous.post("/api/auth/token/", {"username": "consultant", "password": PASSWORD}, format="json")
    assert again.json()["token"] == token  # one token a user

    assert anonymous.get("/api/engagements/").status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/engagements/").status_code in (401, 403)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [row["code"] for row in client.get("/api/engagements/").json()["results"]] == [engagement.code]
    stage = engagement.stages.get(key="survey")
    # A token request is not a browser form: no CSRF token needed for writes.
    assert client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"}).status_code == 200
    stage.refresh_from_db()
    assert stage.status == "in_progress"
    patched = client.patch(f"/api/stages/{stage.uuid}/", {"status": "done"}, format="json")
    assert patched.status_code == 400 and "transition" in str(patched.json()["status"])
    stage.refresh_from_db()
    assert stage.status == "in_progress"


def test_session_authentication_reads_and_needs_the_csrf_token_to_write(consultant, engagement):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="consultant", password=PASSWORD)
    assert client.get(f"/api/engagements/{engagement.uuid}/").status_code == 200
    stage = engagement.stages.get(key="survey")
    before = db_state()
    response = client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert db_state() == before


@pytest.mark.parametrize("language,accept,words", [("en", "zh-hans", "not change"), ("zh-hans", "en", "无权修改")])
def test_token_users_are_answered_in_their_profile_language(engagement, customer_a, language, accept, words):
    """The language middleware runs before DRF reads the token: the API applies the profile itself."""
    user = UserFactory(username="speaker", role="customer", customer=customer_a, language=language)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    stage = engagement.stages.get(key="survey")
    response = client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"},
                           HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 403
    assert response["Content-Language"] == language and words in response.json()["detail"]


# --- the permission matrix ---------------------------------------------------------------------

READS = {  # endpoint -> (url for the target's objects, internal to the provider?)
    "customer": (lambda o: f"/api/customers/{o['engagement'].customer.uuid}/", False),
    "engagement": (lambda o: f"/api/engagements/{o['engagement'].uuid}/", False),
    "model": (lambda o: f"/api/models/{o['model'].uuid}/", False),
    "stage": (lambda o: f"/api/stages/{o['stage'].uuid}/", False),
    "stage-transitions": (lambda o: f"/api/stages/{o['stage'].uuid}/transitions/", False),
    "checklist-item": (lambda o: f"/api/checklist-items/{o['item'].uuid}/", False),
    "worklog": (lambda o: f"/api/worklogs/{o['log'].uuid}/", True),
    "risk": (lambda o: f"/api/risks/{o['risk'].uuid}/", True),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(READS))
def test_read_matrix(request, world, endpoint, role, target):
    url, internal = READS[endpoint]
    response = client_for(request.getfixturevalue(role)).get(url(world[target]))
    in_scope = target in SEES[role]
    allowed = in_scope and (role in STAFF or not internal)
    # Out of scope: 404. In scope but internal to the provider: 403, saying so.
    assert response.status_code == (200 if allowed else 403 if in_scope else 404), response.content


def editor(ok, out_of_scope=404, contacts=(403, 404)):
    """PMs everywhere, the assigned consultant on their own engagement. Contacts never write:
    403 on what they see (their own organisation's), 404 on what they do not, as for a read;
    ``contacts`` is (own organisation's, other's) for the contact of the "own" customer."""
    return {"pm": (ok, ok), "consultant": (ok, out_of_scope), "other_consultant": (out_of_scope, out_of_scope),
            "contact": contacts, "stranger": contacts[::-1]}


COLLECTION = (403, 403)  # a create names no object in its URL: the role alone refuses it


def new_log(o):
    return {"stage": str(o["stage"].uuid), "date": str(timezone.localdate()), "person_days": "0.5", "summary": "Did it"}


def new_risk(o):
    return {"engagement": str(o["engagement"].uuid), "category": "time", "description": "Late data", "likelihood": 1,
            "impact": 2}


WRITES = {  # action -> (request, {role: (status on own, status on other)})
    "engagement-patch": (lambda c, o: c.patch(f"/api/engagements/{o['engagement'].uuid}/", {"title": "Changed"}),
                         {**editor(200), "consultant": (403, 404)}),  # the terms are the PM's
    "stage-plan": (lambda c, o: c.patch(f"/api/stages/{o['stage'].uuid}/", {"planned_person_days": "3.0"}),
                   editor(200)),
    "stage-transition": (lambda c, o: c.post(f"/api/stages/{o['stage'].uuid}/transition/", {"to": "in_progress"}),
                         editor(200)),
    "checklist-set-state": (lambda c, o: c.post(f"/api/checklist-items/{o['item'].uuid}/set-state/", {"state": "done"}),
                            editor(200)),
    "worklog-create": (lambda c, o: c.post("/api/worklogs/", new_log(o)),
                       editor(201, out_of_scope=400, contacts=COLLECTION)),
    "worklog-patch": (lambda c, o: c.patch(f"/api/worklogs/{o['log'].uuid}/", {"summary": "Changed"}),
                      {**editor(200), "pm": (403, 200)}),  # only the author changes a log
    "worklog-delete": (lambda c, o: c.delete(f"/api/worklogs/{o['log'].uuid}/"), editor(204)),
    "risk-create": (lambda c, o: c.post("/api/risks/", new_risk(o)),
                    editor(201, out_of_scope=400, contacts=COLLECTION)),
    "risk-patch": (lambda c, o: c.patch(f"/api/risks/{o['risk'].uuid}/", {"mitigation": "Mirror"}),
                   editor(200)),
    "risk-delete": (lambda c, o: c.delete(f"/api/risks/{o['risk'].uuid}/"), editor(204)),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(WRITES))
def test_write_matrix(request, world, action, role, target):
    send, expected = WRITES[action]
    expected = expected[role][TARGETS.index(target)]
    before = db_state()
    response = send(client_for(request.getfixturevalue(role)), world[target])
    assert response.status_code == expected, response.content
    if expected < 300:
        assert db_state() != before
    else:
        assert db_state() == before
    if expected == 403:
        assert response.json()["detail"]  # a message saying why
    if expected == 404:
        assert "not change" not in response.content.decode()  # nothing said about an object out of scope


DETAIL_WRITES = {  # what a contact may try on one object, named in the URL
    "engagement": lambda c, key: c.patch(f"/api/engagements/{key}/", {"title": "Changed"}),
    "stage-plan": lambda c, key: c.patch(f"/api/stages/{key}/", {"planned_person_days": "3.0"}),
    "stage-transition": lambda c, key: c.post(f"/api/stages/{key}/transition/", {"to": "in_progress"}),
    "worklog": lambda c, key: c.delete(f"/api/worklogs/{key}/"),
    "risk": lambda c, key: c.put(f"/api/risks/{key}/", {"mitigation": "Mirror"}),
}


@pytest.mark.parametrize("endpoint", list(DETAIL_WRITES))
def test_a_contact_writing_to_an_unknown_or_another_customers_object_gets_404(world, contact, endpoint):
    """Out of scope answers 404 to writes as to reads; the contact's own organisation's is a 403."""
    send, client, before = DETAIL_WRITES[endpoint], client_for(contact), db_state()
    other = {"engagement": world["other"]["engagement"].uuid, "stage-plan": world["other"]["stage"].uuid,
             "stage-transition": world["other"]["stage"].uuid, "worklog": world["other"]["log"].uuid,
             "risk": world["other"]["risk"].uuid}[endpoint]
    for key in (uuid.uuid4(), other, "not-a-uuid"):
        response = send(client, key)
        assert response.status_code == 404, (key, response.content)
        collection = "stages" if endpoint.startswith("stage") else endpoint + "s"
        assert client.get(f"/api/{collection}/{key}/").status_code == 404
    if endpoint in ("engagement", "stage-plan", "stage-transition"):  # what the contact reads
        own = world["own"]["engagement" if endpoint == "engagement" else "stage"].uuid
        response = send(client, own)
        assert response.status_code == 403 and "not change" in response.json()["detail"]
    assert db_state() == before


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_what_the_role_sees(request, world, role):
    client = client_for(request.getfixturevalue(role))
    visible = {world[t]["engagement"].code for t in SEES[role]}
    assert {e["code"] for e in client.get("/api/engagements/").json()["results"]} == visible
    stages = client.get("/api/stages/", {"page_size": 200}).json()
    assert stages["count"] == 7 * len(visible)
    if role in STAFF:
        assert {w["uuid"] for w in client.get("/api/worklogs/").json()["results"]} == {
            str(world[t]["log"].uuid) for t in SEES[role]}
        assert {r["uuid"] for r in client.get("/api/risks/").json()["results"]} == {
            str(world[t]["risk"].uuid) for t in SEES[role]}
    else:  # internal registers: the list itself is refused, saying why
        for url in ("/api/worklogs/", "/api/risks/"):
            response = client.get(url)
            assert response.status_code == 403 and "internal" in response.json()["detail"]
    customers = {c["name"] for c in client.get("/api/customers/").json()["results"]}
    assert customers == {world[t]["engagement"].customer.name for t in SEES[role]}


def test_customer_contacts_never_receive_internal_fields(world, consultant, contact):
    own = world["own"]
    services.check_set_checklist_item(consultant, own["item"], "done")
    staff, customer = client_for(consultant), client_for(contact)
    urls = {
        f"/api/engagements/{own['engagement'].uuid}/": ["internal_notes", "planned_person_days",
                                                        "logged_person_days", "actual_person_days", "late_stages"],
        f"/api/stages/{own['stage'].uuid}/": ["planned_person_days", "logged_person_days"],
        f"/api/models/{own['model'].uuid}/": ["source_repository"],
        f"/api/checklist-items/{own['item'].uuid}/": ["closed_by", "closed_at"],
    }
    for url, internal in urls.items():
        staff_body, customer_body = staff.get(url).json(), customer.get(url).json()
        assert set(internal) <= set(staff_body), url
        assert not set(internal) & set(customer_body), url
        assert set(customer_body) == set(staff_body) - set(internal), url
    assert staff.get(f"/api/engagements/{own['engagement'].uuid}/").json()["internal_notes"] == (
        "INTERNAL-NOTE-DO-NOT-SHOW")
    raw = b"".join(customer.get(url, {"page_size": 200}).content for url in
                   ("/api/engagements/", "/api/stages/", "/api/models/", "/api/checklist-items/"))
    assert b"INTERNAL-NOTE-DO-NOT-SHOW" not in raw and b"secret.git" not in raw
    assert customer.get("/api/worklogs/").status_code == 403
    assert customer.get("/api/risks/").status_code == 403


# --- bad input: a clear error and nothing changed ----------------------------------------------

@pytest.mark.parametrize("days,message", [
    ("-0.5", "more than 0"), ("0", "more than 0"), ("1.5", "at most 1"), ("0.3", "steps of 0.5"),
    ("abc", "Enter a number"), ("NaN", "more than 0"), ("", "blank"),
])
def test_bad_person_days_are_refused(consultant, engagement, days, message):
    stage = engagement.stages.get(key="survey")
    before = db_state()
    response = client_for(consultant).post("/api/worklogs/", {**new_log({"stage": stage}), "person_days": days})
    assert response.status_code == 400
    assert message in " ".join(response.json()["person_days"])
    assert db_state() == before


def test_at_most_one_person_day_a_day_across_engagements(consultant, engagement, pm, customer_b):
    second = make_engagement(pm, customer_b, consultants=[consultant])
    client = client_for(consultant)
    for eng, expected in ((engagement, 201), (second, 201)):
        assert client.post("/api/worklogs/", new_log({"stage": eng.stages.get(key="survey")})).status_code == expected
    before = db_state()
    response = client.post("/api/worklogs/", new_log({"stage": second.stages.get(key="plan")}))
    assert response.status_code == 400 and "at most 1 person-day per day" in response.json()["person_days"][0]
    assert db_state() == before
    assert sum(WorkLog.objects.values_list("person_days", flat=True)) == Decimal("1")


def test_a_bad_change_to_a_work_log_leaves_it_as_it_was(world, consultant):
    log = world["own"]["log"]
    client = client_for(consultant)
    before = db_state()
    future = str(timezone.localdate() + datetime.timedelta(days=1))
    for payload, field in (({"person_days": "2"}, "person_days"), ({"date": future}, "date"),
                           ({"summary": "   "}, "summary")):
        response = client.patch(f"/api/worklogs/{log.uuid}/", payload)
        assert response.status_code == 400 and field in response.json(), response.content
    assert db_state() == before
    assert client.patch(f"/api/worklogs/{log.uuid}/", {"person_days": "1"}).json()["person_days"] == "1.00"


def test_stage_plan_out_of_order_or_negative(consultant, engagement):
    stage = engagement.stages.get(key="survey")
    client = client_for(consultant)
    before = db_state()
    response = client.patch(f"/api/stages/{stage.uuid}/", {"planned_start": "2026-03-10", "planned_end": "2026-03-01"})
    assert response.status_code == 400 and "before the planned start" in response.json()["planned_end"][0]
    response = client.patch(f"/api/stages/{stage.uuid}/", {"planned_person_days": "-1"})
    assert response.status_code == 400 and "planned_person_days" in response.json()
    response = client.patch(f"/api/stages/{stage.uuid}/", {"status": "done"})
    assert response.status_code == 400 and "transition" in str(response.json()["status"])
    assert db_state() == before  # status is read-only: the PATCH above changed nothing either


def test_done_needs_the_required_checklist_items_closed(consultant, engagement):
    stage = engagement.stages.get(key="survey")
    client = client_for(consultant)
    assert client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "in_progress"}).status_code == 200
    before = db_state()
    response = client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "done"})
    assert response.status_code == 400 and "Required checklist items are still open" in response.json()["to"][0]
    for payload, field in (({"to": "blocked"}, "reason"), ({"to": "not_started"}, "to"), ({"to": "flying"}, "to")):
        response = client.post(f"/api/stages/{stage.uuid}/transition/", payload)
        assert response.status_code == 400 and field in response.json(), response.content
    items = list(stage.checklist.filter(required=True))
    response = client.post(f"/api/checklist-items/{items[0].uuid}/set-state/", {"state": "waived"})
    assert response.status_code == 400 and "reason" in response.json()
    assert db_state() == before

    for item in items:
        response = client.post(f"/api/checklist-items/{item.uuid}/set-state/", {"state": "waived", "reason": "By them"})
        assert response.status_code == 200 and response.json()["state"] == "waived"
    assert client.post(f"/api/stages/{stage.uuid}/transition/", {"to": "done"}).json()["status"] == "done"
    history = client.get(f"/api/stages/{stage.uuid}/transitions/").json()
    assert [(t["from_status"], t["to_status"]) for t in history] == [("not_started", "in_progress"),
                                                                     ("in_progress", "done")]


def test_only_a_pm_creates_engagements_and_dates_stay_in_order(pm, consultant, customer_a):
    payload = {"customer": str(customer_a.uuid), "code": "NEW-1", "title": "New", "source_platform": "8 x A100",
               "target_platform": "Atlas 800T A2", "target_framework": "pytorch", "start_date": "2026-01-01",
               "end_date": "2026-03-01", "pm": pm.username, "consultants": [consultant.username]}
    before = db_state()
    refused = client_for(consultant).post("/api/engagements/", payload, format="json")
    assert refused.status_code == 403 and "project manager" in refused.json()["detail"]
    bad = client_for(pm).post("/api/engagements/", {**payload, "end_date": "2025-01-01"}, format="json")
    assert bad.status_code == 400 and "end date cannot be before" in bad.json()["end_date"][0]
    assert "non_field_errors" not in bad.json()
    assert db_state() == before

    created = client_for(pm).post("/api/engagements/", payload, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["consultants"] == [consultant.username]
    assert Stage.objects.filter(engagement__code="NEW-1").count() == 7
    before = db_state()
    response = client_for(pm).patch(f"/api/engagements/{created.json()['uuid']}/", {"end_date": "2025-01-01"})
    assert response.status_code == 400 and list(response.json()) == ["end_date"]
    assert db_state() == before


def test_a_risk_stays_on_its_engagement_and_its_owner_works_on_it(world, pm, consultant, other_consultant):
    risk, other = world["own"]["risk"], world["other"]["engagement"]
    client = client_for(consultant)
    before = db_state()
    for user in (pm, consultant):  # the PM sees the other engagement, the consultant does not
        response = client_for(user).patch(f"/api/risks/{risk.uuid}/", {"engagement": str(other.uuid)})
        assert response.status_code == 400 and "engagement" in response.json(), response.content
    response = client.patch(f"/api/risks/{risk.uuid}/", {"owner": other_consultant.username})
    assert response.status_code == 400 and "must work on this engagement" in response.json()["owner"][0]
    response = client.post("/api/risks/", {**new_risk(world["own"]), "likelihood": 7})
    assert response.status_code == 400 and "likelihood" in response.json()
    assert db_state() == before
    assert client.patch(f"/api/risks/{risk.uuid}/", {"owner": consultant.username}).json()["owner"] == "consultant"


# --- filters and pagination ---------------------------------------------------------------------

def test_engagement_filters_and_pagination(pm, customer_a, customer_b, consultant):
    second_pm = UserFactory(username="pm2", role="pm")
    for n in range(5):
        make_engagement(pm, customer_a, consultants=[consultant], title=f"Vision {n}")
    make_engagement(second_pm, customer_b, title="Speech")
    Engagement.objects.filter(title="Vision 0").update(status="active")
    client = client_for(pm)

    def codes(**params):
        return sorted(e["title"] for e in client.get("/api/engagements/", params).json()["results"])

    assert codes(customer=str(customer_b.uuid)) == ["Speech"]
    assert codes(pm="pm2") == ["Speech"]
    assert len(codes(consultant="consultant")) == 5
    assert codes(status="active") == ["Vision 0"]
    assert codes(q="speech") == ["Speech"]
    assert client.get("/api/engagements/", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/engagements/", {"customer": "not-a-uuid"}).status_code == 400

    first = client.get("/api/engagements/", {"page_size": 4, "ordering": "title"}).json()
    assert first["count"] == 6 and len(first["results"]) == 4 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert [e["title"] for e in first["results"] + second["results"]] == sorted(
        ["Speech"] + [f"Vision {n}" for n in range(5)])
    assert second["next"] is None


def test_the_engagement_list_shows_the_figures_the_pages_compute(pm, consultant, other_consultant, customer_a):
    """The list computes progress in its query and reads the consultants from a prefetched list:
    the same values as the engagement's own ``progress()`` and ``consultants``, on a list and alone."""
    busy = make_engagement(pm, customer_a, consultants=[other_consultant, consultant], title="Busy")
    make_engagement(pm, customer_a, title="Idle")
    survey, plan = busy.stages.get(key="survey"), busy.stages.get(key="plan")
    services.check_plan_stage(pm, survey, {"planned_person_days": "3"})
    services.check_plan_stage(pm, plan, {"planned_person_days": "2"})
    services.check_transition_stage(consultant, plan, "in_progress")
    for item in plan.checklist.order_by("position")[:2]:
        services.check_set_checklist_item(consultant, item, "done")
    services.check_log_work(consultant, plan, yesterday(), "1", "Planned")
    client = client_for(pm)
    listed = {row["title"]: row for row in client.get("/api/engagements/").json()["results"]}
    for title in ("Busy", "Idle"):
        engagement = Engagement.objects.get(title=title)
        alone = client.get(f"/api/engagements/{engagement.uuid}/").json()
        assert listed[title] == alone
        assert alone["progress"] == round(engagement.progress(), 4)
        assert alone["consultants"] == sorted(engagement.consultants.values_list("username", flat=True))
    assert listed["Busy"]["progress"] == round(2 / 5 * 2 / len(plan.checklist.all()), 4) > 0
    assert listed["Busy"]["consultants"] == ["consultant", "other_consultant"]
    assert (listed["Busy"]["planned_person_days"], listed["Busy"]["logged_person_days"]) == ("5.00", "1.00")
    assert listed["Busy"]["actual_person_days"] == "1.00"  # the deprecated alias
    assert (listed["Idle"]["progress"], listed["Idle"]["consultants"]) == (0.0, [])


def test_stage_work_log_and_risk_filters(world, pm, consultant):
    own, other = world["own"], world["other"]
    client = client_for(pm)
    stages = client.get("/api/stages/", {"engagement": str(own["engagement"].uuid)}).json()
    assert stages["count"] == 7 and stages["results"][0]["key"] == "survey"
    services.check_transition_stage(pm, own["stage"], "in_progress")
    assert [s["uuid"] for s in client.get("/api/stages/", {"status": "in_progress"}).json()["results"]] == [
        str(own["stage"].uuid)]

    plan = own["engagement"].stages.get(key="plan")
    old = services.check_log_work(consultant, plan, timezone.localdate() - datetime.timedelta(days=10), "1", "Old")

    def logs(**params):
        return {w["summary"] for w in client.get("/api/worklogs/", params).json()["results"]}

    assert logs() == {"Surveyed own", "Surveyed other", "Old"}
    assert logs(engagement=str(own["engagement"].uuid)) == {"Surveyed own", "Old"}
    assert logs(stage=str(plan.uuid)) == {"Old"}
    assert logs(consultant="pm") == {"Surveyed other"}
    assert logs(date_from=str(yesterday())) == {"Surveyed own", "Surveyed other"}
    assert logs(date_to=str(old.date)) == {"Old"}
    assert logs(date_from=str(old.date), date_to=str(old.date), consultant="consultant") == {"Old"}
    assert client.get("/api/worklogs/", {"date_from": "yesterday"}).status_code == 400

    services.check_save_risk(pm, other["engagement"], {"status": "closed"}, other["risk"])
    risks = client.get("/api/risks/", {"status": "open"}).json()["results"]
    assert [r["uuid"] for r in risks] == [str(own["risk"].uuid)]
    assert client.get("/api/risks/", {"engagement": str(other["engagement"].uuid)}).json()["count"] == 1
    items = client.get("/api/checklist-items/", {"stage": str(own["stage"].uuid), "page_size": 200}).json()
    assert items["count"] == own["stage"].checklist.count()


def test_page_size_is_capped_at_200(pm, consultant, engagement):
    stage = engagement.stages.get(key="survey")
    start = timezone.localdate() - datetime.timedelta(days=300)
    WorkLog.objects.bulk_create(WorkLog(consultant=consultant, stage=stage, date=start + datetime.timedelta(days=n),
                                        person_days=Decimal("0.5"), summary=f"day {n}") for n in range(250))
    client = client_for(pm)
    assert len(client.get("/api/worklogs/").json()["results"]) == 50  # the default page
    capped = client.get("/api/worklogs/", {"page_size": 1000}).json()
    assert capped["count"] == 250 and len(capped["results"]) == 200
    last = client.get("/api/worklogs/", {"page_size": 200, "page": 2}).json()
    assert len(last["results"]) == 50 and last["next"] is None
    assert client.get("/api/worklogs/", {"page": 99}).status_code == 404


@pytest.mark.parametrize("url", ["/api/engagements/", "/api/stages/", "/api/checklist-items/", "/api/models/",
                                 "/api/worklogs/", "/api/risks/", "/api/customers/"])
def test_lists_cost_the_same_queries_for_more_rows(pm, consultant, customer_a, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def fill(n):
        for _ in range(n):
            eng = make_engagement(pm, customer_a, consultants=[consultant])
            MigrationModelFactory(engagement=eng)
            services.check_save_risk(pm, eng, {"category": "time", "description": "x", "likelihood": 1, "impact": 1,
                                               "owner": consultant})
            WorkLog.objects.create(consultant=consultant, stage=eng.stages.first(), date=yesterday(),
                                   person_days=Decimal("0.5"), summary="x")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client_for(pm).get(url, {"page_size": 200}).status_code == 200
        return len(queries)

    fill(1)
    few = count()
    fill(3)
    assert count() == few


# --- the error handler (pure) --------------------------------------------------------------------

FIELD = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)
MESSAGES = st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=3)


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(errors=st.dictionaries(st.one_of(FIELD, st.just("__all__")), MESSAGES, min_size=1, max_size=4),
       rename=st.dictionaries(FIELD, FIELD, max_size=2))
def test_django_field_errors_become_drf_field_errors(errors, rename):
    expected = {}
    for name, messages in errors.items():
        key = "non_field_errors" if name == "__all__" else rename.get(name, name)
        expected.setdefault(key, []).extend(messages)
    assert field_errors(DjangoValidationError(errors), rename) == expected
    response = handler(DjangoValidationError(errors), {})
    assert response.status_code == 400
    assert {k: [str(m) for m in v] for k, v in response.data.items()} == field_errors(DjangoValidationError(errors))


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(messages=MESSAGES)
def test_django_errors_without_fields_are_non_field_errors(messages):
    response = handler(DjangoValidationError(messages), {})
    assert response.status_code == 400 and response.data == {"non_field_errors": messages}


def test_permission_denied_is_403_with_its_message():
    assert handler(PermissionDenied("Not yours."), {}).data == {"detail": "Not yours."}
    silent = handler(PermissionDenied(), {})
    assert silent.status_code == 403 and silent.data["detail"]


# --- schema and docs ------------------------------------------------------------------------------

def test_the_openapi_schema_validates_without_warnings(tmp_path, capsys):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=io.StringIO())
    captured = capsys.readouterr()
    assert "Warning" not in captured.err and "Error" not in captured.err, captured.err
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in ("/api/engagements/", "/api/stages/{uuid}/transition/", "/api/checklist-items/{uuid}/set-state/",
                 "/api/worklogs/{uuid}/", "/api/risks/{uuid}/", "/api/models/{uuid}/", "/api/customers/{uuid}/"):
        assert path in paths, path
    assert "put" not in paths["/api/stages/{uuid}/"] and "delete" not in paths["/api/engagements/{uuid}/"]
    params = {p["name"] for p in paths["/api/worklogs/"]["get"]["parameters"]}
    assert {"engagement", "stage", "consultant", "date_from", "date_to", "page", "page_size"} <= params
    components = schema["components"]["schemas"]
    assert set(components["TransitionRequest"]["properties"]) == {"to", "reason"}
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_schema_is_served_as_yaml_and_json(consultant):
    client = client_for(consultant)
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200 and "openapi" in as_yaml["Content-Type"]
    assert yaml.safe_load(as_yaml.content)["openapi"].startswith("3.")
    as_json = client.get("/api/schema/", {"format": "json"})
    assert as_json.status_code == 200 and json.loads(as_json.content)["info"]["title"]


def test_the_docs_page_keeps_a_strict_csp(consultant):
    client = client_for(consultant)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    policy = docs["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "'sha256-" in policy  # the page's one inline <style>
    assert b"<script>" not in docs.content  # no inline script: the start-up code is loaded from ?script
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert "javascript" in script["Content-Type"]
    assert "sha256-" not in client.get("/api/engagements/")["Content-Security-Policy"]


def test_every_object_is_addressed_by_its_uuid_never_by_a_counter(world, pm):
    client, own = client_for(pm), world["own"]
    item = client.get("/api/checklist-items/", {"stage": str(own["stage"].uuid)}).json()["results"][0]
    model = client.get("/api/models/", {"engagement": str(own["engagement"].uuid)}).json()["results"][0]
    assert "id" not in item and "id" not in model
    assert client.get(f"/api/checklist-items/{item['uuid']}/").json()["title_en"] == item["title_en"]
    assert client.get(f"/api/models/{model['uuid']}/").json()["name"] == model["name"]
    assert client.get(f"/api/checklist-items/{own['item'].pk}/").status_code == 404  # a guessable number finds nothing
    assert client.get(f"/api/models/{own['model'].pk}/").status_code == 404
