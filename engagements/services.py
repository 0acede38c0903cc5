"""Workflows of the engagement lifecycle.

Each workflow is a pair: ``check_*`` confirms the user may act and that the input is
valid (raising ``PermissionDenied`` or ``ValidationError``), then calls ``do_*``, which
writes inside ``transaction.atomic()``, records the audit trail, and trusts its caller.
Views and API views call only the ``check_*`` functions.
"""

import contextlib
import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from common import access, states
from common.units import normalise_unit
from common.validators import REASON_MAX

from . import audit
from .access import may_own_risk
from .checklists import ACTIVITIES
from .models import (
    ChecklistItem,
    Deliverable,
    Engagement,
    MigrationModel,
    PerformanceBaseline,
    Risk,
    Stage,
    StageKey,
    User,
    WorkLog,
)
from .uploads import inspect_upload

TRAINING_STAGES = (StageKey.TRAINING_ADAPTATION, StageKey.TRAINING_TUNING)
INFERENCE_STAGES = (StageKey.INFERENCE_MIGRATION, StageKey.INFERENCE_TUNING)


# --- engagements -----------------------------------------------------------------------


def check_create_engagement(user, fields: dict, consultants=()) -> Engagement:
    access.require(user, "manage", Engagement, _("Only a project manager can create engagements."))
    engagement = Engagement(**fields)
    engagement.full_clean()
    return do_create_engagement(user, engagement, consultants)


@transaction.atomic
def do_create_engagement(actor, engagement: Engagement, consultants=()) -> Engagement:
    """Save the engagement with its seven stages and their seeded checklists.

    Stages outside the service scope (e.g. training for an inference-only engagement)
    are marked skipped, through a recorded transition.
    """
    engagement.save()
    engagement.consultants.set(consultants)
    audit.record(actor, engagement, audit.CREATE, engagement=engagement, changes=audit.snapshot(engagement))
    items = []
    for key in StageKey.values:
        stage = Stage.objects.create(engagement=engagement, key=key)
        for position, (title_en, title_zh, required) in enumerate(ACTIVITIES[key], start=1):
            items.append(ChecklistItem(stage=stage, position=position, title_en=title_en, title_zh=title_zh,
                                       required=required))
        out_of_scope = (key in TRAINING_STAGES and not engagement.scope_training_migration) or (
            key in INFERENCE_STAGES and not engagement.scope_inference_migration
        )
        if out_of_scope:
            do_transition_stage(actor, stage, Stage.Status.SKIPPED, "Not in the engagement's service scope.")
    ChecklistItem.objects.bulk_create(items)
    return engagement


def check_update_engagement(user, engagement: Engagement, fields: dict, consultants=None) -> Engagement:
    access.require(user, "manage", engagement)
    before = audit.snapshot(engagement)
    for name, value in fields.items():
        setattr(engagement, name, value)
    engagement.full_clean()
    return do_update_engagement(user, engagement, before, consultants)


@transaction.atomic
def do_update_engagement(actor, engagement: Engagement, before: dict, consultants=None) -> Engagement:
    engagement.save()
    changes = audit.diff(before, audit.snapshot(engagement))
    if consultants is not None:
        old = set(engagement.consultants.values_list("username", flat=True))
        engagement.consultants.set(consultants)
        new = {c.username for c in consultants}
        if old != new:
            changes["consultants"] = [sorted(old), sorted(new)]
    if changes:
        audit.record(actor, engagement, audit.UPDATE, engagement=engagement, changes=changes)
    return engagement


# --- stages ------------------------------------------------------------------------------


def check_plan_stage(user, stage: Stage, fields: dict) -> Stage:
    """Change a stage's planned dates and person-days."""
    access.require(user, "change", stage.engagement)
    before = audit.snapshot(stage)
    for name in ("planned_start", "planned_end", "planned_person_days"):
        if name in fields:
            setattr(stage, name, fields[name])
    stage.full_clean()
    with transaction.atomic():
        stage.save()
        changes = audit.diff(before, audit.snapshot(stage))
        if changes:
            audit.record(user, stage, audit.UPDATE, engagement=stage.engagement, changes=changes)
    return stage


def check_transition_stage(user, stage: Stage, to_status: str, reason: str = "") -> Stage:
    access.require(user, "change", stage.engagement)
    reason = (reason or "").strip()
    if to_status not in Stage.Status.values:
        raise ValidationError({"to_status": _("Unknown status “%(status)s”.") % {"status": to_status}})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason under %(n)s characters.") % {"n": f"{REASON_MAX:,}"}})
    if to_status in Stage.NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("Say why the stage is %(status)s.")
                               % {"status": Stage.Status(to_status).label}})
    if stage.status == Stage.Status.DONE and not reason:
        raise ValidationError({"reason": _("Say why a done stage is reopened.")})
    return do_transition_stage(user, stage, to_status, reason)


@transaction.atomic
def do_transition_stage(actor, stage: Stage, to_status: str, reason: str = "", at=None) -> Stage:
    """Move a stage, under a row lock, and record the transition.

    A stage cannot be done while a required checklist item is open (waive it with a reason).
    ``at`` back-dates the record when history is imported (demo data); users never set it.
    """
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    if not locked.can_move_to(to_status):
        raise ValidationError(
            {
                "to_status": _("A stage that is %(from)s cannot become %(to)s.")
                % {"from": locked.get_status_display(), "to": Stage.Status(to_status).label}
            }
        )
    if to_status == Stage.Status.DONE:
        open_items = list(locked.checklist.filter(required=True, state=ChecklistItem.State.OPEN))
        if open_items:
            titles = "; ".join(item.title for item in open_items)
            raise ValidationError(
                {"to_status": _("Required checklist items are still open: %(items)s. "
                                "Tick them or waive each with a reason.")
                 % {"items": titles}}
            )
    at = at or timezone.now()
    today = timezone.localdate(at)
    from_status = locked.status
    dates = {}
    if to_status == Stage.Status.IN_PROGRESS and locked.actual_start is None:
        dates["actual_start"] = today
    if to_status == Stage.Status.DONE:
        dates["actual_end"] = today
    elif from_status == Stage.Status.DONE:
        dates["actual_end"] = None
    # Records the StageTransition; under the row lock the guarded UPDATE always matches.
    states.move(locked, to_status, actor=actor, reason=reason, at=at, **dates)
    audit.record(
        actor, locked, audit.TRANSITION, engagement=locked.engagement,
        changes={"status": [from_status, to_status], "reason": reason}, at=at,
    )
    stage.refresh_from_db()
    return stage


# --- checklist ---------------------------------------------------------------------------


def check_set_checklist_item(user, item: ChecklistItem, state: str, reason: str = "") -> ChecklistItem:
    """Tick (done), waive (with a reason) or reopen a checklist item."""
    access.require(user, "change", item.stage.engagement)
    reason = (reason or "").strip()
    if state not in ChecklistItem.State.values:
        raise ValidationError({"state": _("Unknown checklist state “%(state)s”.") % {"state": state}})
    if item.stage.status in Stage.FINISHED:
        raise ValidationError({"state": _("The stage is finished; reopen it before changing its checklist.")})
    if state == ChecklistItem.State.WAIVED and not reason:
        raise ValidationError({"reason": _("Say why this item is waived.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("Keep the reason under %(n)s characters.") % {"n": f"{REASON_MAX:,}"}})
    if state == item.state:
        return item
    return do_set_checklist_item(user, item, state, reason)


@transaction.atomic
def do_set_checklist_item(actor, item: ChecklistItem, state: str, reason: str = "") -> ChecklistItem:
    before = item.state
    item.state = state
    item.waive_reason = reason if state == ChecklistItem.State.WAIVED else ""
    item.closed_by = actor if state != ChecklistItem.State.OPEN else None
    item.closed_at = timezone.now() if state != ChecklistItem.State.OPEN else None
    item.save(update_fields=["state", "waive_reason", "closed_by", "closed_at"])
    changes = {"state": [before, state]}
    if reason:
        changes["reason"] = reason
    audit.record(actor, item, audit.UPDATE, engagement=item.stage.engagement, changes=changes)
    return item


# --- work logs ---------------------------------------------------------------------------


# The smallest amount a work log can store (WorkLog.person_days' decimal places).
PERSON_DAYS_QUANTUM = Decimal(1).scaleb(-WorkLog._meta.get_field("person_days").decimal_places)


def parse_person_days(value) -> Decimal:
    """Person-days from user input; a positive multiple of the configured step, at most 1."""
    try:
        days = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"person_days": _("Enter a number of person-days, e.g. 0.5 or 1.")}) from None
    step = Decimal(settings.WORKLOG_STEP_DAYS)
    if not days.is_finite() or days <= 0:
        raise ValidationError({"person_days": _("Person-days must be more than 0.")})
    if days > 1:
        raise ValidationError({"person_days": _("One log covers one day: at most 1 person-day.")})
    # Compare exactly before any arithmetic: a value finer than the stored decimal places
    # (e.g. 1E-1000030) would otherwise underflow to a remainder of 0 and reach the database.
    stored = days.quantize(PERSON_DAYS_QUANTUM)
    if stored != days or stored % step != 0:
        raise ValidationError({"person_days": _("Log in steps of %(step)s person-day.") % {"step": step.normalize()}})
    return days


def check_log_work(user, stage: Stage, date: datetime.date, person_days, summary: str, blockers: str = "",
                   log=None) -> WorkLog:
    """Log (or, with ``log``, change) work on a stage. One person logs at most one person-day a day."""
    access.require(user, "change", stage.engagement)
    if log is not None:
        access.require(user, "change", log)
    days = parse_person_days(person_days)
    errors = {}
    if date is None:
        errors["date"] = _("Enter the date the work was done.")
    elif date > timezone.localdate():
        errors["date"] = _("Work cannot be logged for a future date.")
    elif stage.engagement.start_date and date < stage.engagement.start_date:
        errors["date"] = _("The engagement starts on %(start)s: work cannot be logged before that.") % {
            "start": stage.engagement.start_date.isoformat()}
    if not (summary or "").strip():
        errors["summary"] = _("Say what was done.")
    if stage.status == Stage.Status.SKIPPED:
        errors["stage"] = _("This stage is skipped; work cannot be logged on it.")
    if errors:
        raise ValidationError(errors)
    return do_log_work(user, stage, date, days, summary.strip(), (blockers or "").strip(), log)


@transaction.atomic
def do_log_work(user, stage: Stage, date, days: Decimal, summary: str, blockers: str, log=None) -> WorkLog:
    # Lock the person so two logs for the same day cannot both pass the daily cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    others = WorkLog.objects.filter(consultant=user, date=date)
    if log is not None:
        others = others.exclude(pk=log.pk)
    already = others.person_days()
    if already + days > 1:
        raise ValidationError(
            {"person_days": _("You have already logged %(already)s person-days on %(date)s across all engagements; "
                              "a person can log at most 1 person-day per day.")
             % {"already": already.normalize(), "date": date.isoformat()}}
        )
    if log is None:
        log = WorkLog.objects.create(
            consultant=user, stage=stage, date=date, person_days=days, summary=summary, blockers=blockers
        )
        audit.record(user, log, audit.CREATE, engagement=stage.engagement, changes=audit.snapshot(log))
        return log
    before = audit.snapshot(log)
    log.stage, log.date, log.person_days, log.summary, log.blockers = stage, date, days, summary, blockers
    log.save()
    changes = audit.diff(before, audit.snapshot(log))
    if changes:
        audit.record(user, log, audit.UPDATE, engagement=stage.engagement, changes=changes)
    return log


def check_delete_work_log(user, log: WorkLog) -> None:
    access.require(user, "delete", log)
    with transaction.atomic():
        audit.record(user, log, audit.DELETE, engagement=log.stage.engagement, changes=audit.snapshot(log))
        log.delete()


# --- deliverables -------------------------------------------------------------------------


def _new_deliverable(user, stage: Stage, info, description: str) -> Deliverable:
    return Deliverable(
        stage=stage,
        original_name=info.name,
        size=info.size,
        content_type=info.content_type,
        sha256=info.sha256,
        description=description,
        uploaded_by=user,
    )


def check_upload_deliverable(user, stage: Stage, upload, description: str = "") -> Deliverable:
    access.require(user, "change", stage.engagement)
    info = inspect_upload(upload)  # raises ValidationError on size, type or content
    description = (description or "").strip()
    # Every field but the file, before anything is written to storage.
    _new_deliverable(user, stage, info, description).full_clean(exclude=["file"])
    return do_upload_deliverable(user, stage, upload, info, description)


@transaction.atomic
def do_upload_deliverable(user, stage: Stage, upload, info, description: str) -> Deliverable:
    deliverable = _new_deliverable(user, stage, info, description)
    deliverable.file.save(info.name, upload, save=False)
    try:
        with transaction.atomic():
            deliverable.save()
            audit.record(
                user, deliverable, audit.CREATE, engagement=stage.engagement,
                changes={"file": deliverable.original_name, "size": deliverable.size, "sha256": deliverable.sha256},
            )
    except BaseException:
        # No row points at the file: remove it rather than leave an orphan under MEDIA_ROOT.
        with contextlib.suppress(OSError):
            deliverable.file.delete(save=False)
        raise
    return deliverable


# --- risks --------------------------------------------------------------------------------

RISK_FIELDS = ("category", "description", "likelihood", "impact", "mitigation", "owner", "status")


def check_save_risk(user, engagement: Engagement, fields: dict, risk: Risk | None = None) -> Risk:
    access.require(user, "change", engagement)
    owner = fields.get("owner")
    # An owner kept unchanged on edit stays even if they have since left the engagement.
    unchanged = risk is not None and owner is not None and owner.pk == risk.owner_id
    if owner is not None and not unchanged and not may_own_risk(owner, engagement):
        raise ValidationError({"owner": _("The owner must work on this engagement.")})
    creating = risk is None
    risk = risk or Risk(engagement=engagement)
    before = {} if creating else audit.snapshot(risk)
    for name in RISK_FIELDS:
        if name in fields:
            setattr(risk, name, fields[name])
    risk.full_clean()
    with transaction.atomic():
        risk.save()
        if creating:
            audit.record(user, risk, audit.CREATE, engagement=engagement, changes=audit.snapshot(risk))
        else:
            changes = audit.diff(before, audit.snapshot(risk))
            if changes:
                audit.record(user, risk, audit.UPDATE, engagement=engagement, changes=changes)
    return risk


def check_delete_risk(user, risk: Risk) -> None:
    access.require(user, "delete", risk)
    with transaction.atomic():
        audit.record(user, risk, audit.DELETE, engagement=risk.engagement, changes=audit.snapshot(risk))
        risk.delete()


# --- acceptance criteria and write-up --------------------------------------------------------


def criteria_changed(engagement: Engagement) -> None:
    """Acceptance criteria changed. Until a report is issued they are edited in place; after
    that, a change starts a new criteria version, which the next report names."""
    updated = Engagement.objects.filter(pk=engagement.pk, criteria_issued=True).update(
        criteria_version=F("criteria_version") + 1, criteria_issued=False)
    if updated:
        engagement.refresh_from_db(fields=["criteria_version", "criteria_issued"])


ACCEPTANCE_TEXT_FIELDS = ("test_method", "reference_environment", "conclusions")


def check_update_acceptance_text(user, engagement: Engagement, fields: dict) -> Engagement:
    """The report's write-up: the test data sets and method, the GPU reference environment, and
    the conclusions and recommendations (required before a report is issued)."""
    access.require(user, "change", engagement)
    before = audit.snapshot(engagement)
    for name in ACCEPTANCE_TEXT_FIELDS:
        if name in fields:
            setattr(engagement, name, (fields[name] or "").strip())
    engagement.full_clean()
    with transaction.atomic():
        engagement.save(update_fields=[*ACCEPTANCE_TEXT_FIELDS, "updated_at"])
        changes = audit.diff(before, audit.snapshot(engagement))
        if changes:
            audit.record(user, engagement, audit.UPDATE, engagement=engagement, changes=changes)
    return engagement


MODEL_ACCEPTANCE_FIELDS = ("scope", "precision", "excluded_reason")


def check_set_model_acceptance(user, model: MigrationModel, fields: dict) -> MigrationModel:
    """What of a model is accepted: its scope, its inference precision, or its exclusion (with a reason)."""
    access.require(user, "change", model)
    before = audit.snapshot(model)
    for name in MODEL_ACCEPTANCE_FIELDS:
        if name in fields:
            setattr(model, name, (fields[name] or "").strip() if name != "scope" else fields[name])
    model.full_clean()
    with transaction.atomic():
        model.save()
        changes = audit.diff(before, audit.snapshot(model))
        if changes:
            audit.record(user, model, audit.UPDATE, engagement=model.engagement, changes=changes)
            criteria_changed(model.engagement)
    return model


BASELINE_FIELDS = ("model", "category", "metric", "direction", "value", "unit", "required_fraction")


def check_save_performance_baseline(user, engagement: Engagement, fields: dict,
                                    baseline: PerformanceBaseline | None = None) -> PerformanceBaseline:
    """A contract performance baseline of one model (or of the engagement, with no model)."""
    access.require(user, "change", engagement)
    model = fields.get("model")
    if model is not None and model.engagement_id != engagement.pk:
        raise ValidationError({"model": _("The model belongs to another engagement.")})
    if fields.get("unit") and normalise_unit(fields["unit"]) is None:
        raise ValidationError({"unit": _("Choose one of the known units.")})
    if "value" in fields:
        try:
            fields = {**fields, "value": Decimal(str(fields["value"]))}
        except (InvalidOperation, ValueError):
            raise ValidationError({"value": _("Enter a number.")}) from None
    baseline = baseline or PerformanceBaseline(engagement=engagement)
    for name in BASELINE_FIELDS:
        if name in fields:
            setattr(baseline, name, fields[name])
    baseline.unit = normalise_unit(baseline.unit) or ""
    baseline.full_clean()
    with transaction.atomic():
        baseline.save()
        audit.record(user, baseline, audit.UPDATE, engagement=engagement, changes=audit.snapshot(baseline))
        criteria_changed(engagement)
    return baseline


def check_delete_performance_baseline(user, baseline: PerformanceBaseline) -> None:
    access.require(user, "change", baseline.engagement)
    with transaction.atomic():
        audit.record(user, baseline, audit.DELETE, engagement=baseline.engagement, changes=audit.snapshot(baseline))
        baseline.delete()
        criteria_changed(baseline.engagement)
