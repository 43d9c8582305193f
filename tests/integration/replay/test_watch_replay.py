"""The watch with the real replay runner and real lights (no stand-ins)."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.watch import EVENT_UNEXPECTED_ACTIVITY
from integration.conftest import ROOM_NAME, ROOM_SUBENTRY_ID

from .conftest import (
    BULB,
    LAMP,
    START,
    ReplayTestLight,
    async_move_to,
    async_run_until,
    async_set_room_lights,
    async_setup_running_replay,
    changes_after,
)


async def test_replays_own_day_is_confirmed_and_no_alert(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A day of replay's own switching: confirmed by the lights, no activity."""
    freezer.move_to(START)
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    changes = changes_after(replay, START)
    assert len(changes) >= 2
    await async_run_until(hass, freezer, replay, START + timedelta(days=1))
    await async_move_to(hass, freezer, START + timedelta(days=1, minutes=10))
    assert found == []
    watch = mock_config_entry.runtime_data.watch
    assert watch is not None
    room = watch.diagnostics()["rooms"][ROOM_SUBENTRY_ID]
    assert room["confirmed"] >= 2
    assert room["missed"] == 0

    # Then somebody turns the lamp on or off by hand.
    lamp = hass.states.get(LAMP)
    assert lamp is not None
    service = "turn_off" if lamp.state == "on" else "turn_on"
    await hass.services.async_call(
        "light",
        service,
        {"entity_id": LAMP},
        blocking=True,
        context=Context(),
    )
    # Replay's claim would come within the light call timeout; none comes.
    for minutes in (11, 12):
        await async_move_to(hass, freezer, START + timedelta(days=1, minutes=minutes))
    assert [event.data["room"] for event in found] == [ROOM_NAME]


async def test_watch_follows_a_rooms_lights_as_they_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
) -> None:
    """A light taken out of the room is no longer watched; one put in is."""
    freezer.move_to(START)
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await async_setup_running_replay(hass, mock_config_entry, room_model)
    lamp_id = entity_registry.async_get(LAMP).id  # type: ignore[union-attr]
    bulb_id = entity_registry.async_get(BULB).id  # type: ignore[union-attr]

    async def toggle_bulb_by_hand(minutes: int) -> None:
        await async_move_to(hass, freezer, START + timedelta(minutes=minutes))
        bulb = hass.states.get(BULB)
        assert bulb is not None
        await hass.services.async_call(
            "light",
            "turn_off" if bulb.state == "on" else "turn_on",
            {"entity_id": BULB},
            blocking=True,
            context=Context(),
        )
        for later in (minutes + 1, minutes + 2):
            await async_move_to(hass, freezer, START + timedelta(minutes=later))

    await async_set_room_lights(hass, mock_config_entry, [lamp_id])
    await toggle_bulb_by_hand(5)
    assert found == []

    await async_set_room_lights(hass, mock_config_entry, [lamp_id, bulb_id])
    await toggle_bulb_by_hand(10)
    assert [event.data["room"] for event in found] == [ROOM_NAME]
    assert found[0].data["entity_id"] == BULB
