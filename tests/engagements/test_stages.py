import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from engagements import services
from engagements.models import AuditEvent, ChecklistItem, Stage, StageKey, StageTransition

pytestmark = pytest.mark.django_db


def test_it_creates_the_seven_stages_in_order_with_checklists(engagement):
    stages = engagement.ordered_stages()
    assert [s.key for s in stages] == list(StageKey.values)
    assert all(s.checklist.filter(required=True).exists() for s in stages)
    assert all(item.title_zh and item.title_en for s in stages for item in s.checklist.all())


def test_it_refuses_done_while_required_items_are_open(engagement, consultant):
    survey = engagement.ordered_stages()[0]
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as exc:
        services.check_transition_stage(consultant, survey, Stage.Status.DONE)
    assert "still open" in str(exc.value)
    survey.refresh_from_db()
    assert survey.status == Stage.Status.IN_PROGRESS
    assert StageTransition.objects.filter(stage=survey).count() == 1


def test_a_waived_item_with_reason_lets_the_stage_finish(engagement, consultant):
    survey = engagement.ordered_stages()[0]
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    items = list(survey.checklist.filter(required=True))
    for item in items[:-1]:
        services.check_set_checklist_item(consultant, item, ChecklistItem.State.DONE)
    with pytest.raises(ValidationError):
        services.check_set_checklist_item(consultant, items[-1], ChecklistItem.State.WAIVED, "")
    services.check_set_checklist_item(consultant, items[-1], ChecklistItem.State.WAIVED,
                                      "Customer has no cloud account")
    services.check_transition_stage(consultant, survey, Stage.Status.DONE)
    survey.refresh_from_db()
    assert survey.status == Stage.Status.DONE
    assert survey.actual_end is not None
    moves = list(StageTransition.objects.filter(stage=survey)
                 .values_list("from_status", "to_status", "actor__username"))
    assert moves == [("not_started", "in_progress", "consultant"), ("in_progress", "done", "consultant")]
    assert AuditEvent.objects.filter(engagement=engagement, action="transition").count() == 2


def test_it_refuses_a_move_the_mapping_does_not_allow(engagement, consultant):
    survey = engagement.ordered_stages()[0]
    with pytest.raises(ValidationError):
        services.check_transition_stage(consultant, survey, Stage.Status.DONE)
    with pytest.raises(ValidationError):
        services.check_transition_stage(consultant, survey, Stage.Status.BLOCKED, "why")


def test_a_customer_contact_cannot_move_a_stage(engagement, contact):
    survey = engagement.ordered_stages()[0]
    with pytest.raises(PermissionDenied):
        services.check_transition_stage(contact, survey, Stage.Status.IN_PROGRESS)
    survey.refresh_from_db()
    assert survey.status == Stage.Status.NOT_STARTED
