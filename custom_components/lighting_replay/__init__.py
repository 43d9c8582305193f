"""Lighting Replay: replay a room's learned lighting while the house is empty.

The config entry holds the home-wide settings; each room is a config subentry
(a device; rooms.py takes rooms added, changed or removed while it runs). Setting the entry up loads each room's archive and model from
storage, forwards the platforms, and lets `learning.Learning` bring the
archives up to date and train in the background (never on the event loop).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
import logging
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import CONF_LEARN_FROM, DOMAIN, SUBENTRY_TYPE_ROOM, LearnFrom
from .data import (
    HomeSettings,
    LightingReplayConfigEntry,
    LightingReplayData,
    RoomState,
    room_configs,
)
from .engine.zones import Location
from .learning import Learning, async_remove_storage
from .options import ReplayOptions
from .replay import Replay, async_remove_replay_storage
from .rooms import async_apply_room_changes
from .services import async_setup_services

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

_LOGGER = logging.getLogger(__name__)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (once, for every entry)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> bool:
    """Set up the home and its rooms."""
    location = Location(
        hass.config.latitude, hass.config.longitude, hass.config.time_zone
    )
    rooms = {
        subentry_id: RoomState(config=room)
        for subentry_id, room in room_configs(entry).items()
    }
    settings = HomeSettings.from_entry_data(entry.data)
    learning = Learning(hass, entry, location=location, rooms=rooms, settings=settings)
    replay = Replay(
        hass,
        entry,
        location=location,
        rooms=rooms,
        options=ReplayOptions.from_options(entry.options),
    )
    entry.runtime_data = LightingReplayData(
        settings=settings,
        location=location,
        rooms=rooms,
        learning=learning,
        replay=replay,
    )
    # Saved models first, so entities start with what was learned before.
    await learning.async_load()
    await replay.async_load()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    learning.async_start()
    replay.async_start()
    entry.async_on_unload(
        entry.add_update_listener(_update_listener(entry.title, settings))
    )
    return True


def _update_listener(
    title: str, settings: HomeSettings
) -> Callable[[HomeAssistant, LightingReplayConfigEntry], Coroutine[Any, Any, None]]:
    """Return the listener of the entry's changes, knowing what it was set up with.

    Rooms (subentries) added, changed or removed and replay options are
    applied to the running entry (no reload, so no entity goes unavailable);
    other home settings set the entry up again.
    """

    async def async_update_listener(
        hass: HomeAssistant, entry: LightingReplayConfigEntry
    ) -> None:
        if entry.title != title or HomeSettings.from_entry_data(entry.data) != settings:
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return
        await async_apply_room_changes(hass, entry)
        await entry.runtime_data.replay.async_update_options(
            ReplayOptions.from_options(entry.options)
        )

    return async_update_listener


async def async_unload_entry(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> bool:
    """Unload the platforms, stop learning and the replay runner."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.learning.async_shutdown()
        await entry.runtime_data.replay.async_shutdown()
    return unloaded


async def async_migrate_entry(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> bool:
    """Bring an entry of an older version up to date.

    Version 1 rooms learned from their lux sensor alone: they say so now
    (`learn_from: lux`) and keep their archives and models, whose files are
    named after the room and stay where they are.
    """
    if entry.version > 2:
        # Made by a newer version of the integration: nothing to do here.
        return False
    if entry.version == 1:
        for subentry in list(entry.subentries.values()):
            if (
                subentry.subentry_type == SUBENTRY_TYPE_ROOM
                and CONF_LEARN_FROM not in subentry.data
            ):
                hass.config_entries.async_update_subentry(
                    entry,
                    subentry,
                    data={**subentry.data, CONF_LEARN_FROM: LearnFrom.LUX.value},
                )
        hass.config_entries.async_update_entry(entry, version=2, minor_version=1)
        _LOGGER.info("Lighting Replay's settings were brought to version 2")
    return True


async def async_remove_entry(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> None:
    """Delete the archives and models when the integration is removed."""
    await async_remove_storage(hass)
    await async_remove_replay_storage(hass)
