"""Paths that had no test: a sign-off hash chain broken behind the database's back, text
starting with a tab or a carriage return in the exports, and the timesheets' formula safety."""

import csv
import datetime
import io

import pytest
from django.db import connection
from openpyxl import load_workbook

from engagements import services as engagement_services
from engagements.models import WorkLog
from reports import exports, quotes, services
from reports.models import RateCardItem, SignOffEvent

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def test_a_chain_edited_behind_the_databases_back_is_reported_broken(pm, contact, acceptance_ready):
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    services.check_issue(pm, version)
    services.check_sign_off(contact, version, password=PASSWORD, name="Li Na", title="CTO", confirm=True)
    assert services.chain_is_intact()
    signed = SignOffEvent.objects.get(action="signed")
    with connection.cursor() as cursor:  # what only someone with the database's owner rights could do
        cursor.execute("SET session_replication_role = replica")  # triggers off for this session
        cursor.execute("UPDATE reports_signoffevent SET signer_name = 'Someone Else' WHERE id = %s", [signed.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert not services.chain_is_intact()
    assert services.verify_pdf(bytes(SignOffEvent.objects.get(pk=signed.pk).signed_pdf))["chain_intact"] is False


@pytest.mark.parametrize("prefix", ["\t", "\r", "=", "+", "-", "@"])
def test_quote_text_starting_with_any_formula_prefix_stays_text(pm, customer_a, prefix):
    quote = quotes.check_create_quote(pm, customer=customer_a, title=f"{prefix}cmd|' /C calc'!A0")
    quotes.check_set_lines(pm, quote, [{"item": RateCardItem.objects.get(code="survey-assessment"),
                                        "person_days": "1", "description": f"{prefix}SUM(A1:A9)"}])
    rows = list(csv.reader(io.StringIO(exports.quote_csv(quote, "en"))))
    cells = [cell for row in rows for cell in row if "SUM(A1:A9)" in cell or "calc" in cell]
    assert cells and all(cell.startswith("'") for cell in cells)
    sheet = load_workbook(io.BytesIO(exports.quote_xlsx(quote, "en"))).active
    texts = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "SUM(A1:A9)" in c.value]
    assert texts and all(c.data_type == "s" for c in texts)


def test_timesheet_exports_write_names_that_look_like_formulas_as_text(consultant, engagement):
    consultant.first_name, consultant.last_name = "=HYPERLINK(\"http://evil.example\")", "\tTab"
    consultant.save()
    stage = engagement.stages.get(key="survey")
    day = datetime.date.today() - datetime.timedelta(days=1)
    engagement_services.check_log_work(consultant, stage, day, "1", "Work")
    assert WorkLog.objects.filter(consultant=consultant).exists()
    sheet = exports.timesheet(day, day)
    rows = list(csv.reader(io.StringIO(exports.timesheet_csv(sheet, "en"))))
    named = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert named and all(cell.startswith("'") for cell in named)
    workbook = load_workbook(io.BytesIO(exports.timesheet_xlsx(sheet, "en")))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)
