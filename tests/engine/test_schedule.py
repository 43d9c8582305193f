"""Tests of sampling a day's schedule and applying the options."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine import schedule as schedule_module
from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.schedule import (
    DaySchedule,
    Interval,
    ScheduleOptions,
    sample_day,
)
from lighting_replay_engine.zones import Location, day_zones, epoch_minute

DAYS = [date(2024, 3, 31), date(2024, 10, 27), date(2024, 11, 20), date(2024, 6, 21)]


def _check_schedule(schedule: DaySchedule, berlin: Location) -> None:
    zones = day_zones(schedule.day, berlin)
    previous_end: datetime | None = None
    for iv in schedule.intervals:
        assert iv.start < iv.end
        assert zones.bounds[0] <= iv.start
        assert iv.end <= zones.bounds[4]
        assert iv.start.second == 0
        assert iv.end.second == 0
        if previous_end is not None:
            assert previous_end < iv.start  # sorted, disjoint, not touching
        previous_end = iv.end


@pytest.mark.parametrize("day", DAYS)
def test_intervals_are_sorted_disjoint_within_the_day(
    home_model: HomeModel, berlin: Location, day: date
) -> None:
    """Whole days, including 23- and 25-hour days."""
    rng = np.random.default_rng(1)
    for room in home_model.rooms.values():
        for _ in range(5):
            schedule = sample_day(room, day, berlin, rng=rng)
            _check_schedule(schedule, berlin)
            levels = [iv.level for iv in schedule.intervals]
            assert all(
                room.levels.on_level <= lv < room.levels.n_levels for lv in levels
            )


def test_seeds_decide_the_day(home_model: HomeModel, berlin: Location) -> None:
    """Same seed, same day; other seeds or the next draw, another day."""
    room = home_model.rooms["living_room"]
    day = date(2024, 11, 20)
    a = sample_day(room, day, berlin, rng=np.random.default_rng(3))
    b = sample_day(room, day, berlin, rng=np.random.default_rng(3))
    assert a == b
    rng = np.random.default_rng(3)
    runs = [sample_day(room, day, berlin, rng=rng).intervals for _ in range(6)]
    assert len({tuple(r) for r in runs}) > 1
    others = {
        sample_day(room, day, berlin, rng=np.random.default_rng(s)).intervals
        for s in range(6)
    }
    assert len(others) > 1


def test_changes_and_state(home_model: HomeModel, berlin: Location) -> None:
    """Changes alternate on/off at interval bounds; state_at agrees."""
    room = home_model.rooms["living_room"]
    rng = np.random.default_rng(8)
    schedule = sample_day(room, date(2024, 11, 20), berlin, rng=rng)
    while not schedule.intervals:
        schedule = sample_day(room, date(2024, 11, 20), berlin, rng=rng)
    changes = schedule.changes()
    assert [c.on for c in changes] == [True, False] * len(schedule.intervals)
    for iv in schedule.intervals:
        assert schedule.state_at(iv.start) == iv
        assert schedule.state_at(iv.end - timedelta(minutes=1)) == iv
        assert schedule.state_at(iv.end) != iv
    with pytest.raises(ValueError, match="time zone"):
        schedule.state_at(datetime(2024, 11, 20, 18, 0))  # noqa: DTZ001
    on = schedule.on_minutes()
    assert on.shape == (1440,)
    assert on.dtype == np.bool_
    assert int(on.sum()) == schedule.total_on_minutes


def test_on_minutes_on_dst_days() -> None:
    """Wall-clock minutes: the skipped hour is off, the repeated one is merged."""
    tz = Location(52.52, 13.40, "Europe/Berlin").tzinfo
    spring = DaySchedule(
        "r",
        date(2024, 3, 31),
        (
            Interval(
                datetime(2024, 3, 31, 1, 30, tzinfo=tz),
                datetime(2024, 3, 31, 3, 30, tzinfo=tz),
                1,
            ),
        ),
    )
    on = spring.on_minutes()
    assert on.sum() == 60  # 01:30-02:00 and 03:00-03:30
    assert not on[120:180].any()
    start = datetime(2024, 10, 27, 1, 30, tzinfo=tz)
    autumn = DaySchedule(
        "r", date(2024, 10, 27), (Interval(start, start + timedelta(hours=2), 1),)
    )
    # 01:30 to 03:30 wall time is 3 real hours on this day.
    assert autumn.total_on_minutes == 180
    assert autumn.on_minutes().sum() == 120


def test_repeated_hour_is_told_apart_by_fold() -> None:
    """In the hour repeated when clocks go back, the instant decides."""
    tz = Location(52.52, 13.40, "Europe/Berlin").tzinfo
    first = datetime(2024, 10, 27, 2, 10, tzinfo=tz)  # fold=0: summer time
    second = datetime(2024, 10, 27, 2, 10, fold=1, tzinfo=tz)  # winter time

    def twenty_minutes_from(start: datetime) -> datetime:
        # Aware arithmetic is by wall clock; go through the instant.
        return datetime.fromtimestamp(start.timestamp() + 1200, tz)

    later = Interval(second, twenty_minutes_from(second), 2)
    earlier = Interval(first, twenty_minutes_from(first), 1)
    schedule = DaySchedule("r", date(2024, 10, 27), (later, earlier))
    assert schedule.intervals == (earlier, later)
    assert schedule.state_at(first.replace(minute=15)) == earlier
    assert schedule.state_at(second.replace(minute=15)) == later
    assert schedule.state_at(datetime(2024, 10, 27, 2, 45, tzinfo=tz)) is None
    moments = [change.at.timestamp() for change in schedule.changes()]
    assert moments == sorted(moments)
    assert len(moments) == 4


def test_rest_of_day_starts_at_the_moment(
    home_model: HomeModel, berlin: Location
) -> None:
    """From a given moment on only; nothing before it."""
    room = home_model.rooms["living_room"]
    day = date(2024, 11, 20)
    moment = datetime(2024, 11, 20, 17, 7, 30, tzinfo=berlin.tzinfo)
    rng = np.random.default_rng(2)
    seen_on_at_start = 0
    for _ in range(30):
        schedule = sample_day(room, day, berlin, rng=rng, start=moment)
        _check_schedule(schedule, berlin)
        assert all(iv.start >= moment.replace(second=0) for iv in schedule.intervals)
        seen_on_at_start += schedule.state_at(moment.replace(second=0)) is not None
    # 17:07 is in the busy evening: it is often on at that very moment.
    assert seen_on_at_start > 3
    late = datetime(2024, 11, 21, 0, 5, tzinfo=berlin.tzinfo)
    assert sample_day(room, day, berlin, rng=rng, start=late).intervals == ()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    day_offset=st.integers(0, 365),
    window_start=st.one_of(st.none(), st.times()),
    window_end=st.one_of(st.none(), st.times()),
    all_off=st.one_of(st.none(), st.times()),
    min_on=st.integers(0, 90),
    jitter=st.integers(0, 45),
    sunset_offset=st.one_of(st.none(), st.integers(-120, 120)),
)
def test_options_are_respected(
    home_model: HomeModel,
    berlin: Location,
    seed: int,
    day_offset: int,
    window_start: time | None,
    window_end: time | None,
    all_off: time | None,
    min_on: int,
    jitter: int,
    sunset_offset: int | None,
) -> None:
    """Whatever the options, every interval obeys them."""
    options = ScheduleOptions(
        window_start=window_start,
        window_end=window_end,
        sunset_offset_minutes=sunset_offset,
        all_off_by=all_off,
        min_on_minutes=min_on,
        jitter_minutes=jitter,
    )
    day = date(2024, 1, 1) + timedelta(days=day_offset)
    room = home_model.rooms["kitchen"]
    schedule = sample_day(
        room, day, berlin, rng=np.random.default_rng(seed), options=options
    )
    _check_schedule(schedule, berlin)
    zones = day_zones(day, berlin)
    base = zones.bounds_minutes[0]

    def clock(t: time) -> int:
        m = epoch_minute(datetime.combine(day, t, tzinfo=berlin.tzinfo)) - base
        return min(max(m, 0), zones.n_minutes)

    begin = None
    if sunset_offset is not None:
        begin = min(
            max(epoch_minute(zones.sunset) - base + sunset_offset, 0), zones.n_minutes
        )
    elif window_start is not None:
        begin = clock(window_start)
    end = None if window_end is None else clock(window_end)
    for iv in schedule.intervals:
        s, e = epoch_minute(iv.start) - base, epoch_minute(iv.end) - base
        assert e - s >= max(1, min_on)
        for m in range(s, e):
            if begin is not None and end is not None and end <= begin:
                assert m >= begin or m < end
            else:
                assert begin is None or m >= begin
                assert end is None or m < end
            if all_off is not None:
                cut = clock(all_off)
                if all_off >= time(12):
                    assert m < cut
                else:
                    assert not cut <= m < clock(time(12))


def test_jitter_moves_intervals(home_model: HomeModel, berlin: Location) -> None:
    """Jitter changes the start times but keeps the amount of light similar."""
    room = home_model.rooms["living_room"]
    day = date(2024, 11, 20)
    starts_plain: list[datetime] = []
    starts_moved: list[datetime] = []
    for seed in range(5):
        plain = sample_day(room, day, berlin, rng=np.random.default_rng(seed))
        moved = sample_day(
            room,
            day,
            berlin,
            rng=np.random.default_rng(seed),
            options=ScheduleOptions(jitter_minutes=30),
        )
        starts_plain += [iv.start for iv in plain.intervals]
        starts_moved += [iv.start for iv in moved.intervals]
    assert starts_plain
    assert starts_plain != starts_moved
    with pytest.raises(ValueError, match="negative"):
        ScheduleOptions(jitter_minutes=-1)


def _boundary_changes(
    home_model: HomeModel, berlin: Location, *, evenings: bool = False
) -> tuple[int, float]:
    """Return changes at the zone boundaries and per minute within 10 of them.

    Over 200 sampled November days of each simulated room (fixed seeds);
    without ``evenings`` the evening zones are sampled one after the other.
    """
    at_boundary, nearby = 0, 0
    for model in home_model.rooms.values():
        room = model if evenings else replace(model, evenings=())
        rng = np.random.default_rng(5)
        for i in range(200):
            day = date(2024, 11, 1) + timedelta(days=i % 60)
            on = sample_day(room, day, berlin, rng=rng).on_minutes()
            changes = np.flatnonzero(on[1:] != on[:-1]) + 1
            for bound in day_zones(day, berlin).bounds[1:4]:
                minute = bound.hour * 60 + bound.minute
                at_boundary += int(np.sum(changes == minute))
                near = (np.abs(changes - minute) <= 10) & (changes != minute)
                nearby += int(near.sum())
    return at_boundary, nearby / 20


def test_zones_carry_the_lamp_over_their_boundaries(
    home_model: HomeModel, berlin: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lamp changes at a zone boundary about as often as at any minute.

    Sampled independently, the zones switch the lamp right at the boundary
    (21:30 in November) many times more often than at the minutes around it.
    """
    carried, carried_rate = _boundary_changes(home_model, berlin)
    # Sampled together to a lit span, the evening zones carry it as well.
    with_span, with_span_rate = _boundary_changes(home_model, berlin, evenings=True)
    monkeypatch.setattr(schedule_module, "_start_after", lambda hmm, symbol: None)
    independent, independent_rate = _boundary_changes(home_model, berlin)
    assert carried_rate > 1.0  # enough changes nearby to compare with
    assert independent_rate > 1.0
    assert carried <= 3 * carried_rate + 3
    assert with_span_rate > 1.0
    assert with_span <= 3 * with_span_rate + 3
    assert independent >= 10 * independent_rate
    assert 5 * carried < independent


def test_rest_of_day_continues_the_whole_day(
    home_model: HomeModel, berlin: Location
) -> None:
    """With the same seed, the rest of a day is the whole day cut at ``start``."""
    day = date(2024, 11, 20)
    moment = datetime(2024, 11, 20, 21, 45, tzinfo=berlin.tzinfo)
    for room in home_model.rooms.values():
        for seed in range(10):
            whole = sample_day(room, day, berlin, rng=np.random.default_rng(seed))
            rest = sample_day(
                room, day, berlin, rng=np.random.default_rng(seed), start=moment
            )
            expected = [
                (max(iv.start, moment), iv.end, iv.level)
                for iv in whole.intervals
                if iv.end > moment
            ]
            assert [(iv.start, iv.end, iv.level) for iv in rest.intervals] == expected


def _lit(on: np.ndarray, start: int = 16 * 60) -> np.ndarray:
    """Return the lit wall-clock minutes of a day from ``start`` on."""
    return np.flatnonzero(on[start:]) + start


def test_evenings_follow_their_lit_span(
    home_model: HomeModel, berlin: Location
) -> None:
    """An evening is lit at both ends of the span drawn, and not outside it."""
    room = home_model.rooms["living_room"]
    days = [date(2024, 11, 4) + timedelta(days=i) for i in range(15)]
    rng = np.random.default_rng(6)

    def sample(
        evenings: tuple[tuple[int, int], ...], spread: float = 0.0
    ) -> list[np.ndarray]:
        model = replace(room, evenings=evenings, evening_spreads=(spread, spread))
        return [sample_day(model, d, berlin, rng=rng).on_minutes() for d in days]

    for on in sample(((0, 23 * 60),)):  # lit from dusk (or before) to 23:00
        assert _lit(on)[-1] == 23 * 60
    for on in sample(((19 * 60, 21 * 60),)):
        lit = _lit(on)
        assert lit[0] == 19 * 60
        assert lit[-1] == 21 * 60
    for on in sample(((-1, -1),)):  # an evening without light
        assert _lit(on).size == 0
    # Moved by their spread, the ends differ from day to day.
    ends = {int(_lit(on)[-1]) for on in sample(((0, 22 * 60),), spread=30.0)}
    assert len(ends) >= 8
