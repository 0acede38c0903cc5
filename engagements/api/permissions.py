"""Who may do what through the API.

Which objects a user sees is decided in one place, ``scoped``, from the models' own
``visible_to`` rules: out of scope answers 404. Customer contacts read and never write
(403); whether staff may change an object is decided by the ``check_*`` services."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, WorkLog

# Registers internal to the service provider: customer contacts never see them.
STAFF_ONLY_MODELS = (WorkLog, Risk)


def is_staff(user) -> bool:
    """The service provider's people (PMs and consultants), as opposed to customer contacts."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_provider_staff", False))


class ReadOnlyForCustomers(BasePermission):
    """Signed-in users read; only the provider's staff write (the services check the rest)."""

    message = _("Customer contacts have read-only access.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_staff(user)


def scoped(user, model):
    """The objects of ``model`` ``user`` may see: the API's only scoping rule."""
    if model in STAFF_ONLY_MODELS and not is_staff(user):
        return model.objects.none()
    engagements = Engagement.objects.visible_to(user)
    if model is Engagement:
        return engagements
    if model is Customer:
        if getattr(user, "is_pm", False):
            return Customer.objects.all()
        return Customer.objects.filter(pk__in=engagements.values("customer"))
    if model is Stage:
        return Stage.objects.visible_to(user)
    if model is ChecklistItem:
        return ChecklistItem.objects.filter(stage__in=Stage.objects.visible_to(user))
    if model is WorkLog:
        return WorkLog.objects.filter(stage__in=Stage.objects.visible_to(user))
    if model in (MigrationModel, Risk):
        return model.objects.filter(engagement__in=engagements)
    raise LookupError(f"No API scope for {model.__name__}")
