"""The API's shared base: scoped viewsets answering in the user's language, under the access
policies of ``common.access`` (outside scope 404, refused 403)."""

from django.utils import translation
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS, BasePermission

from . import access


class UserLanguageMixin:
    """Answer in the language of the user's profile, as the pages do.

    ``UserLanguageMiddleware`` runs before DRF authenticates a token, so for token users
    the language is chosen here, once the user is known."""

    def perform_authentication(self, request):
        super().perform_authentication(request)
        language = getattr(request.user, "language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language


class PolicyPermission(BasePermission):
    """The model's access policy: may the user read these objects at all (403 when not), and,
    for one object already found in scope (404 otherwise), view or change it."""

    def has_permission(self, request, view) -> bool:
        if not access.signed_in(request.user):
            return False
        if not access.can_list(request.user, view.model):
            # One object named in the URL: outside the user's scope it does not exist (404),
            # as for a read, before anything is said about what they may do with it.
            lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
            if lookup and lookup in getattr(view, "kwargs", {}):
                view.get_object()  # Http404 outside the scope; in scope, has_object_permission says 403
            policy = access.policy_for(view.model)
            self.message = policy.message_for("view")
            return False
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        # A viewset's own actions may name the policy action they need, e.g. {"sign_off": "decide"}.
        action = getattr(view, "object_actions", {}).get(getattr(view, "action", None))
        action = action or ("view" if request.method in SAFE_METHODS else "change")
        if not access.can(request.user, action, obj):
            self.message = access.policy_for(obj).message_for(action)
            return False
        return True


class ScopedViewSet(UserLanguageMixin, viewsets.GenericViewSet):
    """Only objects in the user's scope exist here (others answer 404); the model's policy
    says what the user may do with them (403 when not)."""

    permission_classes = [PolicyPermission]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return self.model.objects.none()
        return access.scope(self.request.user, self.model)

    def fresh(self, obj):
        """``obj`` read again through the list queryset, with its annotations."""
        return self.get_queryset().get(pk=obj.pk)
