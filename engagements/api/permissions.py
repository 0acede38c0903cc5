"""Who may do what through the API. Which objects a user sees is decided in one place:
``scoped`` builds every viewset's queryset from ``Engagement.objects.visible_to``."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, WorkLog


class ReadOnlyForCustomers(BasePermission):
    """Customer contacts read; only the provider's staff write (the services check the rest)."""

    message = _("Customer contacts have read-only access.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and
                    (request.method in SAFE_METHODS or request.user.is_provider_staff))


def scoped(user, model):
    """Objects of ``model`` the user may see; anything else answers 404."""
    engagements = Engagement.objects.visible_to(user)
    if model is Engagement:
        return engagements
    if model is Customer:
        return Customer.objects.filter(engagements__in=engagements).distinct() if not user.is_pm else Customer.objects.all()
    if model is Stage:
        return Stage.objects.filter(engagement__in=engagements)
    if model is MigrationModel:
        return MigrationModel.objects.filter(engagement__in=engagements)
    if model is ChecklistItem:
        return ChecklistItem.objects.filter(stage__engagement__in=engagements)
    if model in (WorkLog, Risk):
        # Internal to the service provider: customer contacts never see them.
        if not user.is_provider_staff:
            return model.objects.none()
        field = "stage__engagement__in" if model is WorkLog else "engagement__in"
        return model.objects.filter(**{field: engagements})
    raise LookupError(model)
