"""What the load benchmark (``bench/load.py``) found, kept found.

- The stage page showed the stage's progress four times (twice in the status card, twice in the
  checklist), and each ``stage.progress_percent`` read the checklist's states again: four
  queries (each joining the stage and the engagement for the items' default ordering) for
  items the page lists anyway. The page now counts the progress from the items it lists.
- A PM's draft quote read the rate card twice per line form (the current items, then the
  select's options): 2 queries per line plus 6 for the three empty rows. The formset now reads
  the items once and gives every row the same choices.
"""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.models import ChecklistItem, Stage
from reports import quotes
from reports.models import Quote, RateCardItem

CHECKLIST_READ = 'FROM "engagements_checklistitem"'


def checklist_reads(captured) -> list[str]:
    return [query["sql"] for query in captured if CHECKLIST_READ in query["sql"]]


def shown_progress(html: str) -> list[str]:
    return re.findall(r'<progress max="100" value="(\d+)">', html)


@pytest.fixture
def stage(engagement):
    stage = engagement.stages.get(key="survey")
    Stage.objects.filter(pk=stage.pk).update(status=Stage.Status.IN_PROGRESS)
    stage.refresh_from_db()
    items = list(stage.checklist.order_by("position"))
    assert len(items) >= 4, "the survey stage's checklist is seeded from DOMAIN.md's activities"
    ChecklistItem.objects.filter(pk=items[0].pk).update(state=ChecklistItem.State.DONE)
    return stage


@pytest.mark.parametrize("who", ["consultant", "contact"])
def test_the_stage_page_reads_its_checklist_once(client, request, stage, who):
    client.force_login(request.getfixturevalue(who))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("stage_detail", args=[stage.uuid]))
    assert response.status_code == 200
    reads = checklist_reads(ctx.captured_queries)
    assert len(reads) == 1, f"{len(reads)} reads of the checklist for one stage page:\n" + "\n".join(reads)
    expected = str(stage.progress_percent)
    assert shown_progress(response.content.decode()) == [expected, expected]


def test_the_progress_after_ticking_an_item_is_the_new_one(client, consultant, stage):
    """The htmx answer to a tick shows the progress with the item just ticked."""
    client.force_login(consultant)
    open_item = stage.checklist.filter(state=ChecklistItem.State.OPEN).order_by("position").first()
    before = stage.progress_percent
    response = client.post(reverse("checklist_item_state", args=[stage.uuid, open_item.pk]),
                           {"state": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    stage.refresh_from_db()
    after = stage.progress_percent
    assert after > before
    assert shown_progress(response.content.decode()) == [str(after)], response.content.decode()[:600]


RATE_CARD_READ = 'FROM "reports_ratecarditem"'


def draft_with_lines(pm, engagement, n: int) -> Quote:
    quote = quotes.check_create_quote(pm, customer=engagement.customer, engagement=engagement, title="Draft")
    items = quotes.current_items()
    return quotes.check_set_lines(pm, quote, [{"item": items[i % len(items)], "person_days": Decimal(i + 1)}
                                              for i in range(n)])


def rate_card_reads(client, quote) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("quote_detail", args=[quote.uuid]))
    assert response.status_code == 200
    return sum(RATE_CARD_READ in query["sql"] for query in ctx.captured_queries), response.content.decode()


def test_a_draft_quote_reads_the_rate_card_once_whatever_its_lines(client, pm, engagement):
    client.force_login(pm)
    small, large = draft_with_lines(pm, engagement, 1), draft_with_lines(pm, engagement, 8)
    reads_small, _html = rate_card_reads(client, small)
    reads_large, html = rate_card_reads(client, large)
    # (before: 8 reads for 1 line, 22 for 8: two per row, the three empty rows included)
    assert reads_large == reads_small, f"{reads_small} rate-card reads for 1 line, {reads_large} for 8"
    # every row still offers every current item, with its own line's item chosen
    items = quotes.current_items()
    rows = re.findall(r'<select name="lines-(\d+)-item"[^>]*>(.*?)</select>', html, flags=re.DOTALL)
    assert len(rows) == 8 + 3
    for index, options in rows:
        assert all(f'value="{item.pk}"' in options for item in items)
        chosen = re.findall(r'<option value="(\d+)"[^>]*selected', options)
        assert chosen == ([str(items[int(index) % len(items)].pk)] if int(index) < 8 else [])


def test_a_draft_quote_still_saves_its_lines(client, pm, engagement):
    client.force_login(pm)
    quote = draft_with_lines(pm, engagement, 2)
    item = RateCardItem.objects.get(pk=quotes.current_items()[3].pk)
    data = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-item": str(item.pk),
            "lines-0-person_days": "4", "lines-0-rate": "", "lines-0-discount": "0",
            "cloud-TOTAL_FORMS": "0", "cloud-INITIAL_FORMS": "0"}
    response = client.post(reverse("quote_detail", args=[quote.uuid]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(line.item_id, line.person_days) for line in quote.lines.all()] == [(item.pk, Decimal("4"))]
