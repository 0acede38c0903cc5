"""A done stage reads 100%, and its checklist still says which optional items are open."""

import pytest

from engagements import services
from engagements.models import ChecklistItem, Stage

pytestmark = pytest.mark.django_db


def test_a_done_stage_with_optional_items_open_says_so(client, engagement, consultant):
    stage = engagement.stages.get(key="env_setup")
    services.check_transition_stage(consultant, stage, Stage.Status.IN_PROGRESS)
    required = list(stage.checklist.filter(required=True))
    optional = stage.checklist.filter(required=False).count()
    assert optional >= 1, "the environment set-up checklist has optional items"
    for item in required:
        services.check_set_checklist_item(consultant, item, ChecklistItem.State.DONE)
    services.check_transition_stage(consultant, stage, Stage.Status.DONE)
    client.force_login(consultant)
    page = client.get(f"/stages/{stage.uuid}/").content.decode()
    assert 'value="100"' in page
    counts = page.split('data-testid="checklist-counts">', 1)[1].split("</p>", 1)[0]
    assert f"{len(required)} of {len(required)} required items closed" in counts
    assert f"{optional} optional item" in counts and "still open" in counts
