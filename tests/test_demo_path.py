"""The README's demo path, end to end on the real stack: the seeded demo, the simulated Ascend
host over sshd, a Celery worker process, Redis and PostgreSQL. Both shapes of acceptance go
from the seed to PASS and to the customer's signature."""

import pytest
from django.core.management import call_command

from assessments import services as assessment_services
from assessments.models import LossCurve
from demo.simhost import register_demo_host
from engagements import services as engagement_services
from engagements.models import Engagement, User
from reports import services as report_services
from reports.models import ReportVersion
from workers import jobs
from workers.models import AscendHost, Job

from .workers.test_jobs_e2e import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_PASSWORD = "ascend-demo-2026"


def run(user, engagement, stage_key, kind, model=None, **params) -> Job:
    host = AscendHost.objects.get(customer=engagement.customer, name="sim-910b (demo)")
    job = jobs.check_start_job(user, engagement.stages.get(key=stage_key), host, kind, params, model=model)
    wait_for(job, Job.FINAL, timeout=120)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    return job


def accept(pm, consultant, contact, engagement) -> ReportVersion:
    engagement_services.check_update_acceptance_text(consultant, engagement, {
        "conclusions": "The migrated model meets every agreed criterion. 迁移后的模型满足全部验收标准。"})
    version = report_services.render_version(report_services.check_request_render(consultant, engagement, "zh-hans").pk)
    assert version.status == "draft", version.failure
    assert version.data["overall"] == "pass", [(m["name"], [(c["kind"], c["verdict"], c["reason"])
                                                            for c in m["criteria"]]) for m in version.data["models"]]
    report_services.check_issue(pm, version)
    report_services.check_sign_off(contact, ReportVersion.objects.get(pk=version.pk), password=DEMO_PASSWORD,
                                   name="李娜", title="CTO", confirm=True)
    return ReportVersion.objects.get(pk=version.pk)


def test_the_demo_path_takes_both_shapes_to_pass_and_to_a_signature(worker, simhost, rate_card):
    call_command("seed_demo")
    hosts = register_demo_host(simhost, (simhost.host_key.key_type, simhost.host_key.base64))
    assert len(hosts) == 2  # the smart grid's and the LLM company's
    pm, consultant = User.objects.get(username="pm"), User.objects.get(username="consultant")

    # Inference only: an evaluation and a MindIE benchmark, no loss curve asked for.
    llm = Engagement.objects.get(code="LLM-2026-002")
    run(consultant, llm, "inference_migration", "evaluation", command="ascend-demo-eval --dataset C-Eval --score 71.8",
        dataset="C-Eval")
    run(consultant, llm, "inference_migration", "inference_benchmark",
        command="benchmark --DatasetPath /data/gsm8k --ModelName Qwen-14B-Chat")
    signed = accept(pm, consultant, User.objects.get(username="customer2"), llm)
    assert signed.status == "signed"
    assert {c["kind"] for m in signed.data["models"] for c in m["criteria"]} == {"score", "performance"}

    # Training: the pilot's training run, paired with the seeded GPU reference, and its evaluation.
    grid = Engagement.objects.get(code="GRID-2026-001")
    pilot = grid.migration_models.get(excluded_reason="")
    training = run(consultant, grid, "training_tuning", "training_run", model=pilot,
                   command="ascend-demo-train --steps 200 --precision bf16", workdir="/tmp")
    run(consultant, grid, "training_tuning", "evaluation", model=pilot,
        command="ascend-demo-eval --dataset inspection-val --score 86.1", dataset="inspection-val mAP@0.5")
    reference = grid.loss_curves.get(platform="gpu")
    assessment_services.check_pair_curves(consultant, grid, reference, LossCurve.objects.get(job=training),
                                          model=pilot)
    signed = accept(pm, consultant, User.objects.get(username="customer"), grid)
    assert signed.status == "signed"
    assert [m["verdict"] for m in signed.data["models"]] == ["pass"] and len(signed.data["excluded"]) == 10
