"""Repair issues of Lighting Replay (informational; nothing to fix by a flow)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import math

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


@callback
def _async_warn(
    hass: HomeAssistant,
    issue_id: str,
    translation_key: str,
    placeholders: dict[str, str],
) -> None:
    """Raise (or update) an informational warning issue."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def _not_enough_data_id(subentry_id: str) -> str:
    return f"not_enough_data_{subentry_id}"


@callback
def async_report_not_enough_data(
    hass: HomeAssistant,
    subentry_id: str,
    room_name: str,
    days_available: float,
    days_needed: float,
) -> None:
    """Say that a room replays the fallback until more days are recorded."""
    days_more = max(1, math.ceil(days_needed - days_available))
    _async_warn(
        hass,
        _not_enough_data_id(subentry_id),
        "not_enough_data",
        {
            "room": room_name,
            "days_available": f"{days_available:.1f}",
            "days_needed": f"{days_needed:g}",
            "days_more": str(days_more),
        },
    )


@callback
def async_clear_not_enough_data(hass: HomeAssistant, subentry_id: str) -> None:
    """Remove the issue once the room has a model of its own."""
    ir.async_delete_issue(hass, DOMAIN, _not_enough_data_id(subentry_id))


def lights_not_responding_id(subentry_id: str) -> str:
    """Return the id of a room's not-responding repair issue."""
    return f"lights_not_responding_{subentry_id}"


@callback
def async_report_lights_not_responding(
    hass: HomeAssistant, subentry_id: str, room_name: str, since: Mapping[str, datetime]
) -> None:
    """Say which of a room's lights missed replay's changes again and again."""
    _async_warn(
        hass,
        lights_not_responding_id(subentry_id),
        "lights_not_responding",
        {
            "room": room_name,
            "lights": ", ".join(sorted(since)),
            "since": min(since.values()).isoformat(timespec="minutes"),
        },
    )


@callback
def async_clear_lights_not_responding(hass: HomeAssistant, subentry_id: str) -> None:
    """Remove the issue once the room's lights respond again."""
    ir.async_delete_issue(hass, DOMAIN, lights_not_responding_id(subentry_id))


@callback
def async_clear_room_issues(hass: HomeAssistant, subentry_id: str) -> None:
    """Remove every issue of a room that was removed."""
    async_clear_not_enough_data(hass, subentry_id)
    async_clear_lights_not_responding(hass, subentry_id)
