"""Exports: the XLSX's formulas and values (openpyxl), the CSV, the PDF's text (pdftotext),
and text that would be a formula written safely."""

import csv
import datetime
import io
import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal

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


def evaluate(ws, ref: str) -> Decimal:
    """A cell's value the way a spreadsheet computes it, for the formulas the export writes
    (ROUND, SUM over a column range, IF, + - * / and cell references); ROUND is half away
    from zero, as in Excel."""
    value = ws[ref].value
    if not (isinstance(value, str) and value.startswith("=")):
        return Decimal(str(value))
    expression = value[1:]
    expression = re.sub(r"SUM\(([A-Z])(\d+):\1(\d+)\)", lambda m: "(" + "+".join(
        f"{m[1]}{r}" for r in range(int(m[2]), int(m[3]) + 1)) + ")", expression)
    expression = re.sub(r"\b([A-Z])(\d+)\b", lambda m: f"cell('{m[1]}{m[2]}')", expression)
    expression = expression.replace("ROUND(", "round_(").replace("IF(", "if_(").replace("=", "==")
    return eval(expression, {  # noqa: S307 - the test's own workbook
        "cell": lambda r: evaluate(ws, r),
        "round_": lambda v, n: Decimal(v).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP),
        "if_": lambda c, a, b: a if c else b,
    })


def test_the_xlsx_formulas_compute_the_same_totals_as_the_portal(quote):
    ws = load_workbook(io.BytesIO(exports.quote_xlsx(quote, "en"))).active
    labels = {ws.cell(row=r, column=5).value: r for r in range(1, ws.max_row + 1)}
    totals = quote.totals()
    assert evaluate(ws, "F6") == Decimal("34000.00") and evaluate(ws, "F7") == Decimal("3599.99")
    assert evaluate(ws, f"F{labels['Services']}") == totals.services == Decimal("37599.99")
    assert evaluate(ws, f"F{labels['Tax']}") == totals.tax == Decimal("2256.00")
    assert evaluate(ws, f"F{labels['Cloud resources']}") == totals.cloud == Decimal("90000.00")
    assert evaluate(ws, f"F{labels['Total']}") == totals.total == Decimal("129855.99")
    # A customer changing a quantity in Excel changes the totals.
    ws["C6"].value = 10
    assert evaluate(ws, f"F{labels['Total']}") == Decimal("129855.99") - Decimal("2.5") * 3200 * Decimal("0.85") * \
        Decimal("1.06")


def test_csv_prefixes_formula_text_and_keeps_the_numbers(quote):
    text = exports.quote_csv(quote, "en").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "'" + EVIL and rows[0][2] == "'+Evil Corp"
    assert rows[1][3] == "Rate (yuan per person-day)"
    assert rows[2][1] == "'" + EVIL and rows[3][1] == "'@SUM(A1)"
    assert rows[2][5] == "34000.00" and rows[-1] == ["", "", "", "", "Total", str(quote.totals().total)]
    assert ["", "", "", "Tax rate", "6%", ""] in rows
    # The cloud resources stand in a section of their own, under their own headers.
    header = rows.index(["Resource", "Specification", "Quantity", "Monthly cost, all units (yuan)", "Months",
                         "Line total"])
    assert rows[header + 1] == ["BMS", "'-8*Ascend 910", "1", "45000.00", "2", "90000.00"]


def test_csv_and_xlsx_in_chinese(quote):
    rows = list(csv.reader(io.StringIO(exports.quote_csv(quote, "zh-hans").lstrip("\ufeff"))))
    assert rows[1][:3] == ["服务项", "描述", "人天"] and rows[-1][4] == "合计"
    ws = load_workbook(io.BytesIO(exports.quote_xlsx(quote, "zh-hans"))).active
    assert ws.title == "报价单" and ws["A5"].value == "服务项" and ws["A6"].value == "模型迁移调研评估"


def test_pdf_in_chinese_with_the_totals(quote, tmp_path):
    path = tmp_path / "q.pdf"
    path.write_bytes(exports.quote_pdf(quote, "zh-hans"))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "环境部署搭建" in text and quote.number in text
    assert "¥34,000.00" in text and f"¥{quote.totals().total:,}" in text
    assert "报价单" in text and "人天" in text and "折扣" in text and "15%" in text and "税额 (6%)" in text
    assert "Quote" not in text and "Services" not in text  # no English headings left
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line.split() for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line]
    assert cjk and all(columns[-5] == "yes" for columns in cjk)  # the emb column: embedded


def test_pdf_in_english(quote, tmp_path):
    path = tmp_path / "q.pdf"
    path.write_bytes(exports.quote_pdf(quote, "en"))
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert RateCardItem.objects.get(code="survey-assessment").name_en in text
    assert "Services" in text and "Tax (6%)" in text and "15%" in text
    assert "报价单" not in text


def test_a_timesheet_with_utilisation(consultant, engagement):
    survey = engagement.stages.get(key="survey")
    engagement_services.check_transition_stage(consultant, survey, "in_progress")
    monday = datetime.date(2026, 11, 2)
    for offset, days in ((0, "1"), (1, "0.5"), (2, "1")):
        engagement_services.check_log_work(consultant, survey, monday + datetime.timedelta(days=offset), days, "work")
    sheet = exports.timesheet(monday, monday + datetime.timedelta(days=6), [consultant])
    assert sheet["working_days"] == 5
    assert sheet["rows"] == [{"consultant": str(consultant), "engagement": engagement.code,
                              "stage": "Survey and assessment", "person_days": Decimal("2.5")}]
    assert sheet["people"][0]["utilisation"] == pytest.approx(0.5)
    ws = load_workbook(io.BytesIO(exports.timesheet_xlsx(sheet, "en"))).active
    assert ws["D2"].value == 2.5 and ws["D3"].value == "=SUM(D2:D2)"
    assert "50.0%" in exports.timesheet_csv(sheet, "en")


def test_the_pm_timesheet_lists_idle_consultants_and_stages_in_order(consultant, other_consultant, engagement):
    monday = datetime.date(2026, 11, 2)
    for key in ("plan", "survey"):  # logged out of order
        stage = engagement.stages.get(key=key)
        engagement_services.check_transition_stage(consultant, stage, "in_progress")
        engagement_services.check_log_work(consultant, stage, monday + datetime.timedelta(days=len(key) % 3), "0.5",
                                           "work")
    sheet = exports.timesheet(monday, monday + datetime.timedelta(days=4))
    assert [row["stage"] for row in sheet["rows"]] == ["Survey and assessment", "Migration plan design"]
    idle = next(person for person in sheet["people"] if person["consultant"] == str(other_consultant))
    assert idle["person_days"] == 0 and idle["utilisation"] == 0
