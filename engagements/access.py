"""Who may do what with engagements and their stages, checklists, work logs, risks,
deliverables and audit trail. The rules of ``common.access``: outside ``scope`` is 404, a
refused ``can_*`` is 403.

The one scoping rule is the engagement's (``EngagementQuerySet.visible_to``): a PM sees every
engagement, a consultant those they are assigned to, a customer's contact their
organisation's. Everything else hangs on it. Customer contacts read; only staff change.
"""

from django.utils.translation import gettext_lazy as _

from common.access import Policy, register

from .models import (
    AuditEvent,
    ChecklistItem,
    Customer,
    Deliverable,
    Engagement,
    MigrationModel,
    Questionnaire,
    Risk,
    Stage,
    WorkLog,
)


def is_staff(user) -> bool:
    """The service provider's people (PMs and consultants), as opposed to customer contacts."""
    return bool(getattr(user, "is_provider_staff", False))


def works_on(user, engagement: Engagement) -> bool:
    """A PM (every engagement) or a consultant assigned to it: whoever may change its work."""
    if user.is_pm:
        return True
    if not user.is_consultant:
        return False
    return engagement.consultants.filter(pk=user.pk).exists()


def may_own_risk(user, engagement: Engagement) -> bool:
    """A risk's owner: the engagement's PM, a consultant assigned to it, or a contact of its customer."""
    if user.pk == engagement.pm_id:
        return True
    if user.is_customer_contact:
        return user.customer_id == engagement.customer_id
    return user.is_consultant and works_on(user, engagement)


@register
class EngagementPolicy(Policy):
    model = Engagement
    messages = {
        "change": _("You can view this engagement but not change it."),
        "manage": _("Only a project manager can change an engagement's terms."),
        "view_internal": _("This page is internal to the service provider."),
    }

    def scope(self, user):
        return Engagement.objects.visible_to(user)

    def can_view(self, user, engagement) -> bool:
        return True

    def can_view_internal(self, user, engagement) -> bool:
        """Staff pages: assessments, jobs, risk register, planned vs actual, audit trail, notes."""
        return is_staff(user)

    def can_change(self, user, engagement) -> bool:
        """Log work, move stages, run jobs, add curves, render reports."""
        return works_on(user, engagement)

    def can_manage(self, user, engagement) -> bool:
        """Change the terms, the team, the quotes: a PM."""
        return user.is_pm


class EngagementPart(Policy):
    """A part of an engagement: seen with it, changed by whoever may change it."""

    engagement_path = "engagement"
    staff_only = False

    def engagement_of(self, obj) -> Engagement:
        for name in self.engagement_path.split("__"):
            obj = getattr(obj, name)
        return obj

    def scope(self, user):
        return self.model.objects.filter(**{f"{self.engagement_path}__in": Engagement.objects.visible_to(user)})

    def can_list(self, user) -> bool:
        return is_staff(user) or not self.staff_only

    def can_view(self, user, obj) -> bool:
        return self.can_list(user)

    def can_change(self, user, obj) -> bool:
        return works_on(user, self.engagement_of(obj))


@register
class CustomerPolicy(Policy):
    model = Customer

    def scope(self, user):
        if user.is_pm:
            return Customer.objects.all()
        return Customer.objects.filter(pk__in=Engagement.objects.visible_to(user).values("customer"))

    def can_view(self, user, customer) -> bool:
        return True

    def can_manage(self, user, customer) -> bool:
        """Add customers, invite their contacts: a PM."""
        return user.is_pm


@register
class StagePolicy(EngagementPart):
    model = Stage
    messages = {"change": _("You can view this engagement but not change it.")}


@register
class MigrationModelPolicy(EngagementPart):
    model = MigrationModel
    messages = {"change": _("You can view this engagement but not change it.")}


@register
class ChecklistItemPolicy(EngagementPart):
    model = ChecklistItem
    engagement_path = "stage__engagement"
    messages = {"change": _("You can view this engagement but not change it.")}


@register
class DeliverablePolicy(EngagementPart):
    model = Deliverable
    engagement_path = "stage__engagement"
    messages = {"change": _("You can view this engagement but not change it.")}


@register
class WorkLogPolicy(EngagementPart):
    model = WorkLog
    engagement_path = "stage__engagement"
    staff_only = True
    messages = {
        "view": _("Work logs are internal to the service provider."),
        "change": _("Only the person who logged the work can change it."),
        "delete": _("Only the person who logged the work or a PM can delete it."),
    }

    def can_change(self, user, log) -> bool:
        return log.consultant_id == user.pk and works_on(user, self.engagement_of(log))

    def can_delete(self, user, log) -> bool:
        return works_on(user, self.engagement_of(log)) and (log.consultant_id == user.pk or user.is_pm)


@register
class RiskPolicy(EngagementPart):
    model = Risk
    staff_only = True
    messages = {"view": _("The risk register is internal to the service provider."),
                "change": _("You can view this engagement but not change it.")}

    def can_delete(self, user, risk) -> bool:
        return self.can_change(user, risk)


@register
class AuditEventPolicy(EngagementPart):
    model = AuditEvent
    staff_only = True
    messages = {"view": _("The audit trail is internal to the service provider.")}

    def can_change(self, user, event) -> bool:
        return False  # the trail is append-only


@register
class QuestionnairePolicy(EngagementPart):
    """The model information questionnaire: the one thing besides sign-offs and quote decisions
    a customer's contact writes. Staff on the engagement prepare, send, correct and accept it;
    the contact sees it once sent and fills it in while it is with them."""

    model = Questionnaire
    messages = {
        "edit": _("This questionnaire cannot be changed by you now."),
        "submit": _("Only the customer's contact submits the questionnaire, while it is with them."),
    }

    def can_view(self, user, questionnaire) -> bool:
        return is_staff(user) or questionnaire.status != Questionnaire.Status.DRAFT

    def can_edit(self, user, questionnaire) -> bool:
        if questionnaire.status == Questionnaire.Status.ACCEPTED:
            return False
        if user.is_customer_contact:
            return questionnaire.status == Questionnaire.Status.SENT
        return works_on(user, questionnaire.engagement)

    def can_send(self, user, questionnaire) -> bool:
        return works_on(user, questionnaire.engagement)

    def can_submit(self, user, questionnaire) -> bool:
        return user.is_customer_contact and questionnaire.status == Questionnaire.Status.SENT

    def can_accept(self, user, questionnaire) -> bool:
        return works_on(user, questionnaire.engagement)

    def can_revise(self, user, questionnaire) -> bool:
        return works_on(user, questionnaire.engagement)

    def can_apply_plan(self, user, questionnaire) -> bool:
        return user.is_pm
