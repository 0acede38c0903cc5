"""Sign-off rules and immutability through the API, as every role; curves pushed by API;
verification by API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assessments.models import LossCurve
from reports import services
from reports.models import ReportVersion, SignOffEvent

pytestmark = pytest.mark.django_db
SIGN = {"password": "correct-horse-battery", "name": "Li Na", "title": "CTO", "confirm": True}


def client_for(user, read=None):
    """An API client of ``user``; with ``read``, one that has downloaded that version's PDF
    (a contact decides only on a report read whole)."""
    client = APIClient()
    client.force_authenticate(user)
    if read is not None:
        assert client.get(f"/api/report-versions/{read.uuid}/pdf/").status_code in (200, 403, 404)
    return client


@pytest.fixture
def issued(pm, acceptance_ready):
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    return services.check_issue(pm, version)


@pytest.mark.parametrize("role,expected", [("pm", 403), ("consultant", 403), ("other_consultant", 404),
                                           ("stranger", 404), ("contact", 200)])
def test_only_the_customers_contact_signs_off(request, issued, role, expected):
    response = client_for(request.getfixturevalue(role), read=issued).post(
        f"/api/report-versions/{issued.uuid}/sign-off/", SIGN, format="json")
    assert response.status_code == expected, response.content
    issued.refresh_from_db()
    assert (issued.status == "signed") == (expected == 200)


def test_a_contact_who_has_not_read_the_report_cannot_sign_or_reject_it(contact, issued):
    api = client_for(contact)
    for action, data in (("sign-off", SIGN), ("reject", {"password": SIGN["password"], "comment": "No"})):
        response = api.post(f"/api/report-versions/{issued.uuid}/{action}/", data, format="json")
        assert response.status_code == 400 and "Read every page" in str(response.json())
    assert not SignOffEvent.objects.filter(action__in=["signed", "rejected"]).exists()
    api.get(f"/api/report-versions/{issued.uuid}/pdf/")  # the whole report, downloaded
    assert api.post(f"/api/report-versions/{issued.uuid}/sign-off/", SIGN, format="json").status_code == 200


def test_a_signed_version_cannot_be_signed_again_rejected_or_reissued(contact, pm, issued):
    api = client_for(contact, read=issued)
    assert api.post(f"/api/report-versions/{issued.uuid}/sign-off/", SIGN, format="json").status_code == 200
    again = api.post(f"/api/report-versions/{issued.uuid}/sign-off/", SIGN, format="json")
    assert again.status_code == 400 and "cannot be signed off" in str(again.json())
    assert api.post(f"/api/report-versions/{issued.uuid}/reject/", {"password": SIGN["password"], "comment": "x"},
                    format="json").status_code == 400
    assert client_for(pm).post(f"/api/report-versions/{issued.uuid}/issue/").status_code == 400
    assert api.delete(f"/api/report-versions/{issued.uuid}/").status_code == 405
    assert api.patch(f"/api/report-versions/{issued.uuid}/", {"status": "draft"}, format="json").status_code == 405
    assert SignOffEvent.objects.filter(action="signed").count() == 1
    body = api.get(f"/api/report-versions/{issued.uuid}/").json()
    assert body["status"] == "signed" and [e["action"] for e in body["events"]] == ["issued", "signed"]


def test_a_wrong_password_or_missing_confirmation_changes_nothing(contact, issued):
    api = client_for(contact, read=issued)
    wrong = api.post(f"/api/report-versions/{issued.uuid}/sign-off/", {**SIGN, "password": "nope"}, format="json")
    assert wrong.status_code == 400 and "password" in wrong.json()
    unconfirmed = api.post(f"/api/report-versions/{issued.uuid}/sign-off/", {**SIGN, "confirm": False}, format="json")
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.json()
    issued.refresh_from_db()
    assert issued.status == "issued" and not SignOffEvent.objects.filter(action="signed").exists()


def test_drafts_are_invisible_to_customers_and_pdf_download(pm, contact, acceptance_ready, issued):
    draft = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    api = client_for(contact)
    listed = [row["uuid"] for row in api.get("/api/report-versions/").json()["results"]]
    assert listed == [str(issued.uuid)]
    assert api.get(f"/api/report-versions/{draft.uuid}/").status_code == 404
    pdf = api.get(f"/api/report-versions/{issued.uuid}/pdf/")
    assert pdf.status_code == 200 and pdf.content == bytes(issued.pdf)


def test_verify_by_api(contact, issued):
    api = client_for(contact, read=issued)
    api.post(f"/api/report-versions/{issued.uuid}/sign-off/", SIGN, format="json")
    signed = bytes(SignOffEvent.objects.get(action="signed").signed_pdf)
    result = api.post("/api/report-verify/", {"pdf": SimpleUploadedFile("s.pdf", signed)}, format="multipart").json()
    assert result["known"] and result["signed_by"] == "Li Na" and result["kind"] == "signed copy"
    tampered = bytearray(signed)
    tampered[len(tampered) // 2] ^= 0xFF
    result = api.post("/api/report-verify/", {"pdf": SimpleUploadedFile("t.pdf", bytes(tampered))},
                      format="multipart").json()
    assert result["known"] is False


def test_a_pipeline_pushes_a_reference_log(consultant, contact, engagement):
    log = "\n".join(f" iteration {s:>8}/     50 | lm loss: {2.0 / s + 1:.6E} |" for s in range(1, 51)).encode()
    api = client_for(consultant)
    response = api.post("/api/loss-curves/", {"engagement": str(engagement.uuid), "platform": "gpu", "label": "A100",
                                              "log": SimpleUploadedFile("ref.log", log)}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["points"] == 50 and response.json()["raw_sha256"] == LossCurve.sha256(log)
    assert LossCurve.objects.get().source == "api"
    bad = api.post("/api/loss-curves/", {"engagement": str(engagement.uuid), "platform": "gpu", "label": "x",
                                         "log": SimpleUploadedFile("bin.log", b"\x00\x01\x02" * 100)},
                   format="multipart")
    assert bad.status_code == 400 and "binary" in str(bad.json())
    forbidden = client_for(contact).post("/api/loss-curves/", {"engagement": str(engagement.uuid), "platform": "gpu",
                                                               "label": "x", "log": SimpleUploadedFile("r.log", log)},
                                         format="multipart")
    assert forbidden.status_code == 403 and LossCurve.objects.count() == 1
    assert ReportVersion.objects.count() == 0
