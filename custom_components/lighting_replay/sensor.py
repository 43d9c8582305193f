"""Sensors of a room: model status, days of data, last training."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import ModelSource, ModelStatus
from .data import LightingReplayConfigEntry, RoomState
from .entity import (
    LightingReplayRoomEntity,
    LightingReplayRoomScheduleEntity,
    async_add_room_entities,
)
from .plan import brightness_for_level

# Entities only show state held in memory: no polling, no I/O.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LightingReplaySensorEntityDescription(SensorEntityDescription):
    """Describes a room sensor."""

    value_fn: Callable[[RoomState], str | float | datetime | None]
    attributes_fn: Callable[[RoomState], dict[str, Any]] | None = None


def _model_attributes(room: RoomState) -> dict[str, Any]:
    """Return what the model status sensor tells besides its state."""
    model = room.model
    return {
        "source": None if room.source is None else room.source.value,
        "learned_from": (
            room.config.learn_from.value
            if model is None or room.source is not ModelSource.LEARNED
            else model.settings.get("sources", "lux")
        ),
        "days_of_data": room.days_of_data,
        "days_needed": room.days_needed,
        "last_trained": room.last_trained,
        "error": room.error,
        "level_centres": (
            None
            if model is None
            else [round(float(c), 1) for c in model.levels.centres]
        ),
        "on_level": None if model is None else model.levels.on_level,
        "on_lux": None if model is None else round(model.levels.on_lux, 1),
        "zones": (
            None
            if model is None
            else {
                zone.name.lower(): None if zone_model is None else zone_model.summary()
                for zone, zone_model in model.zones.items()
            }
        ),
    }


SENSORS: tuple[LightingReplaySensorEntityDescription, ...] = (
    LightingReplaySensorEntityDescription(
        key="model_status",
        translation_key="model_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ModelStatus],
        value_fn=lambda room: room.status.value,
        attributes_fn=_model_attributes,
    ),
    LightingReplaySensorEntityDescription(
        key="days_of_data",
        translation_key="days_of_data",
        entity_category=EntityCategory.DIAGNOSTIC,
        # Also an attribute of the model status sensor.
        entity_registry_enabled_default=False,
        native_unit_of_measurement=UnitOfTime.DAYS,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda room: room.days_of_data,
    ),
    LightingReplaySensorEntityDescription(
        key="last_trained",
        translation_key="last_trained",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda room: room.last_trained,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every room (each room is its own subentry)."""

    def sensors_of_room(room: RoomState) -> list[SensorEntity]:
        return [
            *(
                LightingReplaySensorEntity(
                    entry=entry, room=room, description=description
                )
                for description in SENSORS
            ),
            # Replay
            *(
                ReplayNextChangeSensor(entry=entry, room=room, description=description)
                for description in REPLAY_SENSORS
            ),
        ]

    async_add_room_entities(entry, async_add_entities, sensors_of_room)


class LightingReplaySensorEntity(LightingReplayRoomEntity, SensorEntity):
    """A sensor of a room."""

    entity_description: LightingReplaySensorEntityDescription
    # The model summary changes only when a room is trained; not worth
    # recording with every state.
    _unrecorded_attributes = frozenset(
        {"level_centres", "on_level", "on_lux", "zones", "error"}
    )

    @property
    def native_value(self) -> str | float | datetime | None:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.room)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the attributes, if the description has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.room)


# Replay
@dataclass(frozen=True, kw_only=True)
class ReplaySensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a room's replay schedule."""


REPLAY_SENSORS: tuple[ReplaySensorEntityDescription, ...] = (
    ReplaySensorEntityDescription(
        key="next_change",
        translation_key="next_change",
        device_class=SensorDeviceClass.TIMESTAMP,
    ),
)


class ReplayNextChangeSensor(LightingReplayRoomScheduleEntity, SensorEntity):
    """When the room's lights change next, and to what (attributes).

    The state follows the replay runner, which updates its listeners at each
    change of every room, so the time shown is never in the past.
    """

    entity_description: ReplaySensorEntityDescription
    # A day's schedule is bulky and already shown by the calendar.
    _unrecorded_attributes = frozenset({"schedule"})

    @property
    def native_value(self) -> datetime | None:
        """Return the time of the next change."""
        change = self.replay.next_change(self.room.subentry_id, self.replay.now())
        return None if change is None else change.at

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the next state, its level and brightness, and the schedule."""
        sid = self.room.subentry_id
        change = self.replay.next_change(sid, self.replay.now())
        return {
            "next_state": None if change is None else ("on" if change.on else "off"),
            "level": None if change is None else change.level,
            "brightness_pct": None
            if change is None or not change.on
            else brightness_for_level(self.room, change.level),
            "schedule": [
                {
                    "start": interval.start.isoformat(),
                    "end": interval.end.isoformat(),
                    "level": interval.level,
                }
                for schedule in self.replay.schedules(sid)
                for interval in schedule.intervals
            ]
            if self.replay.is_included(sid)
            else [],
        }
