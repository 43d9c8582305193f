"""Tests of the household simulator."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from lighting_replay_engine.series import to_minute_series
from lighting_replay_engine.simulate import (
    DEFAULT_ROOMS,
    LampHabit,
    RoomHabits,
    simulate_household,
    simulate_rooms,
)
from lighting_replay_engine.zones import Location, after_dark, local_clock


def test_deterministic_given_a_seed(berlin: Location) -> None:
    """Same seed, same readings; another seed, other readings."""
    a = simulate_household(berlin, date(2024, 1, 8), 5, seed=3)
    b = simulate_household(berlin, date(2024, 1, 8), 5, seed=3)
    c = simulate_household(berlin, date(2024, 1, 8), 5, seed=4)
    assert a.keys() == b.keys() == {room.name for room in DEFAULT_ROOMS}
    for name in a:
        np.testing.assert_array_equal(a[name][0], b[name][0])
        np.testing.assert_array_equal(a[name][1], b[name][1])
        assert a[name][0].size != c[name][0].size or not np.array_equal(
            a[name][1], c[name][1], equal_nan=True
        )


def test_readings_look_like_a_real_sensor(household: dict, berlin: Location) -> None:
    """About one reading a minute, doubled ones, gaps, noise, glitches."""
    for room in household.values():
        t, lux = room.timestamps_s, room.lux
        assert np.all(np.diff(t) >= 0)
        steps = np.diff(t)
        assert 55 < np.median(steps) < 65
        assert np.mean(steps < 5) > 0.005  # doubled within seconds
        assert steps.max() > 15 * 60  # an outage
        assert np.isnan(lux).any() or (lux > 1e5).any()  # a glitch
        finite = lux[np.isfinite(lux)]
        assert (finite < 0).any()  # dark noise below zero
        series = to_minute_series(t, lux)
        assert 0.85 < series.n_valid / len(series) < 1.0


def test_daylight_and_lamps(household: dict, berlin: Location) -> None:
    """Bright at noon from the sun; lamps after dark follow their habits."""
    for name, room in household.items():
        minutes = room.start_minute + np.arange(room.lamp_on.size)
        dark = after_dark(minutes, berlin)
        light = room.lux  # readings
        series = to_minute_series(room.timestamps_s, light)
        lit = series.lux[np.isfinite(series.lux)]
        assert np.nanpercentile(lit, 99) > 100, name
        # At night without a lamp the room is dark.
        index = series.minutes - room.start_minute
        night_off = dark[index] & ~room.lamp_on[index] & np.isfinite(series.lux)
        assert np.median(series.lux[night_off]) < 3, name
    # The living room's evening lamp is on most evenings around 17-19 h in
    # November; the bedroom's reading light late in the evening.
    living = household["living_room"]
    minutes = living.start_minute + np.arange(living.lamp_on.size)
    _, _, wall = local_clock(minutes, berlin)
    assert living.lamp_on[(wall >= 17 * 60) & (wall < 18 * 60)].mean() > 0.5
    assert living.lamp_on[(wall >= 3 * 60) & (wall < 4 * 60)].mean() < 0.02
    bedroom = household["bedroom"]
    assert bedroom.lamp_on[(wall >= 22 * 60 + 50) & (wall < 23 * 60 + 20)].mean() > 0.15


def test_weekends_differ() -> None:
    """A habit with weekday odds 1 and weekend odds 0 only happens on weekdays."""
    home = Location(48.14, 11.58, "Europe/Berlin")
    room = RoomHabits(
        "office",
        daylight_lux=10.0,
        habits=(LampHabit("clock", 20 * 60, 1, 30, 1.0, 0.0, 200.0),),
    )
    sim = simulate_rooms(home, date(2024, 2, 5), 14, rooms=(room,), seed=1)["office"]
    minutes = sim.start_minute + np.arange(sim.lamp_on.size)
    index, dates, _ = local_clock(minutes, home)
    on_days = {dates[i] for i in np.unique(index[sim.lamp_on])}
    assert on_days == {d for d in dates if d.weekday() < 5}


def test_bad_arguments(berlin: Location) -> None:
    """No days or duplicate room names are errors."""
    with pytest.raises(ValueError, match="at least one day"):
        simulate_household(berlin, date(2024, 1, 1), 0)
    with pytest.raises(ValueError, match="unique"):
        simulate_household(
            berlin, date(2024, 1, 1), 1, rooms=(DEFAULT_ROOMS[0], DEFAULT_ROOMS[0])
        )
