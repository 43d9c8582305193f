"""Measure learning one room inside Home Assistant, from a real recorder.

A Home Assistant instance (the test plugin's ``async_test_home_assistant``,
in a temporary config folder) runs the recorder on an SQLite file. The
living room of the engine's household simulator is written into that
database as 90 days of state rows (only changed values, as Home Assistant
records them). Then the integration is set up with that room, which builds
the room's archive from the recorder and trains the room with the full
training settings, while a probe task on the event loop sleeps 5 ms again and
again and records how late it wakes up.

Printed: the time to build the archive and to train, the longest loop stall
(and, for comparison, the same probe on the idle instance and the longest
full garbage collection, which pauses every thread), a second training with
the archive in place, the archive file's size, and the size of a full year's
archive of the same room (simulated minute series, ``archive.encode``).

Run from the project root: ``.venv/bin/python benchmarks/ha_learning.py``
(or ``.venv-min``). The last line is
``RESULT learn_seconds=<s> max_loop_lag_ms=<ms> archive_bytes_per_room_year=<n>``.
Goals: learning under 10 s, loop lag under 50 ms, under 2 MB per room-year.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import gc
import math
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
from homeassistant import loader  # noqa: E402
from homeassistant.components.recorder import get_instance  # noqa: E402
from homeassistant.config_entries import ConfigSubentryData  # noqa: E402
from homeassistant.helpers import entity_registry as er, recorder as recorder_helper  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from homeassistant.util import dt as dt_util  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.lighting_replay import archive  # noqa: E402
from custom_components.lighting_replay.const import (  # noqa: E402
    CONF_ARCHIVE_DAYS,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_N_LEVELS,
    DOMAIN,
    SUBENTRY_TYPE_ROOM,
    ModelStatus,
)
from custom_components.lighting_replay.engine.series import to_minute_series  # noqa: E402
from custom_components.lighting_replay.engine.simulate import simulate_household  # noqa: E402
from custom_components.lighting_replay.engine.zones import Location  # noqa: E402
from custom_components.lighting_replay.learning import storage_path  # noqa: E402
from scripts.demo.recorder_db import changed_states, write_states  # noqa: E402

DAYS = 90
ENTITY_ID = "sensor.living_room_lux"
ATTRIBUTES = {
    "unit_of_measurement": "lx",
    "device_class": "illuminance",
    "state_class": "measurement",
    "friendly_name": "Living room lux",
}


def history_rows(
    location: Location, end_s: float
) -> list[tuple[float, str, dict[str, str]]]:
    """Simulate the living room for DAYS days up to `end_s` (changed states only)."""
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    start = end_local.date() - timedelta(days=DAYS)
    timestamps, lux = simulate_household(location, start, DAYS + 1, seed=0)[
        "living_room"
    ]
    keep = timestamps < end_s
    texts = [
        f"{value:.1f}" if math.isfinite(value) else "unavailable"
        for value in lux[keep].tolist()
    ]
    return [
        (time_s, text, ATTRIBUTES)
        for time_s, text in changed_states(timestamps[keep], texts)
    ]


def year_archive_bytes(location: Location) -> int:
    """Return the archive size of a simulated year of the living room."""
    timestamps, lux = simulate_household(
        location, dt_util.now().date() - timedelta(days=365), 365, seed=1
    )["living_room"]
    series = to_minute_series(timestamps, lux)
    return len(archive.encode(series))


async def run(config_dir: str) -> dict[str, Any]:
    """Set Home Assistant up, fill the recorder, learn the room; return figures."""
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        db_url = f"sqlite:///{config_dir}/home-assistant_v2.db"
        # What Home Assistant's bootstrap does before setting the recorder up.
        recorder_helper.async_initialize_recorder(hass)
        if not await async_setup_component(
            hass, "recorder", {"recorder": {"db_url": db_url, "commit_interval": 0}}
        ):
            raise SystemExit("the recorder did not set up")
        await hass.data[recorder_helper.DATA_RECORDER].db_connected
        await hass.async_block_till_done()
        instance = get_instance(hass)
        await instance.async_db_ready

        registry = er.async_get(hass)
        lux = registry.async_get_or_create(
            "sensor",
            "lux_node",
            "living-room-lux",
            suggested_object_id="living_room_lux",
            original_device_class="illuminance",
        )
        light = registry.async_get_or_create(
            "light", "hue", "living-room-lamp", suggested_object_id="living_room_lamp"
        )
        hass.states.async_set(ENTITY_ID, "3.0", ATTRIBUTES)
        hass.states.async_set(light.entity_id, "off")
        await hass.async_block_till_done()
        await hass.async_add_executor_job(instance.block_till_done)

        location = Location(
            hass.config.latitude, hass.config.longitude, hass.config.time_zone
        )
        rows = history_rows(location, dt_util.utcnow().timestamp() - 120)
        started = time.perf_counter()
        await instance.async_add_executor_job(write_states, hass, ENTITY_ID, rows)
        print(
            f"recorder: {len(rows)} state rows of {DAYS} days written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        # Writing the rows above churned a few hundred thousand objects through
        # the collector's oldest generation, which would bill a full collection
        # to whatever runs next; start the measurement from a settled heap.
        gc.collect()

        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={CONF_ARCHIVE_DAYS: 400, CONF_N_LEVELS: 4},
            subentries_data=[
                ConfigSubentryData(
                    data={CONF_LUX_SENSOR: lux.id, CONF_LIGHTS: [light.id]},
                    subentry_type=SUBENTRY_TYPE_ROOM,
                    title="Living room",
                    unique_id=None,
                )
            ],
        )
        entry.add_to_hass(hass)

        lags: list[float] = []
        stamps: list[float] = []
        stop = asyncio.Event()

        async def probe() -> None:
            while not stop.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - before - 0.005)
                stamps.append(before)

        # The same probe on an idle Home Assistant first: what the machine
        # itself costs (other processes on a shared box show up here).
        probe_task = asyncio.create_task(probe())
        await asyncio.sleep(2.0)
        stop.set()
        await probe_task
        idle_lag_ms = max(lags) * 1000.0
        lags.clear()
        stamps.clear()
        stop.clear()
        gc_pauses.clear()
        probe_task = asyncio.create_task(probe())
        # Split the figure: reading the recorder into the archive, training.
        learning_module = sys.modules["custom_components.lighting_replay.learning"]
        marks: dict[str, float] = {}
        real_train = learning_module.train_blocking

        def timed_train(*args: Any, **kwargs: Any) -> Any:
            marks["train_start"] = time.perf_counter()
            try:
                return real_train(*args, **kwargs)
            finally:
                marks["train_end"] = time.perf_counter()

        learning_module.train_blocking = timed_train
        started = time.perf_counter()
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise SystemExit("the integration did not set up")
        await hass.async_block_till_done(wait_background_tasks=True)
        learn_seconds = time.perf_counter() - started
        learn_gc_ms = max(gc_pauses, default=0.0) * 1000.0
        stop.set()
        await probe_task
        learning_module.train_blocking = real_train

        worst = int(np.argmax(lags))
        print(
            f"longest stall began {stamps[worst] - started:.2f} s after setup began;"
            f" marks: { {k: round(v - started, 2) for k, v in marks.items()} }"
        )
        # A second training with the archive in place (what the nightly run
        # and the train action do): only minutes newer than the archive are
        # read from the recorder.
        first_lags = list(lags)
        lags.clear()
        stop.clear()
        probe_task = asyncio.create_task(probe())
        retrain_started = time.perf_counter()
        await hass.services.async_call(DOMAIN, "train", {}, blocking=True)
        retrain_seconds = time.perf_counter() - retrain_started
        stop.set()
        await probe_task
        retrain_lag_ms = max(lags) * 1000.0
        lags[:] = first_lags

        room = next(iter(entry.runtime_data.rooms.values()))
        if room.status is not ModelStatus.TRAINED:
            print(f"THE ROOM WAS NOT TRAINED: {room.status} {room.error}")
        archive_file = storage_path(hass) / f"{room.subentry_id}.archive"
        series = await hass.async_add_executor_job(archive.load, archive_file)
        size = 0 if series is None else archive_file.stat().st_size
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        # The recorder's thread must end, or the process would not exit.
        await instance._async_shutdown(None)  # noqa: SLF001
        return {
            "learn_seconds": learn_seconds,
            "read_seconds": marks.get("train_start", math.nan) - started,
            "train_seconds": marks.get("train_end", math.nan)
            - marks.get("train_start", math.nan),
            "max_loop_lag_ms": max(lags) * 1000.0,
            "p99_loop_lag_ms": float(np.percentile(lags, 99)) * 1000.0,
            "probes": len(lags),
            "retrain_seconds": retrain_seconds,
            "retrain_lag_ms": retrain_lag_ms,
            "gc_ms": learn_gc_ms,
            "idle_lag_ms": idle_lag_ms,
            "archive_bytes": size,
            "archive_days": 0.0 if series is None else len(series) / 1440.0,
            "days_of_data": room.days_of_data,
            "year_bytes": year_archive_bytes(location),
        }


gc_pauses: list[float] = []
_gc_started: list[float] = [0.0]


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    """Time the garbage collector's full (generation 2) collections."""
    if info["generation"] != 2:
        return
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        gc_pauses.append(time.perf_counter() - _gc_started[0])


def main() -> None:
    """Run the measurement and print the figures."""
    gc.callbacks.append(_gc_callback)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ha-learning-") as config_dir:
        figures = asyncio.run(run(config_dir))
    print(
        f"archive: {figures['archive_bytes']} bytes for "
        f"{figures['archive_days']:.1f} days "
        f"({figures['archive_bytes'] / max(figures['archive_days'], 1e-9) * 365:.0f}"
        " bytes per year at that rate)"
    )
    print(
        f"learning: {figures['learn_seconds']:.2f} s in all "
        f"(setup and archive from the recorder {figures['read_seconds']:.2f} s, "
        f"training {figures['train_seconds']:.2f} s) on "
        f"{figures['days_of_data']:.1f} days of data"
    )
    print(
        f"event loop: {figures['probes']} probes, longest stall "
        f"{figures['max_loop_lag_ms']:.1f} ms, 99th percentile "
        f"{figures['p99_loop_lag_ms']:.1f} ms (idle Home Assistant before: "
        f"longest {figures['idle_lag_ms']:.1f} ms)"
    )
    print(
        "longest full garbage collection while learning (it stops every "
        f"thread, the event loop too): {figures['gc_ms']:.1f} ms"
    )
    print(
        f"training again with the archive in place: {figures['retrain_seconds']:.2f}"
        f" s, longest loop stall {figures['retrain_lag_ms']:.1f} ms"
    )
    print(f"load average after: {os.getloadavg()}")
    print(
        f"RESULT learn_seconds={figures['learn_seconds']:.2f} "
        f"max_loop_lag_ms={figures['max_loop_lag_ms']:.1f} "
        f"archive_bytes_per_room_year={figures['year_bytes']}"
    )


if __name__ == "__main__":
    main()
