"""Review before sign-off: the version page shows every page of the issued PDF before the
decision forms, and a customer's contact signs off or rejects only after the portal has
served them every page image of that version."""

import io
import re

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from reports import services
from reports.models import ReportPageView, ReportVersion, SignOffEvent
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
SIGN = {"name": "Li Na", "title": "CTO", "confirm": "on", "password": PASSWORD}
REJECT = {"comment": "The loss curve diverges after step 200.", "password": PASSWORD}
REFUSED = "Read every page of the report before you sign it off or reject it."


@pytest.fixture
def issued(pm, acceptance_ready):
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    return services.check_issue(pm, version)


def page_count(version) -> int:
    return len(PdfReader(io.BytesIO(bytes(version.pdf))).pages)


def page_url(version, number) -> str:
    return reverse("version_page", args=[version.uuid, number])


def load_pages(client, version, numbers):
    for number in numbers:
        response = client.get(page_url(version, number))
        assert response.status_code == 200, number
        assert response["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")


def with_pages(version, count: int) -> ReportVersion:
    """The version with its PDF made ``count`` pages long (its own pages, repeated)."""
    source = PdfReader(io.BytesIO(bytes(version.pdf)))
    writer = PdfWriter()
    for number in range(count):
        writer.add_page(source.pages[number % len(source.pages)])
    out = io.BytesIO()
    writer.write(out)
    ReportVersion.objects.filter(pk=version.pk).update(pdf=out.getvalue())
    version.refresh_from_db()
    return version


def decisions(version):
    return list(SignOffEvent.objects.filter(version=version).exclude(action=SignOffEvent.Action.ISSUED))


@pytest.mark.django_db
def test_the_page_shows_every_page_in_order_before_the_disabled_forms(client, contact, issued):
    client.force_login(contact)
    page = client.get(reverse("version_detail", args=[issued.uuid])).content.decode()
    count = page_count(issued)
    assert count >= 2
    numbers = [int(n) for n in re.findall(r'data-review-page="(\d+)"', page)]
    assert numbers == list(range(1, count + 1))
    for number in numbers:
        assert f'src="{page_url(issued, number)}"' in page
        assert f"Page {number} of {count}" in page
    assert page.index('data-testid="report-pages"') < page.index('data-testid="sign-off"')
    sign_action = f'action="{reverse("version_sign", args=[issued.uuid])}"'
    assert page.index(f'data-review-page="{count}"') < page.index(sign_action)
    assert page.count("data-review-gate disabled") == 2  # sign off and reject
    assert "Read every page of the report to sign it off." in page
    assert "<iframe" not in page and "<script>" not in page and "style=" not in page


@pytest.mark.django_db
def test_a_contact_who_has_not_loaded_every_page_is_refused(client, contact, issued):
    client.force_login(contact)
    count = page_count(issued)
    load_pages(client, issued, range(1, count))  # all but the last
    sent = len(mail.outbox)
    for url, data in ((reverse("version_sign", args=[issued.uuid]), SIGN),
                      (reverse("version_reject", args=[issued.uuid]), REJECT)):
        # Nothing a form can send stands in for having loaded the pages.
        response = client.post(url, {**data, "seen": ",".join(map(str, range(1, count + 1))), "page": count})
        assert response.status_code == 400
        assert REFUSED in response.content.decode()
        assert response.content.decode().count("data-review-gate disabled") == 2
    issued.refresh_from_db()
    assert issued.status == ReportVersion.Status.ISSUED
    assert decisions(issued) == [] and len(mail.outbox) == sent
    assert issued.engagement.acceptance_signed_at is None
    assert 'value="Li Na"' in client.post(reverse("version_sign", args=[issued.uuid]), SIGN).content.decode()


@pytest.mark.django_db
def test_a_contact_who_has_loaded_nothing_is_refused_even_with_a_wrong_password(client, contact, issued):
    client.force_login(contact)
    response = client.post(reverse("version_sign", args=[issued.uuid]), {**SIGN, "password": "wrong"})
    assert response.status_code == 400 and REFUSED in response.content.decode()
    assert decisions(issued) == []


@pytest.mark.django_db
def test_after_loading_every_page_the_contact_signs_off(client, contact, issued):
    client.force_login(contact)
    count = page_count(issued)
    load_pages(client, issued, range(count, 0, -1))  # in any order
    page = client.get(reverse("version_detail", args=[issued.uuid])).content.decode()
    assert "data-review-gate disabled" not in page and page.count("data-review-gate") == 2
    # The password is still checked again, as before.
    bad = client.post(reverse("version_sign", args=[issued.uuid]), {**SIGN, "password": "wrong"})
    assert bad.status_code == 400 and "The password is not correct." in bad.content.decode()
    assert REFUSED not in bad.content.decode()
    good = client.post(reverse("version_sign", args=[issued.uuid]), SIGN, HTTP_USER_AGENT="pytest")
    assert good.status_code == 302
    issued.refresh_from_db()
    assert issued.status == ReportVersion.Status.SIGNED
    [event] = decisions(issued)
    assert event.action == SignOffEvent.Action.SIGNED and event.signer_name == "Li Na"
    assert event.user == contact and event.user_agent == "pytest" and services.chain_is_intact()
    assert sorted(ReportPageView.objects.filter(version=issued, user=contact).values_list("page", flat=True)) \
        == list(range(1, count + 1))


@pytest.mark.django_db
def test_after_loading_every_page_the_contact_rejects(client, contact, issued):
    client.force_login(contact)
    load_pages(client, issued, range(1, page_count(issued) + 1))
    response = client.post(reverse("version_reject", args=[issued.uuid]), REJECT)
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.status == ReportVersion.Status.REJECTED
    [event] = decisions(issued)
    assert event.action == SignOffEvent.Action.REJECTED and event.comment == REJECT["comment"]


@pytest.mark.django_db
def test_pages_seen_by_one_contact_do_not_count_for_another(client, contact, customer_a, issued):
    colleague = UserFactory(username="colleague", role=contact.role, customer=customer_a)
    client.force_login(colleague)
    load_pages(client, issued, range(1, page_count(issued) + 1))
    client.force_login(contact)
    assert client.post(reverse("version_sign", args=[issued.uuid]), SIGN).status_code == 400
    assert decisions(issued) == []


@pytest.mark.django_db
def test_a_version_with_three_pages_needs_all_three(client, contact, issued):
    version = with_pages(issued, 3)
    client.force_login(contact)
    page = client.get(reverse("version_detail", args=[version.uuid])).content.decode()
    assert re.findall(r'data-review-page="(\d+)"', page) == ["1", "2", "3"] and "Page 3 of 3" in page
    assert client.get(page_url(version, 4)).status_code == 404
    assert client.get(page_url(version, 0)).status_code == 404
    load_pages(client, version, [1, 2])
    load_pages(client, version, [1, 2])  # loading a page again is no new page
    assert client.post(reverse("version_sign", args=[version.uuid]), SIGN).status_code == 400
    assert client.post(reverse("version_reject", args=[version.uuid]), REJECT).status_code == 400
    assert decisions(version) == []
    load_pages(client, version, [3])
    assert ReportPageView.objects.filter(version=version, user=contact).count() == 3
    assert client.post(reverse("version_sign", args=[version.uuid]), SIGN).status_code == 302
    version.refresh_from_db()
    assert version.status == ReportVersion.Status.SIGNED


@pytest.mark.django_db
def test_another_customers_contact_gets_404_for_the_pages(client, stranger, other_consultant, issued):
    for user in (stranger, other_consultant):
        client.force_login(user)
        assert client.get(page_url(issued, 1)).status_code == 404
        assert client.get(reverse("version_detail", args=[issued.uuid])).status_code == 404
    assert not ReportPageView.objects.exists()


@pytest.mark.django_db
def test_a_draft_has_no_pages_for_the_contact(client, pm, contact, acceptance_ready):
    draft = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    client.force_login(contact)
    assert client.get(page_url(draft, 1)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pm", "consultant"])
def test_staff_are_unaffected(client, request, pm, acceptance_ready, who):
    user = request.getfixturevalue(who)
    draft = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    client.force_login(user)
    page = client.get(reverse("version_detail", args=[draft.uuid])).content.decode()
    assert 'data-testid="report-pages"' in page and 'data-testid="sign-off"' not in page
    load_pages(client, draft, range(1, page_count(draft) + 1))  # staff review drafts page by page too
    services.check_issue(pm, draft)
    page = client.get(reverse("version_detail", args=[draft.uuid])).content.decode()
    assert 'data-testid="sign-off"' not in page and "Read every page" not in page
    load_pages(client, draft, [1])
    assert not ReportPageView.objects.exists()  # only a deciding contact's views are recorded
    # Staff still cannot decide, with the same answer as before (not a review error).
    response = client.post(reverse("version_sign", args=[draft.uuid]), SIGN)
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == ReportVersion.Status.ISSUED


@pytest.mark.django_db
def test_page_images_are_not_cached_by_the_browser_and_are_cached_on_disk(client, contact, issued, settings):
    client.force_login(contact)
    first = client.get(page_url(issued, 1))
    assert "no-store" in first["Cache-Control"]
    cached = list((settings.MEDIA_ROOT / "report-pages" / issued.sha256).glob("*.png"))
    assert len(cached) == 1
    assert client.get(page_url(issued, 1)).content == first.content


@pytest.mark.django_db
def test_a_signed_version_shows_its_pages_and_no_forms(client, contact, issued):
    client.force_login(contact)
    load_pages(client, issued, range(1, page_count(issued) + 1))
    client.post(reverse("version_sign", args=[issued.uuid]), SIGN)
    page = client.get(reverse("version_detail", args=[issued.uuid])).content.decode()
    assert 'data-testid="report-pages"' in page and 'data-testid="sign-off"' not in page
    # Signing twice is refused by the service as before, whatever was seen.
    response = client.post(reverse("version_sign", args=[issued.uuid]), SIGN)
    assert response.status_code == 400 and "cannot be signed off or rejected" in response.content.decode()


@pytest.mark.django_db
def test_the_review_is_in_chinese(client, contact, issued):
    contact.language = "zh-hans"
    contact.save(update_fields=["language"])
    client.force_login(contact)
    page = client.get(reverse("version_detail", args=[issued.uuid])).content.decode()
    count = page_count(issued)
    assert f"第 1 页，共 {count} 页" in page and "请阅读报告的每一页后再签字确认。" in page
    response = client.post(reverse("version_sign", args=[issued.uuid]), SIGN)
    assert "请先阅读报告的每一页，再签字确认或驳回。" in response.content.decode()


@pytest.mark.django_db
def test_a_pdf_that_cannot_be_shown_cannot_be_signed(client, contact, issued):
    ReportVersion.objects.filter(pk=issued.pk).update(pdf=b"%PDF-1.4 not really a report\n")
    client.force_login(contact)
    page = client.get(reverse("version_detail", args=[issued.uuid])).content.decode()
    assert 'data-testid="no-pages"' in page and "data-review-gate disabled" in page
    assert client.get(page_url(issued, 1)).status_code == 404
    assert client.post(reverse("version_sign", args=[issued.uuid]), SIGN).status_code == 400
    assert decisions(issued) == []
