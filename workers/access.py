"""Who may do what with hosts and jobs (the rules of ``common.access``). Hosts and jobs are
internal to the service provider: a customer's contact finds their organisation's in scope
(so 403, not 404) but may read none of them."""

from django.utils.translation import gettext_lazy as _

from common.access import Policy, register
from engagements.access import EngagementPart, is_staff, works_on
from engagements.models import Engagement

from .models import AscendHost, Job, JobTemplate


@register
class HostPolicy(Policy):
    model = AscendHost
    messages = {
        "view": _("Hosts are internal to the service provider."),
        "change": _("You work on no engagement of this customer."),
        "list": _("Hosts are internal to the service provider."),
    }

    def scope(self, user):
        if user.is_pm:
            return AscendHost.objects.all()
        customers = Engagement.objects.visible_to(user).values("customer")
        return AscendHost.objects.filter(customer__in=customers)

    def can_list(self, user) -> bool:
        return is_staff(user)

    def can_view(self, user, host) -> bool:
        return is_staff(user)

    def can_change(self, user, host) -> bool:
        """Register, edit, pin the key, test: a PM, or a consultant on an engagement of its customer."""
        return self.may_manage_hosts_of(user, host.customer_id)

    @staticmethod
    def may_manage_hosts_of(user, customer_id) -> bool:
        if not is_staff(user):
            return False
        return user.is_pm or Engagement.objects.visible_to(user).filter(customer_id=customer_id).exists()


@register
class JobPolicy(EngagementPart):
    model = Job
    staff_only = True
    messages = {
        "view": _("Jobs are internal to the service provider."),
        "change": _("You can view this job but not cancel it."),
    }

    def can_cancel(self, user, job) -> bool:
        return works_on(user, job.engagement)


@register
class JobTemplatePolicy(EngagementPart):
    """Job templates: the engagement's staff read them; whoever runs its jobs saves, edits,
    deletes and launches them. A contact of the customer finds them in scope but may not (403)."""

    model = JobTemplate
    staff_only = True
    messages = {
        "view": _("Jobs are internal to the service provider."),
        "change": _("You can view this engagement but not run jobs for it."),
    }
