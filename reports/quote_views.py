"""Quotes, planned vs actual and timesheets in the browser. Views parse input and call
``reports.quotes`` and ``reports.exports``."""

from decimal import Decimal, DecimalException

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from assessments.models import MigrationAnalysis
from common import access
from common.forms import DateInput, apply_errors
from engagements.models import Customer, Engagement, StageKey, WorkLog

from . import exports, quotes
from .charts import burn_chart
from .models import Quote, RateCardItem

LANGUAGES = {"zh-hans", "en"}


class PercentField(forms.DecimalField):
    """Typed as a percentage (6 means 6%), cleaned to the fraction the models store (0.06)."""

    def to_python(self, value):
        number = super().to_python(value)
        try:
            return None if number is None else number / 100
        except DecimalException:  # sNaN, or 1e999999999 overflowing: not a percentage
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format((value * 100).normalize(), "f")
        return value


class QuoteHeaderForm(forms.Form):
    title = forms.CharField(label=pgettext_lazy("quote", "Title"), max_length=200)
    tax_rate = PercentField(label=gettext_lazy("Tax rate (%)"), initial=Decimal("0.06"),
                            help_text=gettext_lazy("6 means 6% VAT on services."))
    valid_until = forms.DateField(label=gettext_lazy("Valid until"), required=False, widget=DateInput())
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class QuoteForm(QuoteHeaderForm):
    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=Customer.objects.all())
    engagement = forms.ModelChoiceField(label=gettext_lazy("Engagement"), queryset=Engagement.objects.all(),
                                        required=False)
    field_order = ["customer", "engagement", "title", "tax_rate", "valid_until", "notes"]


class LineForm(forms.Form):
    item = forms.ModelChoiceField(label=gettext_lazy("Service"), queryset=RateCardItem.objects.none(), required=False)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    person_days = forms.CharField(label=gettext_lazy("Person-days"), required=False)
    rate = forms.CharField(label=gettext_lazy("Rate"), required=False)
    discount = PercentField(label=gettext_lazy("Discount (%)"), required=False, initial=Decimal("0"))

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset, choices = items or line_items()
        self.fields["item"].queryset = queryset
        self.fields["item"].choices = choices  # read once for the formset (LineFormSet), not once a row


def line_items() -> tuple:
    """The services a quote line may use (the current rate card, plus any older rate a line of a
    draft still uses): the field's queryset, and its options read once."""
    current = [item.pk for item in quotes.current_items()]
    queryset = RateCardItem.objects.filter(
        Q(pk__in=current) | Q(quote_lines__quote__status=Quote.Status.DRAFT)).distinct()
    field = LineForm.base_fields["item"]
    return queryset, [("", field.empty_label), *((item.pk, field.label_from_instance(item)) for item in queryset)]


class BaseLineFormSet(forms.BaseFormSet):
    """Every row offers the same services: read once per formset."""

    def get_form_kwargs(self, index):
        if not hasattr(self, "_items"):
            self._items = line_items()
        return {**super().get_form_kwargs(index), "items": self._items}


class CloudForm(forms.Form):
    resource = forms.CharField(label=gettext_lazy("Resource"), max_length=100, required=False)
    specification = forms.CharField(label=gettext_lazy("Specification"), max_length=300, required=False)
    quantity = forms.CharField(label=gettext_lazy("Quantity"), required=False, initial="1")
    monthly_cost = forms.CharField(label=gettext_lazy("Monthly cost, all units (yuan)"), required=False)
    months = forms.CharField(label=gettext_lazy("Months"), required=False, initial="1")


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=3)
CloudFormSet = forms.formset_factory(CloudForm, extra=3)


class DecisionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100, required=False)
    comment = forms.CharField(label=gettext_lazy("Comments"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label=gettext_lazy("Your password, again"), widget=forms.PasswordInput)


class RangeForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), widget=DateInput())
    end = forms.DateField(label=gettext_lazy("To"), widget=DateInput())

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("The end of the range is before its start."))
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 400:
            raise ValidationError(_("Choose at most a year and a month."))
        return data


def _quote(request, uuid) -> Quote:
    return access.get_or_404(request.user, Quote, uuid=uuid)


def _language(request) -> str:
    language = request.GET.get("lang") or request.user.language or "zh-hans"
    return language if language in LANGUAGES else "zh-hans"


@login_required
def quote_list(request):
    if request.method == "POST":
        access.require(request.user, "manage", Quote)
    form = QuoteForm(request.POST or None) if access.can(request.user, "manage", Quote) else None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            quote = quotes.check_create_quote(request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("quote_detail", uuid=quote.uuid)
    rows = [(quote, quote.totals())
            for quote in access.scope(request.user, Quote).prefetch_related("lines", "cloud_lines")[:200]]
    return render(request, "reports/quotes/quote_list.html", {"rows": rows, "form": form},
                  status=400 if form is not None and form.is_bound else 200)


def _line_initial(quote: Quote):
    lines = [{"item": line.item, "description": line.description, "person_days": line.person_days,
              "rate": line.rate, "discount": line.discount} for line in quote.lines.select_related("item")]
    cloud = [{"resource": c.resource, "specification": c.specification, "quantity": c.quantity,
              "monthly_cost": c.monthly_cost, "months": c.months} for c in quote.cloud_lines.all()]
    return lines, cloud


def _filled(form) -> bool:
    """A row the user typed into: a value other than the blank row's (empty, or the field's
    pre-filled default such as quantity 1 or discount 0). Empty rows are dropped; a row
    typed into without a service is an error."""
    return any(form.cleaned_data.get(name) not in (None, "", field.initial) for name, field in form.fields.items())


def _apply_row_errors(formsets: dict, filled: dict, exc: ValidationError) -> None:
    """Put ``lines.2.discount``-style errors (indexes among the filled rows) on the field of
    the row the user typed them in."""
    for key, messages_ in exc.message_dict.items():
        prefix, _sep, rest = key.partition(".")
        index, _sep, field = rest.partition(".")
        formset = formsets.get(prefix)
        if formset is None or not index.isdigit():
            formsets["lines"]._non_form_errors = formsets["lines"].non_form_errors() + messages_
            continue
        form = formset.forms[filled[prefix][int(index)]]
        form.add_error(field if field in form.fields else None, messages_)


def _render_detail(request, quote: Quote, status: int = 200, **forms_):
    editable = request.user.is_pm and not quote.is_frozen
    context = {
        "quote": quote, "totals": quote.totals(), "lines": quote.lines.select_related("item"),
        "cloud": quote.cloud_lines.all(), "editable": editable, "events": quote.events.select_related("actor"),
        "can_decide": quote.status == Quote.Status.SENT and request.user.is_customer_contact,
        "language": _language(request),
    }
    if editable:
        lines_initial, cloud_initial = _line_initial(quote)
        context["line_forms"] = forms_.get("line_forms") or LineFormSet(prefix="lines", initial=lines_initial)
        context["cloud_forms"] = forms_.get("cloud_forms") or CloudFormSet(prefix="cloud", initial=cloud_initial)
        context["header_form"] = forms_.get("header_form") or QuoteHeaderForm(initial={
            "title": quote.title, "tax_rate": quote.tax_rate, "valid_until": quote.valid_until, "notes": quote.notes})
    context["decision_form"] = forms_.get("decision_form") or DecisionForm()
    return render(request, "reports/quotes/quote_detail.html", context, status=status)


@login_required
def quote_detail(request, uuid):
    """The quote; for a PM's draft, POST saves its lines."""
    quote = _quote(request, uuid)
    if request.method == "POST":
        access.require(request.user, "manage", quote)
    if request.method != "POST" or quote.is_frozen:
        return _render_detail(request, quote)
    line_forms = LineFormSet(request.POST, prefix="lines")
    cloud_forms = CloudFormSet(request.POST, prefix="cloud")
    valid = line_forms.is_valid() & cloud_forms.is_valid()  # both checked: every error shows at once
    # The rows typed into whose fields parsed; a row with a field error shows that error, and the
    # others are still checked against the quote's rules, so nothing waits for a second save.
    filled = {"lines": [i for i, f in enumerate(line_forms) if not f.errors and _filled(f)],
              "cloud_lines": [i for i, f in enumerate(cloud_forms) if not f.errors and _filled(f)]}
    lines = [line_forms[i].cleaned_data for i in filled["lines"]]
    cloud = [cloud_forms[i].cleaned_data for i in filled["cloud_lines"]]
    try:
        if valid:
            quotes.check_set_lines(request.user, quote, lines, cloud)
        else:
            quotes.check_lines(lines, cloud)
    except ValidationError as exc:
        _apply_row_errors({"lines": line_forms, "cloud_lines": cloud_forms}, filled, exc)
    else:
        if valid:
            messages.success(request, _("Saved."))
            return redirect("quote_detail", uuid=quote.uuid)
    return _render_detail(request, quote, 400, line_forms=line_forms, cloud_forms=cloud_forms)


@login_required
@require_POST
def quote_header(request, uuid):
    quote = _quote(request, uuid)
    form = QuoteHeaderForm(request.POST)
    if form.is_valid():
        try:
            quotes.check_update_quote(request.user, quote, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("quote_detail", uuid=quote.uuid)
    return _render_detail(request, quote, 400, header_form=form)


@login_required
@require_POST
def quote_action(request, uuid, action):
    quote = _quote(request, uuid)
    try:
        if action == "send":
            quotes.check_send(request.user, quote)
            messages.success(request, _("Sent: the quote is frozen; a change makes a new version."))
        elif action == "revise":
            quote = quotes.check_revise(request.user, quote)
            messages.success(request, _("Version %(n)s is a draft copy to edit.") % {"n": quote.version})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("quote_detail", uuid=quote.uuid)


@login_required
@require_POST
def quote_decide(request, uuid, decision):
    """The customer contact accepts or rejects; errors stand next to the field, nothing typed is lost."""
    quote = _quote(request, uuid)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            quotes.check_decide(request.user, quote, accept=decision == "accept", password=data["password"],
                                name=data["name"], comment=data["comment"], request_meta=request.META)
        except ValidationError as exc:
            apply_errors(form, exc)
            for message in form.non_field_errors():  # the decision form shows field errors only
                messages.error(request, message)
        else:
            messages.success(request, _("Accepted. Thank you.") if decision == "accept" else _("Rejected."))
            return redirect("quote_detail", uuid=quote.uuid)
    return _render_detail(request, quote, 400, decision_form=form)


@login_required
def quote_export(request, uuid, fmt):
    quote = _quote(request, uuid)
    language = _language(request)
    name = f"{quote.number}-v{quote.version}"
    if fmt == "xlsx":
        response = HttpResponse(exports.quote_xlsx(quote, language),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    elif fmt == "csv":
        response = HttpResponse(exports.quote_csv(quote, language), content_type="text/csv; charset=utf-8")
    elif fmt == "pdf":
        response = HttpResponse(exports.quote_pdf(quote, language), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def quote_from_plan(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "manage", engagement, _("Only a project manager can prepare quotes."))
    items = quotes.current_items()
    defaults = quotes.default_mapping()
    mapping_form = forms.Form(request.POST or None)
    for key, label in StageKey.choices:
        mapping_form.fields[key] = forms.ModelChoiceField(
            label=label, queryset=RateCardItem.objects.filter(pk__in=[i.pk for i in items]), required=False,
            initial=defaults.get(key))
    if request.method == "POST" and mapping_form.is_valid():
        try:
            quote = quotes.check_build_from_plan(request.user, engagement,
                                                 {k: v for k, v in mapping_form.cleaned_data.items() if v})
        except ValidationError as exc:
            apply_errors(mapping_form, exc)
        else:
            return redirect("quote_detail", uuid=quote.uuid)
    stages = {s.key: s for s in engagement.stages.all()}
    rows = [(mapping_form[key], stages[key]) for key, _label in StageKey.choices]
    return render(request, "reports/quotes/quote_from_plan.html", {"engagement": engagement, "rows": rows,
                                                                   "form": mapping_form},
                  status=400 if mapping_form.is_bound else 200)


@login_required
@require_POST
def quote_from_analysis(request, uuid, pk):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    analysis = get_object_or_404(MigrationAnalysis, pk=pk, engagement=engagement)
    access.require(request.user, "manage", engagement, _("Only a project manager can prepare quotes."))
    item = get_object_or_404(RateCardItem, pk=request.POST.get("item"))
    try:
        quote = quotes.check_build_from_analysis(request.user, analysis, item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("analysis_detail", uuid=engagement.uuid, pk=analysis.pk)
    return redirect("quote_detail", uuid=quote.uuid)


@login_required
def engagement_economics(request, uuid):
    engagement = access.get_or_404(request.user, Engagement, uuid=uuid)
    access.require(request.user, "view_internal", engagement)
    figures = quotes.planned_vs_actual(engagement)
    return render(request, "reports/quotes/economics.html", {
        "engagement": engagement, "figures": figures, "chart": burn_chart(quotes.burn_series(engagement)),
    })


@login_required
def timesheets(request):
    if not access.can_list(request.user, WorkLog):
        raise PermissionDenied(_("Timesheets are internal to the service provider."))
    today = timezone.localdate()
    default = {"start": today.replace(day=1), "end": today}
    form = RangeForm(request.GET or None, initial=default)
    start, end = default["start"], default["end"]
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    people = None if request.user.is_pm else [request.user]
    sheet = exports.timesheet(start, end, people)
    fmt = request.GET.get("format")
    language = _language(request)
    if fmt in ("xlsx", "csv") and not form.errors:
        body = exports.timesheet_xlsx(sheet, language) if fmt == "xlsx" else exports.timesheet_csv(sheet, language)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8" if fmt == "csv" else
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="timesheet-{start}-{end}.{fmt}"'
        return response
    return render(request, "reports/quotes/timesheets.html", {"form": form, "sheet": sheet, "start": start, "end": end},
                  status=400 if form.errors else 200)
