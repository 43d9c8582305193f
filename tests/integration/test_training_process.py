"""Rooms are trained in a worker process, overlapping the next room's reading."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
import io
import json
import logging
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.lighting_replay import (
    learning as learning_module,
    training_process as training_module,
)
from custom_components.lighting_replay.const import (
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    DOMAIN,
    SERVICE_TRAIN,
    ModelStatus,
)
from custom_components.lighting_replay.engine.simulate import simulate_rooms
from custom_components.lighting_replay.engine.sources import RoomSources
from custom_components.lighting_replay.engine.training import TrainingOptions
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.learning import ROOMS_HELD
from custom_components.lighting_replay.training_process import (
    IDLE_SECONDS,
    TrainingProcess,
)

from .conftest import (
    REAL_TRAIN,
    async_setup_integration,
    async_write_light_history,
    home_entry,
    patch_training,
)

ROOMS = {
    f"01JTRAINPROCESSROOM0000000{n}": (f"Room {n}", f"light.room_{n}")
    for n in (1, 2, 3, 4)
}
ROOM_IDS = list(ROOMS)


async def async_rooms_entry(hass: HomeAssistant, location: Location) -> MockConfigEntry:
    """Return a home of four rooms, each learning from a light with history."""
    end_s = dt_util.utcnow().timestamp() - 120
    start = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo).date()
    room = simulate_rooms(location, start - timedelta(days=6), 7, seed=3)["living_room"]
    for _title, light in ROOMS.values():
        await async_write_light_history(
            hass, light, room.start_minute, room.lights["ceiling"], end_s
        )
    return home_entry(
        {
            subentry_id: (title, {CONF_LIGHTS: [light], CONF_LEARN_FROM: "lights"})
            for subentry_id, (title, light) in ROOMS.items()
        }
    )


def assert_trained(entry: MockConfigEntry) -> None:
    """Every room has a model of its own."""
    for subentry_id in ROOMS:
        room = entry.runtime_data.rooms[subentry_id]
        assert room.status is ModelStatus.TRAINED, room.error
        assert room.model is not None


async def test_the_next_rooms_read_while_one_trains(
    hass: HomeAssistant, location: Location
) -> None:
    """Rooms 2 and 3 read their history while room 1 trains; room 4 waits.

    Room 1's training ends only once room 3's reading has begun (it fails
    if that never happens); room 4 must not read before room 1 has trained,
    so that at most `ROOMS_HELD` rooms' histories are held at once.
    """
    assert ROOMS_HELD == 3
    entry = await async_rooms_entry(hass, location)
    read_began: dict[str, float] = {}
    trained: dict[str, tuple[float, float]] = {}
    room_3_reads = asyncio.Event()
    real_read = learning_module.read_minute_series

    def spy_read(hass_: HomeAssistant, entity_id: str, *args: Any) -> Any:
        read_began.setdefault(entity_id, time.monotonic())
        if entity_id == "light.room_3":
            hass.loop.call_soon_threadsafe(room_3_reads.set)
        return real_read(hass_, entity_id, *args)

    async def spy_train(process: TrainingProcess, room: str, *args: Any) -> Any:
        began = time.monotonic()
        if room == "Room 1":
            async with asyncio.timeout(30):
                await room_3_reads.wait()
        try:
            return await REAL_TRAIN(process, room, *args)
        finally:
            trained[room] = (began, time.monotonic())

    with (
        patch.object(learning_module, "read_minute_series", spy_read),
        patch_training(spy_train),
    ):
        await async_setup_integration(hass, entry)
    assert_trained(entry)
    assert list(trained) == ["Room 1", "Room 2", "Room 3", "Room 4"]
    assert read_began["light.room_3"] < trained["Room 1"][1]
    assert read_began["light.room_4"] >= trained["Room 1"][1]
    # The worker trained them, not Home Assistant's executor.
    assert entry.runtime_data.learning.training.cpu_seconds > 0.0


async def test_the_worker_gives_the_model_of_the_executor(
    hass: HomeAssistant, location: Location
) -> None:
    """The same sources trained in the worker and in-process: the same model."""
    room = simulate_rooms(location, date(2025, 1, 6), 10, seed=3)["living_room"]
    sources = RoomSources(lights=room.light_series())
    options = TrainingOptions(n_levels=4, n_restarts=1, n_iter=20)
    process = TrainingProcess(hass)
    try:
        in_worker = await process.async_train("Room", sources, location, options)
        assert process.cpu_seconds > 0.0
        # Without a worker (it cannot start), the executor trains.
        with patch.object(process, "_unavailable", True):
            here = await process.async_train("Room", sources, location, options)
        assert process._process is not None
    finally:
        await process.async_shutdown()
    assert here is not in_worker
    assert {**here.to_dict(), "trained_at": None} == {
        **in_worker.to_dict(),
        "trained_at": None,
    }


async def test_a_worker_that_cannot_start_falls_back_to_the_executor(
    hass: HomeAssistant,
    location: Location,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No engine where the worker looks: rooms train in-process, one warning."""
    entry = await async_rooms_entry(hass, location)
    empty = tmp_path / "no-engine-here"
    empty.mkdir()
    with (
        patch.object(training_module, "_INTEGRATION_FOLDER", empty),
        caplog.at_level(logging.WARNING),
    ):
        await async_setup_integration(hass, entry)
    assert_trained(entry)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if "trained in Home Assistant's own process" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert "did not start" in warnings[0]
    assert entry.runtime_data.learning.training.cpu_seconds == 0.0


async def test_a_worker_lost_while_training_is_replaced(
    hass: HomeAssistant, location: Location, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker dies with a room in hand: the room still trains, and the
    next room gets a new worker."""
    entry = await async_rooms_entry(hass, location)
    real_send = TrainingProcess._async_send
    pids: list[int] = []

    async def send_then_die(
        process: asyncio.subprocess.Process, payload: bytes
    ) -> None:
        pids.append(process.pid)
        await real_send(process, payload)
        if len(pids) == 1:
            process.kill()

    with (
        patch.object(TrainingProcess, "_async_send", side_effect=send_then_die),
        caplog.at_level(logging.WARNING),
    ):
        await async_setup_integration(hass, entry)
    assert_trained(entry)
    assert "Room 1 is trained in Home Assistant's own process" in caplog.text
    assert "Room 2 is trained" not in caplog.text
    # Rooms 2 to 4 went to one new worker.
    assert len(pids) == 4
    assert pids[1] == pids[2] == pids[3] != pids[0]


async def test_a_failure_inside_the_worker_is_the_rooms_error(
    hass: HomeAssistant, location: Location, caplog: pytest.LogCaptureFixture
) -> None:
    """Training that raises in the worker: the room shows the error, the log
    holds the worker's traceback, the other rooms train."""
    entry = await async_rooms_entry(hass, location)
    real_encode = training_module.encode_request

    def refused_for_room_2(room: str, *args: Any) -> bytes:
        request = real_encode(room, *args)
        if room != "Room 2":
            return request
        # Options this worker refuses.
        with np.load(io.BytesIO(request), allow_pickle=False) as files:
            arrays = {name: files[name] for name in files.files}
        meta = json.loads(arrays["meta"].tobytes())
        meta["options"]["n_levels"] = 1
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    with (
        patch.object(training_module, "encode_request", refused_for_room_2),
        caplog.at_level(logging.ERROR),
    ):
        await async_setup_integration(hass, entry)
    room_2 = entry.runtime_data.rooms[ROOM_IDS[1]]
    assert room_2.status is ModelStatus.ERROR
    assert (
        room_2.error == "ValueError: window >= 1, n_levels >= 2, max_gap_minutes >= 0"
    )
    assert "Training room Room 2 failed" in caplog.text
    assert "Traceback" in caplog.text
    for subentry_id in (ROOM_IDS[0], ROOM_IDS[2]):
        assert entry.runtime_data.rooms[subentry_id].status is ModelStatus.TRAINED


async def test_the_train_action_trains_every_room_when_one_fails(
    hass: HomeAssistant, location: Location
) -> None:
    """The action raises the failure after the other rooms were trained."""
    entry = await async_rooms_entry(hass, location)
    await async_setup_integration(hass, entry)
    before = {s: entry.runtime_data.rooms[s].model for s in ROOMS}
    trained: list[str] = []

    async def room_1_fails(process: TrainingProcess, room: str, *args: Any) -> Any:
        if room == "Room 1":
            raise FloatingPointError("boom")
        trained.append(room)
        return await REAL_TRAIN(process, room, *args)

    with (
        patch_training(room_1_fails),
        pytest.raises(Exception, match="Training room Room 1 failed: boom"),
    ):
        await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    assert trained == ["Room 2", "Room 3", "Room 4"]
    rooms = entry.runtime_data.rooms
    assert rooms[ROOM_IDS[0]].model is before[ROOM_IDS[0]]
    for subentry_id in ROOM_IDS[1:]:
        assert rooms[subentry_id].model is not before[subentry_id]


async def test_the_worker_ends_when_idle_and_with_the_entry(
    hass: HomeAssistant, location: Location
) -> None:
    """No worker stays between learnings, nor after the entry unloads."""
    entry = await async_rooms_entry(hass, location)
    await async_setup_integration(hass, entry)
    training = entry.runtime_data.learning.training
    first = training._process
    assert first is not None
    assert first.returncode is None
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=IDLE_SECONDS + 1)
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    async with asyncio.timeout(30):
        assert await first.wait() == 0
    assert training._process is None

    # Training again starts a new one; unloading ends it.
    await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    second = training._process
    assert second is not None
    assert second.pid != first.pid
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert second.returncode == 0


async def test_a_room_removed_while_waiting_is_not_learned(
    hass: HomeAssistant, location: Location, caplog: pytest.LogCaptureFixture
) -> None:
    """Rooms 3 and 4 are removed while room 1 trains: they are skipped.

    Room 4 waits for its turn to read; room 3 is read (or reading) and
    waits for its turn to train. Neither trains, and nothing fails.
    """
    entry = await async_rooms_entry(hass, location)
    await async_setup_integration(hass, entry)
    trained: list[str] = []
    room_1_trains, go_on = asyncio.Event(), asyncio.Event()

    async def hold_room_1(process: TrainingProcess, room: str, *args: Any) -> Any:
        if room == "Room 1":
            room_1_trains.set()
            await go_on.wait()
        trained.append(room)
        return await REAL_TRAIN(process, room, *args)

    learning = entry.runtime_data.learning
    real_remove = learning.async_remove_room
    removed: list[str] = []
    both_removed = asyncio.Event()

    async def remove_room(subentry_id: str) -> None:
        await real_remove(subentry_id)
        removed.append(subentry_id)
        if len(removed) == 2:
            both_removed.set()

    with (
        patch_training(hold_room_1),
        patch.object(learning, "async_remove_room", remove_room),
        caplog.at_level(logging.WARNING),
    ):
        training = hass.async_create_task(
            hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
        )
        async with asyncio.timeout(30):
            await room_1_trains.wait()
        for subentry_id in ROOM_IDS[3], ROOM_IDS[2]:
            assert hass.config_entries.async_remove_subentry(entry, subentry_id)
        # (Waiting for every task would wait for the training held here.)
        async with asyncio.timeout(30):
            await both_removed.wait()
        assert not set(ROOM_IDS[2:]) & set(entry.runtime_data.rooms)
        go_on.set()
        await training
    assert trained == ["Room 1", "Room 2"]
    assert not set(ROOM_IDS[2:]) & set(entry.runtime_data.rooms)
    assert "failed" not in caplog.text
