"""The engagement's assessments page draws its loss charts with dygraphs: each curve, and each
compared pair (the NPU curve over the GPU reference, the relative error and the threshold
beneath), from points down-sampled on the server, so a long curve is sent small."""

import json

import numpy as np
import pytest
from playwright.sync_api import expect

from assessments.models import CurvePair
from tests.conftest import make_curve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = 200_000


def test_a_long_curve_pair_is_drawn_with_dygraphs_from_down_sampled_points(sign_in, live_server, consultant,
                                                                           engagement):
    steps = np.arange(1, STEPS + 1)
    reference = 3.0 * np.exp(-steps / 20_000) + 1.2
    npu = reference * 1.004
    npu[123_456] *= 3  # a one-step spike: kept by the down-sampling
    gpu_curve = make_curve(engagement, "gpu", reference, "A100 fp32", consultant)
    npu_curve = make_curve(engagement, "npu", npu, "910B bf16", consultant)
    CurvePair.objects.create(engagement=engagement, reference=gpu_curve, npu=npu_curve, created_by=consultant)
    csp = []
    page = sign_in(consultant)
    page.on("console", lambda message: csp.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/assessments/")

    pair = page.locator('[data-testid="pair-chart"] [data-dygraph]')
    expect(pair.locator(".dygraph-charts canvas").first).to_be_visible(timeout=30_000)
    expect(pair).to_have_attribute("data-drawn-series", "4")  # NPU, reference; error, threshold
    expect(pair.locator(".chart-legend").first).to_contain_text("GPU reference")
    expect(pair.locator("[data-dygraph-fallback]")).to_be_hidden()
    expect(page.locator('[data-testid="curve-chart"] .dygraph-charts canvas')).not_to_have_count(0)
    expect(page.locator('[data-testid="curve-chart"][data-drawn-series="1"]')).to_have_count(2)

    # What was sent: at most the down-sampling limit of points a series, the spike among them.
    sent = page.evaluate("() => Array.from(document.querySelectorAll("
                         "'[data-dygraph] script[type=\"application/json\"]')).map(s => s.textContent)")
    charts = [json.loads(text) for text in sent]
    loss = next(chart for chart in charts if chart["kind"] == "loss")
    assert loss["limit"] == 1600
    for series in ("npu", "reference", "error"):
        assert 0 < len(loss[series]) <= loss["limit"]
    assert [123_457, npu[123_456]] in loss["npu"]
    assert loss["threshold"] == pytest.approx(2.0)
    curves = [chart for chart in charts if chart["kind"] == "curve"]
    assert len(curves) == 2 and all(0 < len(chart["curve"]) <= chart["limit"] for chart in curves)
    # The page stays light: a few hundred kB of points for 3 x 200,000 steps, not megabytes.
    assert sum(len(text) for text in sent) < 400_000
    assert int(pair.get_attribute("data-drawn-points")) <= 3 * 1600
    assert not csp, csp


def test_the_charts_are_labelled_in_chinese(sign_in, live_server, consultant, engagement):
    steps = np.arange(1, 301)
    reference = 3.0 * np.exp(-steps / 90) + 1.2
    gpu_curve = make_curve(engagement, "gpu", reference, "A100 fp32", consultant)
    npu_curve = make_curve(engagement, "npu", reference * 1.01, "910B bf16", consultant)
    CurvePair.objects.create(engagement=engagement, reference=gpu_curve, npu=npu_curve, created_by=consultant)
    page = sign_in(consultant)
    page.goto(f"{live_server.url}/engagements/{engagement.uuid}/assessments/")
    page.click('[data-testid="lang-zh-hans"]')
    pair = page.locator('[data-testid="pair-chart"] [data-dygraph]')
    expect(pair.locator(".dygraph-charts canvas").first).to_be_visible(timeout=30_000)
    data = json.loads(pair.locator('script[type="application/json"]').text_content())
    assert data["labels"]["step"] != "Step" and data["labels"]["reference"] != "GPU reference"
    expect(pair.locator(".chart-legend").first).to_contain_text(data["labels"]["reference"])
    expect(pair.locator(".dygraph-xlabel").first).to_have_text(data["labels"]["step"])
