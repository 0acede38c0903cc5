"""API viewsets. Querysets come from the access policies (``common.access``: out of scope is
404, refused 403); every write goes through a ``check_*`` service (its PermissionDenied is
403, ValidationError 400)."""

from collections import defaultdict

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.response import Response

from common import access
from common.api import ScopedViewSet

from .. import services, setup
from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, WorkLog
from . import filters, serializers


@extend_schema(auth=[], tags=["auth"])
class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token; send it on every request
    as ``Authorization: Token <token>``."""


class CustomerViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Customer organisations: PMs see all, everyone else those of the engagements they see.
    A PM adds customers and invites their contacts (an e-mail with a one-time link)."""

    model = Customer
    serializer_class = serializers.CustomerSerializer
    lookup_field = "uuid"
    ordering_fields = ["name"]
    object_actions = {"invite": "manage"}

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        access.require(request.user, "manage", Customer, _("Only a project manager can add customers."))
        serializer.is_valid(raise_exception=True)
        customer = setup.check_create_customer(request.user, serializer.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.InviteContactSerializer, responses=serializers.ContactSerializer)
    @action(detail=True, methods=["post"])
    def invite(self, request, uuid=None):
        customer = self.get_object()
        serializer = serializers.InviteContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = setup.check_invite_contact(request.user, customer, serializer.validated_data)
        return Response(serializers.ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class EngagementViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Engagements; PMs create them and change their terms."""

    model = Engagement
    serializer_class = serializers.EngagementSerializer
    filterset_class = filters.EngagementFilter
    lookup_field = "uuid"
    ordering_fields = ["code", "title", "start_date", "end_date", "status"]
    object_actions = {"copy": "view"}

    def get_queryset(self):
        # The figures and the progress come annotated: no stage rows are fetched.
        return (super().get_queryset().with_figures().with_progress()
                .select_related("customer", "pm").order_by("-start_date", "code"))

    def paginate_queryset(self, queryset):
        """The page, with its consultants' usernames fetched in one query (no user rows)."""
        page = super().paginate_queryset(queryset)
        if page is not None:
            usernames = defaultdict(list)
            assigned = (Engagement.consultants.through.objects.filter(engagement__in=[e.pk for e in page])
                        .order_by("user__username").values_list("engagement_id", "user__username"))
            for engagement_id, username in assigned:
                usernames[engagement_id].append(username)
            for engagement in page:
                engagement.consultant_usernames = usernames[engagement.pk]  # EngagementSerializer.consultants
        return page

    def create(self, request):
        access.require(request.user, "manage", Engagement, _("Only a project manager can create engagements."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consultants = fields.pop("consultants", [])
        engagement = services.check_create_engagement(request.user, fields, consultants)
        return Response(self.get_serializer(self.fresh(engagement)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, uuid=None):
        engagement = self.get_object()
        serializer = self.get_serializer(engagement, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consultants = fields.pop("consultants", None)
        services.check_update_engagement(request.user, engagement, fields, consultants)
        return Response(self.get_serializer(self.fresh(engagement)).data)

    @extend_schema(request=serializers.EngagementSerializer, responses={201: serializers.EngagementSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, uuid=None):
        """A new engagement from this one: its terms, team, models, stage plan and baselines,
        with the fields sent (at least a new ``code`` and the dates) put over them."""
        source = self.get_object()
        access.require(request.user, "manage", Engagement, _("Only a project manager can create engagements."))
        data = {**self.get_serializer(source).data, **request.data}
        data.pop("uuid", None)
        serializer = self.get_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consultants = fields.pop("consultants", None)
        engagement = setup.check_copy_engagement(request.user, source, fields, consultants)
        return Response(self.get_serializer(self.fresh(engagement)).data, status=status.HTTP_201_CREATED)


class MigrationModelViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Models under migration (read-only here; they are managed in the admin)."""

    model = MigrationModel
    serializer_class = serializers.MigrationModelSerializer
    lookup_field = "uuid"
    filterset_class = filters.MigrationModelFilter
    ordering_fields = ["name"]

    def get_queryset(self):
        return super().get_queryset().select_related("engagement").order_by("engagement", "name")


class StageViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Stages: PATCH changes the plan; the status moves only through ``transition``."""

    model = Stage
    serializer_class = serializers.StageSerializer
    filterset_class = filters.StageFilter
    lookup_field = "uuid"
    ordering_fields = ["order", "planned_start", "planned_end"]
    service_field_names = {"to_status": "to"}  # the services' name for the transition's field

    def get_queryset(self):
        return super().get_queryset().with_figures().select_related("engagement").order_by("engagement", "order")

    def partial_update(self, request, uuid=None):
        """Change the plan: planned dates and person-days."""
        stage = self.get_object()
        serializer = self.get_serializer(stage, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.check_plan_stage(request.user, stage, dict(serializer.validated_data))
        return Response(self.get_serializer(self.fresh(stage)).data)

    @extend_schema(request=serializers.TransitionSerializer, responses=serializers.StageSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, uuid=None):
        """Move the stage to another status (see ``allowed_moves``). Blocking, skipping and
        reopening need a reason; done needs every required checklist item done or waived."""
        stage = self.get_object()
        move = serializers.TransitionSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        services.check_transition_stage(request.user, stage, move.validated_data["to"], move.validated_data["reason"])
        return Response(self.get_serializer(self.fresh(stage)).data)

    @extend_schema(responses=serializers.StageTransitionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def transitions(self, request, uuid=None):
        """The stage's status history, oldest first."""
        stage = self.get_object()
        history = stage.transitions.select_related("actor")
        return Response(serializers.StageTransitionSerializer(history, many=True).data)


class ChecklistItemViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The checklists of the stages; their state changes through ``set-state``."""

    model = ChecklistItem
    serializer_class = serializers.ChecklistItemSerializer
    lookup_field = "uuid"
    filterset_class = filters.ChecklistItemFilter
    ordering_fields = ["position"]

    def get_queryset(self):
        return super().get_queryset().select_related("stage__engagement", "closed_by")

    @extend_schema(request=serializers.ChecklistStateSerializer, responses=serializers.ChecklistItemSerializer)
    @action(detail=True, methods=["post"], url_path="set-state")
    def set_state(self, request, uuid=None):
        """Tick (done), waive (with a reason) or reopen (open) a checklist item."""
        item = self.get_object()
        change = serializers.ChecklistStateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        services.check_set_checklist_item(request.user, item, change.validated_data["state"],
                                          change.validated_data["reason"])
        return Response(self.get_serializer(self.fresh(item)).data)


class SavedThroughServices:
    """create / update / partial update all go through the viewset's ``_save``, which calls
    the service that checks and writes."""

    def create(self, request):
        return self._save(request)

    def update(self, request, uuid=None):
        return self._save(request, self.get_object())

    def partial_update(self, request, uuid=None):
        return self._save(request, self.get_object(), partial=True)


class WorkLogViewSet(SavedThroughServices, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.DestroyModelMixin):
    """Work logs (provider staff only). One person logs at most 1 person-day a day."""

    model = WorkLog
    object_actions = {"destroy": "delete"}
    serializer_class = serializers.WorkLogSerializer
    filterset_class = filters.WorkLogFilter
    lookup_field = "uuid"
    ordering_fields = ["date", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("stage__engagement", "consultant").order_by("-date", "-pk")

    def _save(self, request, log=None, partial=False):
        serializer = self.get_serializer(log, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        current = {"stage": log.stage, "date": log.date, "person_days": log.person_days, "summary": log.summary,
                   "blockers": log.blockers} if log else {"blockers": ""}
        data = {**current, **serializer.validated_data}
        saved = services.check_log_work(request.user, data["stage"], data["date"], data["person_days"],
                                        data["summary"], data["blockers"], log=log)
        return Response(self.get_serializer(self.fresh(saved)).data,
                        status=status.HTTP_200_OK if log else status.HTTP_201_CREATED)

    def perform_destroy(self, log):
        services.check_delete_work_log(self.request.user, log)


class RiskViewSet(SavedThroughServices, ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  mixins.DestroyModelMixin):
    """The risk register (provider staff only)."""

    model = Risk
    object_actions = {"destroy": "delete"}
    serializer_class = serializers.RiskSerializer
    filterset_class = filters.RiskFilter
    lookup_field = "uuid"
    ordering_fields = ["likelihood", "impact", "status", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("engagement", "owner")

    def _save(self, request, risk=None, partial=False):
        serializer = self.get_serializer(risk, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        engagement = fields.pop("engagement", None) or risk.engagement
        saved = services.check_save_risk(request.user, engagement, fields, risk)
        return Response(self.get_serializer(self.fresh(saved)).data,
                        status=status.HTTP_200_OK if risk else status.HTTP_201_CREATED)

    def perform_destroy(self, risk):
        services.check_delete_risk(self.request.user, risk)
