"""Job templates and re-runs: a job's settings kept under a name for an engagement, launched
again through the same checks as the job form (``jobs.check_start_job`` and the kind's
``clean``). Changes are audited like the engagement's other changes."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from common import access
from engagements import audit
from engagements.models import Stage

from . import jobs, kinds
from .models import AscendHost, Job, JobTemplate


def form_values(kind: str, parameters: dict) -> dict:
    """The values a kind's form shows, from stored parameters (derived ones, like ``argv``, left out)."""
    try:
        fields = kinds.get(kind).fields
    except KeyError:
        return {}
    return {name: value for name, value in (parameters or {}).items() if name in fields and value is not None}


def rerun_initial(job: Job) -> dict:
    """The job form's initial values for running ``job`` again: same kind, host, model, parameters."""
    initial = {"kind": job.kind, "host": job.host_id, **form_values(job.kind, job.parameters)}
    if job.model_id:
        initial["model"] = job.model_id
    return initial


def template_initial(template: JobTemplate) -> dict:
    initial = {"kind": template.kind, "host": template.host_id, "template_name": template.name,
               **form_values(template.kind, template.parameters)}
    if template.model_id:
        initial["model"] = template.model_id
    return initial


def _checked(user, stage: Stage, host: AscendHost, kind: str, params: dict, model) -> dict:
    """The parameters as a template keeps them, checked the way a job's are (so a template that
    saves always launches, unless the host or the kind changed since)."""
    engagement = stage.engagement
    access.require(user, "change", engagement, _("You can view this engagement but not run jobs for it."))
    if host.customer_id != engagement.customer_id:
        raise ValidationError({"host": _("This host belongs to another customer.")})
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    try:
        job_kind = kinds.get(kind)
    except KeyError:
        raise ValidationError({"kind": _("Unknown job kind.")}) from None
    cleaned = job_kind.clean(params or {})
    return form_values(kind, cleaned)


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"template_name": _("Give the template a name.")})
    if len(name) > 100:
        raise ValidationError({"template_name": _("A template's name has at most 100 characters.")})
    return name


def _save(template: JobTemplate) -> JobTemplate:
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationError({"template_name": _("This engagement already has a template of that name.")}) from None
    return template


def check_save_template(user, stage: Stage, *, name: str, host: AscendHost, kind: str, params: dict,
                        model=None) -> JobTemplate:
    """A new template of the engagement of ``stage``; its jobs are filed under ``stage``."""
    cleaned = _checked(user, stage, host, kind, params, model)
    template = JobTemplate(engagement=stage.engagement, stage=stage, name=_name(name), kind=kind, host=host,
                           model=model if kinds.get(kind).per_model else None, parameters=cleaned, created_by=user)
    with transaction.atomic():
        _save(template)
        audit.record(user, template, audit.CREATE, engagement=stage.engagement,
                     changes=audit.snapshot(template))
    return template


def check_save_template_from_job(user, job: Job, name: str) -> JobTemplate:
    return check_save_template(user, job.stage, name=name, host=job.host, kind=job.kind, params=job.parameters,
                               model=job.model)


def check_update_template(user, template: JobTemplate, *, name: str, host: AscendHost, kind: str, params: dict,
                          model=None) -> JobTemplate:
    access.require(user, "change", template)
    template = JobTemplate.objects.select_related("stage__engagement").get(pk=template.pk)
    before = audit.snapshot(template)
    cleaned = _checked(user, template.stage, host, kind, params, model)
    template.name, template.host, template.kind, template.parameters = _name(name), host, kind, cleaned
    template.model = model if kinds.get(kind).per_model else None
    with transaction.atomic():
        _save(template)
        audit.record(user, template, audit.UPDATE, engagement=template.engagement,
                     changes=audit.diff(before, audit.snapshot(template)))
    return template


def check_delete_template(user, template: JobTemplate) -> None:
    access.require(user, "change", template)
    with transaction.atomic():
        audit.record(user, template, audit.DELETE, engagement=template.engagement,
                     changes=audit.snapshot(template))
        template.delete()


def check_launch_template(user, template: JobTemplate, stage: Stage | None = None) -> Job:
    """Start a job from the template (under ``stage``, else the template's own), through the
    same checks as the form."""
    access.require(user, "change", template)
    stage = stage or template.stage
    if stage.engagement_id != template.engagement_id:
        raise ValidationError({"stage": _("The stage belongs to another engagement.")})
    return jobs.check_start_job(user, stage, template.host, template.kind, dict(template.parameters),
                                model=template.model)
