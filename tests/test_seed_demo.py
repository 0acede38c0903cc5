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


def test_the_demo_data_agrees_with_itself(rate_card):
    """Every stage is planned within its engagement's dates, and the work logs name the CANN
    version the simulated host reports."""
    from demo.simhost import FILES

    call_command("seed_demo")
    cann = next(line.split("=", 1)[1] for line in (FILES / "ascend_toolkit_install.info").read_text().splitlines()
                if line.startswith("version="))
    for engagement in Engagement.objects.all():
        for stage in engagement.stages.exclude(planned_end=None):
            assert engagement.start_date <= stage.planned_start <= stage.planned_end <= engagement.end_date, (
                engagement.code, stage.key, stage.planned_end, engagement.end_date)
    mentioned = " ".join(WorkLog.objects.filter(summary__contains="CANN").values_list("summary", flat=True))
    assert mentioned and f"CANN {cann} " in mentioned, (cann, mentioned)


def test_both_demo_engagements_render_a_report_straight_after_seeding(rate_card, tmp_path):
    """Drafts may not pass before the jobs run, but they render, in both shapes."""
    from reports.models import ReportVersion

    call_command("seed_demo")
    llm = Engagement.objects.get(code="LLM-2026-002")
    grid = Engagement.objects.get(code="GRID-2026-001")
    assert not llm.scope_training_migration and {m.scope for m in llm.migration_models.all()} == {"inference"}
    assert grid.migration_models.exclude(excluded_reason="").count() == 10  # phase 2; the pilot is accepted now
    for engagement in (grid, llm):
        for language in ("zh-hans", "en"):
            call_command("render_report", engagement.code, "--language", language)
    versions = ReportVersion.objects.all()
    assert versions.count() == 4 and {v.status for v in versions} == {"draft"}
    llm_report = versions.filter(engagement=llm, language="en").get().data
    kinds = {c["kind"] for m in llm_report["models"] for c in m["criteria"]}
    assert kinds == {"score", "performance"}  # inference only: no loss curve, no training function
    assert llm_report["overall"] == "incomplete"  # nothing measured yet; never a FAIL for missing evidence


def test_make_run_links_e_mails_to_the_port_it_serves_on():
    from demo.management.commands.rundev import child_environment

    assert child_environment({"PORT": "8123"}, "127.0.0.1", 8123)["PORTAL_URL"] == "http://127.0.0.1:8123"
    kept = child_environment({"PORTAL_URL": "https://portal.example.com"}, "127.0.0.2", 9000)
    assert kept["PORTAL_URL"] == "https://portal.example.com"
