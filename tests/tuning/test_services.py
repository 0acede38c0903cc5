"""The tuning evidence from uploads: accuracy comparisons, profiles, MindIE configurations,
ATC conversions, and tuning measures whose figures come from their evidence."""

import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tuning import services
from tuning.models import AccuracyComparison, AccuracyRow, MeasureEvidence, Profile, ServiceConfig

from .conftest import PROFILES, SAMPLES, SIM, profile_files, upload

pytestmark = pytest.mark.django_db


def test_a_current_msprobe_comparison_is_stored_row_by_row(consultant, engagement, tuning_stage):
    comparison = services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"),
                                                    stage=tuning_stage, label="bf16 vs fp32")
    assert (comparison.format, comparison.mode, comparison.rows) == ("msprobe", "tensor", 7)
    assert comparison.count("error") == 2 and comparison.count("warning") == 1 and comparison.count("unmatched") == 1
    assert comparison.first_mismatch_op == "Functional.gelu.2.forward"  # the first error in execution order
    assert comparison.overflow_checked and comparison.overflows == 1
    assert comparison.first_overflow["name"] == "Tensor.add.4.forward.output.0"
    assert comparison.row_set.count() == 7 and len(comparison.sha256) == 64
    rows = services.accuracy_rows(comparison, mismatches=True)
    assert [r.npu_name for r in rows] == ["Torch.matmul.1.forward.output.0", "Functional.gelu.2.forward.output.0",
                                          "Tensor.add.4.forward.output.0"]
    assert services.accuracy_rows(comparison, result="pass").count() == 3
    assert [r.position for r in services.accuracy_rows(comparison, q="GELU")] == [4]
    gelu = AccuracyRow.objects.get(comparison=comparison, position=4)
    assert gelu.cosine == pytest.approx(0.8512) and gelu.max_rel_err == pytest.approx(0.483)


def test_the_legacy_header_reads_yes_and_no(consultant, engagement):
    comparison = services.check_add_accuracy_upload(
        consultant, engagement, upload(SAMPLES / "msprobe_compare_result_legacy_20230703104808.csv"))
    assert comparison.format == "msprobe_legacy" and comparison.rows == 7 and comparison.count("pass") == 7
    assert comparison.first_mismatch is None


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"PK\x03\x04 a workbook", "Excel"),
    (b"Name,Type\nx,y\n", "not an accuracy comparison"),
    (b"NPU Name,Bench Name,Cosine,Result\n" + "\xff\xfe broken".encode("latin-1"), "UTF-8"),
])
def test_a_bad_comparison_file_is_refused_and_nothing_is_written(consultant, engagement, content, message):
    with pytest.raises(ValidationError) as caught:
        services.check_add_accuracy_upload(consultant, engagement, SimpleUploadedFile("result.csv", content))
    assert message in " ".join(caught.value.messages)
    assert not AccuracyComparison.objects.exists() and not AccuracyRow.objects.exists()


def test_an_oversized_upload_is_refused_before_reading(consultant, engagement, settings):
    settings.TUNING_TABLE_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="limit"):
        services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"))


def test_a_contact_may_not_import(contact, engagement):
    with pytest.raises(PermissionDenied):
        services.check_add_accuracy_upload(contact, engagement, upload(SIM / "msprobe_compare_result.csv"))


def test_a_large_comparison_is_stored_in_batches_quickly(consultant, engagement):
    header = (SIM / "msprobe_compare_result.csv").read_text().splitlines()[:3]
    body = "\n".join(header[1:3][i % 2].replace(".0.forward", f".{i}.forward") for i in range(50_000))
    started = time.monotonic()
    comparison = services.check_add_accuracy_upload(
        consultant, engagement, SimpleUploadedFile("big.csv", f"{header[0]}\n{body}\n".encode()))
    assert comparison.rows == 50_000 and comparison.row_set.count() == 50_000
    assert time.monotonic() - started < 60


def test_profiles_summarise_and_compare_before_after(consultant, engagement, tuning_stage):
    before = services.check_add_profile_upload(consultant, engagement, profile_files("before"), stage=tuning_stage,
                                               label="before", flops_per_step=3.2e15, peak_tflops=313, devices=8)
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    assert before.summary["bound"] == "compute" and 27 < before.step_time_ms < 29
    assert before.summary["top_kernels"][0]["name"] == "hcom_allReduce__101_0"
    assert before.summary["mfu"] == pytest.approx(3.2e15 / (before.summary["step_time_us"] / 1e6 * 313e12 * 8))
    assert after.summary["mfu"] is None
    comparison = services.compare_profiles(before, after)
    assert comparison["gain_pct"] > 10  # fused attention: a faster step
    kernels = {k["name"]: k for k in comparison["kernels"]}
    assert kernels["Softmax_3"]["after"] is None and kernels["FlashAttentionScore_2"]["before"] is None


def test_a_cluster_step_trace_names_the_slow_rank(consultant, engagement):
    cluster = PROFILES / "cluster" / "cluster_analysis_output" / "cluster_step_trace_time.csv"
    profile = services.check_add_profile_upload(consultant, engagement, {"cluster_step_trace": upload(cluster)})
    assert profile.cluster["slow_rank"] == 1 and len(profile.cluster["ranks"]) == 5


def test_a_bad_profiler_file_names_its_field(consultant, engagement):
    with pytest.raises(ValidationError) as caught:
        services.check_add_profile_upload(consultant, engagement, {
            "kernel_details": SimpleUploadedFile("kernel_details.csv", b"Foo,Bar\n1,2\n")})
    assert "kernel_details" in caught.value.message_dict and not Profile.objects.exists()


def test_mindie_configs_are_versions_per_model_and_benchmarks_compare_side_by_side(consultant, engagement):
    from tests.factories import MigrationModelFactory

    model = MigrationModelFactory(engagement=engagement)
    v1 = services.check_add_service_config(consultant, engagement, upload(SIM / "mindie_config_v1.json"), model=model)
    v2 = services.check_add_service_config(consultant, engagement, upload(SIM / "mindie_config_v2.json"), model=model)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.fields["max_batch_size"] == 200 and v2.fields["max_batch_size"] == 300
    assert v1.fields["world_size"] == 4 and v1.fields["npu_device_ids"] == [[0, 1, 2, 3]]
    with pytest.raises(ValidationError, match="JSON|config"):
        services.check_add_service_config(consultant, engagement, SimpleUploadedFile("config.json", b"{not json"))
    assert ServiceConfig.objects.count() == 2


def test_an_atc_console_output_is_recorded(consultant, engagement):
    text = (SIM / "atc_failed_unsupported_op.txt").read_bytes()
    conversion = services.check_add_atc_upload(
        consultant, engagement,
        SimpleUploadedFile("atc.log", b"ATC start working now, please wait for a moment.\n" + text),
        command="atc --model=adddsl.onnx --framework=5 --output=adddsl --soc_version=Ascend910B3 "
                '--input_shape="x:1,3,224,224"')
    assert conversion.success is False and conversion.soc_version == "Ascend910B3"
    assert conversion.output == "adddsl.om" and conversion.framework == "ONNX"
    assert [c["code"] for c in conversion.codes] == ["EZ3003"]
    ok = services.check_add_atc_upload(consultant, engagement, upload(SIM / "atc_success.txt"))
    assert ok.success is True and [c["code"] for c in ok.codes] == ["W11001", "W11001"]
    with pytest.raises(ValidationError):
        services.check_add_atc_upload(consultant, engagement, SimpleUploadedFile("x.txt", b"hello world\n"))


def test_a_measure_takes_its_figures_from_a_profile_pair(consultant, engagement, tuning_stage):
    before = services.check_add_profile_upload(consultant, engagement, profile_files("before"), label="before")
    after = services.check_add_profile_upload(consultant, engagement, profile_files("after"), label="after")
    measure = services.check_save_measure_with_evidence(
        consultant, tuning_stage, {"change": "Fused attention (FlashAttentionScore)"},
        {"figure": "profile_pair:step_time_ms", "profile_before": before, "profile_after": after})
    assert measure.unit == "ms" and measure.direction == "lower"
    assert measure.before == pytest.approx(before.step_time_ms) and measure.after == pytest.approx(after.step_time_ms)
    assert measure.gain > 0.1  # less time is better
    evidence = MeasureEvidence.objects.get(measure=measure)
    assert evidence.details["gain_pct"] == pytest.approx(measure.gain * 100)
    with pytest.raises(ValidationError):  # a profile pair needs both
        services.check_save_measure_with_evidence(consultant, tuning_stage, {"change": "x"},
                                                  {"figure": "profile_pair:mfu", "profile_after": after})
    # The evidence cannot go while a measure rests on it.
    with pytest.raises(ValidationError, match="rests on"):
        services.check_delete_evidence(consultant, before)


def test_a_measure_from_two_accuracy_comparisons(consultant, engagement, tuning_stage):
    bad = services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"))
    good = services.check_add_accuracy_upload(
        consultant, engagement, upload(SAMPLES / "msprobe_compare_result_legacy_20230703104808.csv"))
    measure = services.check_save_measure_with_evidence(
        consultant, tuning_stage, {"change": "Keep LayerNorm in fp32"},
        {"figure": "accuracy:pass_share", "accuracy_before": bad, "accuracy_after": good})
    assert measure.before == pytest.approx(50.0) and measure.after == 100.0 and measure.gain == pytest.approx(1.0)


def test_deleting_a_comparison_deletes_its_rows(consultant, engagement):
    """The rows have no database-level foreign key (the import's speed): Django removes them."""
    kept = services.check_add_accuracy_upload(consultant, engagement, upload(SIM / "msprobe_compare_result.csv"))
    gone = services.check_add_accuracy_upload(
        consultant, engagement, upload(SAMPLES / "msprobe_compare_result_legacy_20230703104808.csv"))
    assert AccuracyRow.objects.filter(comparison=gone).exists()
    services.check_delete_evidence(consultant, gone)
    assert not AccuracyRow.objects.filter(comparison_id=gone.pk).exists()
    assert AccuracyRow.objects.filter(comparison=kept).count() == kept.rows
