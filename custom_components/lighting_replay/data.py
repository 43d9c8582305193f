"""Runtime data of the Lighting Replay integration.

The config entry carries one `LightingReplayData` (``entry.runtime_data``):
home-wide settings, the location the engine needs, and one `RoomState` per room
subentry. A `RoomState` is the single place where a room's current model and
its learning status live; entities and the replay runner read it and subscribe
to it with `RoomState.async_add_listener`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import (
    CONF_ARCHIVE_DAYS,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_N_LEVELS,
    CONF_ON_LEVEL,
    CONF_ON_LUX,
    CONF_PRESENCE,
    DEFAULT_ARCHIVE_DAYS,
    DEFAULT_N_LEVELS,
    SUBENTRY_TYPE_ROOM,
    DataProblem,
    LearnFrom,
    ModelSource,
    ModelStatus,
)

if TYPE_CHECKING:
    from .engine.model import RoomModel
    from .engine.zones import Location
    from .entity import RoomEntities
    from .learning import Learning
    from .replay import Replay
    from .watch import Watch

type LightingReplayConfigEntry = ConfigEntry[LightingReplayData]


@dataclass(frozen=True, kw_only=True)
class HomeSettings:
    """Home-wide settings from the config entry's data."""

    archive_days: int = DEFAULT_ARCHIVE_DAYS
    n_levels: int = DEFAULT_N_LEVELS
    # Registry id (or entity_id) of the entity that says whether anybody is
    # home; None: absent days are recognised from the lights.
    presence: str | None = None

    @classmethod
    def from_entry_data(cls, data: Mapping[str, Any]) -> HomeSettings:
        """Read the settings, falling back to defaults for missing keys."""
        return cls(
            archive_days=int(data.get(CONF_ARCHIVE_DAYS, DEFAULT_ARCHIVE_DAYS)),
            n_levels=int(data.get(CONF_N_LEVELS, DEFAULT_N_LEVELS)),
            presence=data.get(CONF_PRESENCE) or None,
        )

    @callback
    def presence_entity_id(self, hass: HomeAssistant) -> str | None:
        """Return the presence entity's current entity_id (None: none or gone)."""
        if self.presence is None:
            return None
        return _resolve(er.async_get(hass), self.presence)


@dataclass(frozen=True, kw_only=True)
class RoomConfig:
    """A room as configured in its subentry.

    `lux_sensor` and `lights` hold entity registry ids where the entity has a
    registry entry, so a renamed entity is still found; resolve them with
    `lux_entity_id` and `light_entity_ids`. `learn_from` says which of them
    the room learns from; its lights are what replay switches either way.
    """

    subentry_id: str
    name: str
    lux_sensor: str | None
    lights: tuple[str, ...]
    learn_from: LearnFrom = LearnFrom.LUX
    on_level: int | None = None
    on_lux: float | None = None

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> RoomConfig:
        """Build the room from a config subentry."""
        data = subentry.data
        on_level = data.get(CONF_ON_LEVEL)
        on_lux = data.get(CONF_ON_LUX)
        lux_sensor = data.get(CONF_LUX_SENSOR) or None
        learn_from = data.get(CONF_LEARN_FROM) or (
            LearnFrom.LUX if lux_sensor else LearnFrom.LIGHTS
        )
        return cls(
            subentry_id=subentry.subentry_id,
            name=subentry.title,
            lux_sensor=lux_sensor,
            lights=tuple(data.get(CONF_LIGHTS, ())),
            learn_from=LearnFrom(learn_from),
            on_level=None if on_level is None else int(on_level),
            on_lux=None if on_lux is None else float(on_lux),
        )

    @callback
    def lux_entity_id(self, hass: HomeAssistant) -> str | None:
        """Return the lux sensor's current entity_id (None: none or gone)."""
        if self.lux_sensor is None:
            return None
        return _resolve(er.async_get(hass), self.lux_sensor)

    @callback
    def light_entity_id(self, hass: HomeAssistant, light: str) -> str | None:
        """Return one of the room's lights' current entity_id (None if gone)."""
        return _resolve(er.async_get(hass), light)

    @callback
    def light_entity_ids(self, hass: HomeAssistant) -> list[str]:
        """Return the current entity_ids of the room's lights that still exist."""
        registry = er.async_get(hass)
        return [
            entity_id
            for light in self.lights
            if (entity_id := _resolve(registry, light)) is not None
        ]


def _resolve(registry: er.EntityRegistry, entity_id_or_uuid: str) -> str | None:
    """Resolve a registry id or an entity_id to the current entity_id."""
    try:
        return er.async_resolve_entity_id(registry, entity_id_or_uuid)
    except ValueError:
        return None


@callback
def room_configs(entry: ConfigEntry) -> dict[str, RoomConfig]:
    """Return the rooms of a config entry keyed by subentry id."""
    return {
        subentry_id: RoomConfig.from_subentry(subentry)
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_TYPE_ROOM
    }


class ChangeNotifier:
    """Tells its listeners (entities, the replay runner) about every change."""

    _listeners: list[CALLBACK_TYPE]

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> Callable[[], None]:
        """Call `update_callback` after every change; returns the remover."""
        self._listeners.append(update_callback)

        @callback
        def remove_listener() -> None:
            if update_callback in self._listeners:
                self._listeners.remove(update_callback)

        return remove_listener

    @callback
    def async_update_listeners(self) -> None:
        """Tell every listener that something changed."""
        for update_callback in list(self._listeners):
            update_callback()


@dataclass(kw_only=True)
class RoomState(ChangeNotifier):
    """What is known about one room right now: model, status, data quality.

    Written only by the learning code (`learning.py`); everyone else reads it
    and subscribes with `async_add_listener` to hear about every change (a new
    model, a status change, new data-quality findings).
    """

    config: RoomConfig
    status: ModelStatus = ModelStatus.LEARNING
    # The model the room replays: learned, imported, or the labelled fallback
    # while there is not enough data. None until the first model exists.
    model: RoomModel | None = None
    source: ModelSource | None = None
    last_trained: datetime | None = None
    days_of_data: float = 0.0
    days_needed: float | None = None
    error: str | None = None
    problems: frozenset[DataProblem] = frozenset()
    _listeners: list[CALLBACK_TYPE] = field(default_factory=list, repr=False)

    @property
    def subentry_id(self) -> str:
        """Return the id of the room's subentry (also its device identifier)."""
        return self.config.subentry_id


@dataclass(kw_only=True)
class LightingReplayData:
    """Runtime data of the config entry (``entry.runtime_data``)."""

    settings: HomeSettings
    location: Location
    rooms: dict[str, RoomState]
    learning: Learning
    # Replay: the runner of the day schedules (replay.py).
    replay: Replay
    # The watch while replay is on (watch.py); started with the binary sensors.
    watch: Watch | None = None
    # Each platform's entities of the rooms (entity.py), for rooms that
    # are added, changed or removed while the entry runs.
    room_entities: list[RoomEntities] = field(default_factory=list)
    # Room changes are applied one at a time (rooms.py).
    room_changes_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
