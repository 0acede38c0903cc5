"""Exports of quotes and timesheets: XLSX with live formulas, CSV, and (quotes) PDF.

No cell can start a formula from user text: text beginning with = + - @ or a tab/CR is
written as a string in XLSX (never parsed as a formula) and prefixed with ' in CSV.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from common.templatetags.portal import percent
from engagements.models import StageKey, User, WorkLog

from . import money
from .rendering import firm_data, render_html, render_pdf

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"


def csv_safe(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text(ws, row: int, column: int, value: str):
    """Write user text as a string cell, whatever it starts with."""
    cell = ws.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    return cell


def _number(ws, row: int, column: int, value, money_format: bool = False):
    cell = ws.cell(row=row, column=column, value=value)
    if money_format:
        cell.number_format = MONEY_FORMAT
    return cell


def _workbook_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- quotes ---------------------------------------------------------------------------------

def service_headers() -> list[str]:
    return [_("Service"), _("Description"), _("Person-days"), _("Rate (yuan per person-day)"), _("Discount"),
            _("Line total")]


def cloud_headers() -> list[str]:
    return [_("Resource"), _("Specification"), _("Quantity"), _("Monthly cost, all units (yuan)"), _("Months"),
            _("Line total")]


def quote_rows(quote, language: str) -> dict:
    """The quote as plain rows, shared by every export format."""
    lines = [{"name": line.item.name(language), "description": line.description, "person_days": line.person_days,
              "rate": line.rate, "discount": line.discount, "total": line.total}
             for line in quote.lines.select_related("item")]
    cloud = [{"resource": c.resource, "specification": c.specification, "quantity": c.quantity,
              "monthly_cost": c.monthly_cost, "months": c.months, "total": c.total} for c in quote.cloud_lines.all()]
    totals = money.totals([line["total"] for line in lines], [c["total"] for c in cloud], quote.tax_rate)
    return {"lines": lines, "cloud": cloud, "totals": totals}


def quote_xlsx(quote, language: str = "zh-hans") -> bytes:
    """Line totals and sums are formulas, so the customer can change quantities in Excel."""
    with translation.override(language):
        rows = quote_rows(quote, language)
        wb = Workbook()
        ws = wb.active
        ws.title = _("Quote")
        _text(ws, 1, 1, f"{quote.number} v{quote.version}").font = Font(bold=True, size=14)
        _text(ws, 2, 1, quote.title)
        _text(ws, 3, 1, quote.customer.name)
        for column, header in enumerate(service_headers(), start=1):
            _text(ws, 5, column, header).font = Font(bold=True)
        first = row = 6
        for line in rows["lines"]:
            _text(ws, row, 1, line["name"])
            _text(ws, row, 2, line["description"])
            _number(ws, row, 3, float(line["person_days"]))
            _number(ws, row, 4, float(line["rate"]), True)
            _number(ws, row, 5, float(line["discount"])).number_format = "0.00%"
            _number(ws, row, 6, f"=ROUND(C{row}*D{row}*(1-E{row}),2)", True)
            row += 1
        last = row - 1
        services_row = row
        _text(ws, row, 5, _("Services"))
        _number(ws, row, 6, f"=SUM(F{first}:F{last})" if last >= first else 0, True)
        row += 1
        tax_row = row
        _text(ws, row, 4, _("Tax rate"))
        _number(ws, row, 3, float(quote.tax_rate)).number_format = "0.00%"
        _text(ws, row, 5, _("Tax"))
        _number(ws, row, 6, f"=ROUND(F{services_row}*C{tax_row},2)", True)
        row += 2
        cloud_total = "0"
        if rows["cloud"]:
            for column, header in enumerate(cloud_headers(), start=1):
                _text(ws, row, column, header).font = Font(bold=True)
            row += 1
            cloud_first = row
            for line in rows["cloud"]:
                _text(ws, row, 1, line["resource"])
                _text(ws, row, 2, line["specification"])
                _number(ws, row, 3, line["quantity"])
                _number(ws, row, 4, float(line["monthly_cost"]), True)
                _number(ws, row, 5, line["months"])
                _number(ws, row, 6, f"=ROUND(D{row}*E{row},2)", True)
                row += 1
            cloud_total = f"SUM(F{cloud_first}:F{row - 1})"
            _text(ws, row, 5, _("Cloud resources"))
            _number(ws, row, 6, f"={cloud_total}", True)
            row += 2
        _text(ws, row, 5, _("Total")).font = Font(bold=True)
        _number(ws, row, 6, f"=F{services_row}+F{tax_row}+{cloud_total}", True).font = Font(bold=True)
        for column, width in zip(range(1, 7), (34, 40, 12, 22, 12, 16), strict=True):
            ws.column_dimensions[get_column_letter(column)].width = width
        ws.cell(row=2, column=1).alignment = Alignment(wrap_text=False)
        return _workbook_bytes(wb)


def quote_csv(quote, language: str = "zh-hans") -> str:
    with translation.override(language):
        rows = quote_rows(quote, language)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([csv_safe(f"{quote.number} v{quote.version}"), csv_safe(quote.title),
                         csv_safe(quote.customer.name)])
        writer.writerow(service_headers())
        for line in rows["lines"]:
            writer.writerow([csv_safe(line["name"]), csv_safe(line["description"]), line["person_days"], line["rate"],
                             line["discount"], line["total"]])
        totals = rows["totals"]
        writer.writerow(["", "", "", "", _("Services"), totals.services])
        writer.writerow(["", "", "", _("Tax rate"), percent(quote.tax_rate), ""])
        writer.writerow(["", "", "", "", _("Tax"), totals.tax])
        if rows["cloud"]:
            writer.writerow([])
            writer.writerow(cloud_headers())
            for line in rows["cloud"]:
                writer.writerow([csv_safe(line["resource"]), csv_safe(line["specification"]), line["quantity"],
                                 line["monthly_cost"], line["months"], line["total"]])
            writer.writerow(["", "", "", "", _("Cloud resources"), totals.cloud])
        writer.writerow([])
        writer.writerow(["", "", "", "", _("Total"), totals.total])
        return "\ufeff" + out.getvalue()  # a BOM, so Excel opens the Chinese text as UTF-8


def quote_pdf(quote, language: str = "zh-hans") -> bytes:

    rows = quote_rows(quote, language)
    data = {
        "language": language, "number": quote.number, "version": quote.version, "title": quote.title,
        "customer": quote.customer.name, "engagement": quote.engagement.code if quote.engagement_id else "",
        "status": quote.status, "valid_until": quote.valid_until.isoformat() if quote.valid_until else "",
        "tax_rate": str(quote.tax_rate), "tax_pct": percent(quote.tax_rate), "notes": quote.notes,
        "lines": [{**line, **{k: str(line[k]) for k in ("person_days", "rate", "discount", "total")},
                   "discount_pct": percent(line["discount"]), "total_yuan": money.yuan(line["total"])}
                  for line in rows["lines"]],
        "cloud": [{**c, "monthly_cost": money.yuan(c["monthly_cost"]), "total_yuan": money.yuan(c["total"])}
                  for c in rows["cloud"]],
        "totals": {k: money.yuan(v) for k, v in rows["totals"].__dict__.items()},
        "placeholder_prices": quote.lines.filter(item__placeholder=True).exists(),
        "firm": firm_data(language),
    }
    return render_pdf(render_html(data, template="quote.html"))


# --- timesheets ---------------------------------------------------------------------------------

def timesheet_xlsx(sheet: dict, language: str = "zh-hans") -> bytes:
    with translation.override(language):
        wb = Workbook()
        ws = wb.active
        ws.title = _("Timesheet")
        headers = [_("Consultant"), _("Engagement"), _("Stage"), _("Person-days")]
        for column, header in enumerate(headers, start=1):
            _text(ws, 1, column, header).font = Font(bold=True)
        row = 2
        for entry in sheet["rows"]:
            _text(ws, row, 1, entry["consultant"])
            _text(ws, row, 2, entry["engagement"])
            _text(ws, row, 3, entry["stage"])
            _number(ws, row, 4, float(entry["person_days"]))
            row += 1
        _text(ws, row, 3, _("Total")).font = Font(bold=True)
        _number(ws, row, 4, f"=SUM(D2:D{row - 1})" if row > 2 else 0)
        row += 2
        for column, header in enumerate([_("Consultant"), _("Person-days"), _("Working days"), _("Utilisation")], 1):
            _text(ws, row, column, header).font = Font(bold=True)
        row += 1
        for person in sheet["people"]:
            _text(ws, row, 1, person["consultant"])
            _number(ws, row, 2, float(person["person_days"]))
            _number(ws, row, 3, sheet["working_days"])
            _number(ws, row, 4, f"=IF(C{row}=0,0,B{row}/C{row})").number_format = "0.0%"
            row += 1
        for column, width in zip(range(1, 5), (24, 40, 24, 14), strict=True):
            ws.column_dimensions[get_column_letter(column)].width = width
        return _workbook_bytes(wb)


def timesheet_csv(sheet: dict, language: str = "zh-hans") -> str:
    with translation.override(language):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_("Consultant"), _("Engagement"), _("Stage"), _("Person-days")])
        for entry in sheet["rows"]:
            writer.writerow([csv_safe(entry["consultant"]), csv_safe(entry["engagement"]), csv_safe(entry["stage"]),
                             entry["person_days"]])
        writer.writerow([])
        writer.writerow([_("Consultant"), _("Person-days"), _("Working days"), _("Utilisation")])
        for person in sheet["people"]:
            writer.writerow([csv_safe(person["consultant"]), person["person_days"], sheet["working_days"],
                             f"{person['utilisation']:.1%}"])
        return "\ufeff" + out.getvalue()


def timesheet(start, end, consultants=None) -> dict:
    """Person-days per consultant, engagement and stage over a date range, and utilisation
    against the working days (Monday to Friday) of the range. ``consultants``: the people to
    show; by default every active consultant (those who logged nothing show at 0%) and anyone
    else who logged in the range."""
    logs = WorkLog.objects.filter(date__gte=start, date__lte=end)
    if consultants is not None:
        logs = logs.filter(consultant__in=consultants)
        people = list(consultants)
    else:
        people = list(User.objects.filter(Q(role=User.Role.CONSULTANT, is_active=True)
                                          | Q(pk__in=logs.values("consultant"))).distinct())
    grouped = (logs.person_days_by("consultant", "stage__engagement__code", "stage__key", "stage__order")
               .order_by("stage__engagement__code", "stage__order"))
    working_days = sum(1 for n in range((end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)
    by_person = {person.pk: [] for person in people}
    for entry in grouped:
        by_person.setdefault(entry["consultant"], []).append(entry)
    people.sort(key=lambda person: person.username)
    rows, totals = [], []
    for person in people:
        name, logged = str(person), Decimal("0")
        for entry in by_person.get(person.pk, []):
            rows.append({"consultant": name, "engagement": entry["stage__engagement__code"],
                         "stage": str(StageKey(entry["stage__key"]).label), "person_days": entry["logged"]})
            logged += entry["logged"]
        totals.append({"consultant": name, "person_days": logged,
                       "utilisation": float(logged) / working_days if working_days else 0.0})
    return {"start": start, "end": end, "working_days": working_days, "rows": rows, "people": totals}
