"""Tests of the per-night measure on small hand-made nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.night_realism import (
    COMPONENTS,
    NIGHT_MINUTES,
    NightSet,
    compare_nights,
    copy_check,
    generated_nights,
    night_dark,
    night_difference,
    night_metrics,
    night_threshold,
    nights_from_days,
    reading_series,
    real_nights,
    replay_nights,
    timer_nights,
)
from lighting_replay_engine.zones import Location

LONDON = Location(51.5, -0.12, "Europe/London")
START = date(2024, 1, 1)


def _night(*spans: tuple[int, int]) -> np.ndarray:
    """A night lit over the slots of ``spans`` (slot 0 = 16:00)."""
    row = np.zeros(NIGHT_MINUTES)
    for lo, hi in spans:
        row[lo:hi] = 1.0
    return row


def _set(rows: list[np.ndarray], start: date = START) -> NightSet:
    """Consecutive nights, every slot dark."""
    nights = {start + timedelta(days=i): row for i, row in enumerate(rows)}
    return NightSet(nights, {d: np.ones(NIGHT_MINUTES, bool) for d in nights})


def test_window_and_dark_slots() -> None:
    """16:00 to 05:00, dark only; the skipped spring hour never counts."""
    dark = night_dark(date(2016, 1, 15), LONDON)
    assert dark.size == 780
    assert not dark[0]  # 16:00 in January: still light
    assert dark[7 * 60]  # 23:00
    assert dark[-1]  # 04:59
    spring = night_dark(date(2016, 3, 26), LONDON)
    skipped = slice(9 * 60, 10 * 60)  # 01:00 to 02:00 on 27 March
    assert not spring[skipped].any()
    assert spring[10 * 60]  # 02:00 is there again


def test_nights_from_days_joins_evening_and_morning() -> None:
    """The evening's last 8 hours and the next morning's first 5."""
    evening = np.zeros(1440)
    evening[22 * 60 : 23 * 60] = 1.0
    morning = np.zeros(1440)
    morning[60:120] = 1.0
    day = date(2016, 1, 15)
    nights = nights_from_days({day: evening, day + timedelta(days=1): morning}, LONDON)
    row = nights[day]
    assert np.nansum(row) == 120
    assert row[6 * 60] == 1.0  # 22:00
    assert row[10 * 60 - 1] == 1.0  # 01:59
    assert np.isnan(row[0])  # daylight at 16:00
    # The morning's own night has no morning after it: NaN after midnight.
    assert np.isnan(nights[day + timedelta(days=1)][9 * 60])


def test_identical_nights_score_zero() -> None:
    """The same nights against themselves: every component 0."""
    real = _set([_night((120, 360)), _night((100, 300), (400, 420))])
    result = compare_nights(real, real)
    assert set(result) == {*COMPONENTS, "score"}
    assert all(value == pytest.approx(0.0) for value in result.values())


def test_components_of_known_nights() -> None:
    """Every night 18-22 h against every night 18-23 h."""
    real = _set([_night((120, 360))] * 3)
    generated = _set([_night((120, 420))] * 3)
    result = compare_nights(real, generated)
    assert result["minutes"] == pytest.approx(60 / 240)
    assert result["periods"] == 0.0
    assert result["bedtime"] == 1.0
    assert result["profile"] == pytest.approx(1 / 13)  # hour 22 on vs off
    assert result["variety"] == 0.0  # nights alike in both
    assert result["score"] == pytest.approx((60 / 240 + 1 + 1 / 13) / 5)


def test_floors_and_periods() -> None:
    """A dark house: real minutes floored at 30, periods at 1, variety at 0.01."""
    real = _set([_night()] * 3)
    generated = _set([_night((0, 15), (100, 115))] * 3)
    result = compare_nights(real, generated)
    assert result["minutes"] == pytest.approx(30 / 30)
    assert result["periods"] == pytest.approx(2.0)
    assert result["variety"] == 0.0


def test_bedtime_and_variety_of_metrics() -> None:
    """Last-on slot per night (-1: never on); pairs up to a week apart."""
    rows = [_night((0, 10)), _night(), _night((0, 88))]
    metrics = night_metrics(_set(rows))
    assert metrics.bedtime.tolist() == [9.0, -1.0, 87.0]
    assert metrics.periods.tolist() == [1.0, 0.0, 1.0]
    # Pairs (1,2): 10, (1,3): 78, (2,3): 88 differing slots of 780.
    assert metrics.variety == pytest.approx((10 + 78 + 88) / 3 / 780)
    far = _set([_night((0, 100))]) | _set([_night()], START + timedelta(days=8))
    assert np.isnan(
        night_metrics(NightSet(far, dict.fromkeys(far, np.ones(780, bool)))).variety
    )


def test_partly_seen_night_counts_only_in_the_profile() -> None:
    """A night seen for less than 80 % of its dark slots has no per-night figures."""
    partial = _night((0, 100))
    partial[300:] = np.nan
    metrics = night_metrics(_set([partial, _night((0, 50))]))
    assert metrics.minutes.tolist() == [50.0]
    assert metrics.profile[0] == pytest.approx(110 / 120)  # 16 h, both nights
    assert metrics.profile[1] == pytest.approx(40 / 120)  # both nights pooled
    assert night_difference(partial, _night((0, 50))) == pytest.approx(50 / 300)


def test_unseen_minutes_do_not_split_a_period() -> None:
    """Readings minutes apart: a lit stretch with holes is one period."""
    holes = _night((100, 200), (300, 320))
    holes[[120, 121, 150, 199, 250]] = np.nan
    metrics = night_metrics(_set([holes]))
    assert metrics.periods.tolist() == [2.0]
    assert metrics.bedtime.tolist() == [319.0]


def test_timer_and_replay() -> None:
    """Timer: dusk to 23:00; replay: a week earlier, else further back."""
    day = date(2016, 1, 15)
    timer = timer_nights([day], LONDON)[day]
    dark = night_dark(day, LONDON)
    assert np.nansum(timer) == dark[: 7 * 60].sum()
    assert np.isnan(timer[0])
    assert timer[7 * 60] == 0.0
    real = {day - timedelta(days=14): _night((200, 300))}
    replay = replay_nights(real, [day, day + timedelta(days=1)], LONDON)
    assert list(replay) == [day]
    assert np.nansum(replay[day]) == 100


def test_copy_check() -> None:
    """Copies of training nights fail it; fresh nights like the real ones pass."""
    rng = np.random.default_rng(3)

    def fresh(n: int, start: date) -> NightSet:
        rows = []
        for _ in range(n):
            on = int(rng.integers(0, 200))
            rows.append(_night((on, on + int(rng.integers(60, 300)))))
        return _set(rows, start)

    train = fresh(30, START)
    real = fresh(30, START + timedelta(days=30))
    copies = _set(list(train.values())[:10], START + timedelta(days=30))
    check = copy_check(train, real, copies)
    assert check.copy_rate == 1.0
    assert not check.holds
    assert copy_check(train, real, real).holds
    honest = copy_check(
        train, real, [fresh(30, START + timedelta(days=30)) for _ in range(10)]
    )
    assert honest.copy_rate < 0.3


def test_threshold_and_real_nights() -> None:
    """On above the midpoint of the two darkest K-Means centres."""
    day = date(2016, 1, 15)
    first = datetime.combine(day, time(12), tzinfo=UTC).timestamp()
    times = first + 60.0 * np.arange(24 * 60)
    values = np.zeros(times.size)
    values[: 4 * 60] = 900.0  # daylight
    values[6 * 60 : 8 * 60] = 120.0  # 18:00 to 20:00 UTC = local (winter)
    values[8 * 60 : 9 * 60] = 40.0
    series = reading_series(times, values)
    threshold = night_threshold(series, LONDON, [day])
    assert threshold == pytest.approx(20.0)  # centres 0, 40, 120
    nights = real_nights(series, LONDON, threshold, [day])
    assert np.nansum(nights[day]) == 180  # 18:00 to 21:00


def test_generated_nights_follow_the_schedule(
    home_model: HomeModel, berlin: Location
) -> None:
    """Sampled days cut into nights: dark slots only, 1/0."""
    days = [date(2024, 11, 10), date(2024, 11, 11)]
    room = next(iter(home_model.rooms.values()))
    nights = generated_nights(room, days, berlin, rng=np.random.default_rng(0))
    assert list(nights) == days
    for d, row in nights.items():
        seen = np.isfinite(row)
        assert (seen == night_dark(d, berlin)).all()
        assert set(np.unique(row[seen])) <= {0.0, 1.0}


@pytest.mark.parametrize(
    ("location", "night", "off_utc", "last_slot"),
    [
        # London in winter time: 21:00 UTC is 21:00 local.
        (LONDON, date(2016, 3, 10), datetime(2016, 3, 10, 21, tzinfo=UTC), 299),
        # London in summer time (from 27 March): 21:00 UTC is 22:00 local.
        (LONDON, date(2016, 4, 10), datetime(2016, 4, 10, 21, tzinfo=UTC), 359),
        # Sunnyvale (UTC-7 in July): 05:00 UTC is 22:00 of the evening before.
        (
            Location(37.37, -122.04, "America/Los_Angeles"),
            date(2016, 7, 21),
            datetime(2016, 7, 22, 5, tzinfo=UTC),
            359,
        ),
    ],
)
def test_real_nights_are_on_the_local_clock(
    location: Location, night: date, off_utc: datetime, last_slot: int
) -> None:
    """Readings in UTC epoch seconds; the night's slots are the local clock's."""
    first = datetime.combine(night, time(12), tzinfo=UTC).timestamp()
    times = first + 60.0 * np.arange(30 * 60)
    on = (times >= off_utc.timestamp() - 2 * 3600) & (times < off_utc.timestamp())
    series = reading_series(times, np.where(on, 100.0, 0.0))
    metrics = night_metrics(real_nights(series, location, 50.0, [night]))
    assert metrics.bedtime.tolist() == [last_slot]
