"""Jobs through the API, for CI pipelines: start one (from a kind and its parameters, or from a
job template), follow it (status, phase, progress, the log's tail, the result's summary, why it
failed) and cancel it. Scoped and refused like the pages (``workers.access``): jobs are
internal to the service provider, so a customer's contact gets 403 and anything outside the
user's scope 404. Starting goes through ``jobs.check_start_job`` and the kind's ``clean``."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common import access
from common.api import ScopedViewSet
from engagements.models import MigrationModel, Stage

from . import job_templates, jobs, kinds
from .models import AscendHost, Job, JobTemplate

TAIL_CHARS = 4000  # the log tail returned by default
MAX_TAIL_CHARS = 65536


class JobSerializer(serializers.ModelSerializer):
    engagement = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    stage = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    host = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    model = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    started_by = serializers.StringRelatedField()
    kind = serializers.CharField(help_text="The job kind's key, e.g. training_run.")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    status_display = serializers.CharField(source="get_status_display")
    phase = serializers.CharField(help_text="What a queued or running job is doing now.")
    progress = serializers.IntegerField(help_text="Per cent, 0-100.")
    failure_reason = serializers.ChoiceField(choices=Job.Failure.choices, allow_blank=True)
    failure_message = serializers.CharField(source="failure_text", help_text="Why it failed, in your language.")
    parameters = serializers.SerializerMethodField()
    log_tail = serializers.SerializerMethodField()
    is_final = serializers.BooleanField()

    class Meta:
        model = Job
        fields = ["uuid", "kind", "engagement", "stage", "host", "model", "parameters", "status", "status_display",
                  "phase", "progress", "is_final", "cancel_requested", "created_at", "started_at", "finished_at",
                  "exit_code", "failure_reason", "failure_message", "log_bytes", "log_tail", "result", "started_by"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_parameters(self, job) -> dict:
        return {name: value for name, value in (job.parameters or {}).items() if name != "argv"}

    def get_log_tail(self, job) -> str:
        """The last characters of the output (``?tail=`` chars, 4,000 by default)."""
        request = self.context.get("request")
        size = TAIL_CHARS
        if request is not None:
            try:
                size = max(0, min(MAX_TAIL_CHARS, int(request.query_params.get("tail", TAIL_CHARS))))
            except ValueError:
                size = TAIL_CHARS
        text = (job.output_tail or "").replace(kinds.SECTION_MARK, "── ")
        return text[-size:] if size else ""


class JobStartSerializer(serializers.Serializer):
    """Either a template (its stage, host, kind, model and parameters), or a stage, a host, a kind
    and its parameters (and the model under migration, for kinds that produce evidence)."""

    template = serializers.UUIDField(required=False, help_text="A job template of the engagement to launch.")
    stage = serializers.UUIDField(required=False, help_text="The engagement stage the job is filed under.")
    host = serializers.UUIDField(required=False, help_text="The customer's Ascend host.")
    kind = serializers.CharField(required=False, max_length=30,
                                 help_text="The job kind's key: env_probe, disk_check, migration_analysis, "
                                           "training_run, evaluation, inference_benchmark.")
    parameters = serializers.DictField(required=False, default=dict,
                                       help_text="The kind's parameters, as in the job form (e.g. command, workdir).")
    model = serializers.UUIDField(required=False, allow_null=True, help_text="The model under migration.")

    def validate(self, data):
        if not data.get("template"):
            missing = {name: ["This field is required without a template."] for name in ("stage", "host", "kind")
                       if not data.get(name)}
            if missing:
                raise serializers.ValidationError(missing)
        return data


def _in_scope(user, model, uuid, field: str):
    """An object of ``model`` the user sees, named in the request body (400 when not: it does not exist for them)."""
    found = access.scope(user, model).filter(uuid=uuid).first()
    if found is None:
        raise serializers.ValidationError({field: ["Object does not exist."]})
    return found


class JobViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Jobs on customers' Ascend hosts: start, follow and cancel."""

    model = Job
    serializer_class = JobSerializer
    lookup_field = "uuid"
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at", "finished_at"]
    object_actions = {"cancel": "cancel"}

    def get_queryset(self):
        queryset = super().get_queryset().select_related("engagement", "stage", "host", "model", "started_by")
        engagement = self.request.query_params.get("engagement") if hasattr(self, "request") else None
        if engagement:
            try:
                queryset = queryset.filter(engagement__uuid=engagement)
            except DjangoValidationError:  # a malformed UUID matches nothing
                queryset = queryset.none()
        return queryset

    @extend_schema(parameters=[
        OpenApiParameter("engagement", str, description="Only this engagement's jobs (its UUID)."),
        OpenApiParameter("tail", int, description="Characters of the log's tail to return (default 4000)."),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[
        OpenApiParameter("tail", int, description="Characters of the log's tail to return (default 4000)."),
    ])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=JobStartSerializer, responses={201: JobSerializer})
    def create(self, request):
        """Start a job, checked as the job form checks it; it is queued at once."""
        start = JobStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        data = start.validated_data
        user = request.user
        if data.get("template"):
            template = _in_scope(user, JobTemplate, data["template"], "template")
            stage = _in_scope(user, Stage, data["stage"], "stage") if data.get("stage") else None
            job = job_templates.check_launch_template(user, template, stage)
        else:
            stage = _in_scope(user, Stage, data["stage"], "stage")
            host = _in_scope(user, AscendHost, data["host"], "host")
            model = _in_scope(user, MigrationModel, data["model"], "model") if data.get("model") else None
            job = jobs.check_start_job(user, stage, host, data["kind"], dict(data.get("parameters") or {}),
                                       model=model)
        return Response(JobSerializer(self.fresh(job), context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        """Ask the job to stop: a queued job ends at once, a running one once its remote process group is stopped."""
        job = jobs.check_cancel_job(request.user, self.get_object())
        return Response(JobSerializer(self.fresh(job), context={"request": request}).data)
