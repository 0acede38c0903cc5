"""The demo data loads, loads again without changing anything, and lets the demo logins in."""

import pytest
from django.core.management import call_command
from django.test import Client

from assessments.models import LossCurve, ScoreBaseline
from demo.management.commands.seed_demo import DEMO_PASSWORD
from engagements.models import Engagement, User, WorkLog
from reports.models import Quote

pytestmark = pytest.mark.django_db


def counts():
    return (User.objects.count(), Engagement.objects.count(), WorkLog.objects.count(), LossCurve.objects.count(),
            Quote.objects.count(), ScoreBaseline.objects.count())


def test_seed_demo_is_idempotent_and_complete(rate_card):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert set(User.objects.values_list("username", flat=True)) >= {"consultant", "pm", "customer"}
    reference = LossCurve.objects.get(platform="gpu")
    assert reference.points == 200 and reference.loss_changed
    assert Quote.objects.get().lines.exists()
    client = Client()
    for username in ("consultant", "pm", "customer"):
        assert client.login(username=username, password=DEMO_PASSWORD)
        assert client.get("/engagements/").status_code == 200
