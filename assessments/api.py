"""Loss curves through the API: a customer's pipeline or a consultant pushes a training log
(the GPU reference, usually); it is parsed like a training job's log and kept with its hash."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from common import access
from common.api import ScopedViewSet
from engagements.models import Engagement

from . import services
from .models import LossCurve


class LossCurveSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    job = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = LossCurve
        fields = ["uuid", "engagement", "platform", "source", "label", "log_format", "loss_key", "points",
                  "first_step", "last_step", "raw_sha256", "throughput", "checkpoints", "job", "created_at"]
        read_only_fields = fields


class LossCurveUploadSerializer(serializers.Serializer):
    engagement = serializers.UUIDField()
    platform = serializers.ChoiceField(choices=LossCurve.Platform.choices)
    label = serializers.CharField(max_length=200)
    pattern = serializers.CharField(required=False, allow_blank=True, default="")
    log = serializers.FileField()


class LossCurveViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    model = LossCurve
    serializer_class = LossCurveSerializer
    lookup_field = "uuid"
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["platform", "source"]

    def get_queryset(self):
        return super().get_queryset().select_related("engagement", "job")

    @extend_schema(request=LossCurveUploadSerializer, responses=LossCurveSerializer)
    def create(self, request):
        upload = LossCurveUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        engagement = access.scope(request.user, Engagement).filter(uuid=data["engagement"]).first()
        if engagement is None:
            return Response({"engagement": ["Object does not exist."]}, status=status.HTTP_400_BAD_REQUEST)
        if data["log"].size > services.max_log_bytes():
            return Response({"log": [f"The log is larger than {services.max_log_bytes() // 2**20} MB."]},
                            status=status.HTTP_400_BAD_REQUEST)
        curve = services.check_add_curve_from_log(request.user, engagement, data["log"].read(),
                                                  platform=data["platform"], label=data["label"],
                                                  source=LossCurve.Source.API, pattern=data["pattern"] or None,
                                                  filename=data["log"].name)
        return Response(LossCurveSerializer(curve).data, status=status.HTTP_201_CREATED)
