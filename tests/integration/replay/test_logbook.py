"""The logbook: what replay changed, with the integration's icon, and the restore."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.lighting_replay.const import DOMAIN, EVENT_LIGHT_ACTION
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.logbook import (
    LOGBOOK_ICON,
    async_describe_events,
    describe_light_action,
)
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import BULB, LAMP, START, ReplayTestLight, async_setup_replay


async def test_only_changes_and_the_restore_are_logged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """No "turned off" for a lamp already off; stopping logs what it put back."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    assert not replay.desired(ROOM_SUBENTRY_ID, START).on
    # The lamp is on, the bulb already off; replay turns the room off.
    await hass.services.async_call(
        "light", "turn_on", {ATTR_ENTITY_ID: LAMP}, blocking=True
    )
    events = async_capture_events(hass, EVENT_LIGHT_ACTION)
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]
    assert [(e.data["action"], e.data["entity_ids"]) for e in events] == [
        ("off", [LAMP])
    ]
    # Its own context: the entry is not "via Light".
    lamp = hass.states.get(LAMP)
    assert lamp is not None
    assert events[0].context.id != lamp.context.id
    assert events[0].context.parent_id is None
    # Both lights were switched all the same, and replay knows it.
    assert replay.last_action is not None
    assert replay.last_action["entity_ids"] == [LAMP, BULB]

    events.clear()
    await replay.async_turn_off()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]
    assert [(e.data["action"], e.data["entity_ids"]) for e in events] == [
        ("restore", [LAMP])
    ]


async def test_logbook_describes_light_actions(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """The logbook names the lights, their brightness, and shows the icon."""
    await async_setup_replay(hass, mock_config_entry, room_model)
    described: list[tuple[str, str]] = []
    async_describe_events(
        hass, lambda domain, event_type, _fn: described.append((domain, event_type))
    )
    assert (DOMAIN, EVENT_LIGHT_ACTION) in described
    on = describe_light_action(
        hass,
        Event(
            EVENT_LIGHT_ACTION,
            {
                "room": "Living room",
                "entity_ids": [LAMP, BULB],
                "action": "on",
                "brightness_pct": 39,
                "lights": {LAMP: 39, BULB: 100},
            },
        ),
    )
    assert on == {
        "name": "Living room",
        "message": "replay turned on Living room lamp at 39 %, "
        "Living room bulb at 100 %",
        "icon": LOGBOOK_ICON,
    }
    off = describe_light_action(
        hass,
        Event(
            EVENT_LIGHT_ACTION,
            {"room": "Living room", "entity_ids": [LAMP], "action": "off"},
        ),
    )
    assert off["message"] == "replay turned off Living room lamp"
    assert off["icon"] == LOGBOOK_ICON
    restore = describe_light_action(
        hass,
        Event(
            EVENT_LIGHT_ACTION,
            {"room": "Home", "entity_ids": [LAMP], "action": "restore"},
        ),
    )
    assert restore["message"] == (
        "replay stopped and put back Living room lamp as they were"
    )
