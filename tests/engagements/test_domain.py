"""The engagement domain rules, through the services against the real PostgreSQL.

Work logs (person-days, the daily cap across engagements, edits and deletes), the risk
register, deliverable uploads, computed progress and figures, dates in order, the audit
trail, the settings read from the environment, and a property test of the person-days parser.
Expected figures are computed here from the data each test creates, never read back from
the code under test.
"""

import datetime
import hashlib
import os
import secrets
import subprocess
import sys
import threading
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, connections
from django.test import override_settings
from django.utils import timezone, translation
from hypothesis import example, given
from hypothesis import strategies as st

from engagements import services
from engagements.checklists import ACTIVITIES
from engagements.models import AuditEvent, ChecklistItem, Deliverable, Engagement, Risk, Stage, StageKey, WorkLog
from engagements.uploads import TextCheck

from ..factories import UserFactory, make_engagement

BASE_DIR = Path(django_settings.BASE_DIR)


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def stage_of(engagement, key=StageKey.SURVEY) -> Stage:
    return engagement.stages.get(key=key)


def error_fields(exc_info) -> set[str]:
    return set(exc_info.value.message_dict)


def events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("created_at", "pk"))


def finish(user, stage: Stage) -> Stage:
    """Start a stage, tick every checklist item and mark it done, through the services."""
    services.check_transition_stage(user, stage, Stage.Status.IN_PROGRESS)
    for item in stage.checklist.all():
        services.check_set_checklist_item(user, item, ChecklistItem.State.DONE)
    return services.check_transition_stage(user, stage, Stage.Status.DONE)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the portal's default language is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def colleague(db, engagement):
    """A second consultant assigned to the main engagement."""
    user = UserFactory(username="colleague", role="consultant")
    engagement.consultants.add(user)
    return user


@pytest.fixture
def second_engagement(pm, consultant, customer_b):
    """Another customer's engagement the consultant also works on."""
    return make_engagement(pm, customer_b, consultants=[consultant])


# --- work logs --------------------------------------------------------------------------------


@pytest.mark.django_db
class TestWorkLogs:
    def test_a_log_keeps_person_days_and_its_details(self, consultant, engagement):
        survey = stage_of(engagement)
        services.check_log_work(consultant, survey, days_ago(1), "0.5", "  Collected the server inventory ",
                                " VPN slow ")
        log = WorkLog.objects.get()
        assert (log.consultant, log.stage, log.date) == (consultant, survey, days_ago(1))
        assert log.person_days == Decimal("0.5")
        assert (log.summary, log.blockers) == ("Collected the server inventory", "VPN slow")

    def test_the_daily_cap_counts_logs_on_all_engagements(self, consultant, engagement, second_engagement):
        day = days_ago(2)
        services.check_log_work(consultant, stage_of(engagement), day, "0.5", "Survey on A")
        services.check_log_work(consultant, stage_of(second_engagement), day, "0.5", "Survey on B")
        for stage in (stage_of(engagement), stage_of(second_engagement, StageKey.PLAN)):
            with pytest.raises(ValidationError) as exc:
                services.check_log_work(consultant, stage, day, "0.5", "One more half day")
            assert error_fields(exc) == {"person_days"}
            assert "at most 1 person-day per day" in str(exc.value)
        assert WorkLog.objects.filter(consultant=consultant, date=day).count() == 2
        # Another day, and another person on the same day, are not affected.
        services.check_log_work(consultant, stage_of(engagement), days_ago(3), "1", "Next day")
        assert WorkLog.objects.filter(consultant=consultant).count() == 3

    def test_the_cap_is_per_person(self, consultant, colleague, engagement):
        survey = stage_of(engagement)
        services.check_log_work(consultant, survey, days_ago(1), "1", "Full day")
        services.check_log_work(colleague, survey, days_ago(1), "1", "Full day too")
        assert WorkLog.objects.filter(date=days_ago(1)).count() == 2

    @pytest.mark.parametrize(
        "value",
        ["-0.5", "-1", "0", "0.0", "1.5", "2", "0.25", "0.3", "0.75", "0.55", "abc", "", "NaN", "Infinity", "1/2"],
    )
    def test_bad_person_days_are_refused_and_nothing_is_saved(self, consultant, engagement, value):
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, stage_of(engagement), days_ago(1), value, "Some work")
        assert error_fields(exc) == {"person_days"}
        assert WorkLog.objects.count() == 0
        assert not AuditEvent.objects.filter(object_type="worklog").exists()

    def test_a_quarter_step_is_accepted_when_configured(self, consultant, engagement, settings):
        settings.WORKLOG_STEP_DAYS = "0.25"
        survey = stage_of(engagement)
        for _ in range(4):
            services.check_log_work(consultant, survey, days_ago(1), "0.25", "Quarter")
        with pytest.raises(ValidationError):
            services.check_log_work(consultant, survey, days_ago(1), "0.25", "Fifth quarter")
        assert sum(WorkLog.objects.values_list("person_days", flat=True)) == Decimal("1")

    def test_a_future_date_a_blank_summary_and_a_skipped_stage_are_refused(self, consultant, pm, engagement):
        survey = stage_of(engagement)
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, survey, tomorrow, "0.5", "   ")
        assert error_fields(exc) == {"date", "summary"}
        plan = stage_of(engagement, StageKey.PLAN)
        services.check_transition_stage(pm, plan, Stage.Status.SKIPPED, "Plan given by the customer")
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, plan, days_ago(1), "0.5", "Work")
        assert error_fields(exc) == {"stage"}
        assert WorkLog.objects.count() == 0

    def test_work_before_the_engagement_starts_is_refused(self, consultant, engagement):
        survey = stage_of(engagement)
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, survey, engagement.start_date - datetime.timedelta(days=1), "0.5",
                                    "Early")
        assert error_fields(exc) == {"date"} and engagement.start_date.isoformat() in str(exc.value)
        services.check_log_work(consultant, survey, engagement.start_date, "0.5", "First day")
        assert WorkLog.objects.count() == 1

    def test_editing_a_full_day_down_to_half_frees_half_a_day(self, consultant, engagement):
        survey, plan = stage_of(engagement), stage_of(engagement, StageKey.PLAN)
        log = services.check_log_work(consultant, survey, days_ago(1), "1", "Full day")
        log = WorkLog.objects.get(pk=log.pk)
        services.check_log_work(consultant, survey, days_ago(1), "0.5", "Half day in the end", log=log)
        assert WorkLog.objects.get(pk=log.pk).person_days == Decimal("0.5")
        services.check_log_work(consultant, plan, days_ago(1), "0.5", "Plan")
        with pytest.raises(ValidationError):
            services.check_log_work(consultant, plan, days_ago(1), "0.5", "Too much")
        assert sorted(WorkLog.objects.values_list("person_days", flat=True)) == [Decimal("0.5"), Decimal("0.5")]

    def test_editing_a_full_day_log_keeps_its_own_value_out_of_the_count(self, consultant, engagement):
        survey = stage_of(engagement)
        log = WorkLog.objects.get(pk=services.check_log_work(consultant, survey, days_ago(1), "1", "Full day").pk)
        services.check_log_work(consultant, survey, days_ago(1), "1", "Full day, better summary", log=log)
        log.refresh_from_db()
        assert (log.person_days, log.summary) == (Decimal("1"), "Full day, better summary")

    def test_editing_up_past_the_cap_is_refused_and_nothing_changes(self, consultant, engagement, second_engagement):
        first = services.check_log_work(consultant, stage_of(engagement), days_ago(1), "0.5", "A")
        services.check_log_work(consultant, stage_of(second_engagement), days_ago(1), "0.5", "B")
        first = WorkLog.objects.get(pk=first.pk)
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, stage_of(engagement), days_ago(1), "1", "A, all day", log=first)
        assert error_fields(exc) == {"person_days"}
        first.refresh_from_db()
        assert (first.person_days, first.summary) == (Decimal("0.5"), "A")

    def test_moving_a_log_onto_a_full_day_is_refused(self, consultant, engagement):
        survey = stage_of(engagement)
        services.check_log_work(consultant, survey, days_ago(1), "1", "Full day")
        other = WorkLog.objects.get(pk=services.check_log_work(consultant, survey, days_ago(2), "0.5", "Half").pk)
        with pytest.raises(ValidationError):
            services.check_log_work(consultant, survey, days_ago(1), "0.5", "Half", log=other)
        other.refresh_from_db()
        assert other.date == days_ago(2)

    def test_only_the_author_changes_a_log(self, consultant, colleague, pm, engagement):
        survey = stage_of(engagement)
        log = services.check_log_work(consultant, survey, days_ago(1), "0.5", "Mine")
        for user in (colleague, pm):
            with pytest.raises(PermissionDenied):
                services.check_log_work(user, survey, days_ago(1), "1", "Not mine", log=WorkLog.objects.get(pk=log.pk))
        log.refresh_from_db()
        assert (log.person_days, log.summary, log.consultant) == (Decimal("0.5"), "Mine", consultant)

    def test_only_the_author_or_a_pm_deletes_a_log(self, consultant, colleague, contact, pm, engagement):
        survey = stage_of(engagement)
        mine = services.check_log_work(consultant, survey, days_ago(1), "0.5", "Mine")
        other = services.check_log_work(consultant, survey, days_ago(2), "0.5", "Also mine")
        for user in (colleague, contact):
            with pytest.raises(PermissionDenied):
                services.check_delete_work_log(user, WorkLog.objects.get(pk=mine.pk))
        assert WorkLog.objects.count() == 2
        services.check_delete_work_log(consultant, WorkLog.objects.get(pk=mine.pk))
        services.check_delete_work_log(pm, WorkLog.objects.get(pk=other.pk))
        assert WorkLog.objects.count() == 0

    def test_a_customer_contact_or_an_outsider_cannot_log(self, contact, other_consultant, engagement):
        for user in (contact, other_consultant):
            with pytest.raises(PermissionDenied):
                services.check_log_work(user, stage_of(engagement), days_ago(1), "0.5", "Trying")
        assert WorkLog.objects.count() == 0

    @pytest.mark.parametrize("value", ["1E-1000030", "-1E-1000030", "0.5E-999999", "1E-999999999999", "0.001"])
    def test_a_tiny_person_days_value_gives_a_clear_error(self, consultant, engagement, value):
        with pytest.raises(ValidationError) as exc:
            services.check_log_work(consultant, stage_of(engagement), days_ago(1), value, "Tiny")
        assert error_fields(exc) == {"person_days"}
        assert WorkLog.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_full_days_on_one_date_leave_one(consultant, engagement, second_engagement):
    """The daily cap holds when two logs for the same day arrive at the same time."""
    stages = [stage_of(engagement), stage_of(second_engagement)]
    barrier = threading.Barrier(len(stages))
    outcomes = []

    def log(stage):
        try:
            barrier.wait(timeout=10)
            services.check_log_work(consultant, stage, days_ago(1), "1", "Racing")
            outcomes.append("saved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=log, args=(stage,)) for stage in stages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "saved"]
    assert WorkLog.objects.filter(consultant=consultant, date=days_ago(1)).count() == 1


# --- risk register ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestRisks:
    def fields(self, owner, **overrides) -> dict:
        values = {"category": Risk.Category.NETWORK, "description": "Hosts have no internet", "likelihood": 3,
                  "impact": 2, "mitigation": "Mirror pip and conda", "owner": owner, "status": Risk.Status.OPEN}
        values.update(overrides)
        return values

    def test_every_category_is_recorded_with_all_its_fields(self, consultant, engagement):
        expected = ["model_version", "env_dependencies", "dataset", "inference_framework", "targets", "network",
                    "time", "labour"]
        assert sorted(Risk.Category.values) == sorted(expected)
        for n, category in enumerate(expected):
            likelihood, impact = n % 3 + 1, (n + 1) % 3 + 1
            services.check_save_risk(consultant, engagement, self.fields(
                consultant, category=category, likelihood=likelihood, impact=impact, description=f"Risk {n}",
                status=Risk.Status.MITIGATING))
        rows = {r.category: r for r in Risk.objects.filter(engagement=engagement)}
        assert sorted(rows) == sorted(expected)
        for n, category in enumerate(expected):
            risk = rows[category]
            assert (risk.description, risk.likelihood, risk.impact) == (f"Risk {n}", n % 3 + 1, (n + 1) % 3 + 1)
            assert (risk.mitigation, risk.owner, risk.status) == ("Mirror pip and conda", consultant, "mitigating")
            assert risk.score == (n % 3 + 1) * ((n + 1) % 3 + 1)

    @pytest.mark.parametrize(
        "bad",
        [{"category": "gpu"}, {"category": ""}, {"likelihood": 0}, {"likelihood": 4}, {"impact": 5},
         {"impact": "high"}, {"status": "done"}, {"description": ""}],
        ids=lambda bad: "-".join(f"{k}={v}" for k, v in bad.items()),
    )
    def test_bad_values_are_refused_on_create_and_on_edit(self, consultant, engagement, bad):
        with pytest.raises(ValidationError) as exc:
            services.check_save_risk(consultant, engagement, self.fields(consultant, **bad))
        assert error_fields(exc) == set(bad)
        assert not Risk.objects.exists()
        risk = services.check_save_risk(consultant, engagement, self.fields(consultant))
        with pytest.raises(ValidationError):
            services.check_save_risk(consultant, engagement, bad, Risk.objects.get(pk=risk.pk))
        stored = Risk.objects.get(pk=risk.pk)
        assert (stored.category, stored.likelihood, stored.impact, stored.status) == ("network", 3, 2, "open")
        assert stored.description == "Hosts have no internet"

    def test_an_owner_from_another_customer_is_refused(self, consultant, stranger, engagement):
        with pytest.raises(ValidationError) as exc:
            services.check_save_risk(consultant, engagement, self.fields(stranger))
        assert error_fields(exc) == {"owner"}
        assert not Risk.objects.exists()

    def test_a_consultant_outside_the_engagement_cannot_own_a_risk(self, consultant, other_consultant, engagement):
        with pytest.raises(ValidationError) as exc:
            services.check_save_risk(consultant, engagement, self.fields(other_consultant))
        assert error_fields(exc) == {"owner"}
        assert not Risk.objects.exists()

    def test_another_pm_cannot_own_a_risk_but_the_engagements_pm_can(self, consultant, pm, engagement):
        other_pm = UserFactory(username="other_pm", role="pm")
        with pytest.raises(ValidationError) as exc:
            services.check_save_risk(consultant, engagement, self.fields(other_pm))
        assert error_fields(exc) == {"owner"}
        services.check_save_risk(consultant, engagement, self.fields(pm))
        assert Risk.objects.get().owner == pm

    def test_an_outsider_cannot_become_the_owner_on_edit(self, consultant, other_consultant, engagement):
        risk = services.check_save_risk(consultant, engagement, self.fields(consultant))
        with pytest.raises(ValidationError) as exc:
            services.check_save_risk(consultant, engagement, {"owner": other_consultant}, Risk.objects.get(pk=risk.pk))
        assert error_fields(exc) == {"owner"}
        assert Risk.objects.get(pk=risk.pk).owner == consultant

    def test_an_owner_who_left_the_engagement_stays_until_changed(self, consultant, colleague, engagement):
        risk = services.check_save_risk(consultant, engagement, self.fields(colleague))
        engagement.consultants.remove(colleague)
        services.check_save_risk(consultant, engagement, self.fields(colleague, status=Risk.Status.MITIGATING),
                                 Risk.objects.get(pk=risk.pk))
        assert (Risk.objects.get(pk=risk.pk).owner, Risk.objects.get(pk=risk.pk).status) == (colleague, "mitigating")

    def test_a_customer_contact_may_own_but_not_write_risks(self, consultant, contact, engagement):
        services.check_save_risk(consultant, engagement, self.fields(contact))
        assert Risk.objects.get().owner == contact
        with pytest.raises(PermissionDenied):
            services.check_save_risk(contact, engagement, self.fields(contact, description="By the customer"))
        with pytest.raises(PermissionDenied):
            services.check_delete_risk(contact, Risk.objects.get())
        assert list(Risk.objects.values_list("description", flat=True)) == ["Hosts have no internet"]


# --- deliverables -----------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 100
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 60
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 60


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "deliverable-media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.mark.django_db
class TestDeliverables:
    def assert_nothing_stored(self, media):
        assert Deliverable.objects.count() == 0
        assert stored_files(media) == []
        assert not AuditEvent.objects.filter(object_type="deliverable").exists()

    def test_an_accepted_upload_is_stored_with_its_digest(self, consultant, engagement, media):
        survey = stage_of(engagement)
        services.check_upload_deliverable(consultant, survey, SimpleUploadedFile("迁移方案.pdf", PDF), " The plan ")
        deliverable = Deliverable.objects.get()
        assert (deliverable.original_name, deliverable.size, deliverable.description) == (
            "迁移方案.pdf", len(PDF), "The plan")
        assert deliverable.sha256 == hashlib.sha256(PDF).hexdigest()
        assert (deliverable.content_type, deliverable.uploaded_by, deliverable.stage) == (
            "application/pdf", consultant, survey)
        [on_disk] = stored_files(media)
        assert on_disk.read_bytes() == PDF
        assert on_disk == media / deliverable.file.name

    def test_the_size_limit_is_inclusive(self, consultant, engagement, media, settings):
        settings.DELIVERABLE_MAX_BYTES = 1000
        survey = stage_of(engagement)
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, survey, SimpleUploadedFile("log.txt", b"a" * 1001))
        assert error_fields(exc) == {"file"} and "limit" in str(exc.value)
        self.assert_nothing_stored(media)
        services.check_upload_deliverable(consultant, survey, SimpleUploadedFile("log.txt", b"a" * 1000))
        assert Deliverable.objects.get().size == 1000

    @pytest.mark.parametrize("name", ["tool.exe", "page.html", "script.bat", "README", "plan.pdf.exe", "archive.7z"])
    def test_a_type_not_allowed_is_refused(self, consultant, engagement, media, name):
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile(name, b"hello\n"))
        assert error_fields(exc) == {"file"} and "not accepted" in str(exc.value)
        self.assert_nothing_stored(media)

    def test_the_allowed_types_come_from_the_settings(self, consultant, engagement, media, settings):
        settings.DELIVERABLE_EXTENSIONS = ["pdf"]
        with pytest.raises(ValidationError):
            services.check_upload_deliverable(consultant, stage_of(engagement),
                                              SimpleUploadedFile("notes.txt", b"hi\n"))
        self.assert_nothing_stored(media)

    @pytest.mark.parametrize(
        "name, content",
        [("report.pdf", ELF), ("report.pdf", PE), ("report.pdf", PNG), ("report.pdf", b"just some text\n"),
         ("slides.pptx", PE), ("sheet.xlsx", PDF), ("diagram.png", PDF), ("photo.jpg", ZIP), ("bundle.zip", ELF),
         ("notes.txt", ELF), ("setup.sh", PE), ("readme.md", ZIP), ("data.csv", PNG),
         ("train.py", b"print(1)\x00\x00")],
    )
    def test_content_that_does_not_match_the_extension_is_refused(self, consultant, engagement, media, name, content):
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile(name, content))
        assert error_fields(exc) == {"file"}
        self.assert_nothing_stored(media)

    def test_a_zip_container_is_accepted_as_an_office_file(self, consultant, engagement, media):
        services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile("plan.docx", ZIP))
        assert Deliverable.objects.get().original_name == "plan.docx"

    def test_an_empty_file_is_refused(self, consultant, engagement, media):
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile("empty.txt", b""))
        assert "empty" in str(exc.value)
        self.assert_nothing_stored(media)

    def test_a_customer_contact_cannot_upload(self, contact, engagement, media):
        with pytest.raises(PermissionDenied):
            services.check_upload_deliverable(contact, stage_of(engagement), SimpleUploadedFile("plan.pdf", PDF))
        self.assert_nothing_stored(media)

    def test_a_too_long_description_is_a_clear_error_and_leaves_no_file(self, consultant, engagement, media):
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile("plan.pdf", PDF),
                                              "d" * 301)
        assert error_fields(exc) == {"description"}
        self.assert_nothing_stored(media)
        services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile("plan.pdf", PDF),
                                          "d" * 300)
        assert len(Deliverable.objects.get().description) == 300

    def test_a_failed_insert_removes_the_stored_file(self, consultant, engagement, media):
        # A real refusal by PostgreSQL after the file is written (rolled back with the test's transaction).
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {Deliverable._meta.db_table} ADD CONSTRAINT refuse_all CHECK (size < 0)")
        with pytest.raises(IntegrityError):
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile("plan.pdf", PDF))
        self.assert_nothing_stored(media)

    @pytest.mark.parametrize(
        "name, content",
        [("fleet.csv", b"BMW,3\nAudi,2\n"), ("notes.md", b"MZ-01 notes\n"), ("results.txt", b"ID3 results: ok\n"),
         ("loss.log", b"GIF89a step 1 loss 2.3\n"), ("run.sh", b"#!/bin/sh\nPK=1 python train.py\n"),
         ("说明.txt", "昇腾迁移说明\n".encode()), ("bom.csv", "\ufeff模型,分数\n".encode()),
         ("gbk.csv", "模型,分数\nresnet50,76.1\n".encode("gb18030")),
         ("win.log", "Windows 日志\r\n".encode("utf-16")),
         ("train.log", b"\x1b[32mINFO\x1b[0m step 1\r step 2\tdone\n")],
    )
    def test_a_genuine_text_file_is_accepted(self, consultant, engagement, media, name, content):
        services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile(name, content))
        deliverable = Deliverable.objects.get()
        assert (deliverable.original_name, deliverable.content_type) == (name, "text/plain")
        [on_disk] = stored_files(media)
        assert on_disk.read_bytes() == content

    @pytest.mark.parametrize(
        "name, content",
        [("notes.txt", PDF), ("notes.md", b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"),
         ("data.csv", b"a,b\n\x01\x02\x03\n"),
         ("notes.txt", b"ok\n" * 4000 + b"\x7fELF\x02\x01\x01\x00"), ("notes.txt", b"text\n" * 3000 + b"\xff\xfe\xfd"),
         ("notes.txt", b"PK\x03\x04zip without nul")],
    )
    def test_binary_content_named_as_text_is_refused(self, consultant, engagement, media, name, content):
        with pytest.raises(ValidationError) as exc:
            services.check_upload_deliverable(consultant, stage_of(engagement), SimpleUploadedFile(name, content))
        assert error_fields(exc) == {"file"}
        self.assert_nothing_stored(media)


# --- progress and figures ---------------------------------------------------------------------


@pytest.mark.django_db
class TestProgress:
    def test_a_stage_shows_the_share_of_closed_items_and_is_complete_only_when_finished(self, consultant, engagement):
        plan = stage_of(engagement, StageKey.PLAN)
        total = len(ACTIVITIES[StageKey.PLAN])
        assert plan.progress() == 0.0
        services.check_transition_stage(consultant, plan, Stage.Status.IN_PROGRESS)
        items = list(plan.checklist.order_by("position"))
        services.check_set_checklist_item(consultant, items[0], ChecklistItem.State.DONE)
        services.check_set_checklist_item(consultant, items[1], ChecklistItem.State.WAIVED, "Not needed")
        assert plan.progress() == pytest.approx(2 / total)
        annotated = Stage.objects.with_figures().get(pk=plan.pk)
        assert annotated.progress() == pytest.approx(2 / total)
        for item in items[2:]:
            services.check_set_checklist_item(consultant, item, ChecklistItem.State.DONE)
        assert Stage.objects.get(pk=plan.pk).progress() < 1.0  # every item closed, still in progress
        services.check_transition_stage(consultant, plan, Stage.Status.DONE)
        assert Stage.objects.get(pk=plan.pk).progress() == 1.0
        assert Stage.objects.with_figures().get(pk=plan.pk).progress_percent == 100

    def test_the_engagement_weighs_stages_by_planned_person_days(self, consultant, engagement):
        survey, plan, env = (stage_of(engagement, key) for key in (StageKey.SURVEY, StageKey.PLAN, StageKey.ENV_SETUP))
        services.check_plan_stage(consultant, survey, {"planned_person_days": Decimal("4")})
        services.check_plan_stage(consultant, plan, {"planned_person_days": Decimal("6")})
        services.check_plan_stage(consultant, env, {"planned_person_days": Decimal("10")})
        finish(consultant, survey)
        services.check_transition_stage(consultant, plan, Stage.Status.IN_PROGRESS)
        services.check_set_checklist_item(consultant, plan.checklist.order_by("position").first(),
                                          ChecklistItem.State.DONE)
        expected = (4 * 1.0 + 6 * (1 / len(ACTIVITIES[StageKey.PLAN])) + 10 * 0.0) / 20
        fresh = Engagement.objects.get(pk=engagement.pk)
        assert fresh.progress() == pytest.approx(expected)
        assert fresh.progress_percent == round(expected * 100)

    def test_without_a_plan_every_counted_stage_weighs_the_same_and_skipped_ones_do_not_count(self, pm, consultant,
                                                                                               customer_a):
        inference_only = make_engagement(pm, customer_a, consultants=[consultant], scope_training_migration=False)
        skipped = set(inference_only.stages.filter(status=Stage.Status.SKIPPED).values_list("key", flat=True))
        assert skipped == {StageKey.TRAINING_ADAPTATION, StageKey.TRAINING_TUNING}
        finish(consultant, stage_of(inference_only, StageKey.SURVEY))
        finish(consultant, stage_of(inference_only, StageKey.PLAN))
        assert Engagement.objects.get(pk=inference_only.pk).progress() == pytest.approx(2 / 5)

    def test_the_database_computes_the_same_progress_as_python(self, pm, consultant, customer_a, engagement):
        """``with_progress()`` (the API's lists) and ``progress()`` (the pages) agree, case by case."""
        survey, plan, env = (stage_of(engagement, key) for key in (StageKey.SURVEY, StageKey.PLAN, StageKey.ENV_SETUP))
        services.check_plan_stage(consultant, survey, {"planned_person_days": Decimal("4")})
        services.check_plan_stage(consultant, plan, {"planned_person_days": Decimal("2.5")})
        services.check_plan_stage(consultant, env, {"planned_person_days": Decimal("10")})
        finish(consultant, survey)
        services.check_transition_stage(consultant, plan, Stage.Status.IN_PROGRESS)
        services.check_set_checklist_item(consultant, plan.checklist.order_by("position").first(),
                                          ChecklistItem.State.DONE)
        services.check_transition_stage(consultant, env, Stage.Status.IN_PROGRESS)
        for item in env.checklist.all():  # every item closed: still capped below complete
            services.check_set_checklist_item(consultant, item, ChecklistItem.State.DONE)
        services.check_transition_stage(consultant, env, Stage.Status.BLOCKED, "Firewall")

        unplanned = make_engagement(pm, customer_a, consultants=[consultant], scope_training_migration=False)
        finish(consultant, stage_of(unplanned, StageKey.SURVEY))
        no_items = stage_of(unplanned, StageKey.PLAN)
        services.check_transition_stage(consultant, no_items, Stage.Status.IN_PROGRESS)
        no_items.checklist.all().delete()  # a stage without a checklist counts as not done at all

        nothing_counted = make_engagement(pm, customer_a, scope_training_migration=False,
                                          scope_inference_migration=False)
        for key in (StageKey.SURVEY, StageKey.PLAN, StageKey.ENV_SETUP):
            services.check_transition_stage(pm, stage_of(nothing_counted, key), Stage.Status.SKIPPED, "Not needed")
        untouched = make_engagement(pm, customer_a)

        annotated = {e.pk: e.progress_share for e in Engagement.objects.with_progress()}
        for one in (engagement, unplanned, nothing_counted, untouched):
            expected = Engagement.objects.get(pk=one.pk).progress()
            assert annotated[one.pk] == pytest.approx(expected, rel=1e-12, abs=1e-12), one.code
        assert annotated[engagement.pk] == pytest.approx(
            (4 * 1.0 + 2.5 / len(ACTIVITIES[StageKey.PLAN]) + 10 * 0.95) / 16.5)
        assert annotated[unplanned.pk] == pytest.approx(1 / 5)
        assert annotated[nothing_counted.pk] == annotated[untouched.pk] == 0.0
        assert Engagement.objects.with_progress().get(pk=engagement.pk).progress() == annotated[engagement.pk]

    def test_planned_and_actual_person_days_and_late_stages_are_computed(
        self, pm, consultant, colleague, engagement, second_engagement
    ):
        today = timezone.localdate()
        week_ago, yesterday, tomorrow = (today - datetime.timedelta(days=7), today - datetime.timedelta(days=1),
                                         today + datetime.timedelta(days=1))
        s = {stage.key: stage for stage in engagement.stages.all()}
        plans = {  # key: (start, end, person-days)
            StageKey.SURVEY: (week_ago, yesterday, Decimal("3")),  # done today: late
            StageKey.PLAN: (week_ago, tomorrow, Decimal("2.5")),  # done today: on time
            StageKey.ENV_SETUP: (week_ago, yesterday, Decimal("4")),  # in progress past its end: late
            StageKey.TRAINING_ADAPTATION: (week_ago, yesterday, Decimal("5")),  # not started past its end: late
            StageKey.TRAINING_TUNING: (week_ago, yesterday, Decimal("0")),  # skipped: never late
            StageKey.INFERENCE_MIGRATION: (week_ago, today, Decimal("2")),  # ends today: not late yet
        }
        for key, (start, end, pd) in plans.items():
            services.check_plan_stage(pm, s[key],
                                      {"planned_start": start, "planned_end": end, "planned_person_days": pd})
        finish(consultant, s[StageKey.SURVEY])
        finish(consultant, s[StageKey.PLAN])
        services.check_transition_stage(consultant, s[StageKey.ENV_SETUP], Stage.Status.IN_PROGRESS)
        services.check_transition_stage(pm, s[StageKey.TRAINING_TUNING], Stage.Status.SKIPPED, "Out of scope")
        logs = [(consultant, StageKey.SURVEY, 3, "1"), (consultant, StageKey.SURVEY, 4, "0.5"),
                (colleague, StageKey.SURVEY, 3, "1"), (consultant, StageKey.ENV_SETUP, 2, "0.5"),
                (colleague, StageKey.PLAN, 1, "0.5")]
        for user, key, ago, pd in logs:
            services.check_log_work(user, s[key], days_ago(ago), pd, "Work")
        # Work on another engagement must not count here.
        services.check_log_work(consultant, stage_of(second_engagement), days_ago(5), "1", "Elsewhere")

        figures = Engagement.objects.with_figures().get(pk=engagement.pk)
        assert figures.planned_pd == Decimal("16.5")
        assert figures.logged_pd == Decimal("3.5")
        assert figures.late_stages == 3
        late = {stage.key for stage in Stage.objects.filter(engagement=engagement) if stage.is_late()}
        assert late == {StageKey.SURVEY, StageKey.ENV_SETUP, StageKey.TRAINING_ADAPTATION}
        per_stage = {stage.key: stage.logged_pd for stage in Stage.objects.with_figures().filter(engagement=engagement)}
        assert per_stage[StageKey.SURVEY] == Decimal("2.5")
        assert per_stage[StageKey.PLAN] == Decimal("0.5")
        assert per_stage[StageKey.ENV_SETUP] == Decimal("0.5")
        assert per_stage[StageKey.INFERENCE_TUNING] == Decimal("0")
        other = Engagement.objects.with_figures().get(pk=second_engagement.pk)
        assert (other.planned_pd, other.logged_pd, other.late_stages) == (Decimal("0"), Decimal("1"), 0)

    def test_figures_follow_edits_and_deletes_of_logs(self, consultant, pm, engagement):
        survey = stage_of(engagement)
        log = services.check_log_work(consultant, survey, days_ago(1), "1", "Full day")
        services.check_log_work(consultant, survey, days_ago(2), "0.5", "Half")
        services.check_log_work(consultant, survey, days_ago(1), "0.5", "Half in the end",
                                log=WorkLog.objects.get(pk=log.pk))
        assert Engagement.objects.with_figures().get(pk=engagement.pk).logged_pd == Decimal("1")
        services.check_delete_work_log(pm, WorkLog.objects.get(pk=log.pk))
        assert Engagement.objects.with_figures().get(pk=engagement.pk).logged_pd == Decimal("0.5")


# --- dates in order ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestDates:
    def test_a_stage_planned_end_before_its_start_is_refused(self, consultant, engagement):
        survey = stage_of(engagement)
        with pytest.raises(ValidationError) as exc:
            services.check_plan_stage(consultant, survey, {
                "planned_start": datetime.date(2026, 3, 10), "planned_end": datetime.date(2026, 3, 1)})
        assert "cannot be before the planned start" in str(exc.value)
        assert error_fields(exc) == {"planned_end"}  # next to the field, not above the form
        survey.refresh_from_db()
        assert (survey.planned_start, survey.planned_end) == (None, None)
        assert not AuditEvent.objects.filter(object_type="stage", action="update").exists()

    def test_moving_only_the_end_before_the_existing_start_is_refused(self, consultant, engagement):
        survey = stage_of(engagement)
        start, end = datetime.date(2026, 3, 1), datetime.date(2026, 3, 10)
        services.check_plan_stage(consultant, survey, {"planned_start": start, "planned_end": end})
        with pytest.raises(ValidationError):
            services.check_plan_stage(consultant, Stage.objects.get(pk=survey.pk),
                                      {"planned_end": datetime.date(2026, 2, 28)})
        # The same day is fine.
        services.check_plan_stage(consultant, Stage.objects.get(pk=survey.pk), {"planned_end": start})
        survey.refresh_from_db()
        assert (survey.planned_start, survey.planned_end) == (start, start)

    def test_a_negative_planned_person_days_is_refused(self, consultant, engagement):
        with pytest.raises(ValidationError) as exc:
            services.check_plan_stage(consultant, stage_of(engagement), {"planned_person_days": Decimal("-1")})
        assert error_fields(exc) == {"planned_person_days"}
        assert stage_of(engagement).planned_person_days == Decimal("0")

    def test_an_engagement_ending_before_it_starts_is_not_created(self, pm, customer_a):
        with pytest.raises(ValidationError) as exc:
            make_engagement(pm, customer_a, start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 4, 30))
        assert "end date cannot be before the start date" in str(exc.value)
        assert exc.value.message_dict == {"end_date": ["The end date cannot be before the start date."]}
        assert (Engagement.objects.count(), Stage.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)

    def test_an_engagement_edit_ending_before_its_start_is_refused(self, pm, engagement):
        with pytest.raises(ValidationError) as exc:
            services.check_update_engagement(pm, Engagement.objects.get(pk=engagement.pk),
                                             {"end_date": datetime.date(2025, 12, 31)})
        assert error_fields(exc) == {"end_date"}
        stored = Engagement.objects.get(pk=engagement.pk)
        assert (stored.start_date, stored.end_date) == (datetime.date(2026, 1, 5), datetime.date(2026, 6, 30))
        assert not AuditEvent.objects.filter(object_type="engagement", action="update").exists()


# --- the audit trail --------------------------------------------------------------------------


@pytest.mark.django_db
class TestAudit:
    def test_creating_and_changing_an_engagement(self, pm, consultant, customer_a):
        colleague = UserFactory(username="colleague", role="consultant")
        before = timezone.now()
        engagement = make_engagement(pm, customer_a, consultants=[consultant], title="Detector migration")
        after = timezone.now()
        [created] = events(object_type="engagement", action="create")
        assert (created.actor, created.engagement, created.object_id) == (pm, engagement, str(engagement.pk))
        assert before <= created.created_at <= after
        assert created.changes["title"] == "Detector migration"
        assert created.changes["end_date"] == "2026-06-30"

        services.check_update_engagement(
            pm, Engagement.objects.get(pk=engagement.pk),
            {"title": "Detector and OCR migration", "end_date": datetime.date(2026, 7, 31)},
            consultants=[consultant, colleague],
        )
        [updated] = events(object_type="engagement", action="update")
        assert updated.actor == pm and updated.object_id == str(engagement.pk)
        assert updated.changes == {
            "title": ["Detector migration", "Detector and OCR migration"],
            "end_date": ["2026-06-30", "2026-07-31"],
            "consultants": [["consultant"], ["colleague", "consultant"]],
        }

    def test_the_trail_names_objects_in_the_readers_language_whoever_made_the_change(self, consultant, engagement,
                                                                                     client):
        survey = stage_of(engagement)
        with translation.override("zh-hans"):  # the consultant works in Chinese
            services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
        [moved] = events(object_type="stage", action="transition")
        with translation.override("en"):
            assert "Survey" in moved.object_name and "调研" not in moved.object_name
        with translation.override("zh-hans"):
            assert "调研" in moved.object_name
        assert moved.object_repr == moved.object_names["en"]  # the record itself is in English
        client.force_login(engagement.pm)  # an English-speaking PM reads the trail
        trail = client.get(f"/engagements/{engagement.uuid}/").content.decode().split('data-testid="audit-trail"')[1]
        assert "Survey and assessment" in trail and "调研" not in trail

    def test_a_consultant_cannot_change_an_engagement_and_nothing_is_recorded(self, consultant, engagement):
        with pytest.raises(PermissionDenied):
            services.check_update_engagement(consultant, engagement, {"title": "Mine now"})
        assert Engagement.objects.get(pk=engagement.pk).title != "Mine now"
        assert not AuditEvent.objects.filter(action="update").exists()

    def test_planning_and_moving_a_stage(self, consultant, engagement):
        survey = stage_of(engagement)
        services.check_plan_stage(consultant, survey, {
            "planned_start": datetime.date(2026, 2, 1), "planned_end": datetime.date(2026, 2, 20),
            "planned_person_days": Decimal("8")})
        [planned] = events(object_type="stage", action="update")
        assert (planned.actor, planned.object_id, planned.engagement) == (consultant, str(survey.pk), engagement)
        assert set(planned.changes) == {"planned_start", "planned_end", "planned_person_days"}
        assert planned.changes["planned_start"] == [None, "2026-02-01"]
        assert planned.changes["planned_end"] == [None, "2026-02-20"]
        old, new = planned.changes["planned_person_days"]
        assert (Decimal(old), Decimal(new)) == (Decimal("0"), Decimal("8"))

        services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
        services.check_transition_stage(consultant, survey, Stage.Status.BLOCKED, "Firewall closed")
        moves = events(object_type="stage", action="transition", object_id=str(survey.pk))
        assert [(e.actor, e.changes) for e in moves] == [
            (consultant, {"status": ["not_started", "in_progress"], "reason": ""}),
            (consultant, {"status": ["in_progress", "blocked"], "reason": "Firewall closed"}),
        ]

    def test_logging_changing_and_deleting_work(self, consultant, pm, engagement):
        survey = stage_of(engagement)
        log = services.check_log_work(consultant, survey, days_ago(1), "1", "Installed CANN")
        [created] = events(object_type="worklog", action="create")
        assert (created.actor, created.object_id, created.engagement) == (consultant, str(log.pk), engagement)
        assert created.changes["date"] == days_ago(1).isoformat()
        assert Decimal(created.changes["person_days"]) == Decimal("1")
        assert created.changes["summary"] == "Installed CANN"

        services.check_log_work(consultant, survey, days_ago(1), "0.5", "Installed CANN 8.0",
                                log=WorkLog.objects.get(pk=log.pk))
        [updated] = events(object_type="worklog", action="update")
        assert updated.actor == consultant and updated.object_id == str(log.pk)
        assert set(updated.changes) == {"person_days", "summary"}
        assert [Decimal(v) for v in updated.changes["person_days"]] == [Decimal("1"), Decimal("0.5")]
        assert updated.changes["summary"] == ["Installed CANN", "Installed CANN 8.0"]

        services.check_delete_work_log(pm, WorkLog.objects.get(pk=log.pk))
        [deleted] = events(object_type="worklog", action="delete")
        assert (deleted.actor, deleted.object_id, deleted.engagement) == (pm, str(log.pk), engagement)
        assert deleted.changes["summary"] == "Installed CANN 8.0"
        assert not WorkLog.objects.exists()

    def test_a_refused_log_records_nothing(self, consultant, engagement):
        services.check_log_work(consultant, stage_of(engagement), days_ago(1), "1", "Full day")
        with pytest.raises(ValidationError):
            services.check_log_work(consultant, stage_of(engagement), days_ago(1), "0.5", "Over the cap")
        assert len(events(object_type="worklog")) == 1

    def test_changing_only_the_summary_records_only_the_summary(self, consultant, engagement):
        survey = stage_of(engagement)
        log = services.check_log_work(consultant, survey, days_ago(1), "1", "Installed CANN")
        services.check_log_work(consultant, survey, days_ago(1), "1.0", "Installed CANN 8.0",
                                log=WorkLog.objects.get(pk=log.pk))
        [updated] = events(object_type="worklog", action="update")
        assert updated.changes == {"summary": ["Installed CANN", "Installed CANN 8.0"]}

    def test_saving_an_unchanged_plan_records_nothing(self, consultant, engagement):
        survey = stage_of(engagement)
        plan = {"planned_start": datetime.date(2026, 2, 1), "planned_end": datetime.date(2026, 2, 20),
                "planned_person_days": Decimal("5")}
        services.check_plan_stage(consultant, survey, plan)
        services.check_plan_stage(consultant, Stage.objects.get(pk=survey.pk), plan)
        services.check_plan_stage(consultant, Stage.objects.get(pk=survey.pk), {"planned_person_days": Decimal("5.0")})
        [planned] = events(object_type="stage", action="update")
        assert planned.changes["planned_person_days"] == ["0", "5"]

    def test_a_changed_decimal_is_recorded_in_plain_notation(self, consultant, engagement):
        survey = stage_of(engagement)
        services.check_plan_stage(consultant, survey, {"planned_person_days": Decimal("100")})
        services.check_plan_stage(consultant, Stage.objects.get(pk=survey.pk), {"planned_person_days": Decimal("2.5")})
        assert [e.changes["planned_person_days"] for e in events(object_type="stage", action="update")] == [
            ["0", "100"], ["100", "2.5"]]

    def test_adding_changing_and_deleting_a_risk(self, consultant, pm, engagement):
        risk = services.check_save_risk(consultant, engagement, {
            "category": Risk.Category.DATASET, "description": "Data set cannot leave the site", "likelihood": 2,
            "impact": 3, "mitigation": "", "owner": consultant, "status": Risk.Status.OPEN})
        [created] = events(object_type="risk", action="create")
        assert (created.actor, created.object_id, created.engagement) == (consultant, str(risk.pk), engagement)
        assert (created.changes["category"], created.changes["likelihood"], created.changes["impact"]) == (
            "dataset", 2, 3)
        assert created.changes["owner"] == str(consultant)

        services.check_save_risk(pm, engagement, {"status": Risk.Status.MITIGATING, "mitigation": "Work on site",
                                                  "owner": pm}, Risk.objects.get(pk=risk.pk))
        [updated] = events(object_type="risk", action="update")
        assert updated.actor == pm
        assert updated.changes == {"status": ["open", "mitigating"], "mitigation": ["", "Work on site"],
                                   "owner": [str(consultant), str(pm)]}

        services.check_delete_risk(pm, Risk.objects.get(pk=risk.pk))
        [deleted] = events(object_type="risk", action="delete")
        assert (deleted.actor, deleted.object_id) == (pm, str(risk.pk))
        assert not Risk.objects.exists()


# --- settings from the environment ------------------------------------------------------------


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process with only the given environment (plus PATH and HOME)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def production_env() -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    from cryptography.fernet import Fernet

    return {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(60)[:60], "ALLOWED_HOSTS": "portal.example.com",
            "DATABASE_URL": url, "FERNET_KEYS": Fernet.generate_key().decode()}


@pytest.mark.django_db
def test_check_deploy_passes_with_production_settings():
    env = production_env()
    assert len(env["SECRET_KEY"]) == 60
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stderr.upper() and "?: (" not in result.stdout + result.stderr


def test_makemigrations_check_needs_no_production_secrets_but_other_commands_do(tmp_path):
    """A fresh checkout's `manage.py makemigrations --check` (CI) reads only the code."""
    checked = run_manage("makemigrations", "--check", "--dry-run", VAR_DIR=str(tmp_path))
    assert checked.returncode == 0 and "No changes detected" in checked.stdout, checked.stderr[-2000:]
    refused = run_manage("check", VAR_DIR=str(tmp_path))
    assert refused.returncode != 0 and "Set the environment variable SECRET_KEY" in refused.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("SECRET_KEY", "too-short-for-production", "SECRET_KEY must be at least 50 characters"),
        ("SECRET_KEY", None, "Set the environment variable SECRET_KEY"),
        ("DEBUG", "maybe", "Unexpected value DEBUG='maybe'"),
        ("DATABASE_URL", "not-a-url", "Unexpected value DATABASE_URL='not-a-url'"),
        ("DATABASE_URL", "postgres://user@db:notaport/portal", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://user@db/portal", "DATABASE_URL must be a postgres:// or sqlite:// URL"),
        ("DELIVERABLE_MAX_BYTES", "fifty", "Unexpected value DELIVERABLE_MAX_BYTES='fifty'"),
        ("CELERY_BROKER_URL", "amqp://guest@rabbit//", "CELERY_BROKER_URL"),
        ("FERNET_KEYS", None, "FERNET_KEYS is required in production"),
        ("JOB_LEASE_SECONDS", "0", "JOB_LEASE_SECONDS='0', use a whole number of at least 5"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(variable, value, message):
    env = production_env()
    if value is None:
        env.pop(variable)
    else:
        env[variable] = value
    result = run_manage("check", **env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[-2000:]
    assert message in last_line


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variable, value",
    [("WORKLOG_STEP_DAYS", "abc"), ("WORKLOG_STEP_DAYS", "0"), ("WORKLOG_STEP_DAYS", "-0.5"),
     ("WORKLOG_STEP_DAYS", "2"), ("WORKLOG_STEP_DAYS", "0.125"), ("WORKLOG_STEP_DAYS", "0.3"),
     ("WORKLOG_STEP_DAYS", "NaN"), ("WORKLOG_STEP_DAYS", "Infinity"), ("DELIVERABLE_MAX_BYTES", "-5"),
     ("DELIVERABLE_MAX_BYTES", "0"),
     ("FERNET_KEYS", "not-a-fernet-key"), ("FERNET_KEYS", f"{'A' * 43}=,short")],
)
def test_a_bad_setting_stops_start_up(variable, value):
    result = run_manage("check", **{**production_env(), variable: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[-2000:]
    assert variable in last_line
    if variable == "FERNET_KEYS":
        assert "short" not in last_line and "not-a-fernet-key" not in last_line  # a secret is never echoed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variable, value",
    [("WORKLOG_STEP_DAYS", "1"), ("WORKLOG_STEP_DAYS", "0.25"), ("WORKLOG_STEP_DAYS", "0.05"),
     ("WORKLOG_STEP_DAYS", "0.50"), ("DELIVERABLE_MAX_BYTES", "1"),
     ("FERNET_KEYS", f"{'A' * 43}=, {'_' * 43}=")],
)
def test_a_good_setting_starts(variable, value):
    result = run_manage("check", **{**production_env(), variable: value})
    assert result.returncode == 0, result.stderr[-2000:]


# --- the person-days parser -------------------------------------------------------------------

STEPS = ["0.5", "0.25", "0.1"]


def accepts(value) -> Decimal | None:
    """parse_person_days(value), or None when it refuses the value with a ValidationError."""
    try:
        return services.parse_person_days(value)
    except ValidationError as exc:
        assert set(exc.message_dict) == {"person_days"}
        return None


@given(step=st.sampled_from(STEPS), data=st.data())
def test_every_multiple_of_the_step_up_to_one_day_is_accepted(step, data):
    count = int(1 / Fraction(step))
    n = data.draw(st.integers(min_value=1, max_value=count))
    exact = Fraction(step) * n
    zeros = data.draw(st.integers(min_value=0, max_value=4))
    text = f"{Decimal(exact.numerator) / Decimal(exact.denominator):f}"
    text = text + ("0" * zeros if "." in text else "." + "0" * zeros if zeros else "")
    with override_settings(WORKLOG_STEP_DAYS=step):
        parsed = accepts(data.draw(st.sampled_from([text, f" {text} ", f"+{text}"])))
    assert parsed is not None and Fraction(parsed) == exact


@given(step=st.sampled_from(STEPS), coefficient=st.integers(-(10**12), 10**12), exponent=st.integers(-30, 4),
       notation=st.sampled_from(["plain", "scientific"]))
@example(step="0.5", coefficient=5, exponent=-1, notation="plain")
@example(step="0.5", coefficient=0, exponent=0, notation="plain")
@example(step="0.5", coefficient=15, exponent=-1, notation="plain")
@example(step="0.5", coefficient=5000001, exponent=-7, notation="plain")
@example(step="0.5", coefficient=-5, exponent=-1, notation="plain")
@example(step="0.25", coefficient=125, exponent=-3, notation="plain")
def test_a_number_is_accepted_exactly_when_it_is_a_multiple_of_the_step_in_zero_to_one(step, coefficient, exponent,
                                                                                       notation):
    value = Fraction(coefficient) * Fraction(10) ** exponent
    text = f"{coefficient}E{exponent}" if notation == "scientific" else f"{Decimal(coefficient).scaleb(exponent):f}"
    expected = 0 < value <= 1 and (value / Fraction(step)).denominator == 1
    with override_settings(WORKLOG_STEP_DAYS=step):
        parsed = accepts(text)
    if expected:
        assert parsed is not None and Fraction(parsed) == value
    else:
        assert parsed is None


@given(text=st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=30))
@example(text="")
@example(text="half")
@example(text="½")
@example(text="一天")
def test_text_without_digits_is_refused(text):
    assert accepts(text) is None


@given(step=st.sampled_from(STEPS), coefficient=st.integers(-(10**6), 10**6),
       exponent=st.integers(-(10**12), -(10**5)))
@example(step="0.5", coefficient=1, exponent=-1000030)
def test_a_value_too_small_to_represent_is_refused(step, coefficient, exponent):
    with override_settings(WORKLOG_STEP_DAYS=step):
        assert accepts(f"{coefficient}E{exponent}") is None


@given(word=st.sampled_from(["NaN", "nan", "-NaN", "sNaN", "Infinity", "inf", "-Infinity", "+Inf"]),
       padding=st.sampled_from(["", " ", "\t"]))
def test_not_a_number_and_infinity_are_refused(word, padding):
    assert accepts(f"{padding}{word}{padding}") is None


@given(step=st.sampled_from(STEPS), data=st.data(), places=st.integers(min_value=3, max_value=40))
def test_a_multiple_plus_a_tiny_remainder_is_refused(step, data, places):
    n = data.draw(st.integers(min_value=0, max_value=int(1 / Fraction(step)) - 1))
    multiple = f"{Decimal(step) * n:.{places}f}"  # exact: the multiple has at most two decimals
    text = multiple[:-1] + "1"
    assert Fraction(text) == Fraction(step) * n + Fraction(1, 10**places)
    with override_settings(WORKLOG_STEP_DAYS=step):
        assert accepts(text) is None
        assert accepts("-" + text) is None


@given(junk=st.sampled_from(["0.5.0", "1,0", "0,5", "1/2", "0.5 days", "0.5d", "--0.5", "0. 5", "5%", "[0.5]", "None"]))
def test_garbage_around_a_number_is_refused(junk):
    assert accepts(junk) is None


# --- what counts as text ----------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cc", "Cs"]) | st.sampled_from("\t\n\r\x1b"), max_size=300)


def is_text(content: bytes, cuts: list[int] = ()) -> bool:
    """TextCheck over ``content`` fed in pieces split at ``cuts``."""
    check = TextCheck(content[:8192])
    bounds = [0, *sorted(cuts), len(content)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        check.feed(content[start:end])
    return check.finish()


@given(text=TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]), data=st.data())
def test_text_in_a_supported_encoding_is_text_wherever_the_chunks_split(text, encoding, data):
    content = text.encode(encoding)
    cuts = data.draw(st.lists(st.integers(0, len(content)), max_size=5))
    assert is_text(content, cuts)


@given(before=TEXT, after=TEXT, control=st.sampled_from("\x00\x01\x02\x03\x04\x05\x06\x07\x0e\x10\x1a\x1c\x1f\x7f"),
       encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_a_control_character_makes_it_binary(before, after, control, encoding):
    assert not is_text((before + control + after).encode(encoding))


@given(before=TEXT, after=TEXT)
@example(before="", after="")
def test_bytes_that_no_text_encoding_reads_are_binary(before, after):
    assert not is_text(before.encode() + b"\xff\xff" + after.encode())  # 0xFF starts no UTF-8 or GB18030 character
