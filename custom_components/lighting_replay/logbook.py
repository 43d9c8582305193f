"""Logbook descriptions of the replay's light actions and the watch's findings.

The runner fires `EVENT_LIGHT_ACTION` only for lights an action changed (a
lamp already off is not "turned off" again) and when stopping put lights
back as they were. Entries carry the integration's icon and a context of
their own, so they never read "via Light".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_LIGHT_ACTION
from .watch import (
    EVENT_CHANGE_CHECKED,
    EVENT_LIGHTS_NOT_RESPONDING,
    EVENT_UNEXPECTED_ACTIVITY,
)

# The replay switch's icon.
LOGBOOK_ICON = "mdi:home-lightbulb-outline"


def _lights_text(
    hass: HomeAssistant, entity_ids: list[str], brightness: Mapping[str, Any]
) -> str:
    def name(entity_id: str) -> str:
        state = hass.states.get(entity_id)
        return entity_id if state is None else state.name

    return ", ".join(
        f"{name(e)} at {pct} %"
        if isinstance(pct := brightness.get(e), int) and pct
        else name(e)
        for e in entity_ids
    )


def describe_light_action(hass: HomeAssistant, event: Event) -> dict[str, str]:
    """Describe one light action of the replay."""
    data = event.data
    entity_ids = [str(e) for e in data.get("entity_ids", [])]
    action = data.get("action")
    if action == "on":
        pct = data.get("brightness_pct")
        brightness = data.get("lights") or dict.fromkeys(entity_ids, pct)
        message = f"replay turned on {_lights_text(hass, entity_ids, brightness)}"
    elif action == "restore":
        lights = _lights_text(hass, entity_ids, {})
        message = f"replay stopped and put back {lights} as they were"
    else:
        message = f"replay turned off {_lights_text(hass, entity_ids, {})}"
    return {
        LOGBOOK_ENTRY_NAME: str(data.get("room", "Lighting Replay")),
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ICON: LOGBOOK_ICON,
    }


def describe_watch_event(hass: HomeAssistant, event: Event) -> dict[str, str]:
    """Describe a finding of the watch: a check, a light not responding, activity."""
    data = event.data
    light = _lights_text(hass, [str(data.get("entity_id", ""))], {})
    if event.event_type == EVENT_UNEXPECTED_ACTIVITY:
        message = f"unexpected activity: {data.get('what')} (score {data.get('score')})"
    elif event.event_type == EVENT_LIGHTS_NOT_RESPONDING:
        message = f"{light} is not responding ({data.get('reason')})"
    elif data.get("confirmed"):
        message = f"replay's change of {light} confirmed by its {data.get('how')}"
    else:
        message = f"replay's change of {light} not confirmed: {data.get('how')}"
    return {
        LOGBOOK_ENTRY_NAME: str(data.get("room", "Lighting Replay")),
        LOGBOOK_ENTRY_MESSAGE: message,
        LOGBOOK_ENTRY_ICON: LOGBOOK_ICON,
    }


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the replay's events in the logbook."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        return describe_light_action(hass, event)

    async_describe_event(DOMAIN, EVENT_LIGHT_ACTION, describe)

    @callback
    def describe_watch(event: Event) -> dict[str, str]:
        return describe_watch_event(hass, event)

    for event_type in (
        EVENT_CHANGE_CHECKED,
        EVENT_LIGHTS_NOT_RESPONDING,
        EVENT_UNEXPECTED_ACTIVITY,
    ):
        async_describe_event(DOMAIN, event_type, describe_watch)
