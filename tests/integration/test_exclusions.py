"""What a room never learns from: replay's own periods and an empty home.

Replay periods come from the replay's store; absent days are found from the
lights of every room (a trip of the simulated household); presence from a
person entity's recorder history.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import (
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_PRESENCE,
    DOMAIN,
    PRESENCE_ARCHIVE_FILE,
    SERVICE_TRAIN,
    ModelStatus,
)
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.engine.simulate import (
    SimulatedRoom,
    simulate_rooms,
)
from custom_components.lighting_replay.engine.sources import RoomSources
from custom_components.lighting_replay.engine.training import (
    TrainingOptions,
    prepare_sources,
)
from custom_components.lighting_replay.engine.zones import Location, local_midnight

from .conftest import (
    async_setup_integration,
    async_write_history,
    async_write_light_history,
    home_entry,
)

ROOM_A = "01JROOMA000000000000000000"
ROOM_B = "01JROOMB000000000000000000"
KITCHEN = "01JROOMKITCHEN000000000000"
REPLAY_STORE = f"{DOMAIN}.replay"
PERSON = "person.alice"


def simulate(
    location: Location,
    days: int,
    end_s: float,
    *,
    seed: int = 0,
    away: tuple[date, ...] = (),
) -> tuple[date, dict[str, SimulatedRoom]]:
    """Simulate the household for `days` before `end_s`; its first day too."""
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    start = end_local.date() - timedelta(days=days)
    return start, simulate_rooms(location, start, days + 1, seed=seed, away=away)


def lights_room(lights: list[str]) -> dict[str, Any]:
    """A room that learns from its lights (stored as entity_ids)."""
    return {CONF_LIGHTS: lights, CONF_LEARN_FROM: "lights"}


def comparable(model: RoomModel) -> dict[str, Any]:
    """Return a model's data without what names it or dates its training."""
    data = model.to_dict()
    for key in ("room", "lights", "trained_at"):
        data.pop(key)
    return data


async def async_prepared_minutes(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str
) -> int:
    """Return the minutes a room's light archives give, nothing excluded."""
    learning = entry.runtime_data.learning
    lights = await learning._async_light_series(
        subentry_id, learning.rooms[subentry_id].config, update=False
    )
    prepared = await hass.async_add_executor_job(
        prepare_sources,
        RoomSources(lights=lights),
        entry.runtime_data.location,
        learning.training_options,
    )
    return prepared.n_valid


def masked(ranges: tuple[tuple[int, int], ...], margin: int) -> int:
    """Return how many minutes the ranges cover once widened by the margin."""
    minutes: set[int] = set()
    for lo, hi in ranges:
        minutes.update(range(lo - margin, hi + margin))
    return len(minutes)


def model_of(entry: MockConfigEntry, subentry_id: str) -> RoomModel:
    """Return a room's trained model."""
    room = entry.runtime_data.rooms[subentry_id]
    assert room.status is ModelStatus.TRAINED, room.error
    assert room.model is not None
    return room.model


# Replay periods ----------------------------------------------------------


async def test_replay_periods_are_not_learned(
    hass: HomeAssistant, location: Location, hass_storage: dict[str, Any]
) -> None:
    """Learning with replay periods equals learning without those nights.

    Room A's lights have their whole history; room B's lights the same
    history with the replay nights (and the margin around them) unavailable.
    With the replay periods stored, both learn the very same model.
    """
    tz = location.tzinfo
    now = dt_util.utcnow()
    end_s = now.timestamp() - 120
    _start, rooms = simulate(location, 10, end_s)
    living = rooms["living_room"]
    today = now.astimezone(tz).date()
    periods = [
        (
            datetime.combine(today - timedelta(days=n), time(20, 0), tz),
            datetime.combine(today - timedelta(days=n - 1), time(1, 0), tz),
        )
        for n in (4, 2)
    ]
    hass_storage[REPLAY_STORE] = {
        "version": 1,
        "minor_version": 1,
        "key": REPLAY_STORE,
        "data": {
            "active": False,
            "periods": [[a.isoformat(), b.isoformat()] for a, b in periods],
        },
    }
    # What learning leaves out: the period (to the minute after its end)
    # widened by the sliding window on both sides.
    margin = TrainingOptions().window
    removed: list[tuple[int, int]] = [
        (
            int(a.timestamp() // 60) - margin,
            int(b.timestamp() // 60) + 1 + margin,
        )
        for a, b in periods
    ]
    for key in ("ceiling", "floor_lamp"):
        full = living.lights[key]
        await async_write_light_history(
            hass, f"light.a_{key}", living.start_minute, full, end_s
        )
        cut = full.copy()
        for lo, hi in removed:
            cut[lo - living.start_minute : hi - living.start_minute] = np.nan
        await async_write_light_history(
            hass, f"light.b_{key}", living.start_minute, cut, end_s
        )
    entry = home_entry(
        {
            ROOM_A: ("Room A", lights_room(["light.a_ceiling", "light.a_floor_lamp"])),
            ROOM_B: ("Room B", lights_room(["light.b_ceiling", "light.b_floor_lamp"])),
        }
    )
    await async_setup_integration(hass, entry)
    replay = entry.runtime_data.replay
    assert replay.periods == periods
    model_a = model_of(entry, ROOM_A)
    model_b = model_of(entry, ROOM_B)
    assert comparable(model_a) == comparable(model_b)

    # Exactly the replay nights (and their margins) are missing from A.
    everything = await async_prepared_minutes(hass, entry, ROOM_A)
    assert model_a.n_samples == everything - sum(hi - lo for lo, hi in removed)
    learning = entry.runtime_data.learning
    assert await learning.async_excluded() == tuple(
        (lo + margin, hi - margin) for lo, hi in removed
    )

    # The periods are stored: a restart keeps them and learns the same
    # (room A as room B again: the first models end a few minutes earlier,
    # the lights' last state being held until the minute they learn).
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    replay = entry.runtime_data.replay
    assert replay.periods == periods
    await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert model_of(entry, ROOM_A) is not model_a
    assert comparable(model_of(entry, ROOM_A)) == comparable(model_of(entry, ROOM_B))

    # A replay run now adds a period, kept over a restart too.
    await replay.async_turn_on()
    await replay.async_turn_off()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(replay.periods) == 3
    assert replay.periods[:2] == periods
    added = replay.periods[2]
    assert added[1] is not None
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.runtime_data.replay.periods == [*periods, added]
    stored = hass_storage[REPLAY_STORE]["data"]["periods"]
    assert len(stored) == 3


# Absent days ---------------------------------------------------------------


@pytest.mark.parametrize("trip", [True, False])
async def test_absent_days_are_not_learned(
    hass: HomeAssistant,
    location: Location,
    caplog: pytest.LogCaptureFixture,
    trip: bool,
) -> None:
    """A five-day trip is left out; a household at home loses no day."""
    caplog.set_level(logging.INFO, logger="custom_components.lighting_replay")
    end_s = dt_util.utcnow().timestamp() - 120
    today = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo).date()
    away = tuple(today - timedelta(days=n) for n in range(10, 5, -1)) if trip else ()
    _start, rooms = simulate(location, 28, end_s, seed=2, away=away)
    living, kitchen = rooms["living_room"], rooms["kitchen"]
    for key in ("ceiling", "floor_lamp"):
        await async_write_light_history(
            hass,
            f"light.living_room_{key}",
            living.start_minute,
            living.lights[key],
            end_s,
        )
    await async_write_light_history(
        hass,
        "light.kitchen_ceiling",
        kitchen.start_minute,
        kitchen.lights["ceiling"],
        end_s,
    )
    entry = home_entry(
        {
            ROOM_A: (
                "Living room",
                lights_room(
                    ["light.living_room_ceiling", "light.living_room_floor_lamp"]
                ),
            ),
            KITCHEN: ("Kitchen", lights_room(["light.kitchen_ceiling"])),
        }
    )
    await async_setup_integration(hass, entry)

    # The trip's days with no light at all in the home (a lamp left on past
    # midnight lights the first one).
    dark_trip_days = sorted(
        day
        for day in away
        if not any(
            _lit_on(room, key, day, location)
            for room in (living, kitchen)
            for key in room.lights
        )
    )
    assert len(dark_trip_days) >= 4 if trip else not dark_trip_days
    expected = tuple(
        (local_midnight(day, location), local_midnight(day + timedelta(1), location))
        for day in dark_trip_days
    )
    learning = entry.runtime_data.learning
    assert await learning.async_excluded() == expected
    message = "days without any light in any room are not learned from"
    if trip:
        assert f"{len(expected)} {message}" in caplog.text
    else:
        assert message not in caplog.text

    # Every room loses the absent days (and the margin around them).
    window = learning.training_options.window
    gone = masked(expected, window)
    assert gone == (sum(b - a for a, b in expected) + 2 * window if trip else 0)
    for subentry_id in (ROOM_A, KITCHEN):
        everything = await async_prepared_minutes(hass, entry, subentry_id)
        assert model_of(entry, subentry_id).n_samples == everything - gone


def _lit_on(room: SimulatedRoom, key: str, day: date, location: Location) -> bool:
    """Return whether a simulated light was on during a local day."""
    lo = local_midnight(day, location) - room.start_minute
    hi = local_midnight(day + timedelta(days=1), location) - room.start_minute
    return bool(np.any(room.lights[key][max(lo, 0) : max(hi, 0)] > 0))


# Presence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("presence", "home", "away"),
    [
        (PERSON, "home", "not_home"),
        ("zone.home", "2", "0"),
        ("binary_sensor.someone_home", "on", "off"),
    ],
)
async def test_time_nobody_was_home_is_not_learned(
    hass: HomeAssistant, location: Location, presence: str, home: str, away: str
) -> None:
    """Nobody home for two and a half days: those minutes are left out."""
    now_s = dt_util.utcnow().timestamp()
    end_s = now_s - 120
    _start, rooms = simulate(location, 10, end_s)
    living = rooms["living_room"]
    for key in ("ceiling", "floor_lamp"):
        await async_write_light_history(
            hass,
            f"light.living_room_{key}",
            living.start_minute,
            living.lights[key],
            end_s,
        )
    left = (int(now_s // 60) - 6 * 1440 + 17) * 60.0
    back = left + (2 * 1440 + 720) * 60.0
    hass.states.async_set(presence, home, {})
    await async_write_history(
        hass,
        presence,
        [
            (living.start_minute * 60.0, home, {}),
            (left, away, {}),
            (back, home, {}),
        ],
    )
    entry = home_entry(
        {
            ROOM_A: (
                "Living room",
                lights_room(
                    ["light.living_room_ceiling", "light.living_room_floor_lamp"]
                ),
            )
        },
        home_data={CONF_PRESENCE: presence},
    )
    await async_setup_integration(hass, entry)

    learning = entry.runtime_data.learning
    nobody_home = (int(left // 60), int(back // 60))
    assert await learning.async_excluded() == (nobody_home,)
    assert await hass.async_add_executor_job(
        (learning.folder / PRESENCE_ARCHIVE_FILE).is_file
    )
    model = model_of(entry, ROOM_A)
    everything = await async_prepared_minutes(hass, entry, ROOM_A)
    margin = learning.training_options.window
    assert model.n_samples == everything - (
        nobody_home[1] - nobody_home[0] + 2 * margin
    )
