"""Reports through the browser's endpoints, as every role; rendering in a real Celery worker."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports import services
from reports.models import ReportVersion


def render_now(pm, engagement, language="en"):
    version = services.check_request_render(pm, engagement, language)
    return services.render_version(version.pk)


def read_every_page(client, version) -> None:
    """Load every page image of the version, as the version page does (review before sign-off)."""
    number = 1
    while client.get(reverse("version_page", args=[version.uuid, number])).status_code == 200:
        number += 1


@pytest.mark.django_db
def test_customer_signs_off_in_the_portal(client, pm, contact, acceptance_ready):
    version = render_now(pm, acceptance_ready)
    client.force_login(pm)
    assert client.post(reverse("version_issue", args=[version.uuid])).status_code == 302
    client.force_login(contact)
    page = client.get(reverse("version_detail", args=[version.uuid])).content.decode()
    assert 'data-testid="sign-off"' in page and version.sha256 in page
    assert client.get(reverse("version_preview", args=[version.uuid])).status_code == 200
    assert client.get(reverse("version_pdf", args=[version.uuid]))["Content-Type"] == "application/pdf"
    read_every_page(client, version)
    bad = client.post(reverse("version_sign", args=[version.uuid]),
                      {"name": "Li Na", "title": "CTO", "confirm": "on", "password": "wrong"})
    assert bad.status_code == 400 and "The password is not correct." in bad.content.decode()
    assert 'value="Li Na"' in bad.content.decode()  # nothing typed is lost
    good = client.post(reverse("version_sign", args=[version.uuid]),
                       {"name": "Li Na", "title": "CTO", "confirm": "on", "password": "correct-horse-battery"},
                       HTTP_USER_AGENT="pytest-browser")
    assert good.status_code == 302
    version.refresh_from_db()
    assert version.status == "signed"
    signed = client.get(reverse("signed_pdf", args=[version.uuid]))
    result = client.post(reverse("report_verify"), {"pdf": SimpleUploadedFile("r.pdf", signed.content)})
    assert 'data-testid="signed-by"' in result.content.decode() and "Li Na" in result.content.decode()
    assert 'data-testid="accepted"' in client.get(reverse("engagement_list")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who,draft_status,issued_status,can_sign", [
    ("pm", 200, 200, False), ("consultant", 200, 200, False), ("contact", 404, 200, True),
    ("other_consultant", 404, 404, False), ("stranger", 404, 404, False),
])
def test_who_sees_what(client, request, pm, acceptance_ready, who, draft_status, issued_status, can_sign):
    draft = render_now(pm, acceptance_ready)
    issued = render_now(pm, acceptance_ready)
    services.check_issue(pm, issued)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("version_detail", args=[draft.uuid])).status_code == draft_status
    assert client.get(reverse("version_pdf", args=[draft.uuid])).status_code == draft_status
    assert client.get(reverse("version_detail", args=[issued.uuid])).status_code == issued_status
    read_every_page(client, issued)
    response = client.post(reverse("version_sign", args=[issued.uuid]),
                           {"name": "X", "title": "Y", "confirm": "on", "password": "correct-horse-battery"})
    issued.refresh_from_db()
    assert (issued.status == "signed") == can_sign
    if not can_sign:
        assert response.status_code in (403, 404)


@pytest.mark.django_db
def test_a_consultant_cannot_issue_and_a_contact_cannot_render(client, pm, consultant, contact, acceptance_ready):
    version = render_now(pm, acceptance_ready)
    client.force_login(consultant)
    client.post(reverse("version_issue", args=[version.uuid]))
    version.refresh_from_db()
    assert version.status == "draft"
    client.force_login(contact)
    response = client.post(reverse("engagement_reports", args=[acceptance_ready.uuid]), {"language": "en"})
    assert response.status_code == 403
    assert ReportVersion.objects.count() == 1


@pytest.mark.django_db
def test_verify_refuses_a_file_that_is_not_ours(client, consultant):
    client.force_login(consultant)
    page = client.post(reverse("report_verify"),
                       {"pdf": SimpleUploadedFile("x.pdf", b"%PDF-1.4 forged")}).content.decode()
    assert 'data-testid="unknown"' in page


@pytest.mark.django_db(transaction=True)
def test_a_render_request_is_rendered_by_the_celery_worker(client, worker, pm, acceptance_ready):
    client.force_login(pm)
    response = client.post(reverse("engagement_reports", args=[acceptance_ready.uuid]), {"language": "zh-hans"})
    assert response.status_code == 302
    version = ReportVersion.objects.get()
    deadline = time.monotonic() + 60
    while version.status == "rendering" and time.monotonic() < deadline:
        time.sleep(0.5)
        version.refresh_from_db()
    assert version.status == "draft", (version.failure, (worker.base / "worker.log").read_text()[-3000:])
    assert bytes(version.pdf).startswith(b"%PDF") and len(version.sha256) == 64
