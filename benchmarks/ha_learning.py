"""Measure learning rooms inside Home Assistant, from a real recorder.

A Home Assistant instance (the test plugin's ``async_test_home_assistant``,
in a temporary config folder) runs the recorder on an SQLite file. ``--rooms``
rooms of the engine's household simulator (its living room, kitchen and
bedroom, with further seeds for more rooms) are written into that database
as ``--days`` days of lux state rows each (only changed values, as Home
Assistant records them; 10 rooms x 365 days are 5.15 million rows). Then the
integration is set up with those rooms, which builds each room's archive
from the recorder and trains it with the full training settings, while a
probe task on the event loop sleeps 5 ms again and again and records how
late it wakes up.

Each of ``--runs`` runs starts a fresh Home Assistant on a copy of the filled
database (the rows are written once; ``--db FILE`` keeps that database for
later invocations of the same size and Home Assistant version). Printed per
run: the time to learn every room (and the part of it spent training), the
longest loop stall and its 99th percentile (and, for comparison, the same
probe on the idle instance first), the process's resident memory kept after
learning (after a garbage collection, against before the setup), full
garbage collections, and a second training with the archives in place.

Run from the project root: ``.venv/bin/python benchmarks/ha_learning.py
--rooms 10 --days 365 --runs 3`` (or ``.venv-min``). The last line is the
worst run: ``RESULT rooms=<n> days=<d> learn_seconds=<s> max_loop_lag_ms=<ms>
rss_kept_mb=<MB> archive_bytes_per_room_year=<n>``. Goals for 10 rooms x 365
days: learning under 15 s, loop lag under 50 ms, under 50 MB kept, under
2 MB per room-year.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
import faulthandler
import gc
import math
import os
from pathlib import Path
import shutil
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
from homeassistant.components.recorder.util import session_scope  # noqa: E402
from homeassistant.config_entries import ConfigSubentryData  # noqa: E402
from homeassistant.const import __version__ as ha_version  # noqa: E402
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
from custom_components.lighting_replay.training_process import TrainingProcess  # noqa: E402
from scripts.demo.recorder_db import changed_states, write_states  # noqa: E402

#: Rooms of the simulator, repeated with other seeds for more rooms.
SIM_ROOMS = ("living_room", "kitchen", "bedroom")


def lux_attributes(name: str) -> dict[str, str]:
    """Return the attributes of a room's lux sensor, as the sensor records them."""
    return {
        "unit_of_measurement": "lx",
        "device_class": "illuminance",
        "state_class": "measurement",
        "friendly_name": f"{name} lux",
    }


def history_rows(
    location: Location, end_s: float, days: int, room: int
) -> list[tuple[float, str, dict[str, str]]]:
    """Simulate room number `room` for `days` days up to `end_s` (changes only)."""
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    start = end_local.date() - timedelta(days=days)
    timestamps, lux = simulate_household(
        location, start, days + 1, seed=room // len(SIM_ROOMS)
    )[SIM_ROOMS[room % len(SIM_ROOMS)]]
    keep = timestamps < end_s
    texts = [
        f"{value:.1f}" if math.isfinite(value) else "unavailable"
        for value in lux[keep].tolist()
    ]
    attributes = lux_attributes(f"Room {room}")
    return [
        (time_s, text, attributes)
        for time_s, text in changed_states(timestamps[keep], texts)
    ]


def year_archive_bytes(location: Location) -> int:
    """Return the archive size of a simulated year of the living room."""
    timestamps, lux = simulate_household(
        location, dt_util.now().date() - timedelta(days=365), 365, seed=1
    )["living_room"]
    series = to_minute_series(timestamps, lux)
    return len(archive.encode(series))


def load_oldest(hass: Any) -> None:
    """Let the recorder read the time of its oldest state again (blocking)."""
    with session_scope(hass=hass, read_only=True) as session:
        get_instance(hass).states_manager.load_from_db(session)


def worker_peak_rss_mb(training: TrainingProcess) -> float:
    """Return the training process's peak resident memory (0 if it ended)."""
    process = training._process  # noqa: SLF001
    if process is None or process.returncode is not None:
        return 0.0
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def thread_cpu_seconds() -> dict[str, float]:
    """Return this process's CPU seconds per kind of thread (by name)."""
    ticks = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        kind = name.rstrip("_0123456789") or name
        kinds[kind] = kinds.get(kind, 0.0) + seconds
    return kinds


def rss_mb() -> float:
    """Return the process's resident memory in MB."""
    with open("/proc/self/statm", encoding="ascii") as file:
        pages = int(file.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def run(
    config_dir: str,
    rooms: int,
    days: int,
    template_db: Path | None,
    stall_trace: tuple[float, Any] | None = None,
) -> dict[str, Any]:
    """Set Home Assistant up, fill the recorder, learn the rooms; return figures.

    With `template_db` (a recorder database a run before filled with the
    same history) the database is copied instead of written again. With
    `stall_trace` (milliseconds, an open file) every thread's stack is
    written to the file whenever the loop is that much late.
    """
    db_file = Path(config_dir) / "home-assistant_v2.db"
    if template_db is not None:
        shutil.copyfile(template_db, db_file)
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        # What Home Assistant's bootstrap does before setting the recorder up.
        recorder_helper.async_initialize_recorder(hass)
        if not await async_setup_component(
            hass,
            "recorder",
            {"recorder": {"db_url": f"sqlite:///{db_file}", "commit_interval": 0}},
        ):
            raise SystemExit("the recorder did not set up")
        await hass.data[recorder_helper.DATA_RECORDER].db_connected
        await hass.async_block_till_done()
        instance = get_instance(hass)
        await instance.async_db_ready

        registry = er.async_get(hass)
        location = Location(
            hass.config.latitude, hass.config.longitude, hass.config.time_zone
        )
        end_s = dt_util.utcnow().timestamp() - 120
        subentries = []
        written = 0
        started = time.perf_counter()
        for room in range(rooms):
            lux = registry.async_get_or_create(
                "sensor",
                "lux_node",
                f"room-{room}-lux",
                suggested_object_id=f"room_{room}_lux",
                original_device_class="illuminance",
            )
            light = registry.async_get_or_create(
                "light",
                "hue",
                f"room-{room}-lamp",
                suggested_object_id=f"room_{room}_lamp",
            )
            subentries.append(
                ConfigSubentryData(
                    data={CONF_LUX_SENSOR: lux.id, CONF_LIGHTS: [light.id]},
                    subentry_type=SUBENTRY_TYPE_ROOM,
                    title=f"Room {room}",
                    unique_id=None,
                )
            )
            hass.states.async_set(lux.entity_id, "3.0", lux_attributes(f"Room {room}"))
            hass.states.async_set(light.entity_id, "off")
            await hass.async_block_till_done()
            await hass.async_add_executor_job(instance.block_till_done)
            if template_db is not None:
                continue
            rows = await hass.async_add_executor_job(
                history_rows, location, end_s, days, room
            )
            await instance.async_add_executor_job(
                write_states, hass, lux.entity_id, rows
            )
            written += len(rows)
            del rows
        if template_db is None:
            print(
                f"recorder: {written} state rows of {rooms} rooms x {days} days "
                f"written in {time.perf_counter() - started:.1f} s"
            )
        else:
            # The recorder keeps the time of its oldest state in memory (read
            # at startup); the copied rows are older than what it read.
            await instance.async_add_executor_job(load_oldest, hass)
        # Writing the rows above churned objects through the collector's
        # oldest generation, which would bill a full collection to whatever
        # runs next; start the measurement from a settled heap.
        gc.collect()

        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={CONF_ARCHIVE_DAYS: 400, CONF_N_LEVELS: 4},
            subentries_data=subentries,
        )
        entry.add_to_hass(hass)

        lags: list[float] = []
        stamps: list[float] = []
        stop = asyncio.Event()

        async def probe() -> None:
            while not stop.is_set():
                if stall_trace is not None:
                    # A C thread (no interpreter lock needed) writes every
                    # thread's stack if the loop is not back in time.
                    faulthandler.dump_traceback_later(
                        0.005 + stall_trace[0] / 1000.0, file=stall_trace[1]
                    )
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - before - 0.005)
                stamps.append(before)
            if stall_trace is not None:
                faulthandler.cancel_dump_traceback_later()

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
        rss_before = rss_mb()
        probe_task = asyncio.create_task(probe())
        # Split the figure: reading the recorder into the archives, training;
        # and the CPU time of each (the reading thread's; the training
        # process's own as it reports it: the machine's load aside).
        learning_module = sys.modules["custom_components.lighting_replay.learning"]
        train_seconds: list[float] = []
        cpu_seconds = {"reading": 0.0}
        real_train = TrainingProcess.async_train
        real_read = learning_module.read_minute_series

        async def timed_train(process: Any, *args: Any) -> Any:
            began = time.perf_counter()
            try:
                return await real_train(process, *args)
            finally:
                train_seconds.append(time.perf_counter() - began)

        def timed_read(*args: Any, **kwargs: Any) -> Any:
            cpu_began = time.thread_time()
            try:
                return real_read(*args, **kwargs)
            finally:
                cpu_seconds["reading"] += time.thread_time() - cpu_began

        learning_module.read_minute_series = timed_read
        TrainingProcess.async_train = timed_train  # type: ignore[method-assign]
        threads_before = thread_cpu_seconds()
        started = time.perf_counter()
        cpu_started = time.process_time()
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise SystemExit("the integration did not set up")
        await hass.async_block_till_done(wait_background_tasks=True)
        learn_seconds = time.perf_counter() - started
        training = entry.runtime_data.learning.training
        train_cpu_seconds = training.cpu_seconds
        worker_peak_mb = worker_peak_rss_mb(training)
        threads_after = thread_cpu_seconds()
        by_thread = {
            kind: seconds - threads_before.get(kind, 0.0)
            for kind, seconds in threads_after.items()
            if seconds - threads_before.get(kind, 0.0) >= 0.05
        }
        print(
            "CPU seconds while learning, by thread: "
            + ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_thread.items()))
        )
        learn_cpu_seconds = time.process_time() - cpu_started + train_cpu_seconds
        learn_gc_ms = max(gc_pauses, default=0.0) * 1000.0
        learn_gc_count = len(gc_pauses)
        stop.set()
        await probe_task
        TrainingProcess.async_train = real_train  # type: ignore[method-assign]
        learning_module.read_minute_series = real_read
        gc.collect()
        rss_kept = rss_mb() - rss_before

        worst = int(np.argmax(lags))
        print(f"longest stall began {stamps[worst] - started:.2f} s after setup began")
        # A second training with the archives in place (what the nightly run
        # and the train action do): only minutes newer than an archive are
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

        untrained = [
            room.config.name
            for room in entry.runtime_data.rooms.values()
            if room.status is not ModelStatus.TRAINED
        ]
        if untrained:
            print(f"ROOMS NOT TRAINED: {untrained}")
        room = next(iter(entry.runtime_data.rooms.values()))
        archive_file = storage_path(hass) / f"{room.subentry_id}.archive"
        series = await hass.async_add_executor_job(archive.load, archive_file)
        size = 0 if series is None else archive_file.stat().st_size
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        # The recorder's thread must end, or the process would not exit.
        await instance._async_shutdown(None)  # noqa: SLF001
        return {
            "learn_seconds": learn_seconds,
            "learn_cpu_seconds": learn_cpu_seconds,
            "read_cpu_seconds": cpu_seconds["reading"],
            "train_cpu_seconds": train_cpu_seconds,
            "worker_peak_mb": worker_peak_mb,
            "train_seconds": sum(train_seconds),
            "max_loop_lag_ms": max(lags) * 1000.0,
            "p99_loop_lag_ms": float(np.percentile(lags, 99)) * 1000.0,
            "probes": len(lags),
            "rss_kept_mb": rss_kept,
            "rss_before_mb": rss_before,
            "retrain_seconds": retrain_seconds,
            "retrain_lag_ms": retrain_lag_ms,
            "gc_ms": learn_gc_ms,
            "gc_full": learn_gc_count,
            "idle_lag_ms": idle_lag_ms,
            "archive_bytes": size,
            "archive_days": 0.0 if series is None else len(series) / 1440.0,
            "days_of_data": room.days_of_data,
            "untrained": len(untrained),
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--db",
        type=Path,
        help="keep the filled recorder database in this file and reuse it when "
        "it is there (same rooms, days and Home Assistant version; its history "
        "then ends when it was written)",
    )
    parser.add_argument(
        "--stall-trace",
        type=float,
        metavar="MS",
        help="write every thread's stack to a file when the event loop "
        "is MS milliseconds late (what the other threads were doing); a "
        "diagnostic: faulthandler reads the other threads' frames without the "
        "interpreter lock, which can crash the process (seen on Python 3.13)",
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        metavar="MS",
        help="the interpreter's thread switch interval (default 5 ms): how long "
        "a thread that wants the interpreter lock waits before asking for it",
    )
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000.0)
    trace_file = None
    if args.stall_trace is not None:
        trace_path = Path(tempfile.gettempdir()) / "ha-learning-stall-trace.txt"
        trace_file = open(trace_path, "w", encoding="utf-8")  # noqa: SIM115
        print(f"stacks of stalls over {args.stall_trace:g} ms go to {trace_path}")
    gc.callbacks.append(_gc_callback)
    print(
        f"Python {sys.version.split()[0]}, Home Assistant {ha_version}; "
        f"{args.rooms} rooms x {args.days} days, {args.runs} runs; switch "
        f"interval {sys.getswitchinterval() * 1000:g} ms"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="ha-learning-") as work:
        template: Path | None = args.db if args.db and args.db.is_file() else None
        for number in range(1, args.runs + 1):
            load_before = os.getloadavg()
            config_dir = Path(work) / f"run{number}"
            config_dir.mkdir()
            figures = asyncio.run(
                run(
                    str(config_dir),
                    args.rooms,
                    args.days,
                    template,
                    None if trace_file is None else (args.stall_trace, trace_file),
                )
            )
            if template is None:
                template = args.db or Path(work) / "template.db"
                shutil.copyfile(config_dir / "home-assistant_v2.db", template)
            shutil.rmtree(config_dir)
            results.append(figures)
            print(
                f"run {number}: learn_seconds={figures['learn_seconds']:.2f} "
                f"(cpu {figures['learn_cpu_seconds']:.2f} s: recorder reading "
                f"{figures['read_cpu_seconds']:.2f} s, training "
                f"{figures['train_cpu_seconds']:.2f} s) "
                f"(training {figures['train_seconds']:.2f} s of it) "
                f"max_loop_lag_ms={figures['max_loop_lag_ms']:.1f} "
                f"p99_loop_lag_ms={figures['p99_loop_lag_ms']:.1f} "
                f"rss_kept_mb={figures['rss_kept_mb']:.1f} "
                f"(of {figures['rss_before_mb']:.0f} MB before; the training "
                f"process's peak {figures['worker_peak_mb']:.0f} MB) "
                f"full_gc={figures['gc_full']} longest {figures['gc_ms']:.1f} ms "
                f"idle_lag_ms={figures['idle_lag_ms']:.1f} "
                f"retrain_seconds={figures['retrain_seconds']:.2f} "
                f"retrain_lag_ms={figures['retrain_lag_ms']:.1f} "
                f"days_of_data={figures['days_of_data']:.1f} "
                f"load={load_before[0]:.1f}->{os.getloadavg()[0]:.1f}"
            )
    location = Location(52.52, 13.405, "Europe/Berlin")
    figures = results[0]
    print(
        f"archive: {figures['archive_bytes']} bytes for "
        f"{figures['archive_days']:.1f} days of the first room"
    )
    print(f"load average after: {os.getloadavg()}")
    print(
        f"RESULT rooms={args.rooms} days={args.days} "
        f"learn_seconds={max(r['learn_seconds'] for r in results):.2f} "
        f"max_loop_lag_ms={max(r['max_loop_lag_ms'] for r in results):.1f} "
        f"rss_kept_mb={max(r['rss_kept_mb'] for r in results):.1f} "
        f"archive_bytes_per_room_year={year_archive_bytes(location)}"
    )


if __name__ == "__main__":
    main()
