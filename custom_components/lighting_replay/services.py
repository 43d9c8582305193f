"""Actions of Lighting Replay.

Learning: train rooms, import a model for a room. Replay: start (with an
optional end), stop, regenerate the schedules.

Who may call them: `train` and `import_model` are admin actions (as core's
actions that read files or start heavy work): training runs for minutes on
the machine's cores, and importing reads a file of the configuration
folder. `start`, `stop` and `regenerate` are user actions: they do what the
replay switch (a user entity) and its calendars already let a user do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    ATTR_END,
    ATTR_END_DATE,
    ATTR_PATH,
    ATTR_ROOM,
    ATTR_ROOM_NAME,
    DOMAIN,
    SERVICE_IMPORT_MODEL,
    SERVICE_REGENERATE,
    SERVICE_START,
    SERVICE_STOP,
    SERVICE_TRAIN,
)
from .data import LightingReplayConfigEntry
from .engine.model import ModelError, NotAModel
from .replay import end_too_far
from .storage import MAX_MODEL_BYTES

if TYPE_CHECKING:
    from .replay import Replay

TRAIN_SCHEMA = vol.Schema(
    {vol.Optional(ATTR_ROOM): vol.All(cv.ensure_list, [cv.string])}
)
IMPORT_MODEL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_ROOM): cv.string,
        vol.Required(ATTR_PATH): cv.string,
        vol.Optional(ATTR_ROOM_NAME): cv.string,
    }
)


@callback
def loaded_entries(hass: HomeAssistant) -> list[LightingReplayConfigEntry]:
    """Return the loaded Lighting Replay entries."""
    entries: list[LightingReplayConfigEntry] = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]
    if not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_loaded"
        )
    return entries


@callback
def _room_of_device(
    hass: HomeAssistant, device_id: str
) -> tuple[LightingReplayConfigEntry, str]:
    """Return the entry and the room (subentry id) a room device stands for."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry in loaded_entries(hass):
            for domain, identifier in device.identifiers:
                if domain == DOMAIN and identifier in entry.runtime_data.rooms:
                    return entry, identifier
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="room_not_found",
        translation_placeholders={"room": device_id},
    )


async def _async_train(call: ServiceCall) -> None:
    """Train the given rooms, or every room."""
    hass = call.hass
    if ATTR_ROOM in call.data:
        rooms = [_room_of_device(hass, device_id) for device_id in call.data[ATTR_ROOM]]
    else:
        rooms = [
            (entry, subentry_id)
            for entry in loaded_entries(hass)
            for subentry_id in entry.runtime_data.rooms
        ]
    by_entry: dict[LightingReplayConfigEntry, list[str]] = {}
    for entry, subentry_id in rooms:
        by_entry.setdefault(entry, []).append(subentry_id)
    for entry, subentry_ids in by_entry.items():
        await entry.runtime_data.learning.async_train_rooms(
            subentry_ids, raise_errors=True
        )


def _resolve_path(hass: HomeAssistant, raw: str) -> Path | None:
    """Return the file for `raw` if reading it is allowed (blocking)."""
    path = Path(raw)
    if not path.is_absolute():
        path = Path(hass.config.config_dir) / path
    path = path.resolve()
    config_dir = Path(hass.config.config_dir).resolve()
    if path.is_relative_to(config_dir) or hass.config.is_allowed_path(str(path)):
        return path
    return None


async def _async_import_model(call: ServiceCall) -> None:
    """Use a room of a model file written by the trainer for a room."""
    hass = call.hass
    entry, subentry_id = _room_of_device(hass, call.data[ATTR_ROOM])
    raw_path = call.data[ATTR_PATH]
    path = await hass.async_add_executor_job(_resolve_path, hass, raw_path)
    if path is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="path_not_allowed",
            translation_placeholders={"path": raw_path},
        )
    try:
        await entry.runtime_data.learning.async_import_model(
            subentry_id, path, call.data.get(ATTR_ROOM_NAME)
        )
    except NotAModel as err:
        # Missing, unreadable, too large or not a model: one message that
        # repeats nothing of the file.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_model",
            translation_placeholders={
                "path": raw_path,
                "max_mb": str(MAX_MODEL_BYTES // (1024 * 1024)),
            },
        ) from err
    except ModelError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_model",
            translation_placeholders={"path": raw_path, "error": str(err)},
        ) from err
    except KeyError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="room_not_in_model",
            translation_placeholders={"path": raw_path, "room": str(err.args[0])},
        ) from err


# Replay actions ---------------------------------------------------------

START_SCHEMA = vol.Schema(
    vol.All(
        {
            vol.Optional(ATTR_END): cv.datetime,
            vol.Optional(ATTR_END_DATE): cv.date,
        },
        cv.has_at_most_one_key(ATTR_END, ATTR_END_DATE),
    )
)


@callback
def _replays(hass: HomeAssistant) -> list[Replay]:
    """Return the replay of every loaded entry."""
    return [entry.runtime_data.replay for entry in loaded_entries(hass)]


def end_of_call(data: Mapping[str, Any]) -> datetime | None:
    """Return when replay should stop: `end` (local if naive) or after `end_date`."""
    tz = dt_util.get_default_time_zone()
    end: datetime | None = data.get(ATTR_END)
    if end is not None:
        return end if end.tzinfo is not None else end.replace(tzinfo=tz)
    if (end_date := data.get(ATTR_END_DATE)) is not None:
        # The vacation's last day is replayed to its end.
        try:
            return datetime.combine(end_date + timedelta(days=1), time(0), tzinfo=tz)
        except OverflowError:
            # The last day of the calendar: no day after it to end at.
            raise end_too_far(end_date.isoformat()) from None
    return None


async def _async_start(call: ServiceCall) -> None:
    end = end_of_call(call.data)
    for replay in _replays(call.hass):
        await replay.async_turn_on(end)


async def _async_stop(call: ServiceCall) -> None:
    for replay in _replays(call.hass):
        await replay.async_turn_off()


async def _async_regenerate(call: ServiceCall) -> None:
    for replay in _replays(call.hass):
        await replay.async_regenerate()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    async_register_admin_service(
        hass, DOMAIN, SERVICE_TRAIN, _async_train, schema=TRAIN_SCHEMA
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_IMPORT_MODEL, _async_import_model, IMPORT_MODEL_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_START, _async_start, schema=START_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_STOP, _async_stop, schema=vol.Schema({})
    )
    hass.services.async_register(
        DOMAIN, SERVICE_REGENERATE, _async_regenerate, schema=vol.Schema({})
    )
