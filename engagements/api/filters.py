"""Query filters of the API (django-filter). They narrow a queryset that is already scoped
to the user (``common.access.scope``); related objects are named by UUID or username."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..models import ChecklistItem, Engagement, MigrationModel, Risk, Stage, WorkLog


class EngagementFilter(django_filters.FilterSet):
    customer = django_filters.UUIDFilter(field_name="customer__uuid", help_text=_("Customer UUID"))
    pm = django_filters.CharFilter(field_name="pm__username", help_text=_("Username of the project manager"))
    consultant = django_filters.CharFilter(field_name="consultants__username", distinct=True,
                                           help_text=_("Username of an assigned consultant"))
    q = django_filters.CharFilter(method="search", help_text=_("Text in the code, title or customer name"))

    class Meta:
        model = Engagement
        fields = ["status", "target_framework", "customer", "pm", "consultant", "q"]

    def search(self, queryset, name, value):
        text = Q(code__icontains=value) | Q(title__icontains=value) | Q(customer__name__icontains=value)
        return queryset.filter(text)


class MigrationModelFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid", help_text=_("Engagement UUID"))

    class Meta:
        model = MigrationModel
        fields = ["engagement", "task_type", "scope"]


class StageFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid", help_text=_("Engagement UUID"))

    class Meta:
        model = Stage
        fields = ["engagement", "key", "status"]


class ChecklistItemFilter(django_filters.FilterSet):
    stage = django_filters.UUIDFilter(field_name="stage__uuid", help_text=_("Stage UUID"))

    class Meta:
        model = ChecklistItem
        fields = ["stage", "state", "required"]


class WorkLogFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="stage__engagement__uuid", help_text=_("Engagement UUID"))
    stage = django_filters.UUIDFilter(field_name="stage__uuid", help_text=_("Stage UUID"))
    consultant = django_filters.CharFilter(field_name="consultant__username", help_text=_("Username of who logged"))
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", help_text=_("On or after this date"))
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", help_text=_("On or before this date"))

    class Meta:
        model = WorkLog
        fields = ["engagement", "stage", "consultant", "date_from", "date_to"]


class RiskFilter(django_filters.FilterSet):
    engagement = django_filters.UUIDFilter(field_name="engagement__uuid", help_text=_("Engagement UUID"))

    class Meta:
        model = Risk
        fields = ["engagement", "category", "status"]
