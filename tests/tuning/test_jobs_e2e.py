"""Each tuning job kind end to end: the portal's services, a real Celery worker, Redis and the
simulated host's stand-ins for msprobe, the profiler output, ATC and MindIE's config.json."""

import pytest

from tests.workers.test_jobs_e2e import wait_for
from tuning.models import AccuracyComparison, AtcConversion, Profile, ServiceConfig
from workers import jobs
from workers.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def start(consultant, engagement, host, kind, stage="training_tuning", **params):
    return jobs.check_start_job(consultant, engagement.stages.get(key=stage), host, kind, params)


def test_an_accuracy_comparison_runs_msprobe_and_stores_its_rows(worker, consultant, engagement, sim_host):
    job = start(consultant, engagement, sim_host, "accuracy_compare", workdir="/tmp",
                command="msprobe -f pytorch compare -i ./compare.json -o ./tuning-test-output",
                output_dir="./tuning-test-output", label="bf16")
    wait_for(job, Job.FINAL, timeout=90)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    comparison = AccuracyComparison.objects.get(job=job)
    assert comparison.rows == 7 and comparison.row_set.count() == 7 and comparison.source == "job"
    assert comparison.first_mismatch_op == "Functional.gelu.2.forward" and comparison.overflows == 1
    assert job.result["comparison"] == str(comparison.uuid)


def test_a_profiler_collection_summarises_the_output_folder(worker, consultant, engagement, sim_host, simhost):
    job = start(consultant, engagement, sim_host, "profiler_collect",
                profiler_dir=f"{simhost.root}/opt/profiles/before", flops_per_step="2e15", peak_tflops="313",
                devices="8", label="before")
    missing = start(consultant, engagement, sim_host, "profiler_collect", profiler_dir=f"{simhost.root}/opt/train")
    wait_for(job, Job.FINAL, timeout=90)
    wait_for(missing, Job.FINAL, timeout=90)
    assert job.status == Job.Status.SUCCEEDED, job.failure_message
    profile = Profile.objects.get(job=job)
    assert profile.summary["bound"] == "compute" and profile.summary["mfu"] is not None
    assert {f["table"] for f in profile.files} == {"kernel_details", "step_trace"}
    assert missing.status == Job.Status.FAILED and "No kernel_details.csv" in missing.failure_message


def test_atc_conversions_succeed_and_fail_with_their_codes(worker, consultant, engagement, sim_host, simhost):
    model = f"{simhost.root}/opt/models/yolox_nano.onnx"
    ok = start(consultant, engagement, sim_host, "atc_convert", stage="inference_migration", workdir="/tmp",
               command=f"atc --model={model} --framework=5 --output=/tmp/yolox_nano_test "
                       '--soc_version=Ascend910B3 --input_shape="images:1,3,416,416"')
    bad = start(consultant, engagement, sim_host, "atc_convert", stage="inference_migration",
                command="atc --model=adddsl.onnx --framework=5 --output=adddsl --soc_version=Ascend910B3")
    wait_for(ok, Job.FINAL, timeout=90)
    wait_for(bad, Job.FINAL, timeout=90)
    assert (ok.status, bad.status) == ("succeeded", "succeeded"), (ok.failure_message, bad.failure_message)
    good = AtcConversion.objects.get(job=ok)
    assert good.success is True and good.output == "/tmp/yolox_nano_test.om" and good.soc_version == "Ascend910B3"
    assert [c["code"] for c in good.codes] == ["W11001", "W11001"] and good.input_shape == "images:1,3,416,416"
    failed = AtcConversion.objects.get(job=bad)
    assert failed.success is False and [c["code"] for c in failed.codes] == ["EZ3003"]


def test_a_mindie_config_is_read_as_the_next_version(worker, consultant, engagement, sim_host, simhost):
    first = start(consultant, engagement, sim_host, "mindie_config", stage="inference_tuning",
                  config_path=f"{simhost.root}/opt/mindie/config_v1.json")
    wait_for(first, Job.FINAL, timeout=90)
    second = start(consultant, engagement, sim_host, "mindie_config", stage="inference_tuning",
                   config_path=f"{simhost.root}/opt/mindie/config_v2.json")
    wait_for(second, Job.FINAL, timeout=90)
    assert (first.status, second.status) == ("succeeded", "succeeded"), (first.failure_message, second.failure_message)
    versions = {c.version: c.fields["max_batch_size"] for c in ServiceConfig.objects.all()}
    assert versions == {1: 200, 2: 300}
