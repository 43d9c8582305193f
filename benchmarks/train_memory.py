"""Measure the memory training takes per room-year (tracemalloc peak).

A year of the simulated living room (Berlin) is trained three ways, each
measured on its own with ``tracemalloc`` (numpy's arrays are traced too):

- ``readings``: ``train_room`` from the raw readings (the trainer's way);
- ``archive``: what the integration does each night: the room's lux archive
  as its file holds it (``archive.as_stored``), read back as training reads
  it (``learning.lux_from_archive``) and trained with ``train_sources``;
- ``lights``: the same room learned from its two lights' archives.

The peak is above what was allocated before the call (the inputs), so it is
what training itself needs. Run from the project root:
``.venv/bin/python benchmarks/train_memory.py [--days 365]``. The last line
is ``RESULT days=<d> peak_mb_readings=<MB> peak_mb_archive=<MB>
peak_mb_lights=<MB> train_seconds=<s>``. Goal: under 40 MB per room-year.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
import os
from pathlib import Path
import sys
import time
import tracemalloc
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# pylint: disable=wrong-import-position
from custom_components.lighting_replay.archive import as_stored  # noqa: E402
from custom_components.lighting_replay.engine.series import (  # noqa: E402
    held_minute_series,
    to_minute_series,
)
from custom_components.lighting_replay.engine.simulate import simulate_rooms  # noqa: E402
from custom_components.lighting_replay.engine.sources import RoomSources  # noqa: E402
from custom_components.lighting_replay.engine.training import (  # noqa: E402
    TrainingOptions,
    train_room,
    train_sources,
)
from custom_components.lighting_replay.engine.zones import Location  # noqa: E402

LOCATION = Location(52.52, 13.405, "Europe/Berlin")


def measure(name: str, work: Callable[[], Any]) -> tuple[float, float]:
    """Run `work` under tracemalloc; return (peak MB above the start, seconds)."""
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = (peak - before) / 1e6
    print(f"{name}: peak {peak_mb:.1f} MB, {seconds:.1f} s")
    return peak_mb, seconds


def main() -> None:
    """Simulate, train each way, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    room = simulate_rooms(LOCATION, date(2025, 1, 1), args.days, seed=0)["living_room"]
    options = TrainingOptions()
    # Imported here: learning.py needs Home Assistant (the test venvs have it).
    from custom_components.lighting_replay.learning import lux_from_archive

    lux_archive = as_stored(
        to_minute_series(room.timestamps_s, room.lux, max_gap_minutes=1)
    )
    end_s = float(room.timestamps_s[-1]) + 60.0
    light_archives = {}
    for key, brightness in room.lights.items():
        times = (room.start_minute + np.arange(brightness.size)) * 60.0
        light_archives[key] = as_stored(held_minute_series(times, brightness, end_s))
    print(
        f"{args.days} days: {room.timestamps_s.size} readings, lux archive "
        f"{len(lux_archive)} minutes, {len(light_archives)} lights"
    )
    readings, train_s = measure(
        "readings (train_room)",
        lambda: train_room(
            "living room", room.timestamps_s, room.lux, LOCATION, options
        ),
    )
    from_archive, _ = measure(
        "archive (lux_from_archive + train_sources)",
        lambda: train_sources(
            "living room",
            RoomSources(lux=lux_from_archive(lux_archive, options)),
            LOCATION,
            options,
        ),
    )
    lights, _ = measure(
        "lights (train_sources)",
        lambda: train_sources(
            "living room", RoomSources(lights=light_archives), LOCATION, options
        ),
    )
    print(f"load average after: {os.getloadavg()}")
    print(
        f"RESULT days={args.days} peak_mb_readings={readings:.1f} "
        f"peak_mb_archive={from_archive:.1f} peak_mb_lights={lights:.1f} "
        f"train_seconds={train_s:.1f}"
    )


if __name__ == "__main__":
    main()
