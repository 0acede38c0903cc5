"""The tuning evidence through the API, read-only: accuracy comparisons (with their rows),
profiles, MindIE configurations and ATC conversions. Internal to the service provider."""

from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api import ScopedViewSet

from . import services
from .models import AccuracyComparison, AccuracyRow, AtcConversion, Profile, ServiceConfig

COMMON = ["uuid", "engagement", "stage", "model", "job", "source", "label", "filename", "sha256", "created_at"]


class EvidenceSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    stage = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    model = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    job = serializers.SlugRelatedField(slug_field="uuid", read_only=True)


class AccuracyComparisonSerializer(EvidenceSerializer):
    class Meta:
        model = AccuracyComparison
        fields = [*COMMON, "format", "mode", "rows", "counts", "overflows", "overflow_checked", "first_mismatch",
                  "first_warning", "first_overflow", "notes"]
        read_only_fields = fields


class AccuracyRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccuracyRow
        fields = ["position", "npu_name", "op", "bench_name", "npu_dtype", "npu_shape", "cosine", "max_abs_err",
                  "max_rel_err", "mean_rel_err", "one_thousandth", "five_thousandths", "result", "raw_result",
                  "overflow", "message"]
        read_only_fields = fields


class ProfileSerializer(EvidenceSerializer):
    class Meta:
        model = Profile
        fields = [*COMMON, "summary", "kernels", "cluster", "files", "flops_per_step", "peak_tflops", "devices",
                  "notes"]
        read_only_fields = fields


class ServiceConfigSerializer(EvidenceSerializer):
    class Meta:
        model = ServiceConfig
        fields = [*COMMON, "version", "fields", "config"]
        read_only_fields = fields


class AtcConversionSerializer(EvidenceSerializer):
    class Meta:
        model = AtcConversion
        fields = [*COMMON, "command", "input_model", "framework", "output", "soc_version", "input_shape", "success",
                  "codes", "details"]
        read_only_fields = fields


class EvidenceViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    lookup_field = "uuid"

    def get_queryset(self):
        return super().get_queryset().select_related("engagement", "stage", "model", "job").order_by("-created_at")


class AccuracyComparisonViewSet(EvidenceViewSet):
    model = AccuracyComparison
    serializer_class = AccuracyComparisonSerializer
    filterset_fields = ["source", "format"]

    @action(detail=True, methods=["get"], serializer_class=AccuracyRowSerializer)
    def rows(self, request, uuid=None):
        """The comparison's rows in execution order; ``?result=``, ``?q=`` (name contains) and
        ``?mismatches=1`` filter them, as on the page; paginated."""
        comparison = self.get_object()
        rows = services.accuracy_rows(comparison, result=request.query_params.get("result", ""),
                                      q=request.query_params.get("q", "")[:200],
                                      mismatches=request.query_params.get("mismatches") in ("1", "true"))
        page = self.paginate_queryset(rows)
        if page is not None:
            return self.get_paginated_response(AccuracyRowSerializer(page, many=True).data)
        return Response(AccuracyRowSerializer(rows[:1000], many=True).data)


class ProfileViewSet(EvidenceViewSet):
    model = Profile
    serializer_class = ProfileSerializer
    filterset_fields = ["source"]


class ServiceConfigViewSet(EvidenceViewSet):
    model = ServiceConfig
    serializer_class = ServiceConfigSerializer
    filterset_fields = ["source", "version"]


class AtcConversionViewSet(EvidenceViewSet):
    model = AtcConversion
    serializer_class = AtcConversionSerializer
    filterset_fields = ["source", "success"]
