"""Quotes: building from a plan or an analysis, freezing and versions, the customer's
decision, who sees what, and bad input that changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import MigrationAnalysis
from common import access
from engagements import services as engagement_services
from reports import quotes
from reports.models import Quote, QuoteEvent, QuoteLine, RateCardItem

pytestmark = pytest.mark.django_db


VALID = datetime.date.today() + datetime.timedelta(days=30)  # a quote is sent with a validity date


def _quotes_for(user):
    return access.scope(user, Quote)


def item(code):
    return RateCardItem.objects.get(code=code)


@pytest.fixture
def planned(engagement, pm):
    days = {"survey": "5", "plan": "3", "env_setup": "4", "training_adaptation": "10", "training_tuning": "6",
            "inference_migration": "8", "inference_tuning": "4"}
    for stage in engagement.stages.all():
        engagement_services.check_plan_stage(pm, stage, {"planned_start": engagement.start_date,
                                                         "planned_end": engagement.start_date,
                                                         "planned_person_days": Decimal(days[stage.key])})
    return engagement


def test_the_rate_card_is_seeded_from_the_domain():
    names = set(RateCardItem.objects.values_list("name_zh", flat=True))
    assert {"模型迁移调研评估", "环境部署搭建", "三方库适配", "推理迁移", "性能评估分析", "精度对比分析",
            "推理框架优化", "数据处理优化", "行业大模型适配服务", "昇腾模型迁移优化服务"} <= names


def test_a_new_rate_keeps_the_old_one_for_old_quotes(pm, customer_a):
    old = item("survey-assessment")
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": old, "person_days": "2"}])
    RateCardItem.objects.create(code=old.code, category=old.category, name_en=old.name_en, name_zh=old.name_zh,
                                rate=Decimal("4000"), valid_from=datetime.date(2026, 6, 1))
    assert [i.rate for i in quotes.current_items(datetime.date(2026, 7, 1)) if i.code == old.code] == [Decimal("4000")]
    assert [i.rate for i in quotes.current_items(datetime.date(2026, 3, 1)) if i.code == old.code] == [old.rate]
    assert quote.lines.get().rate == old.rate


def test_build_from_the_plan_groups_stages_by_service(pm, planned):
    quote = quotes.check_build_from_plan(pm, planned)
    by_code = {line.item.code: line for line in quote.lines.all()}
    assert by_code["survey-assessment"].person_days == Decimal("8")  # survey 5 + plan 3
    assert sum(line.person_days for line in quote.lines.all()) == Decimal("40")
    expected = sum((line.person_days * line.item.rate for line in quote.lines.all()), Decimal(0))
    totals = quote.totals()
    assert totals.services == expected and totals.tax == (expected * Decimal("0.06")).quantize(Decimal("0.01"))
    mapping = quotes.default_mapping()
    mapping["inference_tuning"] = item("migration-optimisation")  # the mapping is editable
    other = quotes.check_build_from_plan(pm, planned, mapping)
    assert other.lines.filter(item__code="migration-optimisation", person_days=4).exists()


def test_build_from_an_analysis_estimate(pm, engagement):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir="/code", files_scanned=12,
                                                effort_person_days=Decimal("6.5"))
    quote = quotes.check_build_from_analysis(pm, analysis, item("third-party-adaptation"))
    assert quote.lines.get().person_days == Decimal("6.5")


def test_a_sent_quote_is_frozen_and_a_change_makes_a_new_version(pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=VALID)
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "2"}],
                           [{"resource": "BMS", "specification": "8*Ascend 910", "monthly_cost": "45000", "months": 2}])
    quotes.check_send(pm, quote)
    with pytest.raises(ValidationError):
        quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "3"}])
    assert quote.lines.get().person_days == 2
    second = quotes.check_revise(pm, quote)
    assert (second.number, second.version, second.previous_id, second.status) == (quote.number, 2, quote.pk, "draft")
    assert second.lines.get().person_days == 2 and second.cloud_lines.get().monthly_cost == 45000
    quotes.check_set_lines(pm, second, [{"item": item("survey-assessment"), "person_days": "3"}])
    quote.refresh_from_db()
    assert quote.lines.get().person_days == 2 and quote.status == "superseded"
    assert list(quote.events.values_list("from_status", "to_status")) == [("", "draft"), ("draft", "sent"),
                                                                          ("sent", "superseded")]
    with pytest.raises(ValidationError):
        quotes.check_revise(pm, quote)  # already revised


def test_a_superseded_version_cannot_be_accepted(pm, contact, customer_a):
    first = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=VALID)
    quotes.check_set_lines(pm, first, [{"item": item("survey-assessment"), "person_days": "2"}])
    quotes.check_send(pm, first)
    second = quotes.check_revise(pm, first)
    quotes.check_send(pm, second)
    quotes.check_decide(contact, second, accept=True, password="correct-horse-battery", name="Li Na")
    with pytest.raises(ValidationError, match="Version 2 replaces this one"):
        quotes.check_decide(contact, first, accept=True, password="correct-horse-battery", name="Li Na")
    first.refresh_from_db()
    assert first.status == "superseded"
    assert list(Quote.objects.filter(number=first.number, status="accepted")) == [second]


def test_a_draft_header_is_edited_and_a_sent_one_is_not(pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=VALID)
    quotes.check_update_quote(pm, quote, title="Q2", tax_rate=Decimal("0.09"), valid_until=VALID, notes="n")
    quote.refresh_from_db()
    assert (quote.title, quote.tax_rate, quote.notes) == ("Q2", Decimal("0.09"), "n")
    with pytest.raises(ValidationError) as error:
        quotes.check_update_quote(pm, quote, title="Q3", tax_rate=Decimal("1"))
    assert "tax_rate" in error.value.message_dict
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "2"}])
    quotes.check_send(pm, quote)
    with pytest.raises(ValidationError):
        quotes.check_update_quote(pm, quote, title="Q3", tax_rate=Decimal("0.06"))
    quote.refresh_from_db()
    assert quote.title == "Q2"


def test_lines_without_a_service_or_too_large_are_refused(pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    with pytest.raises(ValidationError) as error:
        quotes.check_set_lines(pm, quote, [{"item": None, "person_days": "2"},
                                           {"item": item("survey-assessment"), "person_days": "123456789",
                                            "rate": "1e12"}],
                               [{"resource": "BMS", "monthly_cost": "1", "quantity": "5000000"}])
    assert set(error.value.message_dict) == {"lines.0.item", "lines.1.person_days", "lines.1.rate", "cloud_lines.0"}
    assert not quote.lines.exists() and not quote.cloud_lines.exists()


def test_the_customer_accepts_and_it_is_recorded(pm, contact, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=VALID)
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "2"}])
    with pytest.raises(ValidationError):
        quotes.check_decide(contact, quote, accept=True, password="correct-horse-battery", name="Li")  # a draft
    quotes.check_send(pm, quote)
    with pytest.raises(ValidationError):
        quotes.check_decide(contact, quote, accept=True, password="wrong", name="Li")
    quotes.check_decide(contact, quote, accept=True, password="correct-horse-battery", name="Li Na",
                        request_meta={"REMOTE_ADDR": "10.0.0.9", "HTTP_USER_AGENT": "pytest"})
    event = QuoteEvent.objects.filter(quote=quote).last()
    assert (event.to_status, event.signer_name, event.ip, event.actor) == ("accepted", "Li Na", "10.0.0.9", contact)
    with pytest.raises(ValidationError):
        quotes.check_revise(pm, quote)  # an accepted quote cannot be changed
    with pytest.raises(ValidationError):
        quotes.check_set_lines(pm, quote, [])


def test_who_sees_and_decides(pm, consultant, other_consultant, contact, stranger, customer_a, engagement):
    quote = quotes.check_create_quote(pm, customer=customer_a, engagement=engagement, title="Q", valid_until=VALID)
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "1"}])
    assert quote not in _quotes_for(contact)  # drafts are internal
    quotes.check_send(pm, quote)
    assert quote in _quotes_for(contact) and quote in _quotes_for(consultant)
    assert quote not in _quotes_for(stranger) and quote not in _quotes_for(other_consultant)
    with pytest.raises(PermissionDenied):
        quotes.check_decide(stranger, quote, accept=True, password="correct-horse-battery", name="X")
    with pytest.raises(PermissionDenied):
        quotes.check_send(consultant, quote)


@pytest.mark.parametrize("line,field", [
    ({"person_days": "-1"}, "lines.0.person_days"), ({"person_days": "1", "rate": "-5"}, "lines.0.rate"),
    ({"person_days": "1", "discount": "1.2"}, "lines.0.discount"), ({"person_days": "abc"}, "lines.0.person_days"),
    ({"person_days": "1.25"}, "lines.0.person_days"),
])
def test_bad_lines_change_nothing(pm, customer_a, line, field):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "2"}])
    with pytest.raises(ValidationError) as exc:
        quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), **line}])
    assert field in exc.value.message_dict
    assert list(quote.lines.values_list("person_days", flat=True)) == [Decimal("2")]


def test_a_rate_card_item_in_use_cannot_be_deleted(pm, customer_a):
    used = item("survey-assessment")
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": used, "person_days": "2"}])
    with pytest.raises(ValidationError) as exc:
        quotes.check_delete_rate_item(pm, used)
    assert "used by 1 quote lines" in str(exc.value)
    assert RateCardItem.objects.filter(pk=used.pk).exists()
    quotes.check_delete_rate_item(pm, item("data-processing-optimisation"))
    assert not RateCardItem.objects.filter(code="data-processing-optimisation").exists()


def test_overdue_sent_quotes_expire(pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q", valid_until=datetime.date(2026, 1, 1))
    quotes.check_set_lines(pm, quote, [{"item": item("survey-assessment"), "person_days": "1"}])
    quotes.check_send(pm, quote)
    assert quotes.expire_overdue_quotes(datetime.date(2026, 1, 2)) == 1
    quote.refresh_from_db()
    assert quote.status == "expired" and quote.events.last().from_status == "sent"


def test_planned_vs_actual_costs_at_the_quote_rates(pm, consultant, planned, contact):
    quote = quotes.check_build_from_plan(pm, planned)
    line = quote.lines.get(item__code="survey-assessment")
    QuoteLine.objects.filter(pk=line.pk).update(discount=Decimal("0.5"))
    survey = planned.stages.get(key="survey")
    engagement_services.check_transition_stage(consultant, survey, "in_progress")
    for days_ago in (1, 2, 3):
        engagement_services.check_log_work(consultant, survey,
                                           datetime.date.today() - datetime.timedelta(days=days_ago), "1", "work")
    figures = quotes.planned_vs_actual(planned)
    row = next(r for r in figures["rows"] if r["stage"].key == "survey")
    assert (row["planned"], row["logged"], row["remaining"]) == (Decimal("5"), Decimal("3"), Decimal("2"))
    assert row["rate"] == line.rate / 2 and row["logged_cost"] == 3 * line.rate / 2
    assert figures["total"]["logged"] == 3 and figures["total"]["planned"] == 40
    burn = quotes.burn_series(planned)
    assert [float(v) for _d, v in burn["points"]] == [1.0, 2.0, 3.0] and burn["planned"] == 40
