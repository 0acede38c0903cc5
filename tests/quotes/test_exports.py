"""Exports: the XLSX's formulas and values (openpyxl), the CSV, the PDF's text (pdftotext),
and text that would be a formula written safely."""

import csv
import datetime
import io
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from engagements import services as engagement_services
from reports import exports, quotes
from reports.models import RateCardItem

pytestmark = pytest.mark.django_db
EVIL = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def quote(pm, customer_a):
    customer_a.name = "+Evil Corp"
    customer_a.save()
    quote = quotes.check_create_quote(pm, customer=customer_a, title=EVIL)
    survey = RateCardItem.objects.get(code="survey-assessment")
    env = RateCardItem.objects.get(code="environment-deployment")
    quotes.check_set_lines(pm, quote, [
        {"item": survey, "person_days": "12.5", "rate": "3200", "discount": "0.15", "description": EVIL},
        {"item": env, "person_days": "3", "rate": "1333.33", "discount": "0.1", "description": "@SUM(A1)"},
    ], [{"resource": "BMS", "specification": "-8*Ascend 910", "monthly_cost": "45000", "months": 2}])
    return quote


def test_xlsx_has_live_formulas_and_safe_text(quote):
    wb = load_workbook(io.BytesIO(exports.quote_xlsx(quote, "en")))
    ws = wb.active
    assert ws["A2"].value == EVIL and ws["A2"].data_type == "s"  # text, not a formula
    assert ws["B6"].value == EVIL and ws["B6"].data_type == "s"
    assert ws["B7"].data_type == "s" and ws["A3"].data_type == "s"
    assert ws["F6"].value == "=ROUND(C6*D6*(1-E6),2)" and ws["F6"].data_type == "f"
    assert ws["F8"].value == "=SUM(F6:F7)"
    assert (ws["C6"].value, ws["D6"].value, ws["E6"].value) == (12.5, 3200, 0.15)
    formulas = [c.value for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert any(f.startswith("=ROUND(D") for f in formulas)  # the cloud line
    assert formulas[-1].startswith("=F8+F9+SUM(")  # the total adds services, tax and cloud
    specification = next(c for row in ws.iter_rows() for c in row if c.value == "-8*Ascend 910")
    assert specification.data_type == "s"


def test_the_xlsx_formulas_compute_the_same_totals_as_the_portal(quote):
    ws = load_workbook(io.BytesIO(exports.quote_xlsx(quote, "en"))).active
    # Evaluate the line formulas the way a spreadsheet does, from the cell values.
    lines = [Decimal(str(round(ws[f"C{r}"].value * ws[f"D{r}"].value * (1 - ws[f"E{r}"].value), 2))) for r in (6, 7)]
    totals = quote.totals()
    assert sum(lines) == totals.services == Decimal("37599.99")


def test_csv_prefixes_formula_text_and_keeps_the_numbers(quote):
    text = exports.quote_csv(quote, "en").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "'" + EVIL and rows[0][2] == "'+Evil Corp"
    assert rows[2][1] == "'" + EVIL and rows[3][1] == "'@SUM(A1)" and rows[4][1] == "'-8*Ascend 910"
    assert rows[2][5] == "34000.00" and rows[-1] == ["", "", "", "", "Total", str(quote.totals().total)]


def test_pdf_in_chinese_with_the_totals(quote, tmp_path):
    path = tmp_path / "q.pdf"
    path.write_bytes(exports.quote_pdf(quote, "zh-hans"))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "环境部署搭建" in text and quote.number in text
    assert "¥34,000.00" in text and f"¥{quote.totals().total:,}" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "Noto" in fonts


def test_a_timesheet_with_utilisation(consultant, engagement):
    survey = engagement.stages.get(key="survey")
    engagement_services.check_transition_stage(consultant, survey, "in_progress")
    monday = datetime.date(2026, 11, 2)
    for offset, days in ((0, "1"), (1, "0.5"), (2, "1")):
        engagement_services.check_log_work(consultant, survey, monday + datetime.timedelta(days=offset), days, "work")
    sheet = exports.timesheet(monday, monday + datetime.timedelta(days=6))
    assert sheet["working_days"] == 5
    assert sheet["rows"] == [{"consultant": sheet["people"][0]["consultant"], "engagement": engagement.code,
                              "stage": "Survey and assessment", "person_days": Decimal("2.5")}]
    assert sheet["people"][0]["utilisation"] == pytest.approx(0.5)
    ws = load_workbook(io.BytesIO(exports.timesheet_xlsx(sheet, "en"))).active
    assert ws["D2"].value == 2.5 and ws["D3"].value == "=SUM(D2:D2)"
    assert "50.0%" in exports.timesheet_csv(sheet, "en")
