"""Rooms added, changed or removed while the entry runs: no reload, no gap.

Each test checks that the entry was not set up again (the same runtime data)
and that no entity that stays went unavailable on the way.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.lighting_replay.const import (
    ARCHIVE_SUFFIX,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    DOMAIN,
    MODEL_SUFFIX,
    SUBENTRY_TYPE_ROOM,
    ModelSource,
    ModelStatus,
)
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.learning import storage_path

from .conftest import (
    LIGHT_ENTITY,
    ROOM_SUBENTRY_ID,
    History,
    async_setup_integration,
    home_entry,
    room_device,
)
from .test_sources import (
    CEILING,
    FLOOR_LAMP,
    MODEL_STATUS,
    ROOM_CALENDAR,
    START,
    async_calendar_events,
    async_write_living_room_lights,
    register,
    simulate_living_room,
)

# The entities of a room's lux sensor.
LUX_ENTITIES = {
    f"binary_sensor.living_room_{key}"
    for key in (
        "lux_sensor_missing",
        "lux_sensor_stuck",
        "long_gaps_in_readings",
        "lux_sensor_unreliable",
    )
}
ACTIVITY = "binary_sensor.living_room_unexpected_activity"


def gone_or_unavailable(changes: list[Event[EventStateChangedData]]) -> set[str]:
    """Return the entities that went unavailable or away in `changes`."""
    return {
        e.data["entity_id"]
        for e in changes
        if e.data["new_state"] is None or e.data["new_state"].state == STATE_UNAVAILABLE
    }


def room_files(hass: HomeAssistant, subentry_id: str) -> list[Path]:
    """Return the stored files of a room (archives and model)."""
    folder = storage_path(hass)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(f"{subentry_id}."))


async def test_room_added_while_running_is_learned(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    location: Location,
) -> None:
    """A new room gets its device and entities and is trained at once."""
    freezer.move_to(START)
    ceiling = register(entity_registry, CEILING)
    floor = register(entity_registry, FLOOR_LAMP)
    end_s = dt_util.utcnow().timestamp() - 120
    await async_write_living_room_lights(
        hass, simulate_living_room(location, 4, end_s), end_s
    )
    entry = home_entry({})
    await async_setup_integration(hass, entry)
    runtime = entry.runtime_data
    assert runtime.rooms == {}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    subentry = ConfigSubentry(
        data=MappingProxyType(
            {CONF_LIGHTS: [ceiling.id, floor.id], CONF_LEARN_FROM: "lights"}
        ),
        subentry_type=SUBENTRY_TYPE_ROOM,
        title="Living room",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime
    room = runtime.rooms[subentry.subentry_id]
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    device = room_device(device_registry, entry.entry_id, subentry.subentry_id)
    assert device is not None
    assert device.name == "Living room"
    status = hass.states.get(MODEL_STATUS)
    assert status is not None
    assert status.state == "trained"
    assert await async_calendar_events(hass, ROOM_CALENDAR)
    assert runtime.replay.plans[subentry.subentry_id]
    assert gone_or_unavailable(changes) == set()
    # Every entity of the room was added and shows a state.
    room_entities = [
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if e.config_subentry_id == subentry.subentry_id and not e.disabled
    ]
    assert {e.split(".")[0] for e in room_entities} == {
        "binary_sensor",
        "calendar",
        "sensor",
        "switch",
    }
    for entity_id in room_entities:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state != STATE_UNAVAILABLE, entity_id
    # The room's archives are written like any room's.
    assert room_files(hass, subentry.subentry_id)


@pytest.mark.parametrize("history_days", [5])
async def test_room_removed_while_running_leaves_nothing(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A removed room's entities, files, model and notes are gone; no reload."""
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    runtime = entry.runtime_data
    assert runtime.rooms[ROOM_SUBENTRY_ID].status is ModelStatus.TRAINED
    files = room_files(hass, ROOM_SUBENTRY_ID)
    assert any(p.name.endswith(ARCHIVE_SUFFIX) for p in files)
    assert any(p.name.endswith(MODEL_SUFFIX) for p in files)
    others = sorted(set(storage_path(hass).iterdir()) - set(files))
    room_entities = [
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if e.config_subentry_id == ROOM_SUBENTRY_ID
    ]
    assert MODEL_STATUS in room_entities
    # (Some are disabled by default: they have no state.)
    shown = {e for e in room_entities if hass.states.get(e) is not None}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    assert hass.config_entries.async_remove_subentry(entry, ROOM_SUBENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.runtime_data is runtime
    assert runtime.rooms == {}
    assert ROOM_SUBENTRY_ID not in runtime.learning._meta_data["sources"]
    assert room_files(hass, ROOM_SUBENTRY_ID) == []
    # The home's own files stay.
    assert all(p.exists() for p in others)
    for entity_id in room_entities:
        assert hass.states.get(entity_id) is None, entity_id
        assert entity_registry.async_get(entity_id) is None, entity_id
    # Only the room's entities went, and they went away (not unavailable).
    assert gone_or_unavailable(changes) == shown
    assert all(
        e.data["new_state"] is None
        for e in changes
        if e.data["entity_id"] in room_entities
    )
    assert hass.states.get("switch.home_vacation_replay") is not None


async def test_removed_room_takes_its_repairs(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The "not enough data" repair of a removed room goes with it."""
    issue = f"not_enough_data_{ROOM_SUBENTRY_ID}"
    assert issue_registry.async_get_issue(DOMAIN, issue) is not None
    assert hass.config_entries.async_remove_subentry(init_integration, ROOM_SUBENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue) is None


async def test_room_entities_follow_its_sensor(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Without a lux sensor the room loses the sensor's entities, and back."""
    entry = init_integration
    runtime = entry.runtime_data
    for entity_id in LUX_ENTITIES:
        assert hass.states.get(entity_id) is not None, entity_id
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    original = dict(subentry.data)
    data: dict[str, Any] = {k: v for k, v in original.items() if k != CONF_LUX_SENSOR}
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**data, CONF_LEARN_FROM: "lights"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.runtime_data is runtime
    room = runtime.rooms[ROOM_SUBENTRY_ID]
    assert room.config.lux_sensor is None
    for entity_id in LUX_ENTITIES:
        assert hass.states.get(entity_id) is None, entity_id
        assert entity_registry.async_get(entity_id) is None, entity_id
    assert gone_or_unavailable(changes) == LUX_ENTITIES
    assert hass.states.get(ACTIVITY) is not None

    hass.config_entries.async_update_subentry(
        entry, entry.subentries[ROOM_SUBENTRY_ID], data=original
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert runtime.rooms[ROOM_SUBENTRY_ID].config.lux_sensor is not None
    for entity_id in LUX_ENTITIES:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state != STATE_UNAVAILABLE, entity_id
    assert gone_or_unavailable(changes) == LUX_ENTITIES


async def test_entities_no_room_calls_for_are_removed_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A lux problem entity left in the registry of a room without lux goes."""
    entry = mock_config_entry
    entry.add_to_hass(hass)
    data = {
        k: v
        for k, v in entry.subentries[ROOM_SUBENTRY_ID].data.items()
        if k != CONF_LUX_SENSOR
    }
    hass.config_entries.async_update_subentry(
        entry,
        entry.subentries[ROOM_SUBENTRY_ID],
        data={**data, CONF_LEARN_FROM: "lights"},
    )
    stale = entity_registry.async_get_or_create(
        "binary_sensor",
        DOMAIN,
        f"{ROOM_SUBENTRY_ID}_lux_sensor_stuck",
        config_entry=entry,
        config_subentry_id=ROOM_SUBENTRY_ID,
        suggested_object_id="living_room_lux_sensor_stuck",
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entity_registry.async_get(stale.entity_id) is None
    assert hass.states.get(stale.entity_id) is None
    assert hass.states.get(ACTIVITY) is not None


@pytest.mark.parametrize("history_days", [5])
async def test_renamed_room_is_not_learned_again(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A new name, or the same light stored by name instead of registry id, keep the model."""
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    model = room.model
    assert room.status is ModelStatus.TRAINED
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        entry,
        subentry,
        title="Lounge",
        data={**subentry.data, CONF_LIGHTS: [LIGHT_ENTITY]},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert room.config.name == "Lounge"
    assert room.config.lights == (LIGHT_ENTITY,)
    assert room.model is model

    # A threshold is part of what shapes the model: learned again.
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "on_level": 2}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert room.model is not model
    assert room.model is not None
    assert room.model.levels.on_level == 2
