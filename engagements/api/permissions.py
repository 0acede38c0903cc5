"""Who may do what through the API.

Which objects a user sees is decided in one place, ``scoped``, from the models' own
``visible_to`` rules: out of scope answers 404, to reads and writes alike. Customer contacts
read and never write (403 on what they see); whether staff may change an object is decided
by the ``check_*`` services."""

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
        if request.method in SAFE_METHODS or is_staff(user):
            return True
        # A write to one object: look it up in the user's scope first, as a read does, so an
        # object they cannot see answers 404 (it does not exist for them), not 403.
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup and lookup in getattr(view, "kwargs", {}):
            view.get_object()  # Http404 outside ``scoped``
        return False


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
