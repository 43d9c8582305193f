"""Learning from the recorder: archive, training, purges, restarts, bad data."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import math
from pathlib import Path
import threading
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.recorder import get_instance, history
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_purge_done,
    async_wait_recording_done,
)

from custom_components.lighting_replay import (
    learning as learning_module,
    training_process as training_module,
)
from custom_components.lighting_replay.archive import load as load_archive
from custom_components.lighting_replay.const import (
    DOMAIN,
    SERVICE_TRAIN,
    ModelSource,
    ModelStatus,
)
from custom_components.lighting_replay.engine.model import HomeModel
from custom_components.lighting_replay.history import ReadingStopped, read_minute_series
from custom_components.lighting_replay.learning import storage_path
from custom_components.lighting_replay.training_process import TrainingProcess

from .conftest import (
    LUX_ATTRIBUTES,
    LUX_ENTITY,
    REAL_TRAIN,
    ROOM_SUBENTRY_ID,
    History,
    async_setup_integration,
    async_write_history,
    patch_training,
    write_model_file,
)


def _files(hass: HomeAssistant) -> dict[str, Any]:
    folder = storage_path(hass)
    return {
        "archive": folder / f"{ROOM_SUBENTRY_ID}.archive",
        "model": folder / f"{ROOM_SUBENTRY_ID}.model.json",
        "folder": folder,
    }


async def async_learn_then_unload(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, Any]:
    """Set the entry up (it learns from the history), unload it; its files."""
    await async_setup_integration(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    return _files(hass)


async def test_training_from_recorder_history(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Two weeks of recorder history train the room at setup."""
    await async_setup_integration(hass, mock_config_entry)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    assert room.model is not None
    # 14 days of readings, a little lost to the simulated outages.
    assert 12.0 < room.model.days_of_data <= 15.0
    assert room.model.levels.n_levels == 4
    assert room.problems == frozenset()
    assert (
        issue_registry.async_get_issue(DOMAIN, f"not_enough_data_{ROOM_SUBENTRY_ID}")
        is None
    )

    state = hass.states.get("sensor.living_room_model_status")
    assert state is not None
    assert state.state == "trained"
    assert state.attributes["source"] == "learned"
    assert len(state.attributes["level_centres"]) == 4

    files = _files(hass)
    saved = await hass.async_add_executor_job(HomeModel.load, files["model"])
    assert saved.rooms["Living room"].to_dict() == room.model.to_dict()
    series = await hass.async_add_executor_job(load_archive, files["archive"])
    assert series is not None
    assert series.n_valid / 1440 == pytest.approx(room.model.days_of_data, abs=0.6)


@pytest.mark.parametrize("history_days", [12])
async def test_history_older_than_the_recorder_keeps_is_used(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """After the recorder purged all but 4 days, training still sees 12 days."""
    await async_setup_integration(hass, mock_config_entry)
    entry = mock_config_entry
    days_before = entry.runtime_data.rooms[ROOM_SUBENTRY_ID].model.days_of_data
    assert days_before > 10

    await hass.services.async_call(
        "recorder", "purge", {"keep_days": 4, "repack": False}, blocking=True
    )
    await async_wait_purge_done(hass)
    oldest = await get_instance(hass).async_add_executor_job(_oldest_state_time, hass)
    assert dt_util.utcnow() - oldest < timedelta(days=4, hours=1)

    # A restart after the purge, then a retrain.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED
    assert room.model.days_of_data == pytest.approx(days_before, abs=0.2)
    assert room.model.data_start < dt_util.utcnow() - timedelta(days=10)


def _oldest_state_time(hass: HomeAssistant) -> Any:
    """Return the time of the oldest recorded lux state (blocking)."""
    states = history.state_changes_during_period(
        hass,
        dt_util.utcnow() - timedelta(days=60),
        dt_util.utcnow(),
        LUX_ENTITY,
        include_start_time_state=False,
    )[LUX_ENTITY]
    return states[0].last_changed


@pytest.mark.parametrize("history_days", [6])
async def test_restart_keeps_archive_and_model(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Unloading and setting up again keeps the model; no retraining needed."""
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    before = entry.runtime_data.rooms[ROOM_SUBENTRY_ID].model.to_dict()
    archive_before = await hass.async_add_executor_job(
        load_archive, _files(hass)["archive"]
    )

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    with patch_training(AssertionError("retrained")) as train:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    # (Training catches every error: the call itself is what must not happen.)
    train.assert_not_called()
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    assert room.model.to_dict() == before
    archive_after = await hass.async_add_executor_job(
        load_archive, _files(hass)["archive"]
    )
    assert archive_after.start_minute == archive_before.start_minute
    assert archive_after.n_valid >= archive_before.n_valid


async def test_bad_states_are_skipped(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """unavailable/unknown/text/other units end a reading; fc is converted."""
    t0 = math.floor((dt_util.utcnow().timestamp() - 3 * 3600) / 60) * 60.0
    percent = {**LUX_ATTRIBUTES, "unit_of_measurement": "%"}
    foot_candles = {**LUX_ATTRIBUTES, "unit_of_measurement": "fc"}
    rows = [
        (t0, "100.0", LUX_ATTRIBUTES),
        (t0 + 600, "unavailable", LUX_ATTRIBUTES),
        (t0 + 1200, "50.0", LUX_ATTRIBUTES),
        (t0 + 1800, "unknown", LUX_ATTRIBUTES),
        (t0 + 2400, "abc", LUX_ATTRIBUTES),
        (t0 + 3000, "20.0", percent),
        (t0 + 3600, "10.0", foot_candles),
        (t0 + 4200, "5.0", LUX_ATTRIBUTES),
    ]
    await async_write_history(hass, LUX_ENTITY, rows)

    series, report = await get_instance(hass).async_add_executor_job(
        read_minute_series,
        hass,
        LUX_ENTITY,
        dt_util.utc_from_timestamp(t0 - 3600),
        dt_util.utcnow(),
    )
    assert series is not None
    assert report.not_numeric == 3
    assert report.other_units == {"%": 1}

    def at(offset_minutes: int) -> float:
        return float(series.lux[int(t0 // 60) + offset_minutes - series.start_minute])

    assert at(5) == 100.0
    assert math.isnan(at(15))
    assert at(25) == 50.0
    assert math.isnan(at(35))
    assert math.isnan(at(45))
    assert math.isnan(at(55))
    assert at(65) == pytest.approx(107.639)
    assert at(75) == 5.0

    # Through the integration: too little data, the fallback, an issue, a warning.
    await async_setup_integration(hass, mock_config_entry)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.NOT_ENOUGH_DATA
    assert room.source is ModelSource.FALLBACK
    assert room.model is not None
    assert "'%', which is not an illuminance unit" in caplog.text
    issue = issue_registry.async_get_issue(
        DOMAIN, f"not_enough_data_{ROOM_SUBENTRY_ID}"
    )
    assert issue is not None
    assert issue.translation_placeholders["days_needed"] == "3"
    assert issue.translation_placeholders["days_more"] == "3"
    state = hass.states.get("sensor.living_room_model_status")
    assert state.state == "not_enough_data"
    assert state.attributes["source"] == "fallback"
    assert state.attributes["days_needed"] == 3


async def test_missing_sensor(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A room whose lux sensor is gone still sets up and says so."""
    entity_registry.async_remove(LUX_ENTITY)
    hass.states.async_remove(LUX_ENTITY)
    await async_setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.NOT_ENOUGH_DATA
    assert hass.states.get("binary_sensor.living_room_lux_sensor_missing").state == "on"
    assert hass.states.get("binary_sensor.living_room_lux_sensor_stuck").state == "off"


@pytest.mark.parametrize("history_days", [5])
async def test_corrupted_archive_is_set_aside_and_rebuilt(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged archive is renamed, logged and rebuilt from the recorder."""
    entry = mock_config_entry
    files = await async_learn_then_unload(hass, entry)
    good = await hass.async_add_executor_job(load_archive, files["archive"])

    blob = await hass.async_add_executor_job(files["archive"].read_bytes)
    damaged = blob[:30] + bytes(b ^ 0x5A for b in blob[30:60]) + blob[60:]
    await hass.async_add_executor_job(files["archive"].write_bytes, damaged)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert "archive of room Living room is damaged" in caplog.text
    set_aside = list(files["folder"].glob(f"{ROOM_SUBENTRY_ID}.archive.corrupt-*"))
    assert len(set_aside) == 1
    rebuilt = await hass.async_add_executor_job(load_archive, files["archive"])
    assert rebuilt is not None
    # Everything was still in the recorder, so nothing is lost.
    assert rebuilt.n_valid == pytest.approx(good.n_valid, abs=5)
    assert entry.runtime_data.rooms[ROOM_SUBENTRY_ID].status is ModelStatus.TRAINED


@pytest.mark.parametrize("history_days", [5])
async def test_corrupted_model_is_set_aside_and_learned_again(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged model file is renamed and the room trained again."""
    entry = mock_config_entry
    files = await async_learn_then_unload(hass, entry)
    await hass.async_add_executor_job(files["model"].write_text, '{"format": "lig')

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert "model of room Living room cannot be read" in caplog.text
    assert (
        len(list(files["folder"].glob(f"{ROOM_SUBENTRY_ID}.model.json.corrupt-*"))) == 1
    )
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    saved = await hass.async_add_executor_job(HomeModel.load, files["model"])
    assert saved.rooms["Living room"].to_dict() == room.model.to_dict()


@pytest.mark.parametrize("history_days", [5])
async def test_failed_training_keeps_the_learned_model(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A retrain that fails leaves the learned model in place and says why."""
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    before = room.model.to_dict()
    with (
        patch_training(FloatingPointError("boom")),
        pytest.raises(Exception, match="Training room Living room failed: boom"),
    ):
        await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    assert room.status is ModelStatus.TRAINED
    assert room.source is ModelSource.LEARNED
    assert room.model.to_dict() == before
    assert room.error == "FloatingPointError: boom"
    state = hass.states.get("sensor.living_room_model_status")
    assert state.state == "trained"
    assert state.attributes["error"] == "FloatingPointError: boom"
    saved = await hass.async_add_executor_job(HomeModel.load, _files(hass)["model"])
    assert saved.rooms["Living room"].to_dict() == before


async def test_stuck_sensor_and_long_gaps(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A reading unchanged for a day and a stretch of hours without data."""
    now = dt_util.utcnow().timestamp()
    rows = [
        (now - 5 * 86400, "120.0", LUX_ATTRIBUTES),
        (now - 4 * 86400, "unavailable", LUX_ATTRIBUTES),
        # Ten hours without readings, then one value that never changes.
        (now - 4 * 86400 + 10 * 3600, "3.0", LUX_ATTRIBUTES),
        (now - 3 * 86400, "4.0", LUX_ATTRIBUTES),
        (now - 30 * 3600, "42.0", LUX_ATTRIBUTES),
    ]
    hass.states.async_set(LUX_ENTITY, "42.0", LUX_ATTRIBUTES)
    await async_write_history(hass, LUX_ENTITY, rows)
    await async_setup_integration(hass, mock_config_entry)
    assert hass.states.get("binary_sensor.living_room_lux_sensor_stuck").state == "on"
    assert (
        hass.states.get("binary_sensor.living_room_long_gaps_in_readings").state == "on"
    )
    assert (
        hass.states.get("binary_sensor.living_room_lux_sensor_missing").state == "off"
    )


@pytest.mark.parametrize("history_days", [8])
async def test_training_never_runs_on_the_event_loop(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Training runs in the training process and the loop keeps answering.

    The loop-lag bound is generous on purpose: it tells "training blocked
    the loop for seconds" from "the loop kept running", nothing finer; the
    benchmark (benchmarks/ha_learning.py) measures the real figure.
    """
    await async_setup_integration(hass, mock_config_entry)
    training = mock_config_entry.runtime_data.learning.training
    cpu_before = training.cpu_seconds
    reading_threads: list[str] = []
    real_read = learning_module.read_minute_series

    def spy_read(*args: Any, **kwargs: Any) -> Any:
        reading_threads.append(threading.current_thread().name)
        return real_read(*args, **kwargs)

    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.sleep(0.005)
            lags.append(time.monotonic() - started - 0.005)

    with (
        # Not in Home Assistant's process (its executor is the fallback).
        patch.object(training_module, "train_sources", side_effect=AssertionError),
        patch.object(learning_module, "read_minute_series", spy_read),
    ):
        probe_task = asyncio.create_task(probe())
        started = time.monotonic()
        await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
        took = time.monotonic() - started
        stop.set()
        await probe_task

    # The worker process trained the room (and said how long it took).
    assert training.cpu_seconds > cpu_before
    assert reading_threads
    assert all(name.startswith("DbWorker") for name in reading_threads)
    # The probe ran all along (not a single long stall).
    assert len(lags) > took / 0.05
    assert max(lags) < 0.2
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED


async def test_archive_is_bounded(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Only the last `archive_days` days are kept."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, "archive_days": 30}
    )
    now = dt_util.utcnow().timestamp()
    rows = [
        (now - day * 86400, f"{day % 7 + 1}.0", LUX_ATTRIBUTES)
        for day in range(60, 0, -1)
    ]
    await async_write_history(hass, LUX_ENTITY, rows)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    series = await hass.async_add_executor_job(load_archive, _files(hass)["archive"])
    assert series is not None
    assert len(series) <= 30 * 1440
    assert series.end_minute - series.start_minute <= 30 * 1440
    assert np.isfinite(series.lux[-1])


@pytest.mark.parametrize("history_days", [5])
async def test_changed_threshold_retrains(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A room whose on level changes is trained again when it reloads."""
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.model.levels.on_level == 1
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "on_level": 2}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED
    assert room.model.levels.on_level == 2

    # A lux threshold picks the first level whose centre reaches it.
    centres = room.model.levels.centres
    on_lux = float((centres[2] + centres[3]) / 2)
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    data = {k: v for k, v in subentry.data.items() if k != "on_level"}
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**data, "on_lux": on_lux}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.model.levels.on_level == 3


@pytest.mark.parametrize("history_days", [5])
async def test_renamed_sensor_keeps_its_history(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """After a rename the recorder's history and the archive still serve."""
    entity_registry.async_update_entity(
        LUX_ENTITY, new_entity_id="sensor.lounge_illuminance"
    )
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    await async_setup_integration(hass, mock_config_entry)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.config.lux_entity_id(hass) == "sensor.lounge_illuminance"
    assert room.status is ModelStatus.TRAINED
    assert room.model.days_of_data > 4


@pytest.mark.parametrize("history_days", [5])
async def test_nightly_and_hourly_runs(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    location: Any,
    trained_model_data: dict[str, Any],
) -> None:
    """Every night the rooms are trained; every hour the archives grow.

    A room with an imported model learned from more days than its archive
    holds keeps that model at night.
    """
    entry = mock_config_entry
    await async_setup_integration(hass, entry)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    first = room.model.trained_at
    old = room.model

    calls: list[str] = []

    async def spy(process: TrainingProcess, name: str, *args: Any) -> Any:
        calls.append(name)
        return await REAL_TRAIN(process, name, *args)

    now = dt_util.now()
    night = (now + timedelta(days=1)).replace(hour=3, minute=17, second=0)
    with patch_training(spy):
        async_fire_time_changed(hass, night)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert calls == ["Living room"]
    assert room.model.trained_at >= first
    assert room.model is not old

    # An imported model from 14 days is kept while the archive has 5.
    await hass.async_add_executor_job(
        write_model_file,
        Path(hass.config.path("home.json")),
        location,
        {"Living room": trained_model_data},
    )
    await entry.runtime_data.learning.async_import_model(
        ROOM_SUBENTRY_ID, Path(hass.config.path("home.json")), None
    )
    calls.clear()
    hass.states.async_set(LUX_ENTITY, "77.0", LUX_ATTRIBUTES)
    await async_wait_recording_done(hass)
    with patch_training(spy):
        async_fire_time_changed(hass, night + timedelta(hours=1, minutes=1))
        await hass.async_block_till_done(wait_background_tasks=True)
        async_fire_time_changed(hass, night + timedelta(days=1))
        await hass.async_block_till_done(wait_background_tasks=True)
    assert calls == []
    assert room.source is ModelSource.IMPORTED


async def test_removing_the_integration_deletes_its_files(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Archives and models go with the integration."""
    folder = storage_path(hass)
    assert await hass.async_add_executor_job(folder.is_dir)
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not await hass.async_add_executor_job(folder.exists)


async def test_failure_without_a_model_is_an_error(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A room that never learned and whose training fails shows an error."""
    now = dt_util.utcnow().timestamp()
    rows = [(now - 3600 * h, f"{h}.0", LUX_ATTRIBUTES) for h in range(120, 0, -1)]
    await async_write_history(hass, LUX_ENTITY, rows)

    async def fail_for_the_room(process: TrainingProcess, name: str, *args: Any) -> Any:
        if name == "Living room":
            raise ValueError("bad data")
        return await REAL_TRAIN(process, name, *args)

    with patch_training(fail_for_the_room):
        await async_setup_integration(hass, mock_config_entry)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.ERROR
    assert room.error == "ValueError: bad data"
    # The labelled fallback stands in.
    assert room.source is ModelSource.FALLBACK
    assert room.model is not None
    assert room.model.room == "fallback"
    assert hass.states.get("sensor.living_room_model_status").state == "error"


async def test_on_level_shows_while_on_the_fallback(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
) -> None:
    """The room's "On level" from Reconfigure is its status's, on the fallback too."""
    entry = init_integration
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.FALLBACK
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    fallback_level = room.model.levels.on_level
    on_level = 3 if fallback_level != 3 else 2
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "on_level": on_level}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.FALLBACK
    assert room.model.levels.on_level == on_level
    state = hass.states.get("sensor.living_room_model_status")
    assert state is not None
    assert state.attributes["on_level"] == on_level

    # A lux threshold: the first level whose centre reaches it.
    centres = room.model.levels.centres
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    data = {k: v for k, v in subentry.data.items() if k != "on_level"}
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**data, "on_lux": float(centres[1]) + 0.1}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.model.levels.on_level == 2
    state = hass.states.get("sensor.living_room_model_status")
    assert state.attributes["on_level"] == 2


async def test_not_enough_data_repair_says_what_to_do(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The repair names what the user can do, not only to wait."""
    issue = issue_registry.async_get_issue(
        DOMAIN, f"not_enough_data_{ROOM_SUBENTRY_ID}"
    )
    assert issue is not None
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    text = translations[
        f"component.{DOMAIN}.issues.{issue.translation_key}.description"
    ].format(**issue.translation_placeholders)
    assert "lux sensor reports" in text
    assert "learn from its lights" in text
    assert "lighting_replay.import_model" in text


@pytest.mark.parametrize("history_days", [5])
async def test_reading_stops_when_home_assistant_stops(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A read gives up at its next page once Home Assistant stops.

    (The recorder closes its connections as it stops; a cursor still
    reading then would crash the process.) The archive stays as it was.
    """
    await async_setup_integration(hass, mock_config_entry)
    learning = mock_config_entry.runtime_data.learning
    archive_before = await hass.async_add_executor_job(
        load_archive, _files(hass)["archive"]
    )
    now = dt_util.utcnow()
    hass.states.async_set(LUX_ENTITY, "42.0", LUX_ATTRIBUTES)
    await async_wait_recording_done(hass)
    hass.set_state(CoreState.stopping)
    try:
        with pytest.raises(ReadingStopped):
            await get_instance(hass).async_add_executor_job(
                read_minute_series, hass, LUX_ENTITY, now - timedelta(days=6), now
            )
        await learning.async_update_archive(ROOM_SUBENTRY_ID)
    finally:
        hass.set_state(CoreState.running)
    archive_after = await hass.async_add_executor_job(
        load_archive, _files(hass)["archive"]
    )
    assert archive_after.end_minute == archive_before.end_minute
    np.testing.assert_array_equal(archive_after.lux, archive_before.lux)
    assert "failed" not in caplog.text
