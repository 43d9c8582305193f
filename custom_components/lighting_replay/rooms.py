"""Rooms added, changed or removed while the entry runs.

A room is a config subentry. Adding, changing or removing one does not set
the whole entry up again (which would make every entity unavailable for a
moment): the room is taken in, followed or let go by each part in turn,
learning, replay, the watch and the platforms' entities. The rooms of the
running entry (`LightingReplayData.rooms`) are what the entry was set up
with plus every change applied here since.
"""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .data import LightingReplayConfigEntry, RoomConfig, RoomState, room_configs
from .repairs import async_clear_room_issues

_LOGGER = logging.getLogger(__name__)


async def async_apply_room_changes(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> None:
    """Bring the running entry's rooms in line with its subentries."""
    runtime = entry.runtime_data
    async with runtime.room_changes_lock:
        configs = room_configs(entry)
        for subentry_id in [sid for sid in runtime.rooms if sid not in configs]:
            await _async_remove_room(hass, entry, subentry_id)
        for subentry_id, config in configs.items():
            room = runtime.rooms.get(subentry_id)
            if room is None:
                await _async_add_room(entry, config)
            elif room.config != config:
                await _async_update_room(hass, entry, room, config)


async def _async_add_room(entry: LightingReplayConfigEntry, config: RoomConfig) -> None:
    runtime = entry.runtime_data
    room = RoomState(config=config)
    runtime.rooms[config.subentry_id] = room
    await runtime.replay.async_add_room(config.subentry_id)
    if runtime.watch is not None:
        runtime.watch.async_rooms_changed()
    # The entities read the replay and the watch from their first state on.
    for platform in runtime.room_entities:
        platform.async_add_room(room)
    runtime.learning.async_add_room(config.subentry_id)
    _LOGGER.info("Room %s added; it is learned now", config.name)


async def _async_update_room(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    room: RoomState,
    config: RoomConfig,
) -> None:
    runtime = entry.runtime_data
    old = room.config
    old_lights = old.light_entity_ids(hass)
    room.config = config
    if config.name != old.name:
        registry = dr.async_get(hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, config.subentry_id) in device.identifiers:
                registry.async_update_device(device.id, name=config.name)
    for platform in runtime.room_entities:
        await platform.async_update_room(room)
    await runtime.replay.async_update_room(config.subentry_id, old_lights)
    if runtime.watch is not None:
        runtime.watch.async_rooms_changed()
    await runtime.learning.async_update_room(config.subentry_id, old)
    room.async_update_listeners()
    _LOGGER.info("Room %s changed", config.name)


async def _async_remove_room(
    hass: HomeAssistant, entry: LightingReplayConfigEntry, subentry_id: str
) -> None:
    runtime = entry.runtime_data
    config = runtime.rooms[subentry_id].config
    lights = config.light_entity_ids(hass)
    for platform in runtime.room_entities:
        await platform.async_remove_room(subentry_id)
    del runtime.rooms[subentry_id]
    await runtime.replay.async_remove_room(subentry_id, lights)
    if runtime.watch is not None:
        runtime.watch.async_rooms_changed()
    await runtime.learning.async_remove_room(subentry_id)
    async_clear_room_issues(hass, subentry_id)
    _LOGGER.info("Room %s removed with its archives and model", config.name)
