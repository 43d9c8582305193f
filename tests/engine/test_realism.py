"""Tests of the realism metrics and baselines."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pytest

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.realism import (
    COMPONENTS,
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    ks_distance,
    measure,
    on_off_series,
    real_days,
    sensor_view,
)
from lighting_replay_engine.series import MinuteSeries
from lighting_replay_engine.simulate import SimulatedRoom
from lighting_replay_engine.zones import Location, day_zones, local_midnight


def _day(*spans: tuple[int, int]) -> np.ndarray:
    row = np.zeros(1440)
    for start, end in spans:
        row[start:end] = 1.0
    return row


def test_measure_counts_what_it_says() -> None:
    """Hourly profile, minutes on, periods and their lengths, variability."""
    days = {
        date(2024, 1, 1): _day((60, 120), (600, 630)),
        date(2024, 1, 2): _day((60, 120)),
    }
    metrics = measure(days)
    assert metrics.hourly[1] == 1.0
    assert metrics.hourly[10] == 0.25
    assert metrics.hourly[5] == 0.0
    assert sorted(metrics.on_minutes.tolist()) == [60.0, 90.0]
    assert sorted(metrics.periods.tolist()) == [1.0, 2.0]
    assert sorted(metrics.period_lengths.tolist()) == [30.0, 60.0, 60.0]
    assert metrics.variability == pytest.approx(30 / 1440)


def test_missing_minutes_and_partial_days() -> None:
    """A day seen for less than 80 % does not count per day."""
    partial = _day((60, 120))
    partial[:800] = np.nan
    full = _day((60, 90))
    metrics = measure({date(2024, 1, 1): partial, date(2024, 1, 2): full})
    assert metrics.on_minutes.tolist() == [30.0]
    assert metrics.hourly[1] == 0.5  # 30 on of the 60 seen minutes
    with pytest.raises(ValueError, match="1440"):
        measure({date(2024, 1, 1): np.zeros(10)})


def test_ks_distance() -> None:
    """0 for the same sample, 1 for disjoint ones."""
    assert ks_distance([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_distance([1, 2], [5, 6]) == 1.0
    assert ks_distance([], []) == 0.0
    assert ks_distance([], [1]) == 1.0
    assert ks_distance([1, 2, 3, 4], [3, 4, 5, 6]) == pytest.approx(0.5)


def test_compare_is_zero_for_identical_days() -> None:
    """The same days have score 0; different ones more."""
    days = {date(2024, 1, d): _day((60 * d, 60 * d + 90)) for d in range(1, 8)}
    same = compare(days, days)
    assert set(same) == {*COMPONENTS, "score"}
    assert same["score"] == 0.0
    other = {d: _day((0, 10)) for d in days}
    assert compare(days, other)["score"] > 0.3


def test_real_days_by_local_wall_clock(berlin: Location) -> None:
    """An on/off series becomes local days; short gaps are bridged."""
    start = local_midnight(date(2024, 3, 30), berlin)
    end = local_midnight(date(2024, 4, 1), berlin)
    values = np.zeros(end - start)
    values[18 * 60 : 19 * 60] = 1.0  # 18:00-19:00 on the first day
    values[18 * 60 + 10 : 18 * 60 + 15] = np.nan  # a short gap, bridged
    values[1440 + 600 : 1440 + 700] = np.nan  # a long gap on the 31st, kept
    days = real_days(MinuteSeries(start, values), berlin)
    assert list(days) == [date(2024, 3, 30), date(2024, 3, 31)]
    first = days[date(2024, 3, 30)]
    assert first[18 * 60 : 19 * 60].sum() == 60
    assert first.sum() == 60
    spring = days[date(2024, 3, 31)]  # 23 hours: 02:00-02:59 never happened
    assert np.isnan(spring[120:180]).all()
    assert np.isnan(spring).sum() == 60 + 100


def test_baselines(berlin: Location) -> None:
    """The timer runs sunset to 23:00; the replay copies a week before."""
    days = [date(2024, 11, 18) + timedelta(days=i) for i in range(3)]
    timer = baseline_fixed_timer(days, berlin, off_at=time(23))
    for d in days:
        sunset = day_zones(d, berlin).sunset
        on = np.flatnonzero(timer[d])
        assert on[0] == sunset.hour * 60 + sunset.minute
        assert on[-1] == 23 * 60 - 1
    recorded = {date(2024, 11, 4): _day((1, 2)), date(2024, 11, 12): _day((3, 4))}
    replay = baseline_same_weekday_last_week(recorded, days)
    assert set(replay) == {date(2024, 11, 18), date(2024, 11, 19)}
    np.testing.assert_array_equal(replay[date(2024, 11, 18)], _day((1, 2)))
    np.testing.assert_array_equal(replay[date(2024, 11, 19)], _day((3, 4)))


def test_model_beats_fixed_timer_on_simulated_days(
    home_model: HomeModel,
    household: dict[str, SimulatedRoom],
    berlin: Location,
    sim_days: list[date],
) -> None:
    """Against the true lamp days, generated days beat the fixed timer."""
    for name, room in household.items():
        truth = real_days(
            MinuteSeries(room.start_minute, room.lamp_on.astype(float)), berlin
        )
        days = sim_days
        generated = generate_days(
            home_model.rooms[name], days, berlin, rng=np.random.default_rng(0)
        )
        ours = compare(truth, generated)["score"]
        timer = compare(truth, baseline_fixed_timer(days, berlin))["score"]
        assert ours < timer, name


def test_on_off_series_daylight(berlin: Location) -> None:
    """With a location, bright minutes in daylight count as off."""
    from lighting_replay_engine.levels import Levels

    levels = Levels(np.array([0.0, 100.0]), 1)
    noon = local_midnight(date(2024, 6, 21), berlin) + 13 * 60
    night = local_midnight(date(2024, 6, 21), berlin) + 60
    series = MinuteSeries(noon, np.array([300.0, 0.0, np.nan]))
    assert np.isnan(on_off_series(levels, series).lux[2])
    assert on_off_series(levels, series).lux[:2].tolist() == [1.0, 0.0]
    assert on_off_series(levels, series, berlin).lux[:2].tolist() == [0.0, 0.0]
    dark = MinuteSeries(night, np.array([300.0]))
    assert on_off_series(levels, dark, berlin).lux.tolist() == [1.0]


def test_sensor_view_hides_the_lamp_in_daylight(berlin: Location) -> None:
    """A day lit throughout is, to a lux sensor, lit only after dusk."""
    day = date(2024, 11, 20)
    seen = sensor_view({day: np.ones(1440)}, berlin)[day]
    zones = day_zones(day, berlin)
    sunset = zones.sunset.hour * 60 + zones.sunset.minute
    assert seen[12 * 60] == 0.0  # noon
    assert seen[sunset] == 0.0  # still twilight
    assert seen[sunset + 45] == 1.0  # dark (civil dusk about 40 minutes later)
    assert seen[2 * 60] == 1.0  # night
    assert seen.sum() < 1440 - 9 * 60  # November: well over 9 hours of daylight
