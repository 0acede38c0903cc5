"""The issuing firm's details on quotes and reports, and placeholder prices said out loud."""

import datetime
import struct
import subprocess
import zlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports import exports, quotes
from reports.firm import check_save_firm
from reports.models import FirmProfile, RateCardItem

pytestmark = pytest.mark.django_db

FIRM = {"name_zh": "昇腾迁移服务有限公司", "name_en": "Ascend Migration Services Ltd",
        "address": "深圳市南山区科技园 1 号",
        "tax_number": "91440300MA5XXXXX1A", "bank_name": "招商银行深圳分行", "bank_account": "7559 0000 1234 5678",
        "payment_terms": "30% on signing, 70% within 30 days of acceptance", "seal_label": "公司盖章 / Company seal"}


def png(width=4, height=2) -> bytes:
    """A real PNG, small."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


def quote_with(pm, customer, item):
    quote = quotes.check_create_quote(pm, customer=customer, title="Migration of two models")
    quotes.check_set_lines(pm, quote, [{"item": item, "person_days": "10", "rate": str(item.rate), "discount": "0"}])
    return quote


def test_the_firm_prints_on_the_quote_with_terms_bank_and_seal_area(pm, customer_a, tmp_path):
    check_save_firm(pm, FIRM, SimpleUploadedFile("logo.png", png(), content_type="image/png"))
    quote = quote_with(pm, customer_a, RateCardItem.objects.get(code="survey-assessment"))
    text = pdf_text(exports.quote_pdf(quote, "en"), tmp_path)
    for expected in ("Ascend Migration Services Ltd", "91440300MA5XXXXX1A", "30% on signing",
                     "7559 0000 1234 5678", "Company seal"):
        assert expected in text, expected
    assert "昇腾迁移服务有限公司" in pdf_text(exports.quote_pdf(quote, "zh-hans"), tmp_path)


def test_a_quote_on_a_placeholder_price_says_so_and_one_on_a_real_price_does_not(pm, customer_a, client, tmp_path):
    seeded = RateCardItem.objects.get(code="survey-assessment")
    assert seeded.placeholder  # the seed's prices are examples
    on_placeholder = quote_with(pm, customer_a, seeded)
    assert "placeholder prices" in pdf_text(exports.quote_pdf(on_placeholder, "en"), tmp_path)
    client.force_login(pm)
    assert 'data-testid="placeholder-notice"' in client.get(f"/quotes/{on_placeholder.uuid}/").content.decode()

    own = RateCardItem.objects.create(code="survey-assessment", category=seeded.category, name_en=seeded.name_en,
                                      name_zh=seeded.name_zh, rate=Decimal("3900"),
                                      valid_from=datetime.date(2026, 6, 1))
    on_own = quote_with(pm, customer_a, own)
    assert "placeholder prices" not in pdf_text(exports.quote_pdf(on_own, "en"), tmp_path)
    assert 'data-testid="placeholder-notice"' not in client.get(f"/quotes/{on_own.uuid}/").content.decode()


def test_the_firm_page_saves_for_a_pm_refuses_others_and_a_fake_logo(client, pm, consultant):
    client.force_login(consultant)
    assert client.get("/firm/").status_code == 403
    client.force_login(pm)
    page = client.post("/firm/", {**FIRM, "logo": SimpleUploadedFile("logo.png", b"not an image at all",
                                                                    content_type="image/png")}).content.decode()
    assert 'data-field="logo"' in page
    assert not FirmProfile.objects.exists()  # nothing saved on error
    response = client.post("/firm/", {**FIRM, "logo": SimpleUploadedFile("logo.png", png(), content_type="image/png")})
    assert response.status_code == 302
    firm = FirmProfile.current()
    assert firm.tax_number == FIRM["tax_number"] and firm.logo.name.endswith(".png")
    assert "Placeholder prices" in client.get("/firm/").content.decode()


def test_the_acceptance_report_keeps_the_firm_it_was_rendered_with(pm, acceptance_ready, tmp_path):
    from reports import services

    check_save_firm(pm, FIRM)
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en", enqueue=False).pk)
    assert "Ascend Migration Services Ltd" in pdf_text(bytes(version.pdf), tmp_path)
    check_save_firm(pm, {**FIRM, "name_en": "Renamed Ltd"})
    version.refresh_from_db()
    assert version.data["firm"]["name"] == "Ascend Migration Services Ltd"
