"""A PM sets up the work in the portal: customers, invited contacts, new and copied
engagements, closing. Nobody else may."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from engagements import services, setup
from engagements.models import AuditEvent, Customer, Engagement, MigrationModel, PerformanceBaseline, User

pytestmark = pytest.mark.django_db


def link_in(message) -> str:
    return re.search(r"https?://\S+(/account/set-password/\S+/)", message.body).group(1)


def test_a_pm_adds_a_customer_and_invites_a_contact_who_sets_a_password_once(client, pm, settings,
                                                                            django_capture_on_commit_callbacks):
    settings.PORTAL_URL = "https://portal.example.cn"
    client.force_login(pm)
    response = client.post("/customers/", {"name": "Grid Corp 电网公司", "short_name": "grid"})
    customer = Customer.objects.get(name="Grid Corp 电网公司")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.uuid}/"
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes once the contact is saved
        response = client.post(f"/customers/{customer.uuid}/", {"email": "Li.Na@grid.example.cn", "last_name": "李",
                                                               "first_name": "娜", "language": "zh-hans"})
    assert response.status_code == 302
    contact = User.objects.get(email="li.na@grid.example.cn")
    assert (contact.role, contact.customer, contact.has_usable_password()) == ("customer", customer, False)
    message = mail.outbox[-1]
    assert message.to == ["li.na@grid.example.cn"] and "https://portal.example.cn/account/set-password/" in message.body
    assert AuditEvent.objects.filter(object_type="user", object_id=str(contact.pk), action="create").exists()

    client.logout()
    path = link_in(message)
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and 'data-testid="set-password"' in form_page.content.decode()
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "Sh3ng-dian!2026",
                                                             "new_password2": "Sh3ng-dian!2026"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.login(username="li.na@grid.example.cn", password="Sh3ng-dian!2026")
    client.logout()
    used = client.get(path, follow=True).content.decode()
    assert 'data-testid="link-used"' in used  # the link works once


def test_an_address_in_use_is_refused_and_nothing_is_sent(pm, contact):
    mail.outbox.clear()
    with pytest.raises(ValidationError, match="already has an account"):
        setup.check_invite_contact(pm, contact.customer, {"email": contact.email.upper()})
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["consultant", "contact"])
def test_only_a_pm_sets_up(request, who, customer_a, client):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        setup.check_create_customer(user, {"name": "Sneaky Ltd"})
    with pytest.raises(PermissionDenied):
        setup.check_invite_contact(user, customer_a, {"email": "x@example.com"})
    client.force_login(user)
    assert client.post("/customers/", {"name": "Sneaky Ltd"}).status_code == 403
    assert client.get("/engagements/new/").status_code == 403
    assert not Customer.objects.filter(name="Sneaky Ltd").exists()


def test_a_new_engagement_through_the_form_has_its_team_and_stages(client, pm, consultant, customer_a):
    client.force_login(pm)
    form = {"customer": customer_a.pk, "code": "OCR-2027-001", "title": "Invoice OCR", "pm": pm.pk,
            "start_date": "2027-01-04", "end_date": "2027-03-31", "scope_training_migration": "",
            "scope_inference_migration": "on", "scope_tuning": "on", "source_platform": "2 x T4",
            "target_platform": "Atlas 300I Duo", "target_framework": "tensorflow2", "loss_mre_threshold": "0.02",
            "score_diff_threshold": "0.02", "loss_warmup_steps": "0", "consultants": [consultant.pk]}
    response = client.post("/engagements/new/", form)
    engagement = Engagement.objects.get(code="OCR-2027-001")
    assert response.status_code == 302 and response["Location"] == f"/engagements/{engagement.uuid}/"
    assert list(engagement.consultants.all()) == [consultant]
    assert engagement.stages.count() == 7
    assert engagement.stages.get(key="training_adaptation").status == "skipped"  # out of scope
    # Bad input: every error shown, nothing created.
    page = client.post("/engagements/new/", {**form, "code": "OCR-2027-002", "end_date": "2026-12-31",
                                             "target_framework": "caffe"}).content.decode()
    assert 'data-field="target_framework"' in page and "end date cannot be before" in page
    assert not Engagement.objects.filter(code="OCR-2027-002").exists()


def test_copying_an_engagement_brings_its_models_plan_and_baselines(pm, consultant, engagement):
    model = MigrationModel.objects.create(engagement=engagement, name="Qwen2-7B", task_type="llm",
                                          inference_route="mindie_llm", weights="/data/qwen")
    PerformanceBaseline.objects.create(engagement=engagement, model=model, metric="tokens/s", direction="higher",
                                       value=Decimal("1800"), unit="tokens/s")
    services.check_plan_stage(pm, engagement.stages.get(key="survey"), {"planned_person_days": Decimal("4")})
    fields = {**setup.copy_fields(engagement), "code": "ENG-COPY", "pm": pm,
              "start_date": engagement.end_date, "end_date": engagement.end_date}
    copy = setup.check_copy_engagement(pm, engagement, fields)
    copied = copy.migration_models.get()
    assert (copied.name, copied.inference_route, copied.weights) == ("Qwen2-7B", "mindie_llm", "/data/qwen")
    assert copy.baselines.get().model == copied  # the copy's model, not the source's
    assert copy.stages.get(key="survey").planned_person_days == Decimal("4")
    assert list(copy.consultants.all()) == [consultant]
    assert AuditEvent.objects.filter(engagement=copy, changes__copied_from=[None, engagement.code]).exists()


def test_closing_an_engagement(client, pm, consultant, engagement):
    client.force_login(consultant)
    assert client.post(f"/engagements/{engagement.uuid}/close/", {"confirm": "on"}).status_code == 403
    client.force_login(pm)
    client.post(f"/engagements/{engagement.uuid}/close/", {})  # not confirmed: nothing happens
    assert Engagement.objects.get(pk=engagement.pk).status != "closed"
    client.post(f"/engagements/{engagement.uuid}/close/", {"confirm": "on"})
    assert Engagement.objects.get(pk=engagement.pk).status == "closed"
    with pytest.raises(ValidationError):
        setup.check_close_engagement(pm, Engagement.objects.get(pk=engagement.pk))


def test_the_api_adds_a_customer_and_invites_a_contact_for_a_pm_only(pm, consultant, customer_a,
                                                                      django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(consultant)
    assert api.post("/api/customers/", {"name": "Nope Ltd"}, format="json").status_code == 403
    api.force_authenticate(pm)
    created = api.post("/api/customers/", {"name": "Port Authority", "short_name": "port"}, format="json")
    assert created.status_code == 201
    customer = Customer.objects.get(uuid=created.json()["uuid"])
    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(f"/api/customers/{customer.uuid}/invite/", {"email": "Zhou@port.example.cn"}, format="json")
    assert invited.status_code == 201 and invited.json()["invited"] is True
    assert invited.json()["customer"] == str(customer.uuid)
    assert mail.outbox[-1].to == ["zhou@port.example.cn"]
    again = api.post(f"/api/customers/{customer.uuid}/invite/", {"email": "zhou@port.example.cn"}, format="json")
    assert again.status_code == 400 and "email" in again.json()
    assert api.post(f"/api/customers/{customer.uuid}/invite/", {"email": "not an address"},
                    format="json").status_code == 400


def test_the_api_copies_an_engagement_for_a_pm(pm, consultant, engagement):
    from rest_framework.test import APIClient

    MigrationModel.objects.create(engagement=engagement, name="ResNet-50", task_type="cv")
    api = APIClient()
    api.force_authenticate(consultant)
    body = {"code": "ENG-API-COPY", "start_date": "2027-01-04", "end_date": "2027-03-31"}
    assert api.post(f"/api/engagements/{engagement.uuid}/copy/", body, format="json").status_code == 403
    api.force_authenticate(pm)
    response = api.post(f"/api/engagements/{engagement.uuid}/copy/", body, format="json")
    assert response.status_code == 201, response.json()
    copy = Engagement.objects.get(code="ENG-API-COPY")
    assert copy.title == engagement.title and list(copy.migration_models.values_list("name", flat=True)) == [
        "ResNet-50"]
    assert api.post(f"/api/engagements/{engagement.uuid}/copy/", body, format="json").status_code == 400  # code taken
