"""Upgrading a version 1 entry: rooms learned from lux and keep what they learned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import numpy as np
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay import archive
from custom_components.lighting_replay.const import (
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    DOMAIN,
    ModelSource,
    ModelStatus,
)
from custom_components.lighting_replay.engine.model import HomeModel
from custom_components.lighting_replay.engine.series import MinuteSeries
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.learning import storage_path

from .conftest import (
    ROOM_NAME,
    ROOM_SUBENTRY_ID,
    async_setup_integration,
    home_entry,
    write_model_file,
)

ROOMS_STORE = f"{DOMAIN}.rooms"


def write_archive(hass: HomeAssistant, end_minute: int, days: int) -> bytes:
    """Write a room's lux archive of `days` up to `end_minute`; its bytes."""
    rng = np.random.default_rng(7)
    values = rng.uniform(0.0, 300.0, days * 1440)
    values[100:400] = np.nan
    path = storage_path(hass) / f"{ROOM_SUBENTRY_ID}.archive"
    archive.save(path, MinuteSeries(end_minute - values.size, values))
    return path.read_bytes()


async def test_version_1_entry_is_migrated_and_keeps_its_files(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    room_data: dict[str, Any],
    location: Location,
    trained_model_data: dict[str, Any],
    hass_storage: dict[str, Any],
) -> None:
    """A version 1 room learns from lux; its archive and model stay as they were."""
    now = dt_util.utcnow().replace(second=10, microsecond=0)
    freezer.move_to(now)
    # A room as version 1 stored it: no learn_from.
    v1_room = {key: value for key, value in room_data.items() if key != CONF_LEARN_FROM}
    assert set(v1_room) == {CONF_LUX_SENSOR, CONF_LIGHTS}
    entry = home_entry({ROOM_SUBENTRY_ID: (ROOM_NAME, v1_room)}, version=1)

    # What version 1 left behind: the archive up to now, a model trained
    # two hours ago and the record of how it was trained.
    model_data = trained_model_data | {
        "trained_at": (now - timedelta(hours=2)).isoformat()
    }
    model_path = storage_path(hass) / f"{ROOM_SUBENTRY_ID}.model.json"
    await hass.async_add_executor_job(
        write_model_file, model_path, location, {ROOM_NAME: model_data}
    )
    model_bytes = await hass.async_add_executor_job(model_path.read_bytes)
    archive_path = storage_path(hass) / f"{ROOM_SUBENTRY_ID}.archive"
    archive_bytes = await hass.async_add_executor_job(
        write_archive, hass, int(now.timestamp() // 60), 6
    )
    hass_storage[ROOMS_STORE] = {
        "version": 1,
        "minor_version": 1,
        "key": ROOMS_STORE,
        "data": {
            "sources": {ROOM_SUBENTRY_ID: "learned"},
            "trained_with": {
                ROOM_SUBENTRY_ID: {"n_levels": 4, "on_level": None, "on_lux": None}
            },
        },
    }

    await async_setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.version == 2
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    assert dict(subentry.data) == v1_room | {CONF_LEARN_FROM: "lux"}
    assert subentry.title == ROOM_NAME

    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.config.learn_from.value == "lux"
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    assert room.model is not None
    saved = HomeModel.loads(model_bytes)
    assert room.model.to_dict() == saved.rooms[ROOM_NAME].to_dict()
    assert room.model.to_dict()["trained_at"] == model_data["trained_at"]
    # Untouched files: the same bytes.
    assert await hass.async_add_executor_job(model_path.read_bytes) == model_bytes
    assert await hass.async_add_executor_job(archive_path.read_bytes) == archive_bytes
    # The archive counts: 6 days less the 300 missing minutes.
    assert room.days_of_data == round((6 * 1440 - 300) / 1440, 2)
    status = hass.states.get("sensor.living_room_model_status")
    assert status is not None
    assert status.state == "trained"
    assert status.attributes["learned_from"] == "lux"
    assert status.attributes["source"] == "learned"

    # A restart after the migration changes nothing more.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.version == 2
    assert dict(entry.subentries[ROOM_SUBENTRY_ID].data) == dict(subentry.data)
    assert await hass.async_add_executor_job(model_path.read_bytes) == model_bytes


async def test_version_1_room_with_learn_from_keeps_it(
    hass: HomeAssistant, room_data: dict[str, Any]
) -> None:
    """A room that already says what it learns from is left as it is."""
    data = room_data | {CONF_LEARN_FROM: "both"}
    entry = home_entry({ROOM_SUBENTRY_ID: (ROOM_NAME, data)}, version=1)
    await async_setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.version == 2
    assert dict(entry.subentries[ROOM_SUBENTRY_ID].data) == data


async def test_entry_of_a_newer_version_is_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """An entry made by a newer version is left alone (migration error)."""
    entry = home_entry(
        {
            sid: (sub.title, dict(sub.data))
            for sid, sub in mock_config_entry.subentries.items()
        },
        version=3,
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.version == 3
