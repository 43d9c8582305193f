"""Tests of levels and scenes learned from lights, and of replaying scenes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
import json

import numpy as np
import pytest

from lighting_replay_engine.levels import Levels
from lighting_replay_engine.lights import (
    MAX_SCENES,
    Scene,
    fit_light_levels,
    light_levels_of,
    zone_scenes,
)
from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.schedule import ScheduleOptions, sample_day
from lighting_replay_engine.series import MinuteSeries
from lighting_replay_engine.simulate import SimulatedRoom
from lighting_replay_engine.sources import RoomSources, lights_on_grid
from lighting_replay_engine.training import TrainingOptions, train_sources
from lighting_replay_engine.zones import Location, Zone, epoch_minute, zones_of_minutes

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
QUICK = TrainingOptions(n_restarts=1, n_iter=40)


def test_light_levels_start_at_off() -> None:
    """Level 0 is all off; the lit levels are K-Means centres of lit minutes."""
    levels = fit_light_levels([0, 0, 0.5, 0.5, 1.5, 1.6, np.nan], 3)
    assert levels.on_level == 1
    np.testing.assert_allclose(levels.centres, [0.0, 0.5, 1.55])
    assert fit_light_levels([0.0, np.nan], 4).centres.tolist() == [0.0, 1.0]


def test_lux_lit_minutes_are_at_least_level_one() -> None:
    """A minute lit only by what the lux saw is on at the dimmest level."""
    levels = Levels(np.array([0.0, 0.5, 1.5]), 1)
    on_off = np.array([1, 1, 0, -1, 1], dtype=np.int8)
    level = light_levels_of(levels, [0.0, 1.4, 0.5, 1.5, np.nan], on_off)
    assert level.tolist() == [1, 2, 0, -1, 1]


def test_zone_scenes_count_minutes_per_level() -> None:
    """Scenes are the lights' brightness in 10% steps, most frequent first."""
    a = np.array([0.0, 0.62, 0.6, 0.6, 0.01, 1.0, np.nan])
    b = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    grid = lights_on_grid(
        RoomSources(lights={"a": MinuteSeries(0, a), "b": MinuteSeries(0, b)}), 0, 7
    )
    level = np.array([0, 1, 1, 2, 1, 2, 2], dtype=np.int8)
    zones = np.full(7, int(Zone.EVENING), dtype=np.int8)
    scenes = zone_scenes(grid, level, zones, Zone.EVENING)
    assert scenes == (
        Scene(1, (60, 0), 2),
        Scene(1, (10, 0), 1),
        # An unknown light (NaN) beside a lit one is not part of the scene.
        Scene(2, (0, 100), 1),
        Scene(2, (60, 100), 1),
        Scene(2, (100, 100), 1),
    )
    assert zone_scenes(grid, level, zones, Zone.NIGHT) == ()


def test_scene_data_is_checked() -> None:
    """A scene from a file has a level >= 1 and brightness 0..100."""
    scene = Scene(2, (0, 60), 30)
    assert Scene.from_dict(scene.to_dict()) == scene
    for bad in ({"level": 0}, {"brightness": [120, 0]}, {"minutes": -1}):
        with pytest.raises(ValueError, match="scene"):
            Scene.from_dict({**scene.to_dict(), **bad})
    with pytest.raises(TypeError):
        Scene.from_dict({**scene.to_dict(), "level": True})
    assert MAX_SCENES >= 2


# -- a living room: the ceiling at dusk, the floor lamp alone late ------------


@pytest.fixture(scope="module")
def living_room(household: dict[str, SimulatedRoom]) -> tuple[SimulatedRoom, RoomModel]:
    """The simulated living room and its model learned from its two lights."""
    room = household["living_room"]
    sources = RoomSources(lights=room.light_series())
    return room, train_sources("living_room", sources, BERLIN, QUICK)


def _lit_by_zone(
    minutes: np.ndarray, scenes: np.ndarray, n_lights: int
) -> dict[int, np.ndarray]:
    """Share of lit minutes per set of lights on (as a bit pattern), per zone."""
    zones = zones_of_minutes(minutes, BERLIN)
    out = {}
    for zone in (Zone.EVENING, Zone.LATE_EVENING):
        here = scenes[zones == zone]
        pattern = (here > 0).astype(np.int64) @ (1 << np.arange(n_lights))
        pattern = pattern[pattern > 0]
        counts = np.bincount(pattern, minlength=1 << n_lights).astype(float)
        out[int(zone)] = counts / max(counts.sum(), 1.0)
    return out


def _generated(
    model: RoomModel, days: list[date], options: ScheduleOptions | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch minutes and per-light brightness of generated days (lit only)."""
    rng = np.random.default_rng(2)
    minutes, scenes = [], []
    for day in days:
        for iv in sample_day(model, day, BERLIN, rng=rng, options=options).intervals:
            assert iv.scene is not None
            first, end = epoch_minute(iv.start), epoch_minute(iv.end)
            minutes.append(np.arange(first, end))
            scenes.append(np.tile(iv.scene, (end - first, 1)))
    return np.concatenate(minutes), np.concatenate(scenes)


def test_replay_switches_the_lights_used_together(
    living_room: tuple[SimulatedRoom, RoomModel], sim_days: list[date]
) -> None:
    """By zone, generated days light the same lights as the household did.

    The ceiling is on alone in the evening, the floor lamp (60%) alone late:
    the mix of lit lights is within 0.1 (total variation) of the truth in the
    evening, where switching both lights at once would be far off. Late in
    the evening it is closer than switching both, but not close: an interval
    that starts in the evening keeps the ceiling's scene past the zone's end
    (a scene is drawn per interval), so the ceiling is lit for about half
    the late minutes instead of a fifth.
    """
    room, model = living_room
    assert model.lights == ("ceiling", "floor_lamp")
    true_scenes = np.vstack([room.lights[k] for k in model.lights]).T
    true_minutes = room.start_minute + np.arange(true_scenes.shape[0])
    truth = _lit_by_zone(true_minutes, true_scenes, 2)
    minutes, scenes = _generated(model, sim_days)
    generated = _lit_by_zone(minutes, scenes, 2)
    all_on = _lit_by_zone(minutes, np.full_like(scenes, 100), 2)
    for zone in truth:
        tv = 0.5 * np.abs(truth[zone] - generated[zone]).sum()
        tv_all_on = 0.5 * np.abs(truth[zone] - all_on[zone]).sum()
        assert tv_all_on > 0.5
        if zone == Zone.EVENING:
            assert tv < 0.1, (truth[zone], generated[zone])
        else:
            assert tv < 0.5 * tv_all_on, (truth[zone], generated[zone])
    # The floor lamp is replayed at its own brightness.
    assert set(np.unique(scenes[:, 1])) <= {0, 60}
    late = zones_of_minutes(minutes, BERLIN) == Zone.LATE_EVENING
    assert np.mean(scenes[late, 1] == 60) > 0.3
    evening = zones_of_minutes(minutes, BERLIN) == Zone.EVENING
    assert np.mean(scenes[evening, 0] == 100) > 0.9


def test_scenes_survive_jitter_and_merging(
    living_room: tuple[SimulatedRoom, RoomModel], sim_days: list[date]
) -> None:
    """Moved and merged intervals keep a scene of the zone and level they had."""
    _, model = living_room
    options = ScheduleOptions(jitter_minutes=45, min_on_minutes=5)
    rng = np.random.default_rng(4)
    seen = 0
    for day in sim_days:
        schedule = sample_day(model, day, BERLIN, rng=rng, options=options)
        for iv in schedule.intervals:
            seen += 1
            known = {
                s.brightness
                for zone in model.zones.values()
                if zone is not None
                for s in zone.scenes
                if s.level == iv.level
            }
            assert iv.scene in known, iv
        changes = schedule.changes()
        ons = [c for c in changes if c.on]
        assert [c.scene for c in ons] == [iv.scene for iv in schedule.intervals]
        assert all(c.scene is None for c in changes if not c.on)
    assert seen > len(sim_days)


def test_same_seed_same_scenes(living_room: tuple[SimulatedRoom, RoomModel]) -> None:
    """The scene is drawn from the rng: the same seed gives the same day."""
    _, model = living_room
    day = date(2024, 11, 20)
    a = sample_day(model, day, BERLIN, rng=np.random.default_rng(9))
    b = sample_day(model, day, BERLIN, rng=np.random.default_rng(9))
    assert [iv.scene for iv in a.intervals] == [iv.scene for iv in b.intervals]


def test_lux_model_has_no_scenes(home_model: HomeModel) -> None:
    """A room learned from lux switches its light at a level, no scene."""
    room = home_model.rooms["living_room"]
    schedule = sample_day(
        room, date(2024, 11, 20), BERLIN, rng=np.random.default_rng(1)
    )
    assert all(iv.scene is None for iv in schedule.intervals)


def test_a_level_without_scenes_in_the_zone_borrows_them(
    living_room: tuple[SimulatedRoom, RoomModel],
) -> None:
    """A zone that never saw a level lit takes that level's scenes elsewhere."""
    _, model = living_room
    zones = dict(model.zones)
    evening = zones[Zone.EVENING]
    assert evening is not None
    zones[Zone.EVENING] = replace(evening, scenes=())
    stripped = replace(model, zones=zones)
    days = [date(2024, 11, 4) + timedelta(days=i) for i in range(10)]
    rng = np.random.default_rng(3)
    for day in days:
        for iv in sample_day(stripped, day, BERLIN, rng=rng).intervals:
            assert iv.scene is not None


# -- the model file: version 2 with scenes, version 1 still loads ------------


def test_round_trip_keeps_lights_and_scenes(
    living_room: tuple[SimulatedRoom, RoomModel],
) -> None:
    """Lights and scenes are saved and loaded as they are."""
    _, model = living_room
    home = HomeModel(BERLIN, {"living_room": model})
    loaded = HomeModel.loads(home.dumps()).rooms["living_room"]
    assert loaded.lights == model.lights
    assert loaded.settings["sources"] == "lights"
    for zone in Zone:
        a, b = model.zones[zone], loaded.zones[zone]
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a.scenes == b.scenes
    assert any(z is not None and z.scenes for z in loaded.zones.values())
    assert HomeModel.loads(home.dumps()).dumps() == home.dumps()


def test_scene_without_a_brightness_per_light_is_refused(
    living_room: tuple[SimulatedRoom, RoomModel],
) -> None:
    """A scene must give every light of the room a brightness."""
    _, model = living_room
    data = json.loads(HomeModel(BERLIN, {"living_room": model}).dumps())
    data["rooms"]["living_room"]["lights"] = ["ceiling"]
    with pytest.raises(ValueError, match="every light"):
        HomeModel.loads(json.dumps(data))


def test_version_1_file_loads_as_a_lux_room(home_model: HomeModel) -> None:
    """A file written before lights (version 1) loads: no lights, no scenes."""
    data = json.loads(home_model.dumps())
    data["version"] = 1
    for room in data["rooms"].values():
        room.pop("lights")
        room.pop("evenings")
        room.pop("evening_spreads")
        for zone in room["zones"].values():
            if zone is not None:
                zone.pop("scenes")
    loaded = HomeModel.loads(json.dumps(data))
    assert loaded.rooms.keys() == home_model.rooms.keys()
    for name, room in loaded.rooms.items():
        assert room.lights == ()
        assert all(z is None or z.scenes == () for z in room.zones.values())
        np.testing.assert_array_equal(
            room.levels.centres, home_model.rooms[name].levels.centres
        )
        day = date(2024, 11, 20)
        a = sample_day(room, day, BERLIN, rng=np.random.default_rng(1))
        # Without evenings (version 3), its evening zones are sampled one by one.
        plain = replace(home_model.rooms[name], evenings=(), evening_spreads=(0, 0))
        b = sample_day(plain, day, BERLIN, rng=np.random.default_rng(1))
        assert a == b
