"""Problem and activity binary sensors.

Per room: the data-quality problems of its lux sensor (from learning and,
while the watch runs, from the live readings), "lights not responding" and
"unexpected activity"; for the whole home: "unexpected activity". The watch
(watch.py) is started here, with the entities that show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DataProblem
from .data import LightingReplayConfigEntry, RoomState
from .entity import (
    LightingReplayHomeEntity,
    LightingReplayRoomEntity,
    async_add_room_entities,
)
from .watch import Watch

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

# A lux sensor that flaps or reports the impossible (the watch finds it).
SENSOR_UNRELIABLE = BinarySensorEntityDescription(
    key="sensor_unreliable",
    translation_key="sensor_unreliable",
    device_class=BinarySensorDeviceClass.PROBLEM,
    entity_category=EntityCategory.DIAGNOSTIC,
)
LIGHTS_NOT_RESPONDING = BinarySensorEntityDescription(
    key="lights_not_responding",
    translation_key="lights_not_responding",
    device_class=BinarySensorDeviceClass.PROBLEM,
)
UNEXPECTED_ACTIVITY = BinarySensorEntityDescription(
    key="unexpected_activity", translation_key="unexpected_activity"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Start the watch; add the problem and activity sensors."""
    watch = Watch(hass, entry)
    entry.runtime_data.watch = watch
    watch.async_start()
    entry.async_on_unload(watch.async_stop)

    def room_entities(room: RoomState) -> list[BinarySensorEntity]:
        # The data problems are the lux sensor's: a room without one has none.
        entities: list[BinarySensorEntity] = []
        if room.config.lux_sensor is not None:
            entities.extend(
                LightingReplayProblemEntity(
                    entry=entry, room=room, description=description
                )
                for description in PROBLEMS
            )
            entities.append(
                LightingReplayWatchProblemEntity(
                    entry=entry, room=room, description=SENSOR_UNRELIABLE
                )
            )
        entities.append(
            LightingReplayNotRespondingEntity(
                entry=entry, room=room, description=LIGHTS_NOT_RESPONDING
            )
        )
        entities.append(
            LightingReplayRoomActivityEntity(
                entry=entry, room=room, description=UNEXPECTED_ACTIVITY
            )
        )
        return entities

    async_add_room_entities(entry, async_add_entities, room_entities)
    async_add_entities(
        [LightingReplayHomeActivityEntity(entry=entry, description=UNEXPECTED_ACTIVITY)]
    )


def _watch(entry: LightingReplayConfigEntry) -> Watch:
    """Return the entry's watch (started before any entity is added)."""
    if (watch := entry.runtime_data.watch) is None:
        raise RuntimeError("the watch is not started")
    return watch


class FollowsWatch(Entity):
    """An entity (of a room or the home) that follows the home's watch too."""

    entry: LightingReplayConfigEntry

    @property
    def watch(self) -> Watch:
        """Return the watch of the entity's home."""
        return _watch(self.entry)

    async def async_added_to_hass(self) -> None:
        """Follow the watch too."""
        await super().async_added_to_hass()
        self.async_on_remove(self.watch.async_add_listener(self.async_write_ha_state))


class LightingReplayWatchedRoomEntity(FollowsWatch, LightingReplayRoomEntity):
    """A room entity that follows the watch too."""


class LightingReplayProblemEntity(LightingReplayWatchedRoomEntity, BinarySensorEntity):
    """On while a data-quality problem is found in a room's readings."""

    entity_description: LightingReplayProblemDescription

    @property
    def is_on(self) -> bool:
        """Return whether the problem is present (archive or live readings)."""
        problem = self.entity_description.problem
        return (
            problem in self.room.problems
            or problem.value in self.watch.rooms[self.room.subentry_id].problems
        )


class LightingReplayWatchProblemEntity(
    LightingReplayWatchedRoomEntity, BinarySensorEntity
):
    """On while the watch finds the room's lux sensor flapping or implausible."""

    @property
    def is_on(self) -> bool:
        """Return whether the problem is present."""
        room = self.watch.rooms[self.room.subentry_id]
        return self.entity_description.key in room.problems


class LightingReplayNotRespondingEntity(
    LightingReplayWatchedRoomEntity, BinarySensorEntity
):
    """On while a light of the room does not confirm replay's changes."""

    @property
    def is_on(self) -> bool:
        """Return whether a light is not responding."""
        return bool(self.watch.rooms[self.room.subentry_id].not_responding())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return which lights, since when."""
        lights = self.watch.rooms[self.room.subentry_id].not_responding()
        return {
            "lights": sorted(lights),
            "since": min(lights.values()).isoformat() if lights else None,
        }


class LightingReplayRoomActivityEntity(
    LightingReplayWatchedRoomEntity, BinarySensorEntity
):
    """On for a while after activity was found in the room during replay."""

    @property
    def is_on(self) -> bool:
        """Return whether activity was found within the hold time."""
        room = self.watch.rooms[self.room.subentry_id]
        return room.activity(self.watch.now())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the last finding."""
        return dict(self.watch.rooms[self.room.subentry_id].last_activity or {})


class LightingReplayHomeActivityEntity(
    FollowsWatch, LightingReplayHomeEntity, BinarySensorEntity
):
    """On for a while after activity was found anywhere during replay."""

    @property
    def is_on(self) -> bool:
        """Return whether activity was found within the hold time."""
        return self.watch.activity()
