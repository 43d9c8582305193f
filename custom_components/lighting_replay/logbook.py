"""Logbook descriptions of the replay's light actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_LIGHT_ACTION


@callback
def describe_light_action(event: Event) -> dict[str, str]:
    """Describe one light action of the replay."""
    data = event.data
    lights = ", ".join(data.get("entity_ids", []))
    if data.get("action") == "on":
        brightness = data.get("brightness_pct")
        at = "" if brightness is None else f" at {brightness} %"
        message = f"replay turned on {lights}{at}"
    else:
        message = f"replay turned off {lights}"
    return {
        LOGBOOK_ENTRY_NAME: str(data.get("room", "Lighting Replay")),
        LOGBOOK_ENTRY_MESSAGE: message,
    }


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe the replay's events in the logbook."""
    async_describe_event(DOMAIN, EVENT_LIGHT_ACTION, describe_light_action)
