"""Switches: the home's vacation replay, and whether each room takes part.

The home switch lives on the home's own device (one per config entry, beside
the room devices). Its state, the vacation's end, the snapshot of the lights
and the rooms left out are kept by the replay runner in Home Assistant's
storage rather than in the restore-state cache: the snapshot must survive a
crash, and the runner must know them before any entity exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import LightingReplayConfigEntry
from .entity import (
    LightingReplayHomeEntity,
    LightingReplayRoomScheduleEntity,
    async_add_room_entities,
)

# Switching is done by the replay runner, which serialises its own work.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LightingReplaySwitchEntityDescription(SwitchEntityDescription):
    """Describes a replay switch."""


REPLAY_SWITCH = LightingReplaySwitchEntityDescription(
    key="replay", translation_key="replay"
)
INCLUDE_SWITCH = LightingReplaySwitchEntityDescription(
    key="include_in_replay",
    translation_key="include_in_replay",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the home's replay switch and one include switch per room."""
    async_add_entities([ReplaySwitch(entry=entry, description=REPLAY_SWITCH)])
    async_add_room_entities(
        entry,
        async_add_entities,
        lambda room: [
            IncludeInReplaySwitch(entry=entry, room=room, description=INCLUDE_SWITCH)
        ],
    )


class ReplaySwitch(LightingReplayHomeEntity, SwitchEntity):
    """Vacation replay of the whole home: on runs the rooms' schedules."""

    entity_description: LightingReplaySwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """Return whether replay runs."""
        return self.replay.active

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the vacation's end and the lights replay cannot reach."""
        return {
            "end": self.replay.end,
            "unreachable_lights": sorted(self.replay.unreachable),
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start replay (a running replay keeps its end)."""
        if not self.replay.active:
            await self.replay.async_turn_on()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop replay and restore the lights."""
        await self.replay.async_turn_off()


class IncludeInReplaySwitch(LightingReplayRoomScheduleEntity, SwitchEntity):
    """Whether a room's lights take part in replay (on by default)."""

    entity_description: LightingReplaySwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """Return whether the room takes part."""
        return self.replay.is_included(self.room.subentry_id)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return what the room uses: the lights replay switches, its lux sensor.

        Shown on the room's page, so the user sees which entities the room
        was set up with (renamed entities are followed).
        """
        config = self.room.config
        return {
            "lights": config.light_entity_ids(self.hass),
            "lux_sensor": config.lux_entity_id(self.hass),
            "learn_from": config.learn_from.value,
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Include the room."""
        await self.replay.async_set_included(self.room.subentry_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Leave the room out; its lights are restored if replay runs."""
        await self.replay.async_set_included(self.room.subentry_id, False)
