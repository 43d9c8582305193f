"""The demo: a simulated household through every step, offline.

Simulates readings for some weeks plus a test week, writes them as capture
CSV files, trains on the weeks, and writes the model, a schedule of the test
week, figures, and the realism of the model against the simulated test week
beside the two baselines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.simulate import simulate_household
from lighting_replay_engine.training import TrainingOptions
from lighting_replay_engine.zones import Location

from .backends import train
from .evaluation import METHODS, evaluate_home
from .plots import file_stem, room_figures
from .schedules import schedule_rows, write_schedule_csv
from .sources import CSV_COLUMNS, read_csv


def write_readings(
    folder: Path,
    readings: Mapping[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
) -> list[Path]:
    """Write simulated readings as capture CSV files, one per room."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for room, (raw_stamps, raw_lux) in readings.items():
        stamps = np.asarray(raw_stamps, dtype=np.float64)
        lux = np.asarray(raw_lux, dtype=np.float64)
        # A lost reading is a missing row in a capture file, not an empty value.
        sent = np.isfinite(stamps) & np.isfinite(lux)
        stamps, lux = stamps[sent], lux[sent]
        utc = pd.to_datetime(stamps, unit="s")
        frame = pd.DataFrame(
            {
                "timestamp": stamps,
                "datetime": utc.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                "sensor_id": room,
                "value": np.round(lux, 3),
            },
            columns=list(CSV_COLUMNS),
        )
        path = folder / f"{file_stem(room)}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def run_demo(
    folder: Path,
    location: Location,
    *,
    start: date,
    days: int = 28,
    test_days: int = 7,
    seed: int = 0,
    backend: str = "engine",
    note: Callable[[str], None] = print,
) -> str:
    """Run the demo into `folder`; return a short summary to print."""
    note(f"simulating {days + test_days} days from {start}")
    simulated = simulate_household(location, start, days + test_days, seed=seed)
    readings_dir = folder / "readings"
    write_readings(readings_dir, simulated)
    readings = read_csv([readings_dir])

    test_start = start + timedelta(days=days)
    cut = datetime.combine(test_start, time(0), location.tzinfo).timestamp()
    options = TrainingOptions(seed=seed)
    rooms: dict[str, RoomModel] = {}
    for room, room_readings in readings.rooms.items():
        before = room_readings.timestamps_s < cut
        note(f"training {room}")
        rooms[room] = train(
            room,
            room_readings.timestamps_s[before],
            room_readings.lux[before],
            location,
            options,
            backend,
        )
    model = HomeModel(location, rooms)
    model_path = folder / "model.json"
    model.save(model_path)

    test_days_list = [test_start + timedelta(days=i) for i in range(test_days)]
    rows = schedule_rows(model, list(rooms), test_days_list, samples=1, seed=seed)
    schedule_path = folder / "schedule.csv"
    with schedule_path.open("w", newline="", encoding="utf-8") as handle:
        write_schedule_csv(handle, rows)

    figures = room_figures(
        readings,
        location,
        folder / "plots",
        model=model,
        window=options.window,
        max_gap_minutes=options.max_gap_minutes,
        week_start=test_start,
        seed=seed,
        note=note,
    )
    results = evaluate_home(
        model,
        readings.rooms,
        test_days_list,
        samples=10,
        seed=seed,
        window=options.window,
        max_gap_minutes=options.max_gap_minutes,
    )
    (folder / "realism.json").write_text(
        json.dumps(results, indent=2, allow_nan=False), encoding="utf-8"
    )

    lines = [f"Lighting Replay demo in {folder}", ""]
    for room, room_model in rooms.items():
        centres = ", ".join(f"{c:.1f}" for c in room_model.levels.centres)
        lines.append(
            f"  {room}: levels [{centres}] lx, on from level"
            f" {room_model.levels.on_level}"
        )
    lines.append("")
    mean = results["mean"]
    scores = ", ".join(
        f"{method} {mean[method]['score']:.3f}"
        for method in METHODS
        if mean.get(method)
    )
    lines.append(f"  realism score over {test_days} test days (lower is better):")
    lines.append(f"    {scores}")
    lines.append("")
    lines.append(f"  model     {model_path}")
    lines.append(f"  schedule  {schedule_path} ({len(rows)} on intervals)")
    lines.append(f"  figures   {folder / 'plots'} ({len(figures)} files)")
    lines.append(f"  readings  {readings_dir}")
    lines.append(f"  realism   {folder / 'realism.json'}")
    return "\n".join(lines)
