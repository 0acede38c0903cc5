"""Report versions through the API: read, download, issue, sign off or reject (acceptance
reports), acknowledge (migration assessment reports), and verify a PDF. The same services and
rules as the browser.

The list holds one kind of report at a time: ``?kind=acceptance`` (the default, as before the
assessment report existed) or ``?kind=assessment``. A version is read by its UUID whatever its kind."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common import access
from common.api import ScopedViewSet, UserLanguageMixin

from . import review, services
from .models import ReportVersion, SignOffEvent


class SignOffEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = SignOffEvent
        fields = ["action", "user", "signer_name", "signer_title", "statement", "comment", "at", "version_sha256",
                  "signed_sha256", "previous_hash", "hash"]


class ReportVersionSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    overall = serializers.SerializerMethodField()
    events = SignOffEventSerializer(many=True, read_only=True)

    class Meta:
        model = ReportVersion
        fields = ["uuid", "engagement", "kind", "number", "language", "status", "sha256", "overall", "rendered_at",
                  "issued_at", "events"]

    def get_overall(self, version) -> str | None:
        return (version.data or {}).get("overall")


class SignOffSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True)
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100)
    confirm = serializers.BooleanField()


class RejectSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True)
    comment = serializers.CharField()


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter(
    "kind", str, enum=ReportVersion.Kind.values,
    description="Which report's versions: acceptance (the default) or assessment.")]))
class ReportVersionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = ReportVersion
    serializer_class = ReportVersionSerializer
    lookup_field = "uuid"
    filter_backends = []
    object_actions = {"issue": "issue", "sign_off": "decide", "reject": "decide", "acknowledge": "acknowledge"}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("events__user")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list":
            kind = self.request.query_params.get("kind") or ReportVersion.Kind.ACCEPTANCE
            if kind not in ReportVersion.Kind.values:
                raise ValidationError({"kind": [_("Choose acceptance or assessment.")]})
            queryset = queryset.filter(kind=kind)
        return queryset

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, uuid=None):
        version = self.get_object()
        if access.can(request.user, "review", version) and version.status == ReportVersion.Status.ISSUED:
            review.record_whole(request.user, version)  # the customer now has every page to read
        response = HttpResponse(bytes(version.pdf or b""), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{version.filename}"'
        return response

    @extend_schema(request=None, responses=ReportVersionSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, uuid=None):
        version = services.check_issue(request.user, self.get_object(), request.META)
        return Response(self.get_serializer(version).data)

    @extend_schema(request=SignOffSerializer, responses=SignOffEventSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, uuid=None):
        data = SignOffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = self.get_object()
        review.require_read(request.user, version)
        event = services.check_sign_off(request.user, version, request_meta=request.META, **data.validated_data)
        return Response(SignOffEventSerializer(event).data)

    @extend_schema(request=RejectSerializer, responses=SignOffEventSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, uuid=None):
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = self.get_object()
        review.require_read(request.user, version)
        event = services.check_reject(request.user, version, request_meta=request.META, **data.validated_data)
        return Response(SignOffEventSerializer(event).data)


    @extend_schema(request=None, responses=SignOffEventSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, uuid=None):
        """A contact of the customer acknowledges an issued assessment report, after downloading its PDF."""
        event = services.check_acknowledge(request.user, self.get_object(), request.META)
        return Response(SignOffEventSerializer(event).data)


class VerifyViewSet(UserLanguageMixin, viewsets.ViewSet):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(request=inline_serializer("VerifyRequest", {"pdf": serializers.FileField()}),
                   responses=inline_serializer("VerifyResult", {
                       "sha256": serializers.CharField(), "known": serializers.BooleanField(),
                       "kind": serializers.CharField(required=False),
                       "engagement": serializers.CharField(required=False),
                       "version": serializers.IntegerField(required=False),
                       "signed_by": serializers.CharField(required=False, allow_null=True)}))
    def create(self, request):
        upload = request.FILES.get("pdf")
        if upload is None:
            return Response({"pdf": ["No file was submitted."]}, status=400)
        if upload.size > 50 * 1024 * 1024:
            return Response({"pdf": ["The file is larger than 50 MB."]}, status=400)
        return Response(services.verify_pdf(upload.read()))
