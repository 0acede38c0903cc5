"""Logged person-days are one figure: the stage page, the engagement page and list, the API,
planned vs actual (with its burn chart) and the timesheet export show the same sums of the
same work logs (``WorkLogQuerySet.person_days()`` and the expressions beside it)."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from engagements import services
from engagements.models import Stage, StageKey, User, WorkLog

from ..factories import UserFactory, make_engagement

pytestmark = pytest.mark.django_db


def test_every_page_export_and_api_field_shows_the_same_logged_person_days(client, pm, consultant, customer_a):
    today = timezone.localdate()
    start, end = today - datetime.timedelta(days=40), today + datetime.timedelta(days=60)
    colleague = UserFactory(username="colleague", role=User.Role.CONSULTANT)
    engagement = make_engagement(pm, customer_a, consultants=[consultant, colleague], start_date=start, end_date=end)
    elsewhere = make_engagement(pm, customer_a, consultants=[consultant], start_date=start, end_date=end)
    stages = {stage.key: stage for stage in engagement.stages.all()}

    def log(user, stage, days_ago, person_days):
        services.check_log_work(user, stage, today - datetime.timedelta(days=days_ago), person_days, "Work")

    # Several people (a PM too), half and whole days, on several dates and stages.
    log(consultant, stages[StageKey.SURVEY], 30, "1")
    log(consultant, stages[StageKey.SURVEY], 29, "0.5")
    log(colleague, stages[StageKey.SURVEY], 30, "0.5")
    log(pm, stages[StageKey.SURVEY], 2, "0.5")
    log(consultant, stages[StageKey.PLAN], 29, "0.5")
    log(colleague, stages[StageKey.PLAN], 1, "1")
    log(colleague, stages[StageKey.ENV_SETUP], 3, "0.5")
    # Work on another engagement never counts here.
    log(consultant, elsewhere.stages.get(key=StageKey.SURVEY), 28, "1")
    # Work logged on a stage skipped afterwards, and by someone who has left since, still counts.
    Stage.objects.filter(pk=stages[StageKey.ENV_SETUP].pk).update(status=Stage.Status.SKIPPED)
    User.objects.filter(pk=colleague.pk).update(is_active=False)

    per_stage = {key: Decimal("0") for key in stages}
    per_stage.update({StageKey.SURVEY: Decimal("2.5"), StageKey.PLAN: Decimal("1.5"),
                      StageKey.ENV_SETUP: Decimal("0.5")})
    total = Decimal("4.5")
    assert WorkLog.objects.filter(stage__engagement=engagement).person_days() == total
    assert WorkLog.objects.filter(stage__engagement=engagement).exclude(stage__key=StageKey.SURVEY).person_days() == 2
    assert WorkLog.objects.none().person_days() == 0

    client.force_login(pm)
    # The stage pages.
    for key, stage in stages.items():
        assert client.get(reverse("stage_detail", args=[stage.uuid])).context["logged_days"] == per_stage[key], key
    # The engagement page (the engagement and each stage) and the engagement list.
    detail = client.get(reverse("engagement_detail", args=[engagement.uuid])).context
    assert detail["engagement"].logged_pd == total
    assert {stage.key: stage.logged_pd for stage in detail["stages"]} == per_stage
    listed = {row.pk: row for row in client.get(reverse("engagement_list")).context["page"]}
    assert (listed[engagement.pk].logged_pd, listed[elsewhere.pk].logged_pd) == (total, Decimal("1"))

    # The API: the engagement (and its deprecated alias), listed and alone, and its stages.
    api = APIClient()
    api.force_authenticate(pm)
    alone = api.get(f"/api/engagements/{engagement.uuid}/").json()
    assert Decimal(alone["logged_person_days"]) == Decimal(alone["actual_person_days"]) == total
    rows = {row["uuid"]: row for row in api.get("/api/engagements/", {"page_size": 200}).json()["results"]}
    assert Decimal(rows[str(engagement.uuid)]["logged_person_days"]) == total
    stage_rows = api.get("/api/stages/", {"engagement": str(engagement.uuid), "page_size": 200}).json()["results"]
    assert {row["key"]: Decimal(row["logged_person_days"]) for row in stage_rows} == per_stage
    survey = api.get(f"/api/stages/{stages[StageKey.SURVEY].uuid}/").json()
    assert Decimal(survey["logged_person_days"]) == per_stage[StageKey.SURVEY]

    # Planned vs actual: per stage, the total, and where the burn chart ends.
    economics = client.get(reverse("engagement_economics", args=[engagement.uuid])).context
    assert {row["stage"].key: row["logged"] for row in economics["figures"]["rows"]} == per_stage
    assert economics["figures"]["total"]["logged"] == total
    assert economics["chart"]["logged"] == float(total)

    # The timesheet export over the whole range: its rows of this engagement, per stage.
    body = client.get(reverse("timesheets"), {"start": str(start), "end": str(today), "format": "csv", "lang": "en"})
    lines = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
    with translation.override("en"):
        keys = {str(StageKey(key).label): key for key in StageKey.values}
    sheet = defaultdict(Decimal)
    for _consultant, code, label, person_days in lines[1:lines.index([])]:
        if code == engagement.code:
            sheet[keys[label]] += Decimal(person_days)
    assert dict(sheet) == {key: days for key, days in per_stage.items() if days}
    people = {row[0]: Decimal(row[1]) for row in lines[lines.index([]) + 2:]}
    assert people == {str(consultant): Decimal("3"), str(colleague): Decimal("2"), str(pm): Decimal("0.5")}


def test_the_schema_names_one_field_and_deprecates_the_old_name(pm):
    api = APIClient()
    api.force_authenticate(pm)
    schemas = api.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    engagement, stage = schemas["Engagement"]["properties"], schemas["Stage"]["properties"]
    assert "logged_person_days" in stage and "actual_person_days" not in stage
    assert not engagement["logged_person_days"].get("deprecated")
    assert engagement["actual_person_days"]["deprecated"] is True
