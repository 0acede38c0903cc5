"""Who may do what with report versions (acceptance and migration assessment), sign-offs and
quotes (the rules of ``common.access``).

A customer's contact sees a report version once it is issued to them, and a quote once it is
sent; drafts do not exist for them (404). Staff render reports; a PM issues them, prepares
and sends quotes; only a contact of the customer signs off (or rejects) an acceptance report,
acknowledges an assessment report, or decides on a quote.
"""

from django.utils.translation import gettext_lazy as _

from common.access import Policy, register
from engagements.access import EngagementPart, is_staff
from engagements.models import Engagement

from .models import Quote, RateCardItem, ReportVersion

CUSTOMER_REPORT_STATES = [ReportVersion.Status.ISSUED, ReportVersion.Status.SIGNED, ReportVersion.Status.REJECTED,
                          ReportVersion.Status.ACKNOWLEDGED]
CUSTOMER_QUOTE_STATES = [Quote.Status.SENT, Quote.Status.ACCEPTED, Quote.Status.REJECTED, Quote.Status.EXPIRED,
                         Quote.Status.SUPERSEDED]


def is_contact_of(user, customer_id) -> bool:
    return bool(user.is_customer_contact and user.customer_id == customer_id)


@register
class ReportVersionPolicy(EngagementPart):
    model = ReportVersion
    messages = {
        "change": _("Only the engagement's PM or consultants can render its report."),
        "issue": _("Only a project manager can issue a report for sign-off."),
        "decide": _("Only a contact of the engagement's customer can sign off its report."),
        "acknowledge": _("Only a contact of the engagement's customer can acknowledge its assessment report."),
    }

    def scope(self, user):
        versions = super().scope(user)
        if not is_staff(user):
            versions = versions.filter(status__in=CUSTOMER_REPORT_STATES)
        return versions.select_related("engagement__customer")

    def can_issue(self, user, version) -> bool:
        return user.is_pm

    def can_decide(self, user, version) -> bool:
        """Sign off or reject: an acceptance report."""
        return version.kind == ReportVersion.Kind.ACCEPTANCE and is_contact_of(user, version.engagement.customer_id)

    def can_acknowledge(self, user, version) -> bool:
        """Acknowledge having read it: an assessment report."""
        return version.kind == ReportVersion.Kind.ASSESSMENT and is_contact_of(user, version.engagement.customer_id)

    def can_review(self, user, version) -> bool:
        """Read it page by page as the contact who decides on it or acknowledges it (``reports.review``)."""
        return self.can_decide(user, version) or self.can_acknowledge(user, version)


@register
class QuotePolicy(Policy):
    model = Quote
    messages = {
        "manage": _("Only a project manager can prepare quotes."),
        "decide": _("Only a contact of the quote's customer can accept or reject it."),
    }

    def scope(self, user):
        if user.is_pm:
            quotes = Quote.objects.all()
        elif user.is_consultant:
            quotes = Quote.objects.filter(engagement__in=Engagement.objects.visible_to(user))
        else:
            quotes = Quote.objects.filter(customer_id=user.customer_id, status__in=CUSTOMER_QUOTE_STATES)
        return quotes.select_related("customer", "engagement")

    def can_view(self, user, quote) -> bool:
        return True

    def can_manage(self, user, quote) -> bool:
        """Edit, send, revise, build: a PM."""
        return user.is_pm

    def can_decide(self, user, quote) -> bool:
        return is_contact_of(user, quote.customer_id)


@register
class RateCardPolicy(Policy):
    model = RateCardItem
    messages = {"manage": _("Only a project manager can change the rate card.")}

    def scope(self, user):
        return RateCardItem.objects.all() if is_staff(user) else RateCardItem.objects.none()

    def can_manage(self, user, item) -> bool:
        return user.is_pm

