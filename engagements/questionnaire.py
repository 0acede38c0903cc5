"""The model information questionnaire (模型信息采集表): its life and what it feeds.

draft --send--> sent --submit (the customer's contact)--> filled --accept--> accepted
                  ^                                          |
                  +------------- return for changes ---------+

Accepting a version makes its models the models under migration (created or updated by
name; none is deleted, they may hold evidence) and fills the engagement's empty platform
fields. An accepted version is frozen; ``check_revise`` starts the next one from a copy.
``suggest_plan`` turns the answers into person-days per stage, which a PM applies to the
stages still to do and adjusts; the quote built from the plan then follows from it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from common import access, states
from common.validators import REASON_MAX

from . import audit
from .models import Engagement, InferenceRoute, MigrationModel, Questionnaire, QuestionnaireModel, Stage, StageKey

Status = Questionnaire.Status
FIELDS = ("business_scenario", "source_hardware", "target_hardware", "target_framework", "inference_route",
          "precision_baseline", "performance_baseline", "notes")
MODEL_FIELDS = ("name", "task_type", "scope", "size", "source_hardware", "source_framework", "target_framework",
                "target_framework_version", "source_repository", "parameter_config", "weights", "datasets",
                "inference_route")
# What the models under migration take from an accepted questionnaire's rows.
APPLIED_FIELDS = ("task_type", "scope", "size", "source_hardware", "source_framework", "target_framework",
                  "target_framework_version", "source_repository", "parameter_config", "weights", "datasets",
                  "inference_route")


def current(engagement: Engagement) -> Questionnaire | None:
    """The latest version, or None when none was started."""
    return engagement.questionnaires.order_by("-version").first()


def check_start(user, engagement: Engagement) -> Questionnaire:
    """Version 1, prefilled from what the engagement already knows (its platforms and models)."""
    access.require(user, "change", engagement)
    with transaction.atomic():
        Engagement.objects.select_for_update().filter(pk=engagement.pk).first()
        existing = current(engagement)
        if existing is not None:
            return existing
        questionnaire = Questionnaire.objects.create(
            engagement=engagement, version=1, created_by=user, source_hardware=engagement.source_platform,
            target_hardware=engagement.target_platform, target_framework=engagement.target_framework)
        QuestionnaireModel.objects.bulk_create(
            QuestionnaireModel(questionnaire=questionnaire, position=index,
                               **{name: getattr(model, name) for name in MODEL_FIELDS})
            for index, model in enumerate(engagement.migration_models.all()))
        audit.record(user, questionnaire, audit.CREATE, engagement=engagement)
    return questionnaire


def _clean_models(rows: list[dict]) -> list[QuestionnaireModel]:
    """Rows as typed (dicts of MODEL_FIELDS), each validated; every error at once, keyed by row."""
    models, errors, seen = [], {}, set()
    for index, row in enumerate(rows):
        model = QuestionnaireModel(position=index, **{name: (row.get(name) or "") for name in MODEL_FIELDS})
        model.name = model.name.strip()
        try:
            model.full_clean(exclude=["questionnaire"])
        except ValidationError as exc:
            errors[index] = exc.message_dict
            continue
        if model.name.casefold() in seen:
            errors[index] = {"name": [_("Two models are named %(name)s.") % {"name": model.name}]}
            continue
        seen.add(model.name.casefold())
        models.append(model)
    if errors:
        raise ValidationError({"models": [_("Model %(n)s: %(errors)s") % {
            "n": index + 1, "errors": "; ".join(f"{field}: {' '.join(messages)}" for field, messages in row.items())}
            for index, row in sorted(errors.items())]})
    return models


def check_save(user, questionnaire: Questionnaire, fields: dict, rows: list[dict]) -> Questionnaire:
    """Save the answers and the model rows together (nothing is saved when anything is wrong)."""
    access.require(user, "edit", questionnaire)
    before = audit.snapshot(questionnaire)
    for name in FIELDS:
        if name in fields:
            setattr(questionnaire, name, (fields[name] or "").strip())
    questionnaire.full_clean()
    models = _clean_models(rows)
    with transaction.atomic():
        locked = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        if locked.status != questionnaire.status:  # moved meanwhile (submitted, accepted)
            raise ValidationError(_("This questionnaire was %(status)s meanwhile; reload the page.")
                                  % {"status": locked.get_status_display()})
        questionnaire.save()
        questionnaire.models.all().delete()
        for model in models:
            model.questionnaire = questionnaire
        QuestionnaireModel.objects.bulk_create(models)
        changes = audit.diff(before, audit.snapshot(questionnaire))
        changes["models"] = [None, [model.name for model in models]]
        audit.record(user, questionnaire, audit.UPDATE, engagement=questionnaire.engagement, changes=changes)
    return questionnaire


def _move(user, questionnaire: Questionnaire, to_status: str, reason: str = "") -> Questionnaire:
    from_status = questionnaire.status
    with transaction.atomic():
        moved = states.move(questionnaire, to_status, actor=user, reason=reason)
        if not moved:
            questionnaire.refresh_from_db()
            raise ValidationError(_("A questionnaire that is %(status)s cannot be %(action)s.") % {
                "status": questionnaire.get_status_display(), "action": ACTION_NAMES[to_status]})
        audit.record(user, questionnaire, audit.TRANSITION, engagement=questionnaire.engagement,
                     changes={"status": [from_status, to_status]})
    return questionnaire


ACTION_NAMES = {Status.SENT: gettext_lazy("sent"), Status.FILLED: gettext_lazy("submitted"),
                Status.ACCEPTED: gettext_lazy("accepted")}


def check_send(user, questionnaire: Questionnaire, reason: str = "") -> Questionnaire:
    """Send to the customer's contact (or return a filled one for changes, with a reason)."""
    access.require(user, "send", questionnaire)
    reason = (reason or "").strip()[:REASON_MAX]
    if questionnaire.status == Status.FILLED and not reason:
        raise ValidationError({"reason": [_("Say what the customer should change.")]})
    return _move(user, questionnaire, Status.SENT, reason)


def check_submit(user, questionnaire: Questionnaire) -> Questionnaire:
    access.require(user, "submit", questionnaire)
    problems = missing_answers(questionnaire)
    if problems:
        raise ValidationError(problems)
    return _move(user, questionnaire, Status.FILLED)


def missing_answers(questionnaire: Questionnaire) -> list[str]:
    """What must be answered before the questionnaire can be submitted or accepted."""
    problems = []
    if not questionnaire.business_scenario.strip():
        problems.append(_("Describe the business needs and scenario."))
    models = list(questionnaire.models.all())
    if not models:
        problems.append(_("Add at least one target model."))
    for model in models:
        if not model.source_hardware.strip():
            problems.append(_("Say which hardware %(name)s runs on now.") % {"name": model.name})
    return problems


def check_accept(user, questionnaire: Questionnaire) -> Questionnaire:
    """Accept the answers: the models under migration follow them (created or updated by name)."""
    access.require(user, "accept", questionnaire)
    problems = missing_answers(questionnaire)
    if problems:
        raise ValidationError(problems)
    engagement = questionnaire.engagement
    with transaction.atomic():
        _move(user, questionnaire, Status.ACCEPTED)
        existing = {model.name.casefold(): model for model in engagement.migration_models.all()}
        for row in questionnaire.models.all():
            model = existing.get(row.name.casefold())
            before = audit.snapshot(model) if model else None
            if model is None:
                model = MigrationModel(engagement=engagement, name=row.name)
            for name in APPLIED_FIELDS:
                setattr(model, name, getattr(row, name))
            model.full_clean()
            model.save()
            if before is None:
                audit.record(user, model, audit.CREATE, engagement=engagement)
            elif changes := audit.diff(before, audit.snapshot(model)):
                audit.record(user, model, audit.UPDATE, engagement=engagement, changes=changes)
        before = audit.snapshot(engagement)
        if not engagement.source_platform and questionnaire.source_hardware:
            engagement.source_platform = questionnaire.source_hardware[:120]
        if not engagement.target_platform and questionnaire.target_hardware:
            engagement.target_platform = questionnaire.target_hardware[:120]
        if questionnaire.target_framework:
            engagement.target_framework = questionnaire.target_framework
        if changes := audit.diff(before, audit.snapshot(engagement)):
            engagement.save()
            audit.record(user, engagement, audit.UPDATE, engagement=engagement, changes=changes)
    return questionnaire


def check_revise(user, questionnaire: Questionnaire) -> Questionnaire:
    """The next version, a draft copy of an accepted one."""
    access.require(user, "revise", questionnaire)
    with transaction.atomic():
        latest = Questionnaire.objects.select_for_update().filter(engagement=questionnaire.engagement) \
            .order_by("-version").first()
        if latest.pk != questionnaire.pk or latest.status != Status.ACCEPTED:
            raise ValidationError(_("Only the latest accepted version can be revised."))
        copy = Questionnaire.objects.create(
            engagement=questionnaire.engagement, version=questionnaire.version + 1, created_by=user,
            **{name: getattr(questionnaire, name) for name in FIELDS})
        QuestionnaireModel.objects.bulk_create(
            QuestionnaireModel(questionnaire=copy, position=row.position,
                               **{name: getattr(row, name) for name in MODEL_FIELDS})
            for row in questionnaire.models.all())
        audit.record(user, copy, audit.CREATE, engagement=questionnaire.engagement)
    return copy


# --- the plan the answers suggest ------------------------------------------------------------

# Person-days per stage: a base for the engagement plus a share per model in scope, heavier for
# large language models; the offline route adds model conversion (ATC), MindIE-LLM its service set-up.
PLAN_BASE = {
    StageKey.SURVEY: (Decimal("2"), Decimal("1")),
    StageKey.PLAN: (Decimal("1"), Decimal("0.5")),
    StageKey.ENV_SETUP: (Decimal("2"), Decimal("0.5")),
    StageKey.TRAINING_ADAPTATION: (Decimal("0"), Decimal("5")),
    StageKey.TRAINING_TUNING: (Decimal("0"), Decimal("5")),
    StageKey.INFERENCE_MIGRATION: (Decimal("0"), Decimal("3")),
    StageKey.INFERENCE_TUNING: (Decimal("0"), Decimal("3")),
}
LLM_FACTOR = Decimal("2")
ROUTE_EXTRA = {InferenceRoute.OFFLINE: Decimal("2"), InferenceRoute.MINDIE_LLM: Decimal("1")}
TRAINING_STAGES = (StageKey.TRAINING_ADAPTATION, StageKey.TRAINING_TUNING)
INFERENCE_STAGES = (StageKey.INFERENCE_MIGRATION, StageKey.INFERENCE_TUNING)
TUNING_STAGES = (StageKey.TRAINING_TUNING, StageKey.INFERENCE_TUNING)


@dataclass(frozen=True)
class PlanLine:
    stage: str
    person_days: Decimal
    basis: str


def _in_scope(row, stage: str) -> bool:
    if stage in TRAINING_STAGES:
        return row.scope in (MigrationModel.Scope.TRAINING, MigrationModel.Scope.BOTH)
    if stage in INFERENCE_STAGES:
        return row.scope in (MigrationModel.Scope.INFERENCE, MigrationModel.Scope.BOTH)
    return True


def suggest_plan(rows, *, tuning: bool = True, default_route: str = "") -> list[PlanLine]:
    """Person-days per stage from the models (task type, scope, inference route).

    Pure: ``rows`` are objects with ``task_type``, ``scope`` and ``inference_route``. Stage
    person-days = base + per-model days x (2 for a large language model) for each model in the
    stage's scope, + the route's extra days on inference migration. Tuning stages are 0 when
    tuning is out of the engagement's scope.
    """
    lines = []
    for stage, (base, per_model) in PLAN_BASE.items():
        if stage in TUNING_STAGES and not tuning:
            lines.append(PlanLine(stage, Decimal("0"), _("tuning is out of scope")))
            continue
        days, parts = base, [str(base)] if base else []
        for row in rows:
            if not _in_scope(row, stage):
                continue
            factor = LLM_FACTOR if row.task_type == MigrationModel.TaskType.LLM else Decimal("1")
            share = per_model * factor
            route = row.inference_route or default_route
            extra = ROUTE_EXTRA.get(route, Decimal("0")) if stage == StageKey.INFERENCE_MIGRATION else Decimal("0")
            days += share + extra
            parts.append(f"{row.name} {share.normalize()}" + (f" + {extra.normalize()}" if extra else ""))
        lines.append(PlanLine(stage, days.normalize() if days else Decimal("0"), " + ".join(parts) or "0"))
    return lines


def plan_for(questionnaire: Questionnaire) -> list[PlanLine]:
    return suggest_plan(list(questionnaire.models.all()), tuning=questionnaire.engagement.scope_tuning,
                        default_route=questionnaire.inference_route)


def check_apply_plan(user, questionnaire: Questionnaire) -> int:
    """Set the suggested person-days on the stages not yet started; returns how many changed."""
    access.require(user, "apply_plan", questionnaire)
    if questionnaire.status != Status.ACCEPTED:
        raise ValidationError(_("Accept the questionnaire before applying its plan."))
    suggested = {line.stage: line.person_days for line in plan_for(questionnaire)}
    changed = 0
    with transaction.atomic():
        for stage in questionnaire.engagement.stages.select_for_update().filter(status=Stage.Status.NOT_STARTED):
            days = suggested.get(stage.key)
            if days is None or stage.planned_person_days == days:
                continue
            before = audit.snapshot(stage)
            stage.planned_person_days = days
            stage.save(update_fields=["planned_person_days"])
            audit.record(user, stage, audit.UPDATE, engagement=stage.engagement,
                         changes=audit.diff(before, audit.snapshot(stage)))
            changed += 1
    return changed
