"""Repair issues of Lighting Replay (informational; nothing to fix by a flow)."""

from __future__ import annotations

import math

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


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
    ir.async_create_issue(
        hass,
        DOMAIN,
        _not_enough_data_id(subentry_id),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="not_enough_data",
        translation_placeholders={
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
