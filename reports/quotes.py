"""Workflows of quotes: build, edit (drafts only), send (frozen), revise (a new version),
and the customer's decision. ``check_*`` functions check the actor and the input, then write.
"""

from collections import OrderedDict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from common import access, states
from engagements.models import Engagement, Stage, StageKey, WorkLog

from . import money, reauth
from .models import CloudLine, Quote, QuoteLine, RateCardItem, StageServiceMapping


def current_items(on=None):
    """The rate card valid on a date: for each code, the row with the latest ``valid_from``."""
    on = on or timezone.localdate()
    rows = RateCardItem.objects.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    latest = OrderedDict()
    for item in rows.order_by("position", "code", "-valid_from"):
        latest.setdefault(item.code, item)
    return list(latest.values())


def _require_draft(quote: Quote):
    if quote.is_frozen:
        raise ValidationError(_("This quote is %(status)s and cannot be changed; revise it to make a new version.")
                              % {"status": quote.get_status_display()})


def _record_new(quote: Quote, actor, comment: str = "") -> None:
    """The first event of a new quote (or a new version): it starts as a draft."""
    quote.record_transition("", Quote.Status.DRAFT, actor=actor, reason=comment)


def _move(quote: Quote, to_status: str, *, actor=None, reason: str = "", **fields) -> None:
    """Move a (locked) quote along ``Quote.TRANSITIONS`` and record the QuoteEvent; a move the
    map does not allow, or a quote moved meanwhile, is an error (nothing was written)."""
    if not states.move(quote, to_status, actor=actor, reason=reason, **fields):
        raise ValidationError(_("This quote is %(status)s: it cannot become %(to)s.")
                              % {"status": quote.get_status_display(), "to": Quote.Status(to_status).label})


def _next_number() -> str:
    year = timezone.localdate().year
    prefix = f"Q-{year}-"
    last = Quote.objects.filter(number__startswith=prefix).aggregate(n=Max("number"))["n"]
    return f"{prefix}{int(last.rsplit('-', 1)[1]) + 1 if last else 1:04d}"


def _tax_rate(value) -> Decimal:
    try:
        rate = money.to_decimal(value)
    except (money.MoneyError, TypeError):
        rate = None
    if rate is None or not 0 <= rate < 1:
        raise ValidationError({"tax_rate": _("A tax rate is at least 0% and below 100%.")})
    return rate


@transaction.atomic
def check_create_quote(user, *, customer, title: str, engagement: Engagement | None = None, tax_rate="0.06",
                       valid_until=None, notes: str = "") -> Quote:
    access.require(user, "manage", Quote)
    if engagement is not None and engagement.customer_id != customer.pk:
        raise ValidationError({"engagement": _("The engagement belongs to another customer.")})
    quote = Quote(number=_next_number(), customer=customer, engagement=engagement, title=title,
                  tax_rate=_tax_rate(tax_rate), valid_until=valid_until, notes=notes, created_by=user)
    quote.full_clean(exclude=["number"])
    for attempt in range(5):  # two PMs creating quotes at once: the loser takes the next number
        try:
            with transaction.atomic():
                quote.save()
            break
        except IntegrityError:
            if attempt == 4:
                raise
            quote.pk, quote.number = None, _next_number()
    _record_new(quote, user)
    return quote


@transaction.atomic
def check_update_quote(user, quote: Quote, *, title: str, tax_rate, valid_until=None, notes: str = "") -> Quote:
    """A draft's title, tax rate, validity and notes."""
    access.require(user, "manage", quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    _require_draft(quote)
    quote.title, quote.tax_rate, quote.valid_until, quote.notes = title, _tax_rate(tax_rate), valid_until, notes
    quote.full_clean(exclude=["number"])
    quote.save(update_fields=["title", "tax_rate", "valid_until", "notes"])
    return quote


def _field_limit(model, name: str) -> Decimal:
    """The largest value a DecimalField holds: 10^(digits - places) - 10^-places."""
    field = model._meta.get_field(name)
    return Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places


def _too_large(value: Decimal, model, name: str) -> str | None:
    limit = _field_limit(model, name)
    return _("At most %(limit)s.") % {"limit": f"{limit:,}"} if value > limit else None


INT_LIMIT = 1_000_000  # quantities and months beyond this are typing mistakes
MAX_PLACES = 20  # typed decimal places beyond this are typing mistakes (stored figures have at most 4)


def _number(value, key: str, errors: dict, *, integer: bool = False) -> Decimal | int | None:
    """``value`` as a finite Decimal (an int when ``integer``) of sane size; otherwise None and an
    error under ``key``: NaN, Infinity, ``1e309`` and the like are a field error, never a 500."""
    try:
        number = money.to_decimal(value)
    except money.MoneyError as exc:
        errors[key] = exc.messages
        return None
    except TypeError:
        errors[key] = [_("Enter a number.")]
        return None
    if number.as_tuple().exponent < -MAX_PLACES:  # 1e-999999999: no figure of a quote is that fine
        errors[key] = [_("Enter at most %(n)s decimal places.") % {"n": MAX_PLACES}]
        return None
    if integer:
        if number != number.to_integral_value():
            errors[key] = [_("Enter a whole number.")]
            return None
        return int(number)
    return number


def _clean_lines(lines: list[dict], cloud_lines: list[dict]) -> tuple[list[QuoteLine], list[CloudLine]]:
    """Validate every line; errors are keyed like ``lines.2.discount``."""
    errors, service, cloud = {}, [], []
    for index, line in enumerate(lines):
        if not line.get("item"):
            errors[f"lines.{index}.item"] = [_("Choose a service.")]
            continue
        key = f"lines.{index}"
        person_days = _number(line.get("person_days"), f"{key}.person_days", errors)
        rate = _number(line.get("rate") if line.get("rate") not in (None, "") else line["item"].rate,
                       f"{key}.rate", errors)
        discount = _number(line.get("discount") or 0, f"{key}.discount", errors)
        if person_days is None or rate is None or discount is None:
            continue
        if person_days < 0:
            errors[f"{key}.person_days"] = [_("Person-days cannot be negative.")]
        elif person_days.as_tuple().exponent < -1:
            errors[f"{key}.person_days"] = [_("Person-days have at most one decimal place.")]
        elif message := _too_large(person_days, QuoteLine, "person_days"):
            errors[f"{key}.person_days"] = [message]
        if rate < 0:
            errors[f"{key}.rate"] = [_("A rate cannot be negative.")]
        elif message := _too_large(rate, QuoteLine, "rate"):
            errors[f"{key}.rate"] = [message]
        if not 0 <= discount <= 1:
            errors[f"{key}.discount"] = [_("A discount is between 0 and 100%.")]
        if errors:
            continue  # only lines within the fields' ranges are rounded and built
        service.append(QuoteLine(item=line["item"], description=str(line.get("description") or "")[:300],
                                 person_days=person_days, rate=money.fen(rate), discount=discount, position=index))
    for index, line in enumerate(cloud_lines):
        key = f"cloud_lines.{index}"
        monthly = _number(line.get("monthly_cost"), f"{key}.monthly_cost", errors)
        quantity = _number(line.get("quantity") or 1, f"{key}.quantity", errors, integer=True)
        months = _number(line.get("months") or 1, f"{key}.months", errors, integer=True)
        if not str(line.get("resource") or "").strip():
            errors[f"{key}.resource"] = [_("Name the resource.")]
        if monthly is None or quantity is None or months is None:
            continue
        if monthly < 0 or quantity < 0 or months < 0:
            errors[key] = [_("Quantities and costs cannot be negative.")]
        elif (message := _too_large(monthly, CloudLine, "monthly_cost")) is not None:
            errors[f"{key}.monthly_cost"] = [message]
        elif quantity > INT_LIMIT or months > INT_LIMIT:
            errors[key] = [_("Quantity and months are at most %(limit)s.") % {"limit": f"{INT_LIMIT:,}"}]
        if errors:
            continue
        cloud.append(CloudLine(resource=str(line.get("resource") or "")[:100],
                               specification=str(line.get("specification") or "")[:300], quantity=quantity,
                               monthly_cost=money.fen(monthly), months=months, position=index))
    if errors:
        raise ValidationError(errors)
    return service, cloud


def check_lines(lines: list[dict], cloud_lines: list[dict]) -> None:
    """The quote's rules on lines (as ``check_set_lines`` applies them), without saving: every
    error at once, keyed like ``lines.2.discount``."""
    _clean_lines(lines, cloud_lines)


@transaction.atomic
def check_set_lines(user, quote: Quote, lines: list[dict], cloud_lines: list[dict] | None = None) -> Quote:
    """Replace a draft's lines. ``lines``: dicts of item (RateCardItem), person_days, rate
    (default: the item's), discount, description. ``cloud_lines``: resource, specification,
    quantity, monthly_cost, months."""
    access.require(user, "manage", quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    _require_draft(quote)
    service, cloud = _clean_lines(lines, cloud_lines or [])
    quote.lines.all().delete()
    quote.cloud_lines.all().delete()
    for line in service:
        line.quote = quote
    for line in cloud:
        line.quote = quote
    QuoteLine.objects.bulk_create(service)
    CloudLine.objects.bulk_create(cloud)
    return quote


def default_mapping() -> dict[str, RateCardItem]:
    """Stage key -> the rate card item its planned person-days are quoted as."""
    items = {item.code: item for item in current_items()}
    mapping = {}
    for row in StageServiceMapping.objects.all():
        if row.item_code in items:
            mapping[row.stage_key] = items[row.item_code]
    return mapping


@transaction.atomic
def check_build_from_plan(user, engagement: Engagement, mapping: dict[str, RateCardItem] | None = None,
                          title: str = "") -> Quote:
    """A draft quote from the engagement's planned person-days, one line per service item."""
    mapping = mapping or default_mapping()
    grouped: OrderedDict[int, dict] = OrderedDict()
    for stage in engagement.stages.exclude(status=Stage.Status.SKIPPED).order_by("order"):
        item = mapping.get(stage.key)
        if item is None or not stage.planned_person_days:
            continue
        line = grouped.setdefault(item.pk, {"item": item, "person_days": Decimal("0"), "stages": []})
        line["person_days"] += stage.planned_person_days
        line["stages"].append(str(StageKey(stage.key).label))
    if not grouped:
        raise ValidationError(_("The engagement's plan has no planned person-days to quote."))
    quote = check_create_quote(user, customer=engagement.customer, engagement=engagement,
                               title=title or f"{engagement.code} {engagement.title}")
    lines = [{"item": g["item"], "person_days": g["person_days"], "description": ", ".join(g["stages"])}
             for g in grouped.values()]
    return check_set_lines(user, quote, lines)


@transaction.atomic
def check_build_from_analysis(user, analysis, item: RateCardItem, title: str = "") -> Quote:
    """A draft quote whose one line is the migration scanner's effort estimate."""
    if not analysis.effort_person_days:
        raise ValidationError(_("The analysis estimated no effort to quote."))
    engagement = analysis.engagement
    quote = check_create_quote(user, customer=engagement.customer, engagement=engagement,
                               title=title or f"{engagement.code} migration ({analysis.code_dir})")
    return check_set_lines(user, quote, [{"item": item, "person_days": analysis.effort_person_days,
                                          "description": f"{analysis.files_scanned} files, {analysis.code_dir}"}])


@transaction.atomic
def check_send(user, quote: Quote) -> Quote:
    access.require(user, "manage", quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    _require_draft(quote)
    if not quote.lines.exists() and not quote.cloud_lines.exists():
        raise ValidationError(_("An empty quote cannot be sent."))
    if quote.valid_until is None:  # an offer without an end stays open for ever: the customer must know until when
        raise ValidationError({"valid_until": _("Set the date the quote is valid until before sending it.")})
    _move(quote, Quote.Status.SENT, actor=user, sent_at=timezone.now())
    return quote


@transaction.atomic
def check_revise(user, quote: Quote) -> Quote:
    """A frozen quote changes only as a new version: a draft copy of it, numbered on."""
    access.require(user, "manage", quote)
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status == Quote.Status.DRAFT:
        raise ValidationError(_("A draft is edited directly."))
    if quote.status == Quote.Status.ACCEPTED:
        raise ValidationError(_("An accepted quote cannot be changed."))
    if hasattr(quote, "next_version"):
        raise ValidationError(_("This version was already revised as version %(n)s.")
                              % {"n": quote.next_version.version})
    if quote.status == Quote.Status.SENT:
        # The customer can no longer accept the old offer: only the new version, once sent.
        _move(quote, Quote.Status.SUPERSEDED, actor=user, reason=f"Revised as version {quote.version + 1}")
    copy = Quote.objects.create(number=quote.number, version=quote.version + 1, previous=quote, customer=quote.customer,
                                engagement=quote.engagement, title=quote.title, tax_rate=quote.tax_rate,
                                valid_until=quote.valid_until, notes=quote.notes, created_by=user)
    QuoteLine.objects.bulk_create([QuoteLine(quote=copy, item=line.item, description=line.description,
                                             person_days=line.person_days, rate=line.rate, discount=line.discount,
                                             position=line.position)
                                   for line in quote.lines.all()])
    CloudLine.objects.bulk_create([CloudLine(quote=copy, resource=c.resource, specification=c.specification,
                                             quantity=c.quantity, monthly_cost=c.monthly_cost, months=c.months,
                                             position=c.position) for c in quote.cloud_lines.all()])
    _record_new(copy, user, f"Revision of version {quote.version}")
    return copy


def check_decide(user, quote: Quote, *, accept: bool, password: str, name: str = "", comment: str = "",
                 request_meta: dict | None = None) -> Quote:
    """The customer contact accepts or rejects a sent quote, recorded like a sign-off.

    The password is checked first, outside the decision's transaction, so that a wrong one is
    recorded (and counted towards the lockout, ``reports.reauth``) although nothing else is written.

    An engagement has at most one accepted quote: accepting a quote while another quote of the
    same engagement is accepted is **refused**, not superseding it. An acceptance is the customer's
    commercial commitment (the accepted quote prices planned against actual work); replacing it
    silently would void a commitment nobody withdrew, and an accepted quote cannot be revised or
    superseded (``Quote.TRANSITIONS``). The customer rejects the other quote instead; changing the
    accepted terms is a matter for the contract. The engagement's row is locked while checking, so
    two acceptances racing each other are decided one after the other, and the partial unique
    constraint ``one_accepted_quote_per_engagement`` holds it in the database as well.
    """
    access.require(user, "decide", quote)
    reauth.check_password(user, password, purpose=reauth.QUOTE_DECISION, request_meta=request_meta)
    with transaction.atomic():
        if accept and quote.engagement_id:
            Engagement.objects.select_for_update().filter(pk=quote.engagement_id).first()
        quote = Quote.objects.select_for_update().get(pk=quote.pk)
        if quote.status == Quote.Status.SUPERSEDED:
            raise ValidationError(_("Version %(n)s replaces this one: decide on that version once it is sent to "
                                    "you.") % {"n": quote.version + 1})
        if quote.status != Quote.Status.SENT:
            raise ValidationError(_("This quote is %(status)s: it cannot be accepted or rejected.")
                                  % {"status": quote.get_status_display()})
        if quote.valid_until and quote.valid_until < timezone.localdate():
            raise ValidationError(_("This quote expired on %(date)s.") % {"date": quote.valid_until})
        if accept and not name.strip():
            raise ValidationError({"name": _("State your name.")})
        if not accept and not comment.strip():
            raise ValidationError({"comment": _("Say why the quote is rejected.")})
        if accept:
            _refuse_second_acceptance(quote)
        to = Quote.Status.ACCEPTED if accept else Quote.Status.REJECTED
        meta = request_meta or {}
        try:
            with transaction.atomic():
                _move(quote, to, actor=user, reason=comment.strip(), details={
                    "signer_name": name.strip()[:100], "ip": meta.get("REMOTE_ADDR") or None,
                    "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:500]})
        except IntegrityError:  # the constraint, should a writer have skipped the lock
            _refuse_second_acceptance(quote)
            raise
    return quote


def _refuse_second_acceptance(quote: Quote) -> None:
    other = (Quote.objects.filter(engagement_id=quote.engagement_id, status=Quote.Status.ACCEPTED)
             .exclude(pk=quote.pk).first() if quote.engagement_id else None)
    if other is not None:
        raise ValidationError(_("Quote %(number)s version %(version)s is already accepted for this engagement, and "
                                "an engagement has one accepted quote: reject this one, or ask the project manager.")
                              % {"number": other.number, "version": other.version})


EXPIRY_REASON = "validity date passed"


def expire_overdue_quotes(today=None) -> int:
    """Sent quotes past their validity become expired, each through ``Quote.TRANSITIONS`` with
    its own QuoteEvent (no actor: the portal expires them). A quote decided or revised
    meanwhile is left as it is. Returns how many expired."""
    today = today or timezone.localdate()
    count = 0
    for quote in Quote.objects.filter(status=Quote.Status.SENT, valid_until__lt=today):
        count += states.move(quote, Quote.Status.EXPIRED, reason=EXPIRY_REASON)
    return count


def check_delete_rate_item(user, item: RateCardItem) -> None:
    access.require(user, "manage", item)
    if item.quote_lines.exists():
        raise ValidationError(_("%(item)s is used by %(n)s quote lines; give it an end date instead of deleting it.")
                              % {"item": item.name_en, "n": item.quote_lines.count()})
    item.delete()


def planned_vs_actual(engagement: Engagement) -> dict:
    """Per stage: planned and logged person-days, remaining, and cost at the quote's rates
    (the accepted quote, else the latest one, else the rate card)."""
    quote = (engagement.quotes.filter(status=Quote.Status.ACCEPTED).order_by("-version").first()
             or engagement.quotes.order_by("-created_at").first())
    quoted_rates = {line.item.code: line.rate * (1 - line.discount) for line in quote.lines.select_related("item")} \
        if quote else {}
    mapping = default_mapping()
    rows, total = [], {"planned": Decimal("0"), "logged": Decimal("0"), "planned_cost": Decimal("0"),
                       "logged_cost": Decimal("0")}
    for stage in engagement.stages.annotate(logged_pd=WorkLog.objects.person_days_per("stage")).order_by("order"):
        item = mapping.get(stage.key)
        rate = quoted_rates.get(item.code, item.rate) if item else Decimal("0")
        planned, logged = stage.planned_person_days or Decimal("0"), stage.logged_pd
        row = {"stage": stage, "item": item, "rate": money.fen(rate), "planned": planned, "logged": logged,
               "remaining": planned - logged, "planned_cost": money.fen(planned * rate),
               "logged_cost": money.fen(logged * rate), "over": logged > planned}
        rows.append(row)
        for key in total:
            total[key] += row[key]
    total["remaining"] = total["planned"] - total["logged"]
    total["over"] = total["logged"] > total["planned"]
    return {"quote": quote, "rows": rows, "total": total}


def burn_series(engagement: Engagement) -> dict:
    """Cumulative logged person-days by date against the planned total (for the burn chart)."""

    logged = WorkLog.objects.filter(stage__engagement=engagement).person_days_by("date").order_by("date")
    points, running = [], Decimal("0")
    for row in logged:
        running += row["logged"]
        points.append((row["date"], running))
    planned = engagement.stages.aggregate(total=Sum("planned_person_days"))["total"] or Decimal("0")
    return {"points": points, "planned": planned, "start": engagement.start_date, "end": engagement.end_date}
