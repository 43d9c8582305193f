"""Tests of finding the days nobody was home, from the rooms' lights."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from lighting_replay_engine.absence import MIN_WATCHED_MINUTES, absent_days, away_ranges
from lighting_replay_engine.series import MinuteSeries
from lighting_replay_engine.simulate import SimulatedRoom, simulate_rooms
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import (
    TrainingOptions,
    lux_sources,
    prepare_sources,
)
from lighting_replay_engine.zones import Location, local_midnight

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
QUICK = TrainingOptions(n_restarts=1, n_iter=40)
SEASONS = (date(2024, 3, 4), date(2024, 6, 3), date(2024, 9, 2), date(2024, 11, 4))
START = date(2024, 1, 1)


def _days(ranges: tuple[tuple[int, int], ...]) -> list[date]:
    tz = BERLIN.tzinfo
    return [
        datetime.fromtimestamp(first * 60 + 43200, tz).date() for first, _ in ranges
    ]


def _synthetic(lit: list[bool], known_minutes: int = 1440) -> MinuteSeries:
    """A room over ``len(lit)`` local days: lit for an hour at 20:00 or dark."""
    first = local_midnight(START, BERLIN)
    end = local_midnight(START + timedelta(days=len(lit)), BERLIN)
    values = np.full(end - first, np.nan)
    for i, on in enumerate(lit):
        day = local_midnight(START + timedelta(days=i), BERLIN) - first
        values[day : day + known_minutes] = 0.0
        if on:
            values[day + 20 * 60 : day + 21 * 60] = 1.0
    return MinuteSeries(first, values)


def test_a_run_of_dark_days_in_a_lit_home_is_away() -> None:
    """Days without light in a home lit every day are taken for a trip."""
    lit = [True] * 60
    lit[10:13] = [False] * 3
    found = absent_days([_synthetic(lit)], BERLIN)
    assert _days(found) == [START + timedelta(days=i) for i in (10, 11, 12)]
    first, end = found[0]
    assert end - first == 1440
    assert first == local_midnight(START + timedelta(days=10), BERLIN)


def test_one_dark_day_is_not_a_trip() -> None:
    """A single dark day is kept: an evening out is not time away."""
    lit = [True] * 30
    lit[5] = lit[20] = False
    assert absent_days([_synthetic(lit)], BERLIN) == ()


def test_a_room_dark_on_many_days_needs_a_long_run() -> None:
    """In a home dark one day in three, three dark days are normal; ten are not."""
    lit = [i % 3 != 0 for i in range(60)]
    lit[30:33] = [False] * 3
    assert absent_days([_synthetic(lit)], BERLIN) == ()
    lit[30:40] = [False] * 10
    assert _days(absent_days([_synthetic(lit)], BERLIN)) == [
        START + timedelta(days=i) for i in range(30, 40)
    ]


def test_light_in_any_room_is_someone_home() -> None:
    """A day is dark only when every room is; unwatched days are not judged."""
    dark = [True] * 60
    dark[10:16] = [False] * 6
    other = [True] * 60
    other[10:16] = [False, True, False, False, False, False]
    assert _days(absent_days([_synthetic(dark), _synthetic(other)], BERLIN)) == [
        START + timedelta(days=i) for i in range(12, 16)
    ]
    blind = _synthetic(dark, known_minutes=MIN_WATCHED_MINUTES - 1)
    assert absent_days([blind], BERLIN) == ()
    assert absent_days([MinuteSeries(0, np.zeros(0))], BERLIN) == ()


def test_away_ranges_from_a_presence_series() -> None:
    """Minutes at 0 are away; 1 and unknown (NaN) are not; ranges end after."""
    nan = np.nan
    presence = MinuteSeries(100, np.array([1, 0, 0, nan, 0, 1, 1, 0], dtype=np.float64))
    assert away_ranges(presence) == ((101, 103), (104, 105), (107, 108))
    assert away_ranges(MinuteSeries(5, np.zeros(3))) == ((5, 8),)
    assert away_ranges(MinuteSeries(5, np.ones(3))) == ()
    assert away_ranges(MinuteSeries(0, np.zeros(0))) == ()
    assert away_ranges(None) == ()


# -- on the simulator ----------------------------------------------------------


def _on_off(room: SimulatedRoom, kind: str) -> MinuteSeries:
    """The room's on/off per minute (1/0/NaN) as it learns it."""
    lux = lux_sources(room.timestamps_s, room.lux, QUICK).lux
    sources = {
        "lux": RoomSources(lux=lux),
        "lights": RoomSources(lights=room.light_series()),
        "both": RoomSources(lux=lux, lights=room.light_series()),
    }[kind]
    prepared = prepare_sources(sources, BERLIN, QUICK)
    values = prepared.on_off.astype(np.float64)
    values[values < 0] = np.nan
    return MinuteSeries(prepared.series.start_minute, values)


@pytest.mark.parametrize("season", SEASONS)
def test_no_normal_day_is_taken_for_time_away(season: date) -> None:
    """Eight weeks at home in each season: no day is found absent.

    Also a home whose only room is a lux bedroom, dark on many normal days
    (the reading lamp on 6 or 7 days in 10): it used to lose 6 to 21 days in
    8 weeks to the rule of "a day with no light".
    """
    house = simulate_rooms(BERLIN, season, 56, seed=11)
    for kind in ("lux", "lights", "both"):
        rooms = [_on_off(room, kind) for room in house.values()]
        assert absent_days(rooms, BERLIN) == (), kind
    assert absent_days([_on_off(house["bedroom"], "lux")], BERLIN) == ()
    assert absent_days([_on_off(house["bedroom"], "lights")], BERLIN) == ()


@pytest.mark.parametrize(
    ("season", "kinds"),
    [
        (date(2024, 3, 4), ("lights", "both", "lux")),
        (date(2024, 6, 3), ("lights",)),
        (date(2024, 9, 2), ("lights", "both")),
        (date(2024, 11, 4), ("lights", "both", "lux")),
    ],
)
def test_a_five_day_trip_is_found(season: date, kinds: tuple[str, ...]) -> None:
    """A household away for 5 days: those days are absent, no other day is.

    The first day away may be kept: a lamp left on the evening before goes
    off after midnight, and that day has light.
    """
    trip = [season + timedelta(days=24 + i) for i in range(5)]
    house = simulate_rooms(BERLIN, season, 56, seed=5, away=tuple(trip))
    for kind in kinds:
        found = _days(absent_days([_on_off(r, kind) for r in house.values()], BERLIN))
        assert set(found) <= set(trip), kind
        assert set(trip[1:]) <= set(found), kind
