"""Report versions (the acceptance test report and the migration assessment report) and their
sign-off trail.

A version is immutable once rendered: its PDF bytes, their SHA-256 and the data it was
rendered from never change. Sign-off events are append-only and chained by hash: each
event's hash covers its own fields and the previous event's hash.
"""

import hashlib
import json
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from common.validators import DATE_BOUNDS
from engagements.models import Engagement

from .money import cloud_line, service_line, totals


class ReportVersion(models.Model):
    """One rendered version of one of an engagement's reports: the acceptance test report
    (验收测试报告: issued, then signed off or rejected) or the migration assessment report
    (迁移评估报告: issued, then acknowledged). Each kind numbers its versions on its own.

    Allowed moves of ``status`` are declared in ``TRANSITIONS``; ``reports.services`` changes
    it only through ``common.states.move``, which records a ``ReportVersionTransition``.
    """

    class Status(models.TextChoices):
        RENDERING = "rendering", _("Rendering")
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued for sign-off")
        SIGNED = "signed", _("Signed off")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Rendering failed")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    # from-status -> the statuses it may move to. Signed, rejected, acknowledged and failed are
    # final: a new render is a new version. An acceptance report is signed off or rejected, an
    # assessment report acknowledged (``reports.services`` checks the kind).
    TRANSITIONS = {
        Status.RENDERING: {Status.DRAFT, Status.FAILED},
        Status.DRAFT: {Status.ISSUED},
        Status.ISSUED: {Status.SIGNED, Status.REJECTED, Status.ACKNOWLEDGED},
    }

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("Acceptance test report")
        ASSESSMENT = "assessment", _("Migration assessment report")

    class Language(models.TextChoices):
        ZH = "zh-hans", "简体中文"
        EN = "en", "English"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="report_versions")
    kind = models.CharField(_("report"), max_length=20, choices=Kind.choices, default=Kind.ACCEPTANCE,
                            editable=False)
    number = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RENDERING)
    data = models.JSONField(default=dict, editable=False)
    pdf = models.BinaryField(null=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    failure = models.TextField(blank=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                  editable=False)
    issued_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["engagement", "kind", "number"],
                                               name="unique_report_version_per_kind")]

    def __str__(self) -> str:
        if self.kind == self.Kind.ASSESSMENT:
            return f"{self.engagement.code} assessment v{self.number}"
        return f"{self.engagement.code} v{self.number}"

    @property
    def is_assessment(self) -> bool:
        return self.kind == self.Kind.ASSESSMENT

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SIGNED, self.Status.REJECTED, self.Status.ACKNOWLEDGED)

    @property
    def status_label(self) -> str:
        """The status in the reader's language; an assessment report is issued to be read, not signed."""
        if self.kind == self.Kind.ASSESSMENT and self.status == self.Status.ISSUED:
            return gettext("Issued")
        return self.get_status_display()

    @property
    def filename(self) -> str:
        return f"{self.engagement.code}-{self.kind}-v{self.number}-{self.language}.pdf"

    def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None) -> "ReportVersionTransition":
        """The ``ReportVersionTransition`` of a move (``common.states.move`` calls this)."""
        return ReportVersionTransition.objects.create(version=self, from_status=from_status, to_status=to_status,
                                                      actor=actor, reason=reason, created_at=at or timezone.now())


class ReportVersionTransition(models.Model):
    """A recorded status change of a report version: who, when, from, to and why.

    ``from_status`` is blank on the first row (the render was requested). ``actor`` is empty
    when the portal itself moved the version (the render task). ``reason`` is in English;
    ``reason_text`` shows it in the reader's language when it is one of the portal's own.
    """

    version = models.ForeignKey(ReportVersion, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=ReportVersion.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReportVersion.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("report version transition")
        verbose_name_plural = _("report version transitions")

    def __str__(self) -> str:
        return f"{self.version}: {self.from_status or '-'} → {self.to_status}"

    @property
    def reason_text(self) -> str:
        return gettext(self.reason) if self.reason else ""

    def _label(self, status: str) -> str:
        if status == ReportVersion.Status.ISSUED and self.version.kind == ReportVersion.Kind.ASSESSMENT:
            return gettext("Issued")  # an assessment report is issued to be read, not signed
        return str(ReportVersion.Status(status).label) if status in ReportVersion.Status.values else status

    @property
    def from_label(self) -> str:
        return self._label(self.from_status) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return self._label(self.to_status)


class SignOffEvent(models.Model):
    """Append-only: saving an existing event or deleting one raises. The trail of both kinds of
    report: an acceptance report is issued, signed off or rejected; an assessment report is issued
    and acknowledged (who, when, from where, and the SHA-256 of the version they read)."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Issued for sign-off")
        SIGNED = "signed", _("Signed off")
        REJECTED = "rejected", _("Rejected")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    version = models.ForeignKey(ReportVersion, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(_("signer's name"), max_length=100, blank=True)
    signer_title = models.CharField(_("job title"), max_length=100, blank=True)
    statement = models.TextField(blank=True)
    comment = models.TextField(_("comments"), blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    version_sha256 = models.CharField(max_length=64)
    signed_pdf = models.BinaryField(null=True)
    signed_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.version} by {self.user}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Sign-off events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Sign-off events are append-only.")

    @property
    def action_label(self) -> str:
        """The action in the reader's language; an assessment report is issued to be read, not signed."""
        if self.action == self.Action.ISSUED and self.version.kind == ReportVersion.Kind.ASSESSMENT:
            return gettext("Issued")
        return self.get_action_display()

    def chained_fields(self) -> dict:
        return {
            "version": str(self.version.uuid), "action": self.action, "user": self.user_id,
            "signer_name": self.signer_name, "signer_title": self.signer_title, "statement": self.statement,
            "comment": self.comment, "ip": self.ip, "user_agent": self.user_agent, "at": self.at.isoformat(),
            "version_sha256": self.version_sha256, "signed_sha256": self.signed_sha256,
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(self.chained_fields(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(payload).hexdigest()


# --- rate card and quotes ---------------------------------------------------------------------

class FirmProfile(models.Model):
    """The issuing firm, kept in one place for the quote and report PDFs: one row (``current()``)."""

    name_zh = models.CharField(_("firm name (Chinese)"), max_length=200, blank=True)
    name_en = models.CharField(_("firm name (English)"), max_length=200, blank=True)
    address = models.TextField(_("address"), blank=True)
    tax_number = models.CharField(_("taxpayer identification number"), max_length=40, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=60, blank=True)
    payment_terms = models.TextField(_("payment terms"), blank=True,
                                     help_text=_("e.g. 30% on signing, 70% within 30 days of acceptance"))
    logo = models.FileField(_("logo"), upload_to="firm/", blank=True,
                            help_text=_("A PNG or JPEG, shown at the top of quotes and reports"))
    seal_label = models.CharField(_("seal and signature area"), max_length=100, blank=True,
                                  help_text=_("e.g. 公司盖章 / Company seal; empty leaves the area out"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("issuing firm")
        verbose_name_plural = _("issuing firm")

    def __str__(self) -> str:
        return self.name_en or self.name_zh or "—"

    @classmethod
    def current(cls) -> "FirmProfile":
        return cls.objects.order_by("pk").first() or cls()

    def name(self, language: str) -> str:
        first, second = (self.name_zh, self.name_en) if language == "zh-hans" else (self.name_en, self.name_zh)
        return first or second

    def as_data(self, language: str) -> dict:
        """What a PDF prints of the firm (a report version keeps it as it was when rendered)."""
        return {"name": self.name(language), "address": self.address, "tax_number": self.tax_number,
                "bank_name": self.bank_name, "bank_account": self.bank_account, "payment_terms": self.payment_terms,
                "seal_label": self.seal_label, "logo": self.logo.name if self.logo else ""}


class RateCardItem(models.Model):
    """A service priced per person-day (元/人天). A new rate is a new row with a later
    ``valid_from``; quotes keep the rate they were made with."""

    class Category(models.TextChoices):
        MIGRATION = "migration", _("Ascend model migration implementation")
        TUNING = "tuning", _("Ascend model tuning implementation")
        INDUSTRY = "industry", _("Industry large-model adaptation")
        OPTIMISATION = "optimisation", _("Ascend model migration optimisation")

    code = models.SlugField(_("code"), max_length=60)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    rate = models.DecimalField(_("rate (yuan per person-day)"), max_digits=12, decimal_places=2)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    placeholder = models.BooleanField(
        _("placeholder price"), default=False,
        help_text=_("The price is an example, not the firm's own; a quote using it says so. A new row with the "
                    "real price replaces it."))

    class Meta:
        ordering = ["position", "code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="one_rate_per_code_and_date"),
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="rate_not_negative"),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="rate_validity_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} {self.name_en} ({self.rate})"

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class Quote(models.Model):
    """A priced proposal to a customer: service lines per person-day and cloud-resource lines. Frozen
    once sent; a change to a sent quote is a new version."""

    # A quote's "accepted" is a commercial decision, not the acceptance test (验收): own context.
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("quote status", "Draft")
        SENT = "sent", pgettext_lazy("quote status", "Sent")
        ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
        EXPIRED = "expired", pgettext_lazy("quote status", "Expired")
        SUPERSEDED = "superseded", pgettext_lazy("quote status", "Superseded")

    # from-status -> the statuses it may move to (``common.states.move``; ``reports.quotes``).
    TRANSITIONS = {
        Status.DRAFT: {Status.SENT},
        Status.SENT: {Status.ACCEPTED, Status.REJECTED, Status.EXPIRED, Status.SUPERSEDED},
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("number"), max_length=30, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    previous = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="next_version", editable=False)
    customer = models.ForeignKey("engagements.Customer", on_delete=models.PROTECT, related_name="quotes")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, null=True, blank=True, related_name="quotes")
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, default=Decimal("0.06"),
                                   help_text=_("As a fraction: 0.06 means 6% VAT on services."))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, validators=DATE_BOUNDS)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="unique_quote_version"),
            models.CheckConstraint(condition=models.Q(tax_rate__gte=0) & models.Q(tax_rate__lt=1),
                                   name="tax_rate_range"),
            # One accepted quote per engagement: a second acceptance is refused (``reports.quotes.check_decide``).
            models.UniqueConstraint(fields=["engagement"], condition=models.Q(status="accepted"),
                                    name="one_accepted_quote_per_engagement"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.version}"

    @property
    def uses_placeholder_prices(self) -> bool:
        """A line prices a rate-card row that is an example, not the firm's own price."""
        return self.lines.filter(item__placeholder=True).exists()

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT

    def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None, **details) -> "QuoteEvent":
        """The ``QuoteEvent`` of a move (``common.states.move`` calls this); ``reason`` is its
        comment, ``details`` the decision's signer name, IP and user agent. Its time is now."""
        return QuoteEvent.objects.create(quote=self, from_status=from_status, to_status=to_status, actor=actor,
                                         comment=reason, **details)

    def totals(self):
        return totals([line.total for line in self.lines.all()], [line.total for line in self.cloud_lines.all()],
                      self.tax_rate)


class QuoteLine(models.Model):
    """A service line of a quote: a rate-card item, its person-days, the rate per person-day and a discount."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(RateCardItem, on_delete=models.PROTECT, related_name="quote_lines")
    description = models.CharField(_("description"), max_length=300, blank=True)
    person_days = models.DecimalField(_("person-days"), max_digits=9, decimal_places=1)
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=5, decimal_places=4, default=Decimal("0"),
                                   help_text=_("As a fraction: 0.1 takes 10 per cent off."))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(person_days__gte=0) & models.Q(rate__gte=0),
                                   name="line_not_negative"),
            models.CheckConstraint(condition=models.Q(discount__gte=0) & models.Q(discount__lte=1),
                                   name="discount_range"),
        ]

    def __str__(self) -> str:
        return f"{self.description or self.item_id}: {self.person_days} × {self.rate}"

    @property
    def total(self) -> Decimal:
        return service_line(self.person_days, self.rate, self.discount)


class CloudLine(models.Model):
    """A line of a quote's monthly cloud-resource plan: resource, specification, quantity, monthly cost, months."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="cloud_lines")
    resource = models.CharField(_("resource"), max_length=100)
    specification = models.CharField(_("specification"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    monthly_cost = models.DecimalField(_("monthly cost"), max_digits=12, decimal_places=2)
    months = models.PositiveIntegerField(_("months"), default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(monthly_cost__gte=0), name="cloud_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.resource} × {self.quantity}, {self.months} months"

    @property
    def total(self) -> Decimal:
        return cloud_line(self.monthly_cost, self.months)


class QuoteEvent(models.Model):
    """A recorded status change; decisions by the customer carry who, when, IP and agent.
    No actor: the portal moved the quote itself (expiry)."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                              blank=True)
    signer_name = models.CharField(max_length=100, blank=True)
    comment = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"

    @property
    def from_label(self) -> str:
        return Quote.Status(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return Quote.Status(self.to_status).label


class StageServiceMapping(models.Model):
    """Which rate card service a stage's planned person-days are quoted as (editable)."""

    stage_key = models.CharField(_("stage"), max_length=30, unique=True)
    item_code = models.SlugField(_("service code"), max_length=60)

    def __str__(self) -> str:
        return f"{self.stage_key} → {self.item_code}"


class ReportPageView(models.Model):
    """A page image of a version's PDF that the portal served to a customer's contact: review
    before sign-off. The sign-off and reject pages refuse until every page of the version has
    been served to the deciding contact (``reports.review``)."""

    version = models.ForeignKey(ReportVersion, on_delete=models.CASCADE, related_name="page_views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    page = models.PositiveSmallIntegerField()
    first_viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "user", "page"]
        constraints = [models.UniqueConstraint(fields=["version", "user", "page"], name="one_view_per_report_page")]

    def __str__(self) -> str:
        return f"{self.version} p.{self.page} seen by {self.user}"


class ReauthEvent(models.Model):
    """Append-only audit of the password typed again before a decision (a report's sign-off or
    rejection, a quote's acceptance or rejection): each wrong password, each lockout, each attempt
    refused while locked out, a right password that clears earlier failures and an administrator's
    unlock. ``reports.reauth`` counts these rows to lock a user out."""

    class Kind(models.TextChoices):
        FAILED = "failed", _("Wrong password")
        LOCKED = "locked", _("Locked out")
        REFUSED = "refused", _("Refused while locked out")
        CLEARED = "cleared", _("Right password after failures")
        UNLOCKED = "unlocked", _("Unlocked by an administrator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    purpose = models.CharField(max_length=30, blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", help_text="The administrator who unlocked.")

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["user", "at"], name="reauth_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.purpose} {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Re-authentication events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Re-authentication events are append-only.")
