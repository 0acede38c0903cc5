"""The acceptance report's loss chart: one SVG with axes, nice ticks, both curves visible (the
reference dashed, on top), the relative error with its threshold, and a legend. Pure: no database.

The SVG is read back with ElementTree, and what it shows is checked against figures computed
here from the inputs, independently of the chart code.
"""

import math
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.charts import loss_chart_svg, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {"step": "Step", "loss": "Loss", "reference": "GPU reference", "npu": "NPU", "error": "Relative error",
          "threshold": "Threshold 2%"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output) raises on anything not well-formed
    assert root.tag == f"{SVG}svg"
    return root


def by_attr(root: ET.Element, attr: str, value: str) -> list[ET.Element]:
    return [el for el in root.iter() if el.get(attr) == value]


def one(root: ET.Element, attr: str, value: str) -> ET.Element:
    found = by_attr(root, attr, value)
    assert len(found) == 1, (attr, value, len(found))
    return found[0]


def number(label: str) -> float:
    return float(label.removesuffix("%").replace(",", ""))


def axis(root: ET.Element, name: str) -> list[tuple[float, float]]:
    """(pixel position, value of the label) of each tick of an axis, in document order."""
    group = one(root, "data-axis", name)
    children = list(group)
    lines, texts = children[0::2], children[1::2]
    assert [c.tag for c in lines] == [f"{SVG}line"] * len(lines)
    assert [c.tag for c in texts] == [f"{SVG}text"] * len(texts) and len(lines) == len(texts)
    vertical = name.endswith("-y")
    return [(float(line.get("y1" if vertical else "x1")), number(text.text)) for line, text in
            zip(lines, texts, strict=True)]


def to_data(ticks: list[tuple[float, float]]):
    """Pixel to value along an axis, from its first and last tick."""
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    return lambda p: v0 + (p - p0) * (v1 - v0) / (p1 - p0)


def to_pixel(ticks: list[tuple[float, float]]):
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    return lambda v: p0 + (v - v0) * (p1 - p0) / (v1 - v0)


def points(path: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d"))]


def assert_nice(values: list[float]):
    """Strictly increasing, evenly spaced by 1, 2 or 5 x 10^k."""
    assert len(values) >= 2
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    step = (values[-1] - values[0]) / (len(values) - 1)
    for a, b in zip(values, values[1:], strict=False):
        assert math.isclose(b - a, step, rel_tol=1e-6, abs_tol=4 * math.ulp(max(abs(a), abs(b))))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, nice, rel_tol=1e-5) for nice in (1, 2, 5, 10)), step


def finite_pairs(steps, losses) -> dict:
    """{step: loss} of the finite points, the first loss of a repeated step."""
    pairs = {}
    for s, v in zip(steps, losses, strict=True):
        if math.isfinite(s) and math.isfinite(v):
            pairs.setdefault(float(s), float(v))
    return pairs


def expected_errors(ref, npu, skip) -> dict:
    """{step: relative error in per cent} on the compared steps, computed plainly."""
    out = {}
    for step, r in ref.items():
        if step in npu and step > skip and r != 0:
            e = abs(npu[step] - r) / abs(r) * 100
            if math.isfinite(e):
                out[step] = e
    return out


def sample_curves(seed=7, n=3000):
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n + 1)
    ref = 4.0 * np.exp(-steps / 700) + 1.3 + rng.normal(0, 0.02, n)
    npu = ref * (1 + rng.normal(0, 0.008, n))
    return steps, ref, steps, npu


# --- Well-formed, whatever the labels hold -------------------------------------------------------


def test_labels_with_markup_characters_and_chinese_are_escaped():
    labels = {"step": "步数 <step> & \"n\" 'k'", "loss": "损失 <b>loss</b>", "reference": "GPU 参考 & <ref>",
              "npu": "昇腾 NPU \"910B\"", "error": "相对误差 <&>", "threshold": "阈值 < 2% & \"ok\"\x01",
              "no_common": "无共同步数 <none>"}
    root = parse(loss_chart_svg(*sample_curves(n=50), skip=10, threshold=0.02, labels=labels))
    texts = {el.text for el in root.iter(f"{SVG}text")}
    for key in ("step", "loss", "reference", "npu", "error"):
        assert labels[key] in texts, key
    assert "阈值 < 2% & \"ok\"" in texts  # the control character, not allowed in XML, is dropped
    assert root.get("font-family").startswith("Noto Sans CJK SC")


def test_the_chart_is_one_svg_of_the_given_size():
    root = parse(loss_chart_svg(*sample_curves(n=50), skip=0, threshold=0.02, labels=LABELS,
                                width=500, height=200, err_height=100))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("500", "300", "0 0 500 300")
    assert len(by_attr(root, "data-chart", "loss")) == 1 and len(by_attr(root, "data-chart", "relative-error")) == 1


# --- Axes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ticks_are_nice_and_cover_the_data(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 5000))
    first = int(rng.integers(-500, 5000))
    ref_steps = np.arange(first, first + n) * int(rng.integers(1, 50))
    scale = 10.0 ** rng.uniform(-3, 4)
    ref = scale * (2 + np.cumsum(rng.normal(0, 0.05, n)))
    npu_steps = ref_steps[::2]
    npu = ref[::2] * (1 + rng.normal(0, 0.01, npu_steps.size))
    ref[rng.integers(0, n, 5)] = np.nan
    skip, threshold = int(ref_steps[n // 10]), 0.015
    root = parse(loss_chart_svg(ref_steps, ref, npu_steps, npu, skip=skip, threshold=threshold, labels=LABELS))

    ref_pairs, npu_pairs = finite_pairs(ref_steps, ref), finite_pairs(npu_steps, npu)
    all_steps = list(ref_pairs) + list(npu_pairs)
    all_losses = list(ref_pairs.values()) + list(npu_pairs.values())
    errors = expected_errors(ref_pairs, npu_pairs, skip)
    for name, lo, hi in [("loss-x", min(all_steps), max(all_steps)), ("error-x", min(all_steps), max(all_steps)),
                         ("loss-y", min(all_losses), max(all_losses)),
                         ("error-y", 0.0, max(max(errors.values()), threshold * 100))]:
        ticks = axis(root, name)
        values = [v for _, v in ticks]
        assert_nice(values)
        assert values[0] <= lo and values[-1] >= hi, (name, values, lo, hi)
        assert 3 <= len(values) <= 10, (name, values)
        pixels = [p for p, _ in ticks]
        assert pixels == sorted(pixels, reverse=name.endswith("-y")), name  # y grows downwards
    assert axis(root, "loss-x") == axis(root, "error-x")  # the two charts share the step axis
    assert all(t.endswith("%") for t in (el.text for el in one(root, "data-axis", "error-y").iter(f"{SVG}text")))


def test_axis_titles_and_thousands_separators():
    steps = np.arange(0, 1_200_001, 100)
    losses = np.linspace(5, 1, steps.size)
    root = parse(loss_chart_svg(steps, losses, steps, losses * 1.01, skip=0, threshold=0.02, labels=LABELS))
    labels = [el.text for el in one(root, "data-axis", "loss-x").iter(f"{SVG}text")]
    assert "1,000,000" in labels
    assert [el.text for el in by_attr(root, "data-role", "x-title")] == ["Step", "Step"]
    assert [el.text for el in by_attr(root, "data-role", "y-title")] == ["Loss", "Relative error"]


# --- Curves ------------------------------------------------------------------------------------


def test_the_reference_is_dashed_and_drawn_over_the_npu_curve():
    root = parse(loss_chart_svg(*sample_curves(), skip=0, threshold=0.02, labels=LABELS))
    paths = [el.get("data-series") for el in root.iter(f"{SVG}path")]
    assert paths.index("reference") > paths.index("npu")
    reference, npu = one(root, "data-series", "reference"), one(root, "data-series", "npu")
    assert reference.get("stroke-dasharray") and not npu.get("stroke-dasharray")

    def grey(colour: str) -> float:  # the luma a greyscale print keeps (ITU-R BT.601)
        r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    assert abs(grey(reference.get("stroke")) - grey(npu.get("stroke"))) > 0.25  # apart in greyscale too
    assert float(npu.get("stroke-width")) > float(reference.get("stroke-width"))  # a band around the dashes
    legend = one(root, "data-role", "legend")
    assert [el.text for el in legend.iter(f"{SVG}text")] == ["NPU", "GPU reference", "Relative error", "Threshold 2%"]
    legend_reference = list(legend.iter(f"{SVG}line"))[1]
    assert legend_reference.get("stroke-dasharray") == reference.get("stroke-dasharray")


def test_the_curves_are_drawn_where_the_data_is():
    ref_steps, ref = [0, 10, 20, 30], [4.0, 3.0, 2.5, 2.0]
    npu_steps, npu = [0, 10, 20, 30], [4.0, 3.3, 2.5, 1.0]
    root = parse(loss_chart_svg(ref_steps, ref, npu_steps, npu, skip=0, threshold=0.02, labels=LABELS))
    x, y = to_data(axis(root, "loss-x")), to_data(axis(root, "loss-y"))
    for series, steps, losses in [("reference", ref_steps, ref), ("npu", npu_steps, npu)]:
        drawn = [(x(px), y(py)) for px, py in points(one(root, "data-series", series))]
        assert len(drawn) == len(steps)
        for (ds, dl), s, v in zip(drawn, steps, losses, strict=True):
            assert abs(ds - s) < 0.1 and abs(dl - v) < 0.02


# --- The relative error and its threshold ------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.02, 0.035, 0.001, 0.5])
def test_the_threshold_line_sits_at_the_threshold_on_the_error_scale(threshold):
    root = parse(loss_chart_svg(*sample_curves(), skip=100, threshold=threshold, labels=LABELS))
    line = one(root, "data-series", "threshold")
    assert line.tag == f"{SVG}line" and line.get("y1") == line.get("y2")
    ticks = axis(root, "error-y")
    assert abs(float(line.get("y1")) - to_pixel(ticks)(threshold * 100)) < 0.05
    assert ticks[-1][0] + 5 < float(line.get("y1")) < ticks[0][0]  # inside the plot, off its top edge
    assert line.get("stroke-dasharray")
    assert one(root, "data-role", "threshold-label").text == "Threshold 2%"


def test_the_error_curve_skips_warm_up_nan_inf_and_zero_reference_steps():
    ref_steps = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    ref = [2.0, 2.0, 2.0, 0.0, np.nan, 2.0, 2.0, np.inf, 2.0]
    npu_steps = [1, 2, 3, 4, 5, 6, 7, 8, 10]
    npu = [9.0, 9.0, 2.1, 1.0, 2.0, np.nan, 1.9, 2.0, 2.0]
    root = parse(loss_chart_svg(ref_steps, ref, npu_steps, npu, skip=2, threshold=0.02, labels=LABELS))
    expected = expected_errors(finite_pairs(ref_steps, ref), finite_pairs(npu_steps, npu), 2)
    assert sorted(expected) == [3.0, 7.0]
    x, y = to_data(axis(root, "error-x")), to_data(axis(root, "error-y"))
    drawn = [(x(px), y(py)) for px, py in points(one(root, "data-series", "error"))]
    assert [round(s) for s, _ in drawn] == [3, 7]
    for (_, e), step in zip(drawn, [3.0, 7.0], strict=True):
        assert abs(e - expected[step]) < 0.05


def test_no_common_steps_says_so():
    root = parse(loss_chart_svg([1, 2, 3], [3, 2, 1], [10, 11], [1, 1], skip=0, threshold=0.02,
                                labels={**LABELS, "no_common": "无共同步数"}))
    assert one(root, "data-role", "no-common-steps").text == "无共同步数"
    assert not by_attr(root, "data-series", "error")
    assert by_attr(root, "data-series", "threshold")  # the scale and the threshold still show
    default = parse(loss_chart_svg([1, 2, 3], [3, 2, 1], [10, 11], [1, 1], skip=0, threshold=0.02, labels={}))
    assert one(default, "data-role", "no-common-steps").text == "no common steps"


# --- Long curves -------------------------------------------------------------------------------


def test_a_million_steps_draw_fast_and_small():
    steps = np.arange(1, 1_000_001)
    rng = np.random.default_rng(0)
    ref = np.linspace(6, 1.5, steps.size) + rng.normal(0, 0.05, steps.size)
    npu = ref * (1 + rng.normal(0, 0.01, steps.size))
    npu[777_777] = 40.0  # a one-step spike survives the down-sampling
    started = time.perf_counter()
    svg = loss_chart_svg(steps, ref, steps, npu, skip=1000, threshold=0.02, labels=LABELS)
    elapsed = time.perf_counter() - started
    root = parse(svg)
    for series in ("reference", "npu", "error"):
        assert 10 < len(points(one(root, "data-series", series))) <= 2000
    assert len(svg) < 250_000
    assert elapsed < 5
    assert max(v for _, v in axis(root, "loss-y")) >= 40
    y = to_data(axis(root, "loss-y"))
    assert max(y(py) for _, py in points(one(root, "data-series", "npu"))) == pytest.approx(40, abs=0.1)


# --- Degenerate inputs -------------------------------------------------------------------------


DEGENERATE = {
    "both empty": ([], [], [], []),
    "reference empty": ([], [], [1, 2, 3], [3.0, 2.0, 1.0]),
    "npu empty": ([1, 2, 3], [3.0, 2.0, 1.0], [], []),
    "one point each": ([5], [2.0], [5], [2.1]),
    "one point": ([5], [2.0], [], []),
    "all equal": ([1, 2, 3, 4], [1.5] * 4, [1, 2, 3, 4], [1.5] * 4),
    "all zero": ([1, 2, 3], [0.0] * 3, [1, 2, 3], [0.0] * 3),
    "negative steps": ([-30, -20, -10, 0], [4.0, 3.0, 2.0, 1.0], [-30, -20, -10, 0], [4.1, 3.0, 2.1, 1.0]),
    "no common steps": ([1, 3, 5], [3.0, 2.0, 1.0], [2, 4, 6], [3.0, 2.0, 1.0]),
    "all nan": ([1, 2], [np.nan, np.nan], [1, 2], [np.inf, -np.inf]),
    "all skipped": ([1, 2], [2.0, 1.0], [1, 2], [2.0, 1.0]),
    "huge and tiny": ([0, 1], [1e-12, 1e12], [0, 1], [2e-12, 1e12]),
    "unsorted and repeated steps": ([3, 1, 2, 2], [1.0, 3.0, 2.0, 9.0], [2, 1, 3], [2.0, 3.0, 1.0]),
    "lists of ints": ([1, 2, 3], [3, 2, 1], [1, 2, 3], [3, 2, 1]),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
@pytest.mark.parametrize("threshold", [0.02, 0.0])
def test_degenerate_inputs_give_a_valid_chart(case, threshold):
    ref_steps, ref, npu_steps, npu = DEGENERATE[case]
    svg = loss_chart_svg(ref_steps, ref, npu_steps, npu, skip=1 if case == "all skipped" else 0,
                         threshold=threshold, labels=LABELS)
    root = parse(svg)
    losses = [v for v in [*ref, *npu] if math.isfinite(v)]
    if losses:
        values = [v for _, v in axis(root, "loss-y")]
        assert_nice(values)
        assert values[0] <= min(losses) and values[-1] >= max(losses)
        steps = [s for s, v in [*zip(ref_steps, ref, strict=True), *zip(npu_steps, npu, strict=True)]
                 if math.isfinite(v)]
        x_values = [v for _, v in axis(root, "loss-x")]
        assert_nice(x_values)
        assert x_values[0] <= min(steps) and x_values[-1] >= max(steps)
        assert all(v == int(v) for v in x_values)  # training steps are whole
        for path in root.iter(f"{SVG}path"):
            assert all(math.isfinite(px) and math.isfinite(py) for px, py in points(path))
    else:
        assert by_attr(root, "data-role", "no-data")
    if not expected_errors(finite_pairs(ref_steps, ref), finite_pairs(npu_steps, npu), 1 if case == "all skipped"
                           else 0):
        assert not by_attr(root, "data-series", "error")
        assert by_attr(root, "data-role", "no-common-steps") or by_attr(root, "data-role", "no-compared-steps")
    assert bool(by_attr(root, "data-series", "threshold")) == (threshold > 0 and bool(losses))


def test_a_flat_loss_still_has_a_y_range():
    root = parse(loss_chart_svg([1, 2, 3], [2.0] * 3, [1, 2, 3], [2.0] * 3, skip=0, threshold=0.02, labels=LABELS))
    values = [v for _, v in axis(root, "loss-y")]
    assert values[0] < 2.0 < values[-1]
    assert 3 <= len(values) <= 10


# --- The tick generator ------------------------------------------------------------------------


reals = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=400, deadline=None)
@given(reals, reals, st.integers(3, 8))
def test_nice_ticks_properties(a, b, target):
    lo, hi = min(a, b), max(a, b)
    ticks = nice_ticks(lo, hi, target)
    assert 3 <= len(ticks) <= 10
    assert_nice(ticks)
    assert ticks[0] <= lo and ticks[-1] >= hi
    if hi - lo > 1e-6 * max(abs(lo), abs(hi)) and hi - lo > 1e-200:
        assert ticks[1] > lo and ticks[-2] < hi  # no tick more than needed at either end


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(0, 10**7))
def test_nice_ticks_for_steps_are_whole_numbers(first, length):
    ticks = nice_ticks(first, first + length, integer=True)
    assert 3 <= len(ticks) <= 10
    assert_nice(ticks)
    assert ticks[0] <= first and ticks[-1] >= first + length
    assert all(t == int(t) for t in ticks)


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0.3, 2.7, [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
    (1, 1_000_000, [0.0, 200_000.0, 400_000.0, 600_000.0, 800_000.0, 1_000_000.0]),
    (0.1, 0.3, [0.1, 0.15, 0.2, 0.25, 0.3]),
    (-3.2, 0.01, [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0]),
])
def test_nice_ticks_examples(lo, hi, expected):
    assert nice_ticks(lo, hi) == expected


def test_nice_ticks_refuses_what_cannot_be_scaled():
    with pytest.raises(ValueError):
        nice_ticks(0, math.inf)
    with pytest.raises(ValueError):
        nice_ticks(math.nan, 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-1000, 1000), st.floats(allow_nan=True, allow_infinity=True),
                          st.floats(allow_nan=True, allow_infinity=True)), max_size=40),
       st.integers(-1000, 1000), st.floats(0, 1))
def test_any_input_gives_a_well_formed_chart(rows, skip, threshold):
    steps = [s for s, _, _ in rows]
    parse(loss_chart_svg(steps, [r for _, r, _ in rows], steps[::-1], [n for _, _, n in rows][::-1],
                         skip=skip, threshold=threshold, labels=LABELS))


# --- Django-free, and drawn by WeasyPrint ------------------------------------------------------


def test_the_chart_and_number_modules_need_no_django():
    code = ("import sys, assessments.charts, common.numbers; "
            "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_weasyprint_draws_the_chart():
    weasyprint = pytest.importorskip("weasyprint")
    labels = {**LABELS, "step": "训练步数", "loss": "损失", "reference": "GPU 参考", "error": "相对误差",
              "threshold": "阈值 2%"}
    svg = loss_chart_svg(*sample_curves(), skip=100, threshold=0.02, labels=labels)
    pdf = weasyprint.HTML(string=f"<html><body>{svg}</body></html>").write_pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
