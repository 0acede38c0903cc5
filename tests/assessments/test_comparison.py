"""Comparison maths on curves and scores with known answers, and properties."""

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from assessments.comparison import CANNOT, FAIL, PASS, compare_loss, compare_performance, compare_score

STEPS = np.arange(1, 201)
REF = 3.0 * np.exp(-STEPS / 80) + 1.0


def test_a_constant_relative_offset_is_found_exactly():
    result = compare_loss(STEPS, REF, STEPS, REF * 1.01)
    assert result.verdict == PASS
    assert result.mean_relative_error == pytest.approx(0.01)
    assert result.max_relative_error == pytest.approx(0.01)
    assert (result.compared_points, result.first_step, result.last_step) == (180, 21, 200)


def test_a_constant_absolute_offset_matches_a_hand_computation():
    npu = REF + 0.05
    result = compare_loss(STEPS, REF, STEPS, npu, skip=20, threshold=0.02)
    keep = STEPS > 20
    expected = np.mean(0.05 / REF[keep])
    assert result.mean_relative_error == pytest.approx(expected)
    assert result.mean_absolute_error == pytest.approx(0.05)
    assert result.max_relative_error_step == 200  # the smallest reference loss
    assert result.verdict == (PASS if expected < 0.02 else FAIL)


def test_three_percent_off_fails_with_the_reason():
    result = compare_loss(STEPS, REF, STEPS, REF * 0.97)
    assert result.verdict == FAIL and "3.000%" in result.reason


def test_a_spike_is_reported_where_it_is():
    npu = REF.copy()
    npu[149] *= 1.5  # step 150
    result = compare_loss(STEPS, REF, STEPS, npu)
    assert (result.max_relative_error_step, result.max_relative_error) == (150, pytest.approx(0.5))
    assert result.mean_relative_error == pytest.approx(0.5 / 180)
    spiky = [w for w in result.windows if w["from_step"] <= 150 <= w["to_step"]]
    assert spiky[0]["mean_relative_error"] == pytest.approx(0.5 / spiky[0]["points"])


def test_warm_up_steps_are_skipped():
    npu = REF.copy()
    npu[:20] *= 2  # wildly off during the warm-up only
    assert compare_loss(STEPS, REF, STEPS, npu, skip=20).mean_relative_error == 0
    assert compare_loss(STEPS, REF, STEPS, npu, skip=0).verdict == FAIL


def test_different_lengths_and_intervals_compare_on_common_steps():
    npu_steps = np.arange(1, 401, 2)  # every other step, twice as long
    npu = 3.0 * np.exp(-npu_steps / 80) + 1.0
    result = compare_loss(STEPS, REF, npu_steps, npu)
    assert result.compared_points == len([s for s in range(21, 201) if s % 2 == 1])
    assert result.interval_note and result.ref_interval == 1 and result.npu_interval == 2
    assert result.verdict == PASS and result.mean_relative_error == pytest.approx(0, abs=1e-12)


def test_nan_in_a_compared_step_fails_with_the_step():
    npu = REF.copy()
    npu[99] = np.nan
    result = compare_loss(STEPS, REF, STEPS, npu)
    assert result.verdict == FAIL and "step 100" in result.reason and result.mean_relative_error is None


def test_inf_in_the_reference_fails_and_names_it():
    ref = REF.copy()
    ref[49] = np.inf
    result = compare_loss(STEPS, ref, STEPS, REF)
    assert result.verdict == FAIL and "reference" in result.reason and "step 50" in result.reason


def test_a_zero_reference_value_cannot_be_compared():
    ref = REF.copy()
    ref[59] = 0.0
    result = compare_loss(STEPS, ref, STEPS, REF)
    assert result.verdict == CANNOT and "step 60" in result.reason


def test_too_few_common_steps_cannot_be_compared():
    result = compare_loss(STEPS[:25], REF[:25], STEPS[:25], REF[:25])
    assert result.verdict == CANNOT and "Only 5 common steps" in result.reason
    disjoint = compare_loss(np.arange(1, 100, 2), np.ones(50), np.arange(2, 101, 2), np.ones(50))
    assert disjoint.verdict == CANNOT and disjoint.compared_points == 0


def test_a_step_logged_twice_keeps_its_last_value():
    steps = np.r_[STEPS, [100]]
    npu = np.r_[REF * 1.5, [REF[99]]]
    npu[:-1] = REF
    npu[99] = 99.0  # the first logging of step 100 was wrong; the resumed run re-logged it
    assert compare_loss(STEPS, REF, steps, npu).max_relative_error == 0


finite = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(finite, min_size=30, max_size=300), st.floats(min_value=-0.5, max_value=0.5))
def test_scaling_by_one_plus_e_gives_mre_abs_e(ref, e):
    ref = np.array(ref)
    steps = np.arange(1, ref.size + 1)
    result = compare_loss(steps, ref, steps, ref * (1 + e), skip=0)
    assert result.mean_relative_error == pytest.approx(abs(e), abs=1e-9)
    assert result.verdict == (PASS if result.mean_relative_error < 0.02 else FAIL)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=12, max_size=200))
def test_mre_lies_between_zero_and_the_max_and_windows_average_to_it(pairs):
    ref, npu = (np.array(v) for v in zip(*pairs, strict=True))
    steps = np.arange(1, ref.size + 1)
    result = compare_loss(steps, ref, steps, npu, skip=0)
    assert 0 <= result.mean_relative_error <= result.max_relative_error + 1e-12
    weighted = sum(w["mean_relative_error"] * w["points"] for w in result.windows) / result.compared_points
    assert weighted == pytest.approx(result.mean_relative_error)
    swapped_steps = compare_loss(steps[::-1], ref[::-1], steps, npu, skip=0)  # order of input does not matter
    assert swapped_steps.mean_relative_error == pytest.approx(result.mean_relative_error)


# --- scores ---------------------------------------------------------------------------

def test_score_relative_and_absolute():
    # The difference is in the mode's unit: per cent (relative) or points (absolute).
    assert compare_score(70.58, 70.0).difference == pytest.approx((70.0 - 70.58) / 70.58 * 100)
    assert compare_score(70.58, 70.0).verdict == PASS
    assert compare_score(70.58, 68.0).verdict == FAIL
    assert compare_score(80, 79, mode="absolute", threshold=2).verdict == PASS
    assert compare_score(80, 77, mode="absolute", threshold=2).verdict == FAIL
    assert compare_score(0, 1).verdict == CANNOT
    assert compare_score(70, math.nan).verdict == FAIL
    with pytest.raises(ValueError):
        compare_score(1, 1, mode="ratio")


@given(st.floats(min_value=1, max_value=1e4), st.floats(min_value=-0.1, max_value=0.1))
def test_score_verdict_follows_the_difference(baseline, e):
    """Higher is better by default: only a drop of 2% or more fails; a rise never does."""
    assume(abs(abs(e) - 0.02) > 1e-9)
    result = compare_score(baseline, baseline * (1 + e), threshold=2)
    assert result.verdict == (PASS if e > -0.02 else FAIL)
    two_sided = compare_score(baseline, baseline * (1 + e), threshold=2, direction="two_sided")
    assert two_sided.verdict == (PASS if abs(e) < 0.02 else FAIL)


# --- performance ------------------------------------------------------------------------

def test_performance_directions_and_ratio():
    faster = compare_performance("tokens/s", "higher", Decimal("300"), 327.3233)
    assert faster.verdict == PASS and faster.ratio == pytest.approx(327.3233 / 300)
    slower = compare_performance("FirstTokenTime (ms)", "lower", Decimal("90"), 97.07)
    assert slower.verdict == FAIL and slower.ratio == pytest.approx(97.07 / 90)
    assert compare_performance("x", "lower", 100, 100).verdict == PASS
    assert compare_performance("x", "higher", 100, None).verdict == CANNOT
