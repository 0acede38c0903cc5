"""Down-sampling keeps the shape (first, last, extremes of every bucket) of long curves."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.charts import downsample, polyline


def test_a_one_step_spike_in_a_million_survives():
    steps = np.arange(1, 1_000_001)
    values = np.linspace(3.0, 1.0, steps.size)
    values[654_321] = 50.0
    small_steps, small_values = downsample(steps, values, buckets=400)
    assert small_steps.size <= 1600
    assert 50.0 in small_values and 654_322 in small_steps
    assert small_steps[0] == 1 and small_steps[-1] == 1_000_000


def test_short_curves_are_left_alone_and_nan_is_dropped():
    steps, values = downsample(np.arange(5), np.array([1.0, np.nan, 3.0, np.inf, 5.0]))
    assert list(steps) == [0, 2, 4] and list(values) == [1.0, 3.0, 5.0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=5000), st.integers(2, 50))
def test_downsampled_points_are_a_sorted_subset_with_the_extremes(values, buckets):
    values = np.array(values)
    steps = np.arange(values.size)
    small_steps, small_values = downsample(steps, values, buckets)
    assert list(small_steps) == sorted(set(small_steps))
    assert set(small_steps) <= set(steps)
    assert small_values.max() == values.max() and small_values.min() == values.min()
    assert np.array_equal(values[small_steps], small_values)


def test_polyline_fits_the_box():
    points = polyline([0, 5, 10], [2.0, 1.0, 0.0], width=100, height=50, pad=0)
    assert points == "0.0,0.0 50.0,25.0 100.0,50.0"
