"""Who may do what: one policy per model, each app's kept in its ``access.py``.

Every page, API endpoint, service and template asks the same two questions:

- ``scope(user, Model)``: the objects that exist for the user. An object outside it answers
  **404**, to reads and writes alike, on pages and in the API (it does not exist for them).
- ``can(user, action, obj)``: may the user do ``action`` to an object in scope? When not,
  **403** (``require`` raises ``PermissionDenied``).

A policy is a small class with the model it guards; an app registers its policies in its
``AppConfig.ready`` (the way the job kinds register), so this module imports no app.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _


class Policy:
    """The rules of one model. ``actions`` maps an action's name to a method ``(user, obj)
    -> bool``; an action not listed is refused."""

    model: type[models.Model]
    # Messages of refused actions, shown with the 403.
    messages: dict[str, str] = {}

    def scope(self, user) -> models.QuerySet:
        raise NotImplementedError

    def message_for(self, action: str) -> str:
        """Why ``action`` was refused: its own message, else the policy's for changes."""
        message = self.messages.get(action) or self.messages.get("change") or _("You may not do this.")
        return str(message)

    def can_list(self, user) -> bool:
        """May the user read these objects at all (a list page or endpoint)?"""
        return True

    def can(self, user, action: str, obj) -> bool:
        rule = getattr(self, f"can_{action}", None)
        if rule is None:
            raise LookupError(f"{type(self).__name__} has no action {action!r}")
        return bool(signed_in(user) and rule(user, obj))


_POLICIES: dict[type, Policy] = {}


def register(policy_class: type[Policy]) -> type[Policy]:
    """Class decorator: the policy of ``policy_class.model``."""
    _POLICIES[policy_class.model] = policy_class()
    return policy_class


def policy_for(model) -> Policy:
    try:
        return _POLICIES[model if isinstance(model, type) else type(model)]
    except KeyError:
        raise LookupError(f"No access policy for {model}") from None


def signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def scope(user, model) -> models.QuerySet:
    """The objects of ``model`` that exist for ``user`` (none for anonymous or inactive users)."""
    if not signed_in(user):
        return model.objects.none()
    return policy_for(model).scope(user)


def can_list(user, model) -> bool:
    return signed_in(user) and policy_for(model).can_list(user)


def can(user, action: str, obj) -> bool:
    return policy_for(obj).can(user, action, obj)


def require(user, action: str, obj, message: str | None = None) -> None:
    """403 unless ``user`` may do ``action`` to ``obj``."""
    if not can(user, action, obj):
        raise PermissionDenied(message or policy_for(obj).message_for(action))


def get_or_404(user, model, *, related: tuple[str, ...] = (), **lookup):
    """One object of ``model`` in the user's scope (with ``related`` joined in), or 404."""
    queryset = scope(user, model)
    if related:
        queryset = queryset.select_related(*related)
    try:
        return queryset.get(**lookup)
    except (model.DoesNotExist, model.MultipleObjectsReturned, ValueError, TypeError):
        raise Http404 from None
