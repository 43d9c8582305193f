"""The replay switches: the home's vacation replay and each room's inclusion."""

from __future__ import annotations

from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.lighting_replay.const import DOMAIN
from custom_components.lighting_replay.engine.model import RoomModel
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import (
    BULB,
    INCLUDE,
    LAMP,
    START,
    SWITCH,
    ReplayTestLight,
    async_setup_replay,
    entity_snapshot,
)


async def test_switch_entities(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The switches (registry entries and states) and the home's device."""
    freezer.move_to(START)
    with patch("custom_components.lighting_replay.PLATFORMS", [Platform.SWITCH]):
        await async_setup_replay(hass, mock_config_entry, room_model)
    assert entity_snapshot(hass, entity_registry, mock_config_entry) == snapshot
    home = next(
        device
        for device in dr.async_entries_for_config_entry(
            device_registry, mock_config_entry.entry_id
        )
        if (DOMAIN, mock_config_entry.entry_id) in device.identifiers
    )
    assert (home.name, home.model) == ("Home", "Home")
    switch = entity_registry.async_get(SWITCH)
    assert switch is not None
    assert switch.device_id == home.id
    include = entity_registry.async_get(INCLUDE)
    assert include is not None
    assert include.config_subentry_id == ROOM_SUBENTRY_ID


async def test_switch_turns_replay_on_and_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """The switch shows and drives the replay; it survives a reload."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    state = hass.states.get(SWITCH)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["end"] is None
    assert state.attributes["unreachable_lights"] == []

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert replay.active
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]
    # Turning it on again keeps what runs (no new snapshot, same days).
    days = dict(replay.plans[ROOM_SUBENTRY_ID])
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert replay.plans[ROOM_SUBENTRY_ID] == days

    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert not mock_config_entry.runtime_data.replay.active
    assert hass.states.get(SWITCH).state == STATE_OFF  # type: ignore[union-attr]


async def test_room_shows_what_it_uses(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    lux_sensor: er.RegistryEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The room's include switch lists its lights and lux sensor, renames followed."""
    await async_setup_replay(hass, mock_config_entry, room_model)
    attributes = hass.states.get(INCLUDE).attributes  # type: ignore[union-attr]
    assert attributes["lights"] == [LAMP, BULB]
    assert attributes["lux_sensor"] == lux_sensor.entity_id
    assert attributes["learn_from"] == "lux"

    entity_registry.async_update_entity(LAMP, new_entity_id="light.reading_lamp")
    await hass.async_block_till_done()
    mock_config_entry.runtime_data.replay.async_update_listeners()
    await hass.async_block_till_done()
    attributes = hass.states.get(INCLUDE).attributes  # type: ignore[union-attr]
    assert attributes["lights"] == ["light.reading_lamp", BULB]
