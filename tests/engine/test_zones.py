"""Tests of the zones of a day, including daylight saving and polar days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine.zones import (
    Location,
    Zone,
    after_dark,
    day_zones,
    local_clock,
    local_midnight,
    solar_elevation,
    zones_of_minutes,
)

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
LOS_ANGELES = Location(34.05, -118.24, "America/Los_Angeles")
SUNNYVALE = Location(37.37, -122.04, "America/Los_Angeles")
TROMSO = Location(69.65, 18.96, "Europe/Oslo")
SYDNEY = Location(-33.87, 151.21, "Australia/Sydney")
KIRITIMATI = Location(1.87, -157.4, "Pacific/Kiritimati")
PLACES = [BERLIN, LOS_ANGELES, TROMSO, SYDNEY, KIRITIMATI]


def _check_cover(day: date, location: Location) -> None:
    """The zones tile the local day: every minute exactly once, in order."""
    zones = day_zones(day, location)
    b = zones.bounds_minutes
    assert list(b) == sorted(b)
    assert b[0] == local_midnight(day, location)
    assert b[4] == local_midnight(day + timedelta(days=1), location)
    assert all(
        bound.date() == day for bound in zones.bounds[:4] if bound < zones.bounds[4]
    )
    minutes = np.arange(b[0], b[4])
    labels = zones_of_minutes(minutes, location)
    np.testing.assert_array_equal(labels, zones.zone_minutes())
    assert np.all(np.diff(labels) >= 0)  # zones come in order, each once
    assert labels.size == zones.n_minutes


def test_sunnyvale_summer_day() -> None:
    """The original rules on a July day at the recordings' home."""
    zones = day_zones(date(2016, 7, 2), SUNNYVALE)
    sunset = zones.sunset
    assert zones.bounds[1] == zones.sunrise
    assert time(5, 40) < zones.sunrise.time() < time(6, 0)
    assert time(20, 20) < sunset.time() < time(20, 45)
    assert zones.bounds[2] == sunset - timedelta(minutes=30)
    assert zones.bounds[3] == max(
        sunset + timedelta(minutes=60),
        datetime.combine(zones.day, time(21, 30), tzinfo=SUNNYVALE.tzinfo),
    )
    assert zones.n_minutes == 1440


def test_winter_evening_ends_at_half_past_nine() -> None:
    """With an early sunset the evening runs until 21:30."""
    zones = day_zones(date(2024, 12, 10), BERLIN)
    assert zones.bounds[3].time() == time(21, 30)
    assert zones.zone_at(zones.bounds[3]) is Zone.LATE_EVENING
    assert zones.zone_at(zones.bounds[3] - timedelta(minutes=1)) is Zone.EVENING
    with pytest.raises(ValueError, match="not on"):
        zones.zone_at(zones.bounds[4])


@pytest.mark.parametrize(
    ("location", "day", "minutes"),
    [
        (BERLIN, date(2024, 3, 31), 1380),
        (BERLIN, date(2024, 10, 27), 1500),
        (LOS_ANGELES, date(2024, 3, 10), 1380),
        (LOS_ANGELES, date(2024, 11, 3), 1500),
        (SYDNEY, date(2024, 4, 7), 1500),
        (SYDNEY, date(2024, 10, 6), 1380),
    ],
)
def test_daylight_saving_days(location: Location, day: date, minutes: int) -> None:
    """Days of 23 and 25 hours are covered minute by minute."""
    zones = day_zones(day, location)
    assert zones.n_minutes == minutes
    _check_cover(day, location)
    # The evening still ends at 21:30 local time or later.
    assert zones.bounds[3].time() >= time(21, 30)


@pytest.mark.parametrize("day", [date(2024, 6, 21), date(2024, 12, 21)])
def test_polar_fallback(day: date) -> None:
    """Tromsø: midnight sun in June, polar night in December."""
    zones = day_zones(day, TROMSO)
    _check_cover(day, TROMSO)
    if day.month == 6:
        assert zones.length(Zone.NIGHT) == 0
        assert zones.length(Zone.LATE_EVENING) == 0
        assert zones.length(Zone.EVENING) == 30
    else:
        assert zones.length(Zone.DAY) == 0
        noon = zones.bounds[1]
        assert time(11, 20) < noon.time() < time(12, 20)  # solar noon
        assert zones.bounds[3].time() == time(21, 30)


def test_sun_that_barely_rises_is_found() -> None:
    """Near the end of the polar night the short day is still a day."""
    zones = day_zones(date(2024, 1, 20), TROMSO)
    assert 0 < zones.length(Zone.DAY) < 4 * 60
    _check_cover(date(2024, 1, 20), TROMSO)


def test_time_zone_far_from_longitude() -> None:
    """Kiritimati (UTC+14, west longitude) gets its own local day's sun."""
    zones = day_zones(date(2024, 6, 1), KIRITIMATI)
    assert time(5, 30) < zones.sunrise.time() < time(7, 0)
    assert time(17, 30) < zones.sunset.time() < time(19, 0)


@settings(max_examples=60, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=3 * 365),
    place=st.sampled_from(PLACES),
)
def test_zones_cover_every_day_exactly_once(offset: int, place: Location) -> None:
    """Whatever the day and place, zones tile the day."""
    _check_cover(date(2023, 1, 1) + timedelta(days=offset), place)


def test_zones_of_minutes_over_many_days() -> None:
    """A long stretch gets the same zones as its days one by one."""
    start = local_midnight(date(2024, 3, 25), BERLIN)
    minutes = np.arange(start, local_midnight(date(2024, 4, 8), BERLIN))
    labels = zones_of_minutes(minutes, BERLIN)
    index, dates, wall = local_clock(minutes, BERLIN)
    for i, day in enumerate(dates):
        zones = day_zones(day, BERLIN)
        np.testing.assert_array_equal(labels[index == i], zones.zone_minutes())
    # Wall clock on the spring-forward day skips 02:00-02:59.
    spring = dates.index(date(2024, 3, 31))
    w = wall[index == spring]
    assert w.size == 1380
    assert not np.any((w >= 120) & (w < 180))
    assert w[0] == 0
    assert w[-1] == 1439


def test_after_dark_and_elevation() -> None:
    """Dark at midnight and not at noon in Berlin; the formula is close to astral."""
    noon = local_midnight(date(2024, 6, 21), BERLIN) + 13 * 60 + 10
    midnight = local_midnight(date(2024, 6, 21), BERLIN) + 60
    elevation = solar_elevation(np.array([noon, midnight]), BERLIN)
    # Highest sun at 52.5 N at the solstice: 90 - 52.52 + 23.44.
    assert elevation[0] == pytest.approx(60.9, abs=0.3)
    np.testing.assert_array_equal(after_dark([noon, midnight], BERLIN), [False, True])
    polar_night = local_midnight(date(2024, 12, 21), TROMSO) + np.arange(1440)
    assert after_dark(polar_night, TROMSO).mean() > 0.75
    midsummer = local_midnight(date(2024, 6, 21), TROMSO) + np.arange(1440)
    assert not after_dark(midsummer, TROMSO).any()


def test_location_checks() -> None:
    """Bad coordinates or time zones are clear errors."""
    with pytest.raises(ValueError, match="latitude"):
        Location(91, 0, "UTC")
    with pytest.raises(ValueError, match="longitude"):
        Location(0, 200, "UTC")
    with pytest.raises(ValueError, match="time zone"):
        Location(0, 0, "Mars/Olympus")
