"""Rooms that learn from their lights' own history, a switch, or lights and lux.

History is the simulator's truth of each light (its brightness per minute),
written into the real recorder as Home Assistant records lights: a state row
per switch or brightness change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import SwitchEntity
from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
    setup_test_component_platform,
)

from custom_components.lighting_replay.const import (
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    ModelSource,
    ModelStatus,
)
from custom_components.lighting_replay.engine.simulate import (
    SimulatedRoom,
    simulate_rooms,
)
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.replay import room_changes, week

from .conftest import (
    LUX_ENTITY,
    ROOM_SUBENTRY_ID,
    async_setup_integration,
    async_write_history,
    async_write_light_history,
    home_entry,
    light_rows,
    simulated_rows,
)

CEILING = "light.living_room_ceiling"
FLOOR_LAMP = "light.living_room_floor_lamp"
PLUG = "switch.living_room_plug"
ROOM_CALENDAR = "calendar.living_room_schedule"
MODEL_STATUS = "sensor.living_room_model_status"
# Noon on a summer day in the test home's time zone.
START = datetime(2026, 6, 10, 12, 0, 30, tzinfo=ZoneInfo("US/Pacific"))


def simulate_living_room(
    location: Location, days: int, end_s: float, *, seed: int = 0
) -> SimulatedRoom:
    """Simulate the living room for `days` before `end_s` (as `simulated_rows`)."""
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    start = end_local.date() - timedelta(days=days)
    return simulate_rooms(location, start, days + 1, seed=seed)["living_room"]


def register(
    entity_registry: er.EntityRegistry, entity_id: str, platform: str = "hue"
) -> er.RegistryEntry:
    """Register a light or switch entity under its entity_id."""
    domain, object_id = entity_id.split(".")
    entry = entity_registry.async_get_or_create(
        domain, platform, object_id, suggested_object_id=object_id
    )
    assert entry.entity_id == entity_id
    return entry


async def async_write_living_room_lights(
    hass: HomeAssistant, room: SimulatedRoom, end_s: float
) -> None:
    """Record the ceiling light without brightness, the floor lamp with it."""
    assert room.lights["ceiling"].max() > 0
    assert 0 < room.lights["floor_lamp"].max() < 1
    await async_write_light_history(
        hass,
        CEILING,
        room.start_minute,
        room.lights["ceiling"],
        end_s,
        with_brightness=False,
    )
    await async_write_light_history(
        hass, FLOOR_LAMP, room.start_minute, room.lights["floor_lamp"], end_s
    )


async def async_calendar_events(
    hass: HomeAssistant, entity_id: str, days: int = 7
) -> list[dict[str, Any]]:
    """Return a calendar's events from now for `days`, through its action."""
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {ATTR_ENTITY_ID: entity_id, "duration": {"days": days}},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events: list[dict[str, Any]] = response[entity_id]["events"]  # type: ignore[index,assignment]
    return events


async def test_light_only_room_trains_at_setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    location: Location,
) -> None:
    """Two lights, one without brightness, no lux sensor: trained on day one."""
    freezer.move_to(START)
    ceiling = register(entity_registry, CEILING)
    floor = register(entity_registry, FLOOR_LAMP)
    end_s = dt_util.utcnow().timestamp() - 120
    room = simulate_living_room(location, 4, end_s)
    await async_write_living_room_lights(hass, room, end_s)
    entry = home_entry(
        {
            ROOM_SUBENTRY_ID: (
                "Living room",
                {CONF_LIGHTS: [ceiling.id, floor.id], CONF_LEARN_FROM: "lights"},
            )
        }
    )
    await async_setup_integration(hass, entry)

    state = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert state.status is ModelStatus.TRAINED
    assert state.source is ModelSource.LEARNED
    model = state.model
    assert model is not None
    assert set(model.lights) == {ceiling.id, floor.id}
    assert model.settings["sources"] == "lights"
    assert model.settings["daylight"] == "whole_day"
    # The lights' states are known around the clock: about 4 days.
    assert 3.0 <= model.days_of_data <= 5.0
    # The ceiling light, recorded without brightness, counts as full on; the
    # floor lamp at its recorded 60 %.
    ceiling_index = model.lights.index(ceiling.id)
    floor_index = model.lights.index(floor.id)
    scenes = [
        scene
        for zone_model in model.zones.values()
        if zone_model is not None
        for scene in zone_model.scenes
    ]
    assert scenes
    assert {scene.brightness[ceiling_index] for scene in scenes} <= {0, 100}
    assert {scene.brightness[floor_index] for scene in scenes} <= {0, 60}
    # Every light is in some scene.
    assert any(scene.brightness[ceiling_index] for scene in scenes)
    assert any(scene.brightness[floor_index] for scene in scenes)

    status = hass.states.get(MODEL_STATUS)
    assert status is not None
    assert status.state == "trained"
    assert status.attributes["learned_from"] == "lights"
    assert status.attributes["source"] == "learned"

    # A week of calendar, through the calendar's own action.
    events = await async_calendar_events(hass, ROOM_CALENDAR)
    assert events
    replay = entry.runtime_data.replay
    now = dt_util.now()
    planned = replay.intervals(ROOM_SUBENTRY_ID, now, now + timedelta(days=7))
    assert len(events) == len(planned)
    assert {event["start"] for event in events} == {
        iv.start.isoformat() for iv in planned
    }
    # The whole week is planned (today and the six days after it).
    assert [s.day for s in replay.schedules(ROOM_SUBENTRY_ID)] == week(now.date())


@pytest.mark.parametrize("days", [1])
async def test_light_only_room_with_too_little_history(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    location: Location,
    days: int,
) -> None:
    """One to two days of light history are not enough: the labelled fallback.

    (The history starts at a local midnight: from `days` to `days` + 1 days
    by the time of day the test runs.)
    """
    ceiling = register(entity_registry, CEILING)
    floor = register(entity_registry, FLOOR_LAMP)
    end_s = dt_util.utcnow().timestamp() - 120
    room = simulate_living_room(location, days, end_s)
    await async_write_living_room_lights(hass, room, end_s)
    entry = home_entry(
        {
            ROOM_SUBENTRY_ID: (
                "Living room",
                {CONF_LIGHTS: [ceiling.id, floor.id], CONF_LEARN_FROM: "lights"},
            )
        }
    )
    await async_setup_integration(hass, entry)
    state = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert state.status is ModelStatus.NOT_ENOUGH_DATA
    assert state.source is ModelSource.FALLBACK
    assert 0.9 < state.days_of_data < 2.1
    status = hass.states.get(MODEL_STATUS)
    assert status is not None
    assert status.attributes["learned_from"] == "lights"


class PlugSwitch(SwitchEntity):
    """A smart plug that records what it was told."""

    _attr_should_poll = False

    def __init__(self) -> None:
        """Make an off plug."""
        self._attr_name = "Living room plug"
        self._attr_unique_id = "living-room-plug"
        self._attr_is_on = False
        self.calls: list[tuple[datetime, str]] = []

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on."""
        self.calls.append((dt_util.now(), "on"))
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        self.calls.append((dt_util.now(), "off"))
        self._attr_is_on = False
        self.async_write_ha_state()


async def test_switch_only_room_trains_and_replays(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    location: Location,
) -> None:
    """A smart plug's on/off history trains; replay switches it with switch.*."""
    freezer.move_to(START)
    plug = PlugSwitch()
    setup_test_component_platform(hass, "switch", [plug])
    assert await async_setup_component(hass, "switch", {"switch": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get(PLUG) is not None
    plug_entry = entity_registry.async_get(PLUG)
    assert plug_entry is not None

    end_s = dt_util.utcnow().timestamp() - 120
    room = simulate_living_room(location, 7, end_s, seed=1)
    await async_write_history(
        hass,
        PLUG,
        light_rows(
            room.start_minute, room.lights["ceiling"], end_s, with_brightness=False
        ),
    )
    entry = home_entry(
        {
            ROOM_SUBENTRY_ID: (
                "Living room",
                {CONF_LIGHTS: [plug_entry.id], CONF_LEARN_FROM: "lights"},
            )
        }
    )
    await async_setup_integration(hass, entry)
    state = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert state.status is ModelStatus.TRAINED
    assert state.model is not None
    assert state.model.lights == (plug_entry.id,)
    assert hass.states.get(MODEL_STATUS).attributes["learned_from"] == "lights"  # type: ignore[union-attr]

    replay = entry.runtime_data.replay
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    now = dt_util.now()
    first_on = next(
        change
        for change in room_changes(replay.schedules(ROOM_SUBENTRY_ID))
        if change.on and change.at > now
    )
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    plug.calls.clear()
    moment = first_on.at
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert plug.calls == [(moment, "on")]
    assert hass.states.get(PLUG).state == STATE_ON  # type: ignore[union-attr]
    switched = [
        call.data
        for call in calls
        if call.data["service_data"].get(ATTR_ENTITY_ID) == PLUG
    ]
    assert switched == [
        {
            "domain": "switch",
            "service": "turn_on",
            "service_data": {ATTR_ENTITY_ID: PLUG},
        }
    ]
    await replay.async_turn_off()
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_mixed_room_learns_from_both(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    location: Location,
    lux_sensor: er.RegistryEntry,
) -> None:
    """A room with a lux sensor and lights learns from both."""
    ceiling = register(entity_registry, CEILING)
    floor = register(entity_registry, FLOOR_LAMP)
    end_s = dt_util.utcnow().timestamp() - 120
    history, rows = simulated_rows(location, 6, end_s=end_s)
    await async_write_history(hass, LUX_ENTITY, rows)
    room = simulate_living_room(location, 6, end_s)
    # The same simulated evenings: the lux sensor sees the lamps.
    assert np.array_equal(
        room.timestamps_s[room.timestamps_s < end_s], history.timestamps_s
    )
    await async_write_living_room_lights(hass, room, end_s)
    entry = home_entry(
        {
            ROOM_SUBENTRY_ID: (
                "Living room",
                {
                    CONF_LUX_SENSOR: lux_sensor.id,
                    CONF_LIGHTS: [ceiling.id, floor.id],
                    CONF_LEARN_FROM: "both",
                },
            )
        }
    )
    await async_setup_integration(hass, entry)
    state = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert state.status is ModelStatus.TRAINED
    model = state.model
    assert model is not None
    assert model.settings["sources"] == "both"
    assert set(model.lights) == {ceiling.id, floor.id}
    assert 5.0 <= model.days_of_data <= 7.0
    status = hass.states.get(MODEL_STATUS)
    assert status is not None
    assert status.attributes["learned_from"] == "both"
    # Both sources were archived.
    learning = entry.runtime_data.learning
    for light in (ceiling.id, floor.id):
        path = learning.files.light_archive_path(ROOM_SUBENTRY_ID, light)
        assert await hass.async_add_executor_job(path.is_file)
    assert await hass.async_add_executor_job(
        learning.files.archive_path(ROOM_SUBENTRY_ID).is_file
    )
