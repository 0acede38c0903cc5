"""The model information questionnaire (模型信息采集表): staff send it, the customer's contact
fills it in, staff accept it, and the models under migration and the plan follow it."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from engagements import questionnaire as q
from engagements.models import (
    AuditEvent,
    InferenceRoute,
    MigrationModel,
    Questionnaire,
    QuestionnaireTransition,
    Stage,
    StageKey,
)

pytestmark = pytest.mark.django_db

QWEN = {"name": "Qwen2-7B", "task_type": "llm", "scope": "both", "size": "7B", "source_hardware": "8 x A100 80GB",
        "source_framework": "PyTorch 2.1.0", "target_framework": "pytorch", "target_framework_version": "2.1.0.post8",
        "source_repository": "git@example.com:qwen.git@v1.2", "parameter_config": "configs/sft.yaml",
        "weights": "/data/qwen2-7b (safetensors)", "datasets": "C-Eval\nMMLU", "inference_route": "mindie_llm"}
RESNET = {"name": "ResNet-50", "task_type": "cv", "scope": "inference", "source_hardware": "4 x T4",
          "inference_route": "offline"}


def answers(**overrides):
    fields = {"business_scenario": "Customer-service chat and OCR of invoices", "source_hardware": "8 x A100",
              "target_hardware": "Atlas 800T A2, 8 x 910B", "target_framework": "mindspeed",
              "inference_route": "mindie_llm", "precision_baseline": "C-Eval 68.2",
              "performance_baseline": "1,800 tokens/s", "notes": ""}
    fields.update(overrides)
    return fields


def test_the_whole_round_trip(engagement, pm, consultant, contact, client):
    questionnaire = q.check_start(consultant, engagement)
    assert (questionnaire.version, questionnaire.status) == (1, Questionnaire.Status.DRAFT)
    # A draft is the provider's: the contact is not shown it yet.
    client.force_login(contact)
    assert "No questionnaire has been sent to you yet" in client.get(f"/engagements/{engagement.uuid}/questionnaire/") \
        .content.decode()
    with pytest.raises(PermissionDenied):
        q.check_save(contact, questionnaire, answers(), [QWEN])

    q.check_send(consultant, questionnaire)
    q.check_save(contact, questionnaire, answers(), [QWEN, RESNET])
    q.check_submit(contact, questionnaire)
    assert questionnaire.status == Questionnaire.Status.FILLED
    with pytest.raises(PermissionDenied):  # with the provider now
        q.check_save(contact, questionnaire, answers(notes="late"), [QWEN])

    q.check_accept(consultant, questionnaire)
    models = {m.name: m for m in MigrationModel.objects.filter(engagement=engagement)}
    assert set(models) == {"Qwen2-7B", "ResNet-50"}
    qwen = models["Qwen2-7B"]
    assert (qwen.task_type, qwen.target_framework, qwen.target_framework_version, qwen.inference_route) == (
        "llm", "pytorch", "2.1.0.post8", "mindie_llm")
    assert (qwen.weights, qwen.datasets, qwen.source_hardware) == (QWEN["weights"], "C-Eval\nMMLU", "8 x A100 80GB")
    engagement.refresh_from_db()
    assert engagement.target_framework == "mindspeed"
    history = list(QuestionnaireTransition.objects.filter(questionnaire=questionnaire)
                   .values_list("from_status", "to_status", "actor__username"))
    assert history == [("draft", "sent", "consultant"), ("sent", "filled", "contact"),
                       ("filled", "accepted", "consultant")]
    assert AuditEvent.objects.filter(object_type="migrationmodel", action="create").count() == 2

    # Accepted is frozen; the next version starts from a copy.
    with pytest.raises(PermissionDenied):
        q.check_save(consultant, questionnaire, answers(), [QWEN])
    second = q.check_revise(consultant, questionnaire)
    assert (second.version, second.status) == (2, Questionnaire.Status.DRAFT)
    assert list(second.models.values_list("name", flat=True)) == ["Qwen2-7B", "ResNet-50"]
    assert second.business_scenario == questionnaire.business_scenario


def test_accepting_again_updates_the_models_by_name_and_keeps_the_others(engagement, consultant, contact):
    kept = MigrationModel.objects.create(engagement=engagement, name="BERT-base", task_type="nlp")
    first = q.check_start(consultant, engagement)
    assert list(first.models.values_list("name", flat=True)) == ["BERT-base"]  # prefilled from the engagement
    q.check_save(consultant, first, answers(), [{**QWEN, "size": "7B"}, {**RESNET, "source_hardware": "4 x T4"}])
    q.check_send(consultant, first)
    q.check_submit(contact, first)
    q.check_accept(consultant, first)
    second = q.check_revise(consultant, first)
    q.check_save(consultant, second, answers(), [{**QWEN, "size": "7.6B"}])
    q.check_send(consultant, second)
    q.check_submit(contact, second)
    q.check_accept(consultant, second)
    qwen = MigrationModel.objects.get(engagement=engagement, name="Qwen2-7B")
    assert qwen.size == "7.6B"
    assert MigrationModel.objects.filter(pk=kept.pk).exists()  # may hold evidence: never deleted
    assert MigrationModel.objects.filter(engagement=engagement).count() == 3


def test_submitting_needs_the_scenario_a_model_and_its_hardware(engagement, consultant, contact):
    questionnaire = q.check_start(consultant, engagement)
    q.check_send(consultant, questionnaire)
    q.check_save(contact, questionnaire, answers(business_scenario=""), [{**RESNET, "source_hardware": ""}])
    with pytest.raises(ValidationError) as caught:
        q.check_submit(contact, questionnaire)
    text = " ".join(caught.value.messages)
    assert "business needs" in text and "ResNet-50 runs on now" in text
    assert Questionnaire.objects.get(pk=questionnaire.pk).status == Questionnaire.Status.SENT


def test_bad_rows_are_all_reported_and_nothing_is_saved(engagement, consultant):
    questionnaire = q.check_start(consultant, engagement)
    q.check_save(consultant, questionnaire, answers(), [QWEN])
    with pytest.raises(ValidationError) as caught:
        q.check_save(consultant, questionnaire, answers(notes="changed"),
                     [{**QWEN, "task_type": "speech"}, {**RESNET, "inference_route": "teleport"}, QWEN])
    text = " ".join(caught.value.messages)
    assert "Model 1" in text and "Model 2" in text
    questionnaire.refresh_from_db()
    assert questionnaire.notes == "" and list(questionnaire.models.values_list("name", flat=True)) == ["Qwen2-7B"]
    with pytest.raises(ValidationError, match="Two models are named"):
        q.check_save(consultant, questionnaire, answers(), [QWEN, {**QWEN, "name": "qwen2-7b"}])


def test_returning_for_changes_needs_a_reason(engagement, consultant, contact):
    questionnaire = q.check_start(consultant, engagement)
    q.check_send(consultant, questionnaire)
    q.check_save(contact, questionnaire, answers(), [QWEN])
    q.check_submit(contact, questionnaire)
    with pytest.raises(ValidationError):
        q.check_send(consultant, questionnaire, "")
    q.check_send(consultant, questionnaire, "Which C-Eval split?")
    assert questionnaire.transitions.last().reason == "Which C-Eval split?"
    assert questionnaire.status == Questionnaire.Status.SENT


def test_a_contact_of_another_customer_and_a_consultant_not_on_it_are_refused(engagement, consultant,
                                                                             other_consultant, stranger, client):
    questionnaire = q.check_start(consultant, engagement)
    q.check_send(consultant, questionnaire)
    for user in (stranger, other_consultant):
        client.force_login(user)
        assert client.get(f"/engagements/{engagement.uuid}/questionnaire/").status_code == 404
        response = client.post(f"/engagements/{engagement.uuid}/questionnaire/submit/",
                               {"questionnaire": questionnaire.pk})
        assert response.status_code == 404
    assert Questionnaire.objects.get(pk=questionnaire.pk).status == Questionnaire.Status.SENT


def test_the_contact_fills_it_in_through_the_page(engagement, consultant, contact, client):
    questionnaire = q.check_start(consultant, engagement)
    q.check_send(consultant, questionnaire)
    client.force_login(contact)
    form = {f"q-{name}": value for name, value in answers().items()}
    form.update({"questionnaire": questionnaire.pk, "models-TOTAL_FORMS": "1", "models-INITIAL_FORMS": "0",
                 **{f"models-0-{name}": value for name, value in QWEN.items()}, "then": "submit"})
    response = client.post(f"/engagements/{engagement.uuid}/questionnaire/", form, follow=True)
    assert response.status_code == 200
    assert "the questionnaire is submitted" in response.content.decode()
    questionnaire.refresh_from_db()
    assert questionnaire.status == Questionnaire.Status.FILLED
    assert questionnaire.models.get().weights == QWEN["weights"]

    # A wrong choice comes back next to its field, with what was typed kept.
    q.check_send(consultant, questionnaire, "Add the data set sizes")
    form.update({"models-0-task_type": "speech", "q-notes": "kept", "then": ""})
    page = client.post(f"/engagements/{engagement.uuid}/questionnaire/", form).content.decode()
    assert 'data-field="task_type"' in page and "kept" in page
    assert Questionnaire.objects.get(pk=questionnaire.pk).notes == ""


def test_the_plan_is_applied_to_stages_not_started_only(engagement, pm, consultant, contact):
    questionnaire = q.check_start(consultant, engagement)
    q.check_save(consultant, questionnaire, answers(), [QWEN, RESNET])
    q.check_send(consultant, questionnaire)
    q.check_submit(contact, questionnaire)
    with pytest.raises(ValidationError):
        q.check_apply_plan(pm, questionnaire)  # not accepted yet
    q.check_accept(consultant, questionnaire)
    survey = engagement.stages.get(key=StageKey.SURVEY)
    survey.status = Stage.Status.IN_PROGRESS
    survey.planned_person_days = Decimal("9")
    survey.save()
    with pytest.raises(PermissionDenied):
        q.check_apply_plan(consultant, questionnaire)  # a PM's decision
    changed = q.check_apply_plan(pm, questionnaire)
    planned = dict(engagement.stages.values_list("key", "planned_person_days"))
    assert planned[StageKey.SURVEY] == Decimal("9")  # under way: left alone
    # Qwen (LLM x2, both) and ResNet (inference, offline route +2):
    assert planned[StageKey.TRAINING_ADAPTATION] == Decimal("10")  # Qwen only: 5 x 2
    assert planned[StageKey.INFERENCE_MIGRATION] == Decimal("3") * 2 + 1 + 3 + 2  # Qwen 6 + MindIE 1, ResNet 3 + ATC 2
    assert changed == 6


model_rows = st.lists(st.builds(SimpleNamespace, name=st.text(min_size=1, max_size=5),
                                task_type=st.sampled_from(MigrationModel.TaskType.values),
                                scope=st.sampled_from(MigrationModel.Scope.values),
                                inference_route=st.sampled_from(InferenceRoute.values)), max_size=8)


@given(rows=model_rows, extra=st.builds(SimpleNamespace, name=st.just("extra"),
                                        task_type=st.sampled_from(MigrationModel.TaskType.values),
                                        scope=st.sampled_from(MigrationModel.Scope.values),
                                        inference_route=st.sampled_from(InferenceRoute.values)))
def test_another_model_never_lowers_a_stage_and_adds_to_the_total(rows, extra):
    before = {line.stage: line.person_days for line in q.suggest_plan(rows)}
    after = {line.stage: line.person_days for line in q.suggest_plan([*rows, extra])}
    assert all(after[stage] >= before[stage] for stage in before)
    assert sum(after.values()) > sum(before.values())  # every model is in some stage's scope


@given(rows=model_rows)
def test_without_tuning_the_tuning_stages_are_zero_and_the_rest_unchanged(rows):
    with_tuning = {line.stage: line.person_days for line in q.suggest_plan(rows)}
    without = {line.stage: line.person_days for line in q.suggest_plan(rows, tuning=False)}
    assert without[StageKey.TRAINING_TUNING] == without[StageKey.INFERENCE_TUNING] == 0
    for stage in set(StageKey.values) - {StageKey.TRAINING_TUNING, StageKey.INFERENCE_TUNING}:
        assert without[stage] == with_tuning[stage]


@given(rows=model_rows)
def test_training_only_models_add_nothing_to_inference(rows):
    training_only = [r for r in rows if r.scope == MigrationModel.Scope.TRAINING]
    plan = {line.stage: line.person_days for line in q.suggest_plan(training_only)}
    assert plan[StageKey.INFERENCE_MIGRATION] == plan[StageKey.INFERENCE_TUNING] == 0


def test_staff_may_fill_it_in_and_accept_it_without_sending_it(engagement, pm, contact):
    """Answers taken down in a meeting: a PM types them and accepts; the models follow."""
    questionnaire = q.check_start(pm, engagement)
    q.check_save(pm, questionnaire, answers(), [QWEN])
    q.check_accept(pm, questionnaire)
    assert questionnaire.status == Questionnaire.Status.ACCEPTED
    assert MigrationModel.objects.filter(engagement=engagement, name="Qwen2-7B").exists()
    with pytest.raises(PermissionDenied):  # a customer's contact never accepts
        q.check_accept(contact, q.check_revise(pm, questionnaire))
