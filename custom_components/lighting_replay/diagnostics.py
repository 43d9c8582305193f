"""Diagnostics of Lighting Replay: configuration, archives and model summaries."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .data import LightingReplayConfigEntry, RoomState

# Where the home is stays private.
TO_REDACT = {"latitude", "longitude", "time_zone"}


def _room_diagnostics(
    hass: HomeAssistant, room: RoomState, archive_info: dict[str, Any] | None
) -> dict[str, Any]:
    """Summarise one room: settings, state, archive and model."""
    model = room.model
    return {
        "name": room.config.name,
        "lux_sensor": room.config.lux_entity_id(hass),
        "lights": room.config.light_entity_ids(hass),
        "learn_from": room.config.learn_from.value,
        "on_level": room.config.on_level,
        "on_lux": room.config.on_lux,
        "status": room.status.value,
        "source": None if room.source is None else room.source.value,
        "days_of_data": room.days_of_data,
        "days_needed": room.days_needed,
        "error": room.error,
        "problems": sorted(problem.value for problem in room.problems),
        "archive": archive_info,
        "model": None
        if model is None
        else {
            "room": model.room,
            "levels": {
                "centres": [round(float(c), 2) for c in model.levels.centres],
                "on_level": model.levels.on_level,
            },
            "data_start": model.data_start.isoformat(),
            "data_end": model.data_end.isoformat(),
            "n_samples": model.n_samples,
            "days_of_data": model.days_of_data,
            "trained_at": model.trained_at.isoformat(),
            "learned_from": model.settings.get("sources", "lux"),
            "lights": len(model.lights),
            "zones": {
                zone.name.lower(): None
                if zone_model is None
                else {
                    **zone_model.summary(),
                    "scenes": len(zone_model.scenes),
                    "log_likelihood_per_minute": round(
                        zone_model.log_likelihood_per_sample, 4
                    ),
                }
                for zone, zone_model in model.zones.items()
            },
        },
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LightingReplayConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for the config entry."""
    data = entry.runtime_data
    return async_redact_data(
        {
            "entry": {"title": entry.title, "data": dict(entry.data)},
            "location": data.location.to_dict(),
            "rooms": {
                subentry_id: _room_diagnostics(
                    hass, room, data.learning.archive_info.get(subentry_id)
                )
                for subentry_id, room in data.rooms.items()
            },
            # Replay
            "options": dict(entry.options),
            "replay": data.replay.diagnostics(),
            "watch": None if data.watch is None else data.watch.diagnostics(),
        },
        TO_REDACT,
    )
