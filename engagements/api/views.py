"""API viewsets: querysets from ``permissions.scoped`` (out of scope is 404), writes
through the ``check_*`` services (their PermissionDenied is 403, ValidationError 400)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..models import ChecklistItem, Customer, Engagement, MigrationModel, Risk, Stage, WorkLog
from . import serializers
from .permissions import ReadOnlyForCustomers, scoped


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [ReadOnlyForCustomers]
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return self.model.objects.none()
        return scoped(self.request.user, self.model)


# --- filters ----------------------------------------------------------------------------

class EngagementFilter(django_filters.FilterSet):
    customer = django_filters.UUIDFilter(field_name="customer__uuid")
    pm = django_filters.CharFilter(field_name="pm__username")
    consultant = django_filters.CharFilter(field_name="consultants__username")
    q = django_filters.CharFilter(method="search")

    class Meta:
        model = Engagement
        fields = ["status", "target_framework", "customer", "pm", "consultant"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value))


class StageFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid")

    class Meta:
        model = Stage
        fields = ["engagement", "key", "status"]


class ChecklistFilter(django_filters.FilterSet):
    stage = django_filters.UUIDFilter(field_name="stage__uuid")

    class Meta:
        model = ChecklistItem
        fields = ["stage", "state", "required"]


class WorkLogFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="stage__engagement__uuid")
    stage = django_filters.UUIDFilter(field_name="stage__uuid")
    consultant = django_filters.CharFilter(field_name="consultant__username")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = WorkLog
        fields = ["engagement", "stage", "consultant", "date_from", "date_to"]


class RiskFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid")

    class Meta:
        model = Risk
        fields = ["engagement", "category", "status"]


class ModelFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid")

    class Meta:
        model = MigrationModel
        fields = ["engagement", "task_type"]


# --- viewsets ---------------------------------------------------------------------------

class CustomerViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Customer
    serializer_class = serializers.CustomerSerializer
    lookup_field = "uuid"


class EngagementViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Engagement
    serializer_class = serializers.EngagementSerializer
    filterset_class = EngagementFilter
    lookup_field = "uuid"

    def get_queryset(self):
        return (super().get_queryset().with_figures().with_stages()
                .select_related("customer", "pm").prefetch_related("consultants").order_by("-start_date", "code"))

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consultants = fields.pop("consultants", [])
        engagement = services.check_create_engagement(request.user, fields, consultants)
        return Response(self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request, uuid=None):
        engagement = self.get_object()
        serializer = self.get_serializer(engagement, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consultants = fields.pop("consultants", None)
        services.check_update_engagement(request.user, engagement, fields, consultants)
        return Response(self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data)


class MigrationModelViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = MigrationModel
    serializer_class = serializers.MigrationModelSerializer
    filterset_class = ModelFilter

    def get_queryset(self):
        return super().get_queryset().select_related("engagement")


class StageViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = Stage
    serializer_class = serializers.StageSerializer
    filterset_class = StageFilter
    lookup_field = "uuid"

    def get_queryset(self):
        return super().get_queryset().with_figures().select_related("engagement").order_by("engagement", "order")

    def partial_update(self, request, uuid=None):
        """Change the plan: planned dates and person-days."""
        stage = self.get_object()
        serializer = self.get_serializer(stage, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.check_plan_stage(request.user, stage, dict(serializer.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=stage.pk)).data)

    @extend_schema(request=serializers.TransitionSerializer, responses=serializers.StageSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, uuid=None):
        stage = self.get_object()
        move = serializers.TransitionSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        services.check_transition_stage(request.user, stage, move.validated_data["to"], move.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=stage.pk)).data)

    @extend_schema(responses=serializers.StageTransitionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def transitions(self, request, uuid=None):
        stage = self.get_object()
        return Response(serializers.StageTransitionSerializer(stage.transitions.select_related("actor"), many=True).data)


class ChecklistItemViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = ChecklistItem
    serializer_class = serializers.ChecklistItemSerializer
    filterset_class = ChecklistFilter

    def get_queryset(self):
        return super().get_queryset().select_related("stage")

    @extend_schema(request=serializers.ChecklistStateSerializer, responses=serializers.ChecklistItemSerializer)
    @action(detail=True, methods=["post"], url_path="set-state")
    def set_state(self, request, pk=None):
        item = self.get_object()
        change = serializers.ChecklistStateSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        item = services.check_set_checklist_item(request.user, item, change.validated_data["state"],
                                                 change.validated_data["reason"])
        return Response(self.get_serializer(item).data)


class WorkLogViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    model = WorkLog
    serializer_class = serializers.WorkLogSerializer
    filterset_class = WorkLogFilter
    lookup_field = "uuid"

    def get_queryset(self):
        return super().get_queryset().select_related("stage__engagement", "consultant").order_by("-date", "-pk")

    def _save(self, request, log=None, partial=False):
        serializer = self.get_serializer(log, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stage = data.get("stage") or log.stage
        if not scoped(request.user, Stage).filter(pk=stage.pk).exists():
            return Response({"stage": ["Object does not exist."]}, status=status.HTTP_400_BAD_REQUEST)
        saved = services.check_log_work(
            request.user, stage, data.get("date", log and log.date), data.get("person_days", log and log.person_days),
            data.get("summary", log and log.summary), data.get("blockers", log.blockers if log else ""), log=log)
        return Response(self.get_serializer(saved).data, status=status.HTTP_200_OK if log else status.HTTP_201_CREATED)

    def create(self, request):
        return self._save(request)

    def update(self, request, uuid=None):
        return self._save(request, self.get_object())

    def partial_update(self, request, uuid=None):
        return self._save(request, self.get_object(), partial=True)

    def perform_destroy(self, log):
        services.check_delete_work_log(self.request.user, log)


class RiskViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    model = Risk
    serializer_class = serializers.RiskSerializer
    filterset_class = RiskFilter
    lookup_field = "uuid"

    def get_queryset(self):
        return super().get_queryset().select_related("engagement", "owner")

    def _save(self, request, risk=None, partial=False):
        serializer = self.get_serializer(risk, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        engagement = fields.pop("engagement", None) or risk.engagement
        if not scoped(request.user, Engagement).filter(pk=engagement.pk).exists():
            return Response({"engagement": ["Object does not exist."]}, status=status.HTTP_400_BAD_REQUEST)
        saved = services.check_save_risk(request.user, engagement, fields, risk)
        return Response(self.get_serializer(saved).data, status=status.HTTP_200_OK if risk else status.HTTP_201_CREATED)

    def create(self, request):
        return self._save(request)

    def update(self, request, uuid=None):
        return self._save(request, self.get_object())

    def partial_update(self, request, uuid=None):
        return self._save(request, self.get_object(), partial=True)

    def perform_destroy(self, risk):
        services.check_delete_risk(self.request.user, risk)
