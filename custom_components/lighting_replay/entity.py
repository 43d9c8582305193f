"""Base entities of the Lighting Replay integration: one device per room."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .data import LightingReplayConfigEntry, RoomState

if TYPE_CHECKING:
    from .replay import Replay


@callback
def async_add_room_entities(
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_of_room: Callable[[RoomState], Iterable[Entity]],
) -> None:
    """Add the entities of every room to the room's subentry."""
    for subentry_id, room in entry.runtime_data.rooms.items():
        async_add_entities(entities_of_room(room), config_subentry_id=subentry_id)


class LightingReplayRoomEntity(Entity):
    """An entity of one room.

    The unique id is ``<subentry id>_<description key>``; the device is the
    room, identified by its subentry id. The entity is pushed: it writes its
    state whenever the room state tells its listeners about a change.
    Subclasses that show other data (e.g. the replay runner) can add their
    own listeners in `async_added_to_hass`.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        *,
        entry: LightingReplayConfigEntry,
        room: RoomState,
        description: EntityDescription,
    ) -> None:
        """Initialise the entity of `room` described by `description`."""
        self.entity_description = description
        self.entry = entry
        self.room = room
        self._attr_unique_id = f"{room.subentry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, room.subentry_id)},
            name=room.config.name,
            manufacturer="Lighting Replay",
            model="Room",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the room state."""
        await super().async_added_to_hass()
        self.async_on_remove(self.room.async_add_listener(self.async_write_ha_state))


# Replay
class LightingReplayRoomScheduleEntity(LightingReplayRoomEntity):
    """An entity of one room that shows its replay schedule.

    It follows the replay runner as well as the room state.
    """

    @property
    def replay(self) -> Replay:
        """Return the replay runner of the room's home."""
        return self.entry.runtime_data.replay

    async def async_added_to_hass(self) -> None:
        """Follow the replay runner too."""
        await super().async_added_to_hass()
        self.async_on_remove(self.replay.async_add_listener(self.async_write_ha_state))


class LightingReplayHomeEntity(Entity):
    """An entity of the whole home (the replay switch, the home calendar).

    The device is the home, identified by the config entry id; the unique id
    is ``<entry id>_<description key>``. It follows the replay runner.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, *, entry: LightingReplayConfigEntry, description: EntityDescription
    ) -> None:
        """Initialise the home entity described by `description`."""
        self.entity_description = description
        self.entry = entry
        self.replay = entry.runtime_data.replay
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Lighting Replay",
            model="Home",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the replay runner."""
        await super().async_added_to_hass()
        self.async_on_remove(self.replay.async_add_listener(self.async_write_ha_state))
