"""Base entities of the Lighting Replay integration: one device per room."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.helpers import entity_platform, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    EntityPlatform,
)

from .const import DOMAIN
from .data import LightingReplayConfigEntry, RoomState

if TYPE_CHECKING:
    from .replay import Replay


class RoomEntities:
    """The entities one platform has for each room, kept in step with the rooms.

    A room added, changed or removed while the entry runs gets, keeps or
    loses its entities here, so no reload (and no unavailable state) is
    needed: an entity whose room no longer calls for it is removed from the
    registry, one the room now calls for is added to the room's subentry.
    """

    def __init__(
        self,
        async_add_entities: AddConfigEntryEntitiesCallback,
        entities_of_room: Callable[[RoomState], Iterable[Entity]],
    ) -> None:
        """Add entities with `async_add_entities`, made by `entities_of_room`."""
        self._add = async_add_entities
        self._entities_of_room = entities_of_room
        # subentry id -> unique id -> entity
        self._added: dict[str, dict[str, Entity]] = {}

    @callback
    def async_add_room(self, room: RoomState) -> None:
        """Add the entities of `room` it does not have yet."""
        added = self._added.setdefault(room.subentry_id, {})
        new = [
            entity
            for entity in self._entities_of_room(room)
            if entity.unique_id not in added
        ]
        for entity in new:
            added[str(entity.unique_id)] = entity
        if new:
            self._add(new, config_subentry_id=room.subentry_id)

    @callback
    def async_remove_stale(self, platform: EntityPlatform) -> None:
        """Remove registry entries of the rooms' entities no room calls for now.

        (An entity an older version made, or one its room's configuration no
        longer calls for, would otherwise stay as unavailable.)
        """
        registry = er.async_get(platform.hass)
        if platform.config_entry is None:
            return
        for entry in er.async_entries_for_config_entry(
            registry, platform.config_entry.entry_id
        ):
            added = self._added.get(entry.config_subentry_id or "")
            if (
                added is not None
                and entry.domain == platform.domain
                and entry.platform == platform.platform_name
                and entry.unique_id not in added
            ):
                registry.async_remove(entry.entity_id)

    async def async_update_room(self, room: RoomState) -> None:
        """Give a changed room the entities it calls for now."""
        wanted = {str(entity.unique_id) for entity in self._entities_of_room(room)}
        added = self._added.get(room.subentry_id, {})
        for unique_id in [u for u in added if u not in wanted]:
            await self._async_remove(added.pop(unique_id))
        self.async_add_room(room)

    async def async_remove_room(self, subentry_id: str) -> None:
        """Remove every entity of a room that is gone."""
        for entity in self._added.pop(subentry_id, {}).values():
            await self._async_remove(entity)

    @staticmethod
    async def _async_remove(entity: Entity) -> None:
        """Remove an entity, its state and its registry entry."""
        if entity.hass is None:
            return
        registry = er.async_get(entity.hass)
        if registry.async_get(entity.entity_id) is not None:
            registry.async_remove(entity.entity_id)
        # Waits for the removal the registry started, or does it.
        await entity.async_remove(force_remove=True)


@callback
def async_add_room_entities(
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_of_room: Callable[[RoomState], Iterable[Entity]],
) -> None:
    """Add the entities of every room to the room's subentry.

    The platform's `RoomEntities` joins the entry's, so rooms added or changed
    later get their entities too.
    """
    platform = RoomEntities(async_add_entities, entities_of_room)
    for room in entry.runtime_data.rooms.values():
        platform.async_add_room(room)
    platform.async_remove_stale(entity_platform.async_get_current_platform())
    entry.runtime_data.room_entities.append(platform)


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
