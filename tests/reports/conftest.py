import numpy as np
import pytest

from assessments.models import LossCurve
from assessments.services import check_pair_curves, check_set_score_baseline
from engagements.models import PerformanceBaseline


def make_curve(engagement, platform, losses, label, user):
    curve = LossCurve(engagement=engagement, platform=platform, source="upload", log_format="megatron",
                      loss_key="lm loss", label=label, raw_sha256="ab" * 32, created_by=user,
                      checkpoints=["./ckpt/iter_0000100.pt"] if platform == "npu" else [])
    curve.set_series(np.arange(1, len(losses) + 1), losses)
    curve.save()
    return curve


@pytest.fixture
def acceptance_ready(engagement, consultant):
    """An engagement with a paired reference/NPU curve 1% apart, a score baseline and a
    performance baseline."""
    steps = np.arange(1, 301)
    ref = 3.0 * np.exp(-steps / 90) + 1.2
    gpu = make_curve(engagement, "gpu", ref, "A100 fp32", consultant)
    npu = make_curve(engagement, "npu", ref * 1.01, "910B bf16", consultant)
    npu.source = "job"
    npu.save()
    check_pair_curves(consultant, engagement, gpu, npu)
    check_set_score_baseline(consultant, engagement, "ceval", 70.58)
    PerformanceBaseline.objects.create(engagement=engagement, metric="tokens_per_s", direction="higher", value=100)
    return engagement
