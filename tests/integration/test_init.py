"""Setting the integration up and unloading it."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import ModelSource, ModelStatus

from .conftest import ROOM_NAME, ROOM_SUBENTRY_ID, room_device


async def test_setup_and_unload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An entry sets up its room (a device with entities) and unloads cleanly."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    # Without history the room replays the labelled fallback.
    assert room.status is ModelStatus.NOT_ENOUGH_DATA
    assert room.source is ModelSource.FALLBACK
    assert room.model is not None

    device = room_device(device_registry, entry.entry_id, ROOM_SUBENTRY_ID)
    assert device is not None
    assert device.name == ROOM_NAME
    entities = er.async_entries_for_device(entity_registry, device.id)
    assert {e.unique_id for e in entities} >= {
        f"{ROOM_SUBENTRY_ID}_model_status",
        f"{ROOM_SUBENTRY_ID}_sensor_stuck",
    }
    assert all(e.config_subentry_id == ROOM_SUBENTRY_ID for e in entities)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    state = hass.states.get("sensor.living_room_model_status")
    assert state is not None
    assert state.state == "unavailable"


async def test_removing_a_room_removes_its_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Removing the room's subentry reloads the entry without the room."""
    entry = init_integration
    assert hass.config_entries.async_remove_subentry(entry, ROOM_SUBENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.rooms == {}
    assert room_device(device_registry, entry.entry_id, ROOM_SUBENTRY_ID) is None
