"""The browser screens, through Django's test client against the real PostgreSQL."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from engagements import services
from engagements.models import ChecklistItem, Deliverable, Engagement, Stage, WorkLog

from ..factories import make_engagement

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def stage_of(engagement, key="survey") -> Stage:
    return engagement.stages.get(key=key)


def test_a_consultant_sees_only_assigned_engagements(client, consultant, engagement, other_engagement):
    client.force_login(consultant)
    page = client.get(reverse("engagement_list")).content.decode()
    assert engagement.code in page
    assert other_engagement.code not in page


def test_a_pm_sees_all_engagements_and_filters_the_late_ones(client, pm, engagement, other_engagement):
    late = stage_of(engagement)
    services.check_plan_stage(pm, late,
                              {"planned_start": datetime.date(2026, 1, 5), "planned_end": datetime.date(2026, 1, 9)})
    client.force_login(pm)
    page = client.get(reverse("engagement_list")).content.decode()
    assert engagement.code in page and other_engagement.code in page
    late_only = client.get(reverse("engagement_list"), {"health": "late"}).content.decode()
    assert engagement.code in late_only
    assert other_engagement.code not in late_only


def test_the_pm_overview_costs_the_same_queries_for_many_engagements(client, pm, customer_a,
                                                                     django_assert_max_num_queries):
    for _ in range(3):
        make_engagement(pm, customer_a)
    client.force_login(pm)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("engagement_list"))
    for _ in range(12):
        make_engagement(pm, customer_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("engagement_list"))
    assert response.content.decode().count("steps") >= 15


def test_a_customer_contact_sees_progress_but_no_internal_notes_or_logs(client, contact, consultant, engagement):
    survey = stage_of(engagement)
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    services.check_log_work(consultant, survey, timezone.localdate(), "0.5", "SECRET-LOG-SUMMARY")
    client.force_login(contact)
    detail = client.get(reverse("engagement_detail", args=[engagement.uuid])).content.decode()
    assert engagement.code in detail
    assert "INTERNAL-NOTE-DO-NOT-SHOW" not in detail
    stage_page = client.get(reverse("stage_detail", args=[survey.uuid])).content.decode()
    assert "SECRET-LOG-SUMMARY" not in stage_page
    assert 'name="state"' not in stage_page  # read-only checklist
    assert client.get(reverse("risk_register", args=[engagement.uuid])).status_code == 403


def test_another_customers_engagement_is_not_found(client, stranger, other_consultant, engagement):
    survey = stage_of(engagement)
    for user in (stranger, other_consultant):
        client.force_login(user)
        assert client.get(reverse("engagement_detail", args=[engagement.uuid])).status_code == 404
        assert client.get(reverse("stage_detail", args=[survey.uuid])).status_code == 404
        response = client.post(reverse("stage_transition", args=[survey.uuid]), {"to_status": "in_progress"})
        assert response.status_code == 404
    survey.refresh_from_db()
    assert survey.status == Stage.Status.NOT_STARTED


def test_a_customer_contact_cannot_write_through_the_screens(client, contact, engagement):
    survey = stage_of(engagement)
    item = survey.checklist.first()
    client.force_login(contact)
    assert client.post(reverse("stage_transition", args=[survey.uuid]), {"to_status": "in_progress"}).status_code == 403
    url = reverse("checklist_item_state", args=[survey.uuid, item.pk])
    assert client.post(url, {"state": "done"}).status_code == 403
    today = timezone.localdate().isoformat()
    work = {"date": today, "person_days": "1", "summary": "x"}
    assert client.post(reverse("log_work", args=[survey.uuid]), work).status_code == 403
    survey.refresh_from_db()
    item.refresh_from_db()
    assert (survey.status, item.state, WorkLog.objects.count()) == ("not_started", "open", 0)


def test_ticking_an_item_with_htmx_returns_the_checklist(client, consultant, engagement):
    survey = stage_of(engagement)
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    item = survey.checklist.first()
    client.force_login(consultant)
    response = client.post(reverse("checklist_item_state", args=[survey.uuid, item.pk]), {"state": "done"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="checklist">')
    assert f'data-testid="untick-{item.pk}"' in body
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.DONE and item.closed_by == consultant


def test_waiving_without_a_reason_shows_the_error_at_the_item(client, consultant, engagement):
    survey = stage_of(engagement)
    item = survey.checklist.first()
    client.force_login(consultant)
    response = client.post(reverse("checklist_item_state", args=[survey.uuid, item.pk]), {"state": "waived"}, **HTMX)
    assert response.status_code == 400
    assert "Say why this item is waived" in response.content.decode()
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN


def test_a_log_work_error_keeps_what_was_typed(client, consultant, engagement):
    survey = stage_of(engagement)
    client.force_login(consultant)
    data = {"date": timezone.localdate().isoformat(), "person_days": "1.5", "summary": "Installed CANN 8.0 本次记录",
            "blockers": "VPN slow"}
    response = client.post(reverse("log_work", args=[survey.uuid]), data, **HTMX)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field="person_days"' in body
    assert "Installed CANN 8.0 本次记录" in body and 'value="1.5"' in body and "VPN slow" in body
    assert WorkLog.objects.count() == 0


def test_logging_work_adds_it_to_the_stage(client, consultant, engagement):
    survey = stage_of(engagement)
    client.force_login(consultant)
    data = {"date": timezone.localdate().isoformat(), "person_days": "0.5", "summary": "Collected server inventory"}
    response = client.post(reverse("log_work", args=[survey.uuid]), data)
    assert response.status_code == 302
    log = WorkLog.objects.get()
    assert (log.consultant, log.stage, str(log.person_days)) == (consultant, survey, "0.50")
    page = client.get(reverse("stage_detail", args=[survey.uuid])).content.decode()
    assert "Collected server inventory" in page


def test_done_with_open_items_is_refused_on_the_page(client, consultant, engagement):
    survey = stage_of(engagement)
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    client.force_login(consultant)
    response = client.post(reverse("stage_transition", args=[survey.uuid]), {"to_status": "done"})
    assert response.status_code == 400
    assert "Required checklist items are still open" in response.content.decode()
    survey.refresh_from_db()
    assert survey.status == Stage.Status.IN_PROGRESS


def test_blocking_a_stage_needs_a_reason_and_shows_it(client, consultant, engagement):
    survey = stage_of(engagement)
    services.check_transition_stage(consultant, survey, Stage.Status.IN_PROGRESS)
    client.force_login(consultant)
    url = reverse("stage_transition", args=[survey.uuid])
    assert client.post(url, {"to_status": "blocked", "reason": "  "}).status_code == 400
    assert client.post(url, {"to_status": "blocked", "reason": "Firewall closed"}).status_code == 302
    page = client.get(reverse("stage_detail", args=[survey.uuid])).content.decode()
    assert "Firewall closed" in page


def test_planned_dates_out_of_order_are_refused(client, consultant, engagement):
    survey = stage_of(engagement)
    client.force_login(consultant)
    data = {"planned_start": "2026-03-10", "planned_end": "2026-03-01", "planned_person_days": "5"}
    response = client.post(reverse("stage_plan", args=[survey.uuid]), data, **HTMX)
    assert response.status_code == 400
    assert "cannot be before the planned start" in response.content.decode()
    # Next to the planned end, not above the form.
    assert response.context["plan_form"].errors == {
        "planned_end": ["The planned end cannot be before the planned start."]}
    assert ('<p class="error" data-field="planned_end">The planned end cannot be before the planned start.</p>'
            in response.content.decode())
    survey.refresh_from_db()
    assert survey.planned_start is None


def test_an_engagement_ending_before_it_starts_is_refused_next_to_its_end_date(client, django_user_model, pm,
                                                                                customer_a, engagement):
    """Engagements are created and edited in the admin: the error sits on the end date field."""
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "correct-horse-battery", role="pm",
                                                      language="en")
    client.force_login(boss)
    fields = {"customer": customer_a.pk, "code": "LATE-1", "title": "Backwards", "source_platform": "8 x A100",
              "target_platform": "Atlas 800T A2", "target_framework": "pytorch", "start_date": "2026-05-01",
              "end_date": "2026-04-30", "pm": pm.pk, "status": "planning", "loss_mre_threshold": "0.02",
              "score_diff_threshold": "0.02", "loss_warmup_steps": "20", "scope_training_migration": "on",
              "scope_inference_migration": "on", "scope_tuning": "on"}
    for prefix in ("migration_models", "baselines"):
        fields.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    for url in (reverse("admin:engagements_engagement_add"),
                reverse("admin:engagements_engagement_change", args=[engagement.pk])):
        response = client.post(url, {**fields, "code": "LATE-1" if "add" in url else engagement.code})
        assert response.status_code == 200  # the form again, not a redirect
        form = response.context["adminform"].form
        assert form.errors == {"end_date": ["The end date cannot be before the start date."]}, form.errors
        assert not form.non_field_errors()
    assert not Engagement.objects.filter(code="LATE-1").exists()
    assert Engagement.objects.get(pk=engagement.pk).end_date == datetime.date(2026, 6, 30)


def test_over_planned_person_days_is_filtered_over_every_page(client, pm, consultant, customer_a,
                                                              django_assert_max_num_queries):
    over, within = [], []
    for n in range(36):
        engagement = make_engagement(pm, customer_a, consultants=[consultant], code=f"OVER-{n:02d}",
                                     start_date=datetime.date(2026, 1, 5) + datetime.timedelta(days=n))
        survey = stage_of(engagement)
        services.check_plan_stage(pm, survey, {"planned_person_days": "0.5" if n % 4 else "2"})
        services.check_log_work(consultant, survey, timezone.localdate() - datetime.timedelta(days=n + 1), "1", "Work")
        (over if n % 4 else within).append(engagement.code)
    client.force_login(pm)
    shown = []
    for number in (1, 2):
        with django_assert_max_num_queries(8):
            response = client.get(reverse("engagement_list"), {"health": "over", "page": number})
        page = response.context["page"]
        assert (page.number, page.paginator.count, len(page)) == (number, 27, 25 if number == 1 else 2)
        shown += [engagement.code for engagement in page]
        assert all(engagement.logged_pd > engagement.planned_pd for engagement in page)
        assert all(len(engagement.ordered_stages()) == 7 for engagement in page)
    assert shown == sorted(over, reverse=True)  # newest first, each once, none within plan


def test_an_oversized_upload_is_refused_and_nothing_is_kept(client, consultant, engagement, settings):
    settings.DELIVERABLE_MAX_BYTES = 1024
    survey = stage_of(engagement)
    client.force_login(consultant)
    big = SimpleUploadedFile("plan.txt", b"a" * 2048, content_type="text/plain")
    response = client.post(reverse("deliverable_upload", args=[survey.uuid]), {"file": big, "description": "plan"},
                           **HTMX)
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(reverse("deliverable_upload", args=[survey.uuid]), {"file": exe}, **HTMX)
    assert response.status_code == 400 and "not accepted" in response.content.decode()
    assert Deliverable.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "deliverables").exists()


def test_a_deliverable_is_downloadable_in_scope_only(client, consultant, stranger, engagement):
    survey = stage_of(engagement)
    client.force_login(consultant)
    doc = SimpleUploadedFile("迁移方案.md", "# 迁移方案\n".encode(), content_type="text/markdown")
    assert client.post(reverse("deliverable_upload", args=[survey.uuid]), {"file": doc}).status_code == 302
    deliverable = Deliverable.objects.get()
    response = client.get(reverse("deliverable_download", args=[deliverable.uuid]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == "# 迁移方案\n".encode()
    assert "attachment" in response["Content-Disposition"]
    client.force_login(stranger)
    assert client.get(reverse("deliverable_download", args=[deliverable.uuid])).status_code == 404


def test_the_risk_register_adds_and_edits_risks(client, consultant, engagement):
    client.force_login(consultant)
    url = reverse("risk_register", args=[engagement.uuid])
    data = {"category": "network", "description": "No internet on hosts", "likelihood": 3, "impact": 2,
            "mitigation": "Mirror packages", "owner": consultant.pk, "status": "open"}
    assert client.post(url, data).status_code == 302
    risk = engagement.risks.get()
    data.update(risk=str(risk.uuid), status="closed")
    assert client.post(url, data).status_code == 302
    risk.refresh_from_db()
    assert risk.status == "closed"
    bad = dict(data, likelihood=9)
    response = client.post(url, bad)
    assert response.status_code == 200 and "No internet on hosts" in response.content.decode()
    risk.refresh_from_db()
    assert risk.likelihood == 3


def test_choosing_chinese_is_saved_on_the_user(client, consultant, engagement):
    client.force_login(consultant)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("engagement_list")})
    assert response.status_code == 302
    consultant.refresh_from_db()
    assert consultant.language == "zh-hans"
    page = client.get(reverse("engagement_list")).content.decode()
    assert '<html lang="zh-CN">' in page
    assert "我的项目" in page


def test_the_language_switch_refuses_an_outside_redirect(client, consultant):
    client.force_login(consultant)
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example.com/"})
    assert response["Location"] == reverse("home")
