"""Data-quality problems of a room's lux sensor, as problem binary sensors."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DataProblem
from .data import LightingReplayConfigEntry
from .entity import LightingReplayRoomEntity, async_add_room_entities

# Entities only show state held in memory: no polling, no I/O.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LightingReplayProblemDescription(BinarySensorEntityDescription):
    """Describes a data-quality problem sensor."""

    problem: DataProblem


PROBLEMS: tuple[LightingReplayProblemDescription, ...] = tuple(
    LightingReplayProblemDescription(
        key=problem.value,
        translation_key=problem.value,
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        problem=problem,
    )
    for problem in DataProblem
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the problem sensors of every room."""
    async_add_room_entities(
        entry,
        async_add_entities,
        lambda room: [
            LightingReplayProblemEntity(entry=entry, room=room, description=description)
            for description in PROBLEMS
        ],
    )


class LightingReplayProblemEntity(LightingReplayRoomEntity, BinarySensorEntity):
    """On while a data-quality problem is found in a room's readings."""

    entity_description: LightingReplayProblemDescription

    @property
    def is_on(self) -> bool:
        """Return whether the problem is present."""
        return self.entity_description.problem in self.room.problems
