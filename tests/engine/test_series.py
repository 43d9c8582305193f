"""Tests of the one-minute series: cleaning, gaps and smoothing."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine.series import (
    NEGATIVE_TOLERANCE_LUX,
    MinuteSeries,
    smooth,
    to_minute_series,
)

T0 = 1_700_000_000 // 60 * 60  # a whole minute, in epoch seconds


def test_regular_readings_map_to_minutes() -> None:
    """One reading per minute gives those values at those minutes."""
    times = T0 + 60.0 * np.arange(10) + 5.0
    series = to_minute_series(times, np.arange(10.0))
    assert series.start_minute == T0 // 60
    assert series.end_minute == T0 // 60 + 10
    np.testing.assert_array_equal(series.lux, np.arange(10.0))
    np.testing.assert_array_equal(series.minutes, T0 // 60 + np.arange(10))


def test_doubled_readings_are_averaged() -> None:
    """Two readings within seconds in the same minute become their mean."""
    times = np.array([T0 + 1.0, T0 + 2.5, T0 + 61.0])
    series = to_minute_series(times, np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(series.lux, [15.0, 30.0])


def test_short_silence_holds_the_last_value() -> None:
    """A few minutes without a reading keep the value before them."""
    times = np.array([T0, T0 + 240.0])
    series = to_minute_series(times, np.array([5.0, 9.0]), max_gap_minutes=10)
    np.testing.assert_array_equal(series.lux, [5.0, 5.0, 5.0, 5.0, 9.0])


def test_long_gap_stays_missing() -> None:
    """Across a gap longer than the bound, every minute is NaN."""
    times = np.array([T0, T0 + 60.0 * 30])
    series = to_minute_series(times, np.array([5.0, 9.0]), max_gap_minutes=10)
    assert series.lux[0] == 5.0
    assert series.lux[-1] == 9.0
    assert np.isnan(series.lux[1:-1]).all()
    assert series.n_valid == 2


def test_bad_values_are_handled_on_purpose() -> None:
    """NaN and spikes are dropped; small negatives become 0, large ones drop."""
    times = T0 + 60.0 * np.arange(6)
    lux = np.array([1.0, np.nan, -0.8, 1e7, -50.0, 2.0])
    series = to_minute_series(times, lux, max_gap_minutes=0, max_lux=1e5)
    assert series.lux[0] == 1.0
    assert np.isnan(series.lux[1])
    assert series.lux[2] == 0.0
    assert np.isnan(series.lux[3])
    assert np.isnan(series.lux[4])
    assert series.lux[5] == 2.0
    assert -NEGATIVE_TOLERANCE_LUX < -0.8


def test_unsorted_input_is_sorted() -> None:
    """Readings may arrive out of order."""
    times = np.array([T0 + 120.0, T0, T0 + 60.0])
    series = to_minute_series(times, np.array([3.0, 1.0, 2.0]))
    np.testing.assert_array_equal(series.lux, [1.0, 2.0, 3.0])


def test_no_valid_reading_is_an_error() -> None:
    """Nothing usable is a clear error, not an empty series."""
    with pytest.raises(ValueError, match="no valid"):
        to_minute_series([T0, T0 + 60], [np.nan, -100.0])
    with pytest.raises(ValueError, match="same length"):
        to_minute_series([T0], [1.0, 2.0])
    # A timestamp in milliseconds by mistake: a clear error, not 40 GB.
    with pytest.raises(ValueError, match="check the timestamps"):
        to_minute_series([T0, T0 * 1000.0], [1.0, 2.0])


def test_smooth_is_a_trailing_mean() -> None:
    """The value at a minute is the mean of it and the 4 before it."""
    series = MinuteSeries(100, np.arange(10.0))
    smoothed = smooth(series, 5)
    assert np.isnan(smoothed.lux[:4]).all()
    np.testing.assert_allclose(smoothed.lux[4:], np.arange(2.0, 8.0))
    assert smoothed.start_minute == 100


def test_smooth_does_not_cross_a_gap() -> None:
    """Minutes whose window touches a missing minute stay missing."""
    lux = np.arange(12.0)
    lux[6] = np.nan
    smoothed = smooth(MinuteSeries(0, lux), 3)
    assert np.isnan(smoothed.lux[6:9]).all()
    np.testing.assert_allclose(smoothed.lux[9], 8.0)
    np.testing.assert_allclose(smoothed.lux[5], 4.0)


def test_smooth_rejects_bad_window() -> None:
    """A window below 1 makes no sense."""
    with pytest.raises(ValueError, match="window"):
        smooth(MinuteSeries(0, np.ones(3)), 0)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=1.0, max_value=3000.0), min_size=1, max_size=40),
    max_gap=st.integers(min_value=0, max_value=20),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_never_fills_across_long_gaps(
    gaps: list[float], max_gap: int, seed: int
) -> None:
    """Between two readings further apart than the bound, nothing is filled."""
    times = T0 + np.concatenate(([0.0], np.cumsum(gaps)))
    lux = np.random.default_rng(seed).uniform(0, 500, times.size)
    series = to_minute_series(times, lux, max_gap_minutes=max_gap)
    minute = np.floor(times / 60).astype(np.int64) - series.start_minute
    assert series.n_valid >= np.unique(minute).size
    for i in np.flatnonzero(np.diff(times) > max_gap * 60.0):
        between = series.lux[minute[i] + 1 : minute[i + 1]]
        assert np.isnan(between).all()
    # Every minute with a reading has a value.
    assert np.isfinite(series.lux[minute]).all()


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(min_value=0, max_value=1e4), st.just(float("nan"))),
        min_size=0,
        max_size=80,
    ),
    window=st.integers(min_value=1, max_value=8),
)
def test_smoothing_never_produces_values_next_to_gaps(
    values: list[float], window: int
) -> None:
    """A smoothed value exists exactly where its whole window has values."""
    lux = np.asarray(values, dtype=np.float64)
    smoothed = smooth(MinuteSeries(0, lux), window).lux
    assert smoothed.shape == lux.shape
    for t in range(lux.size):
        window_values = lux[max(0, t - window + 1) : t + 1]
        complete = t >= window - 1 and np.isfinite(window_values).all()
        assert np.isfinite(smoothed[t]) == complete
        if complete:
            assert smoothed[t] == pytest.approx(
                window_values.mean(), rel=1e-9, abs=1e-9
            )
