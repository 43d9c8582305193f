"""Tests of a room's sources: lux, its lights' own states, or both.

Also: the minutes of replay are never learned from. After 14 simulated
nights of replay, training with those nights excluded gives the same model
as training on the household's history with those nights removed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine import training as training_module
from lighting_replay_engine.model import RoomModel
from lighting_replay_engine.series import MinuteSeries, to_minute_series
from lighting_replay_engine.simulate import SimulatedRoom, simulate_rooms
from lighting_replay_engine.sources import (
    LightsOnGrid,
    RoomSources,
    combine_on_off,
    lights_on_grid,
    mask_excluded,
)
from lighting_replay_engine.training import (
    WHOLE_DAY,
    NotEnoughData,
    TrainingOptions,
    lux_sources,
    prepare_sources,
    train_sources,
)
from lighting_replay_engine.zones import Location, Zone, epoch_minute

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
#: Quick but faithful training, as the shared fixtures use.
QUICK = TrainingOptions(n_restarts=1, n_iter=40)

NAN = np.nan


def _sources(room: SimulatedRoom, kind: str) -> RoomSources:
    lux = lux_sources(room.timestamps_s, room.lux, QUICK).lux
    if kind == "lux":
        return RoomSources(lux=lux)
    if kind == "lights":
        return RoomSources(lights=room.light_series())
    return RoomSources(lux=lux, lights=room.light_series())


# -- the parts ---------------------------------------------------------------


def test_kind_follows_the_sources() -> None:
    """A room is a lux, a lights or a both room by what it has."""
    series = MinuteSeries(0, np.zeros(3))
    assert RoomSources(lux=series).kind == "lux"
    assert RoomSources(lights={"a": series}).kind == "lights"
    assert RoomSources(lux=series, lights={"a": series}).kind == "both"
    both = RoomSources(lux=series, lights={"b": series, "a": series})
    assert both.light_keys == ("a", "b")
    assert both.with_excluded(((1, 2),)).excluded == ((1, 2),)


def test_mask_excluded_widens_by_the_margin() -> None:
    """Excluded minutes and ``margin`` either side go missing, nothing else."""
    series = MinuteSeries(100, np.arange(40, dtype=float))
    masked = mask_excluded(series, ((110, 115), (138, 200)), 3)
    missing = np.flatnonzero(~masked.valid) + 100
    assert missing.tolist() == [*range(107, 118), *range(135, 140)]
    np.testing.assert_array_equal(masked.lux[masked.valid], series.lux[masked.valid])
    assert series.valid.all()  # the input is left alone
    assert mask_excluded(series, (), 3) is series


def test_lights_known_where_all_known_or_one_on() -> None:
    """A room is off only when every light is known off; on when one is on."""
    a = MinuteSeries(0, np.array([0.0, 0.0, NAN, NAN, 0.5, NAN]))
    b = MinuteSeries(0, np.array([0.0, 1.0, 0.0, 1.0, 0.5, NAN]))
    grid = lights_on_grid(RoomSources(lights={"a": a, "b": b}), 0, 7)
    assert grid.keys == ("a", "b")
    assert grid.known.tolist() == [True, True, False, True, True, False, False]
    assert grid.on.tolist() == [False, True, False, True, True, False, False]
    np.testing.assert_allclose(grid.value, [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])


def test_combination_rule() -> None:
    """Lights decide where known; lux adds light after dark and fills gaps."""
    a = MinuteSeries(0, np.array([0.0, 0.0, 1.0, NAN, NAN, NAN, 1.0]))
    grid = lights_on_grid(RoomSources(lights={"a": a}), 0, 7)
    lux = np.array([0, 1, 0, 1, 0, -1, -1], dtype=np.int8)
    assert combine_on_off(grid, lux).tolist() == [0, 1, 1, 1, 0, -1, 1]
    assert combine_on_off(grid, None).tolist() == [0, 0, 1, -1, -1, -1, 1]
    assert combine_on_off(None, lux).tolist() == lux.tolist()
    with pytest.raises(ValueError, match="lux sensor or lights"):
        combine_on_off(None, None)


def _reference_grid(
    lights: list[MinuteSeries], start: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return brightness, value and known the plain way: one matrix, sums over it."""
    brightness = np.full((len(lights), n), np.nan)
    for row, series in enumerate(lights):
        for minute, value in zip(series.minutes, series.lux, strict=True):
            if start <= minute < start + n:
                brightness[row, minute - start] = min(max(value, 0.0), 1.0)
    seen = np.isfinite(brightness)
    value = np.where(seen, brightness, 0.0).sum(axis=0)
    any_on = (seen & (brightness > 0.0)).any(axis=0)
    known = seen.all(axis=0) | any_on if lights else np.zeros(n, dtype=bool)
    return brightness, value, known


def _reference_combination(
    value: np.ndarray,
    known: np.ndarray,
    lux_on_off: np.ndarray,
    lux: np.ndarray,
    settle: int,
) -> list[int]:
    """Return the combination rule minute by minute, as the docstring says."""
    state: list[int] = []
    last_on = -(settle + 1)
    for minute in range(value.size):
        on = bool(known[minute]) and value[minute] > 0.0
        if on:
            last_on = minute
        current = (1 if on else 0) if known[minute] else -1
        settled = minute - last_on > settle
        if (
            lux_on_off[minute] == 1
            and (settled or not known[minute])
            and np.nan_to_num(lux[minute]) >= 5.0
        ):
            current = 1
        if not known[minute] and lux_on_off[minute] == 0:
            current = 0
        state.append(current)
    return state


brightness_values = st.one_of(
    st.just(NAN),
    st.sampled_from([0.0, -0.0, 1.0, 0.25]),
    st.floats(-0.5, 1.5, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(
    lights=st.lists(
        st.tuples(st.integers(-5, 20), st.lists(brightness_values, max_size=30)),
        max_size=5,
    ),
    lux=st.lists(
        st.tuples(st.integers(-1, 1), st.sampled_from([NAN, 0.0, 4.9, 5.0, 80.0])),
        min_size=24,
        max_size=24,
    ),
    settle=st.integers(0, 6),
)
def test_lights_grid_and_combination_as_the_plain_rule(
    lights: list[tuple[int, list[float]]],
    lux: list[tuple[int, float]],
    settle: int,
) -> None:
    """The grid and the combination equal the plain rule, bit for bit.

    The lights are put on the grid one by one and the on/off is found
    without full-length int64 arrays; the results are what one matrix of all
    lights and a minute-by-minute reading of the rule give.
    """
    series = [MinuteSeries(start, np.array(values)) for start, values in lights]
    sources = RoomSources(lights={f"light {i}": s for i, s in enumerate(series)})
    grid = lights_on_grid(sources, 0, 24)
    brightness, value, known = _reference_grid(series, 0, 24)
    np.testing.assert_array_equal(grid.brightness, brightness)
    assert grid.value.tobytes() == value.tobytes()
    assert grid.known.tolist() == known.tolist()
    lux_on_off = np.array([s for s, _ in lux], dtype=np.int8)
    lux_values = np.array([v for _, v in lux])
    combined = combine_on_off(grid, lux_on_off, lux_values, settle=settle)
    assert combined.dtype == np.int8
    assert combined.tolist() == _reference_combination(
        value, known, lux_on_off, lux_values, settle
    )


def _reference_lights_on_grid(sources: RoomSources, start: int, n: int) -> LightsOnGrid:
    keys = sources.light_keys
    brightness, value, known = _reference_grid(
        [sources.lights[key] for key in keys], start, n
    )
    return LightsOnGrid(keys, brightness, value, known)


def _reference_combine_on_off(
    lights: LightsOnGrid | None,
    lux_on_off: np.ndarray | None,
    lux: np.ndarray | None = None,
    *,
    settle: int = 0,
) -> np.ndarray:
    assert lights is not None
    if lux_on_off is None:
        state = np.where(lights.known, (lights.value > 0.0).astype(np.int8), -1)
        return state.astype(np.int8)
    assert lux is not None
    return np.array(
        _reference_combination(lights.value, lights.known, lux_on_off, lux, settle),
        dtype=np.int8,
    )


@pytest.mark.parametrize("kind", ["lights", "both"])
def test_models_as_with_the_plain_rule(
    household: dict[str, SimulatedRoom],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Rooms learned from lights give the same models as with the plain parts.

    The plain parts (one matrix of all lights, the rule minute by minute)
    stand in for the grid and the combination that save memory.
    """
    name, room = "living_room", household["living_room"]
    sources = _sources(room, kind).with_excluded(
        ((room.start_minute + 3000, room.start_minute + 4000),)
    )
    compact = train_sources(name, sources, BERLIN, QUICK).to_dict()
    monkeypatch.setattr(training_module, "lights_on_grid", _reference_lights_on_grid)
    monkeypatch.setattr(training_module, "combine_on_off", _reference_combine_on_off)
    plain = train_sources(name, sources, BERLIN, QUICK).to_dict()
    compact.pop("trained_at")
    plain.pop("trained_at")
    assert compact == plain


# -- training from each kind of source ---------------------------------------


@pytest.mark.parametrize("kind", ["lux", "lights", "both"])
def test_each_kind_of_room_trains(
    household: dict[str, SimulatedRoom], kind: str
) -> None:
    """Every simulated room trains from lux, from its lights, and from both."""
    for name, room in household.items():
        model = train_sources(name, _sources(room, kind), BERLIN, QUICK)
        assert model.settings["sources"] == kind
        assert model.zones[Zone.EVENING] is not None
        if kind == "lux":
            assert model.lights == ()
            assert model.settings["daylight"] == "after_dark"
            assert all(z is None or not z.scenes for z in model.zones.values())
        else:
            assert model.lights == tuple(sorted(room.lights))
            assert model.settings["daylight"] == WHOLE_DAY
            # Level 0 is off; the lit levels are the lights' summed brightness.
            assert model.levels.centres[0] == 0.0
            assert model.levels.on_level == 1
            assert any(z is not None and z.scenes for z in model.zones.values())


def test_lights_teach_the_whole_day(household: dict[str, SimulatedRoom]) -> None:
    """From the lights every minute is known, daylight too; from lux, the dark."""
    room = household["living_room"]
    lights = prepare_sources(_sources(room, "lights"), BERLIN, QUICK)
    lux = prepare_sources(_sources(room, "lux"), BERLIN, QUICK)
    assert np.count_nonzero(lights.on_off >= 0) == room.lamp_on.size
    # The ceiling goes on before sunset: lit minutes in daylight are learned.
    truth = room.lamp_on[lights.series.minutes - room.start_minute]
    np.testing.assert_array_equal(lights.on_off == 1, truth)
    assert np.count_nonzero(lux.on_off >= 0) < 0.7 * room.lamp_on.size
    day_lit = (lights.zones == Zone.DAY) & (lights.on_off == 1)
    assert day_lit.any()
    assert not ((lux.zones == Zone.DAY) & (lux.on_off >= 0)).all()


def _one_light_room(
    household: dict[str, SimulatedRoom], values: Callable[[np.ndarray], np.ndarray]
) -> tuple[SimulatedRoom, dict[str, MinuteSeries]]:
    room = household["kitchen"]
    on = room.lights["ceiling"] > 0
    return room, {"light.kitchen": MinuteSeries(room.start_minute, values(on))}


def test_light_without_brightness(household: dict[str, SimulatedRoom]) -> None:
    """A light whose brightness is never recorded counts as full when on."""
    _, lights = _one_light_room(household, lambda on: np.where(on, 1.0, 0.0))
    model = train_sources("kitchen", RoomSources(lights=lights), BERLIN, QUICK)
    np.testing.assert_array_equal(model.levels.centres, [0.0, 1.0])
    evening = model.zones[Zone.EVENING]
    assert evening is not None
    assert {s.brightness for s in evening.scenes} == {(100,)}
    assert sum(evening.on_level_counts) == sum(s.minutes for s in evening.scenes)


def test_switch_and_dimmed_lamp_in_one_room(
    household: dict[str, SimulatedRoom],
) -> None:
    """A switch (a plug: 0 or 1) beside a dimmed lamp: levels and scenes of both."""
    room = household["living_room"]
    lights = {
        "switch.plug": MinuteSeries(
            room.start_minute, (room.lights["ceiling"] > 0).astype(float)
        ),
        "light.floor": MinuteSeries(room.start_minute, room.lights["floor_lamp"]),
    }
    model = train_sources("living_room", RoomSources(lights=lights), BERLIN, QUICK)
    assert model.lights == ("light.floor", "switch.plug")
    np.testing.assert_allclose(model.levels.centres, [0.0, 0.6, 1.0])
    scenes = {
        scene.brightness
        for zone in model.zones.values()
        if zone is not None
        for scene in zone.scenes
    }
    assert scenes == {(60, 0), (0, 100)}


def test_unknown_light_hours_are_not_learned(
    household: dict[str, SimulatedRoom],
) -> None:
    """Hours where a light was unavailable are missing, not off."""
    room = household["kitchen"]
    values = room.lights["ceiling"].copy()
    values[: 20 * 1440] = np.nan
    lights = {"ceiling": MinuteSeries(room.start_minute, values)}
    prepared = prepare_sources(RoomSources(lights=lights), BERLIN, QUICK)
    assert np.count_nonzero(prepared.on_off >= 0) == 15 * 1440
    values[: 33 * 1440] = np.nan
    with pytest.raises(NotEnoughData):
        prepare_sources(RoomSources(lights=lights), BERLIN, QUICK)
    # With a lux sensor, the lux rule fills the gap in the lights.
    lux = lux_sources(room.timestamps_s, room.lux, QUICK).lux
    both = prepare_sources(RoomSources(lux=lux, lights=lights), BERLIN, QUICK)
    assert np.count_nonzero(both.on_off >= 0) > 10 * 1440


# -- never learn from replay --------------------------------------------------

#: Replay runs from 19:00 to 01:00 local on these 14 nights.
REPLAY_FIRST_NIGHT = 10
REPLAY_NIGHTS = 14
#: What the replay does: every light at full from 19:30 to 00:30.
REPLAY_ON = (time(19, 30), 90 + 4 * 60 + 30)


def _replay_nights(start: date, location: Location) -> tuple[tuple[int, int], ...]:
    ranges = []
    for i in range(REPLAY_NIGHTS):
        day = start + timedelta(days=REPLAY_FIRST_NIGHT + i)
        first = epoch_minute(datetime.combine(day, time(19), location.tzinfo))
        ranges.append((first, first + 6 * 60))
    return tuple(ranges)


def _with_replay(
    room: SimulatedRoom, ranges: tuple[tuple[int, int], ...]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return the lux readings and lights as they are with replay running.

    Inside the ranges the household's lamps are gone and the replay's are on:
    every light at full from 19:30 for 5 hours, lighting the sensor with
    250 lx.
    """
    n = room.lamp_lux.size
    replay = np.zeros(n, dtype=bool)
    inside = np.zeros(n, dtype=bool)
    for first, end in ranges:
        inside[first - room.start_minute : end - room.start_minute] = True
        on = first + 30 - room.start_minute
        replay[on : on + REPLAY_ON[1]] = True
    minute = (room.timestamps_s // 60).astype(np.int64) - room.start_minute
    minute = np.clip(minute, 0, n - 1)
    lux = room.lux.copy()
    lux[inside[minute]] += -room.lamp_lux[minute[inside[minute]]]
    lux[replay[minute]] += 250.0
    lights = {}
    for key, values in room.lights.items():
        changed = values.copy()
        changed[inside] = np.where(replay[inside], 1.0, 0.0)
        lights[key] = changed
    return lux, lights


def _removed(
    room: SimulatedRoom,
    lux: np.ndarray,
    lights: dict[str, np.ndarray],
    ranges: tuple[tuple[int, int], ...],
    margin: int,
) -> tuple[MinuteSeries, dict[str, MinuteSeries]]:
    """Drop the readings and light minutes of the ranges widened by ``margin``."""
    minute = np.floor(room.timestamps_s / 60.0).astype(np.int64)
    keep = np.ones(minute.size, dtype=bool)
    gone = np.zeros(room.lamp_lux.size, dtype=bool)
    for first, end in ranges:
        keep &= (minute < first - margin) | (minute >= end + margin)
        gone[first - margin - room.start_minute : end + margin - room.start_minute] = (
            True
        )
    series = to_minute_series(room.timestamps_s[keep], lux[keep])
    return series, {
        key: MinuteSeries(room.start_minute, np.where(gone, np.nan, values))
        for key, values in lights.items()
    }


def _assert_same_model(a: RoomModel, b: RoomModel) -> None:
    np.testing.assert_array_equal(a.levels.centres, b.levels.centres)
    assert a.levels.on_level == b.levels.on_level
    assert a.n_samples == b.n_samples
    assert a.lights == b.lights
    for zone in Zone:
        za, zb = a.zones[zone], b.zones[zone]
        assert (za is None) == (zb is None)
        if za is None or zb is None:
            continue
        np.testing.assert_array_equal(za.hmm.startprob_, zb.hmm.startprob_)
        np.testing.assert_array_equal(za.hmm.transmat_, zb.hmm.transmat_)
        np.testing.assert_array_equal(za.hmm.emissionprob_, zb.hmm.emissionprob_)
        assert za.on_level_counts == zb.on_level_counts
        assert za.scenes == zb.scenes
        assert za.n_sequences == zb.n_sequences


def _differs(a: RoomModel, b: RoomModel) -> bool:
    try:
        _assert_same_model(a, b)
    except AssertionError:
        return True
    return False


@pytest.fixture(scope="module")
def replay_house() -> dict[str, SimulatedRoom]:
    """Five weeks of a household in a Berlin March (dusk moves into replay)."""
    return simulate_rooms(BERLIN, date(2024, 3, 4), 35, seed=3)


@pytest.mark.parametrize("kind", ["lux", "lights", "both"])
def test_replay_nights_are_never_learned(
    replay_house: dict[str, SimulatedRoom], kind: str
) -> None:
    """Excluded replay nights give the model of the history without them."""
    options = TrainingOptions(n_restarts=1, n_iter=40, seed=4)
    ranges = _replay_nights(date(2024, 3, 4), BERLIN)
    for name, room in replay_house.items():
        lux, lights = _with_replay(room, ranges)
        lux_series = to_minute_series(room.timestamps_s, lux)
        light_series = {
            key: MinuteSeries(room.start_minute, values)
            for key, values in lights.items()
        }

        def sources(
            lux_part: MinuteSeries,
            light_part: dict[str, MinuteSeries],
            excluded: tuple[tuple[int, int], ...] = (),
        ) -> RoomSources:
            return RoomSources(
                lux_part if kind != "lights" else None,
                light_part if kind != "lux" else {},
                excluded,
            )

        excluded = train_sources(
            name, sources(lux_series, light_series, ranges), BERLIN, options
        )
        removed = train_sources(
            name,
            sources(*_removed(room, lux, lights, ranges, options.window)),
            BERLIN,
            options,
        )
        _assert_same_model(excluded, removed)
        learned_replay = train_sources(
            name, sources(lux_series, light_series), BERLIN, options
        )
        assert _differs(excluded, learned_replay), name


def test_replay_is_missing_from_the_prepared_minutes(
    replay_house: dict[str, SimulatedRoom],
) -> None:
    """No minute of replay (nor of the margin) is on, off or in a sequence."""
    ranges = _replay_nights(date(2024, 3, 4), BERLIN)
    room = replay_house["living_room"]
    lux, lights = _with_replay(room, ranges)
    sources = RoomSources(
        to_minute_series(room.timestamps_s, lux),
        {k: MinuteSeries(room.start_minute, v) for k, v in lights.items()},
        ranges,
    )
    prepared = prepare_sources(sources, BERLIN, QUICK)
    minutes = prepared.series.minutes
    for first, end in ranges:
        near = (minutes >= first - QUICK.window) & (minutes < end + QUICK.window)
        assert (prepared.on_off[near] == -1).all()
        assert (prepared.level[near] == -1).all()
