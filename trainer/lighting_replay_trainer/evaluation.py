"""Realism of a model's days against real days, beside the two baselines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.realism import (
    COMPONENTS,
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    measure,
    on_off_series,
    real_days,
    sensor_view,
)
from lighting_replay_engine.schedule import ScheduleOptions
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import (
    TrainingOptions,
    lux_sources,
    prepare_sources,
)
from lighting_replay_engine.zones import Location

from .progress import progress
from .schedules import sample_rng
from .sources import LightStates, RoomReadings

METHODS: Final = ("model", "same_weekday_last_week", "fixed_timer")
"""The compared methods: the trained model and the two baselines."""

METRICS: Final = (*COMPONENTS, "score")
"""Distances reported per method (0 = like the real days)."""


def room_real_days(
    levels_of: RoomModel,
    readings: RoomReadings,
    location: Location,
    *,
    window: int,
    max_gap_minutes: int,
) -> dict[date, npt.NDArray[np.float64]]:
    """Return the real on/off days of a room, by the model's levels.

    A bright minute while the sun is up counts as off: it is daylight as far
    as the sensor can tell, and the models learn the lamps after dark.
    """
    series = smooth(
        to_minute_series(
            readings.timestamps_s, readings.lux, max_gap_minutes=max_gap_minutes
        ),
        window,
    )
    return real_days(on_off_series(levels_of.levels, series, location), location)


def sources_real_days(
    sources: RoomSources, location: Location, options: TrainingOptions
) -> dict[date, npt.NDArray[np.float64]]:
    """Return the real on/off days of a room that learns from its lights.

    The on/off of every minute is what training sees (``prepare_sources``):
    on while any light is on, with a lux sensor the sources combined.
    """
    prepared = prepare_sources(sources, location, replace(options, min_days=0.0))
    state = prepared.on_off.astype(np.float64)
    state[state < 0] = np.nan
    return real_days(MinuteSeries(prepared.series.start_minute, state), location)


def evaluate_room(
    model: HomeModel,
    room: str,
    readings: RoomReadings | None,
    days: Sequence[date],
    *,
    samples: int,
    seed: int,
    window: int,
    max_gap_minutes: int,
    options: ScheduleOptions | None = None,
    lights: Mapping[str, LightStates] | None = None,
) -> dict[str, Any]:
    """Compare the model and the baselines with the real days of a room.

    A model learned from lights is compared with the lights' real on/off
    (with the lux readings too where it learned from both); a model of lux
    with the lux readings by its levels. The model's distances are the mean
    over `samples` independent draws. A method without any day to compare
    (no recorded week before) is None.
    """
    room_model = model.rooms[room]
    location = model.location
    from_lights = bool(lights) and room_model.settings.get("sources", "lux") != "lux"
    if lights and from_lights:
        training = TrainingOptions(window=window, max_gap_minutes=max_gap_minutes)
        lux = (
            None
            if readings is None
            else lux_sources(readings.timestamps_s, readings.lux, training).lux
        )
        real = sources_real_days(
            RoomSources(lux, {key: states.series() for key, states in lights.items()}),
            location,
            training,
        )
    elif readings is not None:
        real = room_real_days(
            room_model,
            readings,
            location,
            window=window,
            max_gap_minutes=max_gap_minutes,
        )
    else:
        real = {}
    target = {day: real[day] for day in days if day in real}
    result: dict[str, Any] = {
        "room": room,
        "days": sorted(d.isoformat() for d in target),
    }
    if not target:
        result["methods"] = dict.fromkeys(METHODS)
        return result

    def seen(days: dict[date, npt.NDArray[np.float64]]) -> dict[date, Any]:
        # Real days of a lux sensor are what it saw (daylight hides a lamp):
        # the generated and the timer's days are seen so too. The lights'
        # own states are known by day as well.
        return days if from_lights else sensor_view(days, location)

    # The real days are measured once, not again for every draw.
    measured = measure(target)
    draws = [
        compare(
            measured,
            seen(
                generate_days(
                    room_model,
                    list(target),
                    location,
                    rng=sample_rng(seed, sample, room),
                    options=options,
                )
            ),
        )
        for sample in range(1, samples + 1)
    ]
    methods: dict[str, dict[str, float] | None] = {
        "model": {key: float(np.mean([d[key] for d in draws])) for key in METRICS}
    }
    last_week = baseline_same_weekday_last_week(real, list(target))
    methods["same_weekday_last_week"] = (
        compare({d: target[d] for d in last_week}, last_week) if last_week else None
    )
    methods["fixed_timer"] = compare(
        measured, seen(baseline_fixed_timer(list(target), location))
    )
    result["methods"] = methods
    return result


def evaluate_home(
    model: HomeModel,
    readings: Mapping[str, RoomReadings],
    days: Sequence[date],
    *,
    samples: int = 20,
    seed: int = 0,
    window: int = 5,
    max_gap_minutes: int = 10,
    options: ScheduleOptions | None = None,
    lights: Mapping[str, Mapping[str, LightStates]] | None = None,
) -> dict[str, Any]:
    """Evaluate every room (lux `readings`, `lights` by room); add the means."""
    lights = lights or {}
    names = [*readings, *(room for room in lights if room not in readings)]
    rooms = [
        evaluate_room(
            model,
            room,
            readings.get(room),
            days,
            samples=samples,
            seed=seed,
            window=window,
            max_gap_minutes=max_gap_minutes,
            options=options,
            lights=lights.get(room),
        )
        for room in progress(names, "evaluating")
    ]
    mean: dict[str, dict[str, float] | None] = {}
    for method in METHODS:
        found = [r["methods"][method] for r in rooms if r["methods"][method]]
        mean[method] = (
            {key: float(np.mean([f[key] for f in found])) for key in METRICS}
            if found
            else None
        )
    return {
        "start": days[0].isoformat() if days else None,
        "n_days": len(days),
        "samples": samples,
        "rooms": rooms,
        "mean": mean,
    }


def format_table(results: Mapping[str, Any], methods: Sequence[str] = METHODS) -> str:
    """Return the results as text tables (one per room and the mean).

    Distances run from 0 (like the real days) to 1; the best method of each
    line is marked with `*`.
    """
    width = max(len(m) for m in methods) + 2
    blocks: list[str] = []
    sections = [
        (f"{r['room']} ({len(r['days'])} real days)", r["methods"])
        for r in results["rooms"]
    ]
    sections.append(("mean over rooms", results["mean"]))
    for title, by_method in sections:
        lines = [title, "metric".ljust(16) + "".join(m.rjust(width) for m in methods)]
        for metric in METRICS:
            values = [
                None if by_method.get(m) is None else by_method[m][metric]
                for m in methods
            ]
            present = [v for v in values if v is not None]
            best = min(present) if present else None
            cells = []
            for value in values:
                if value is None:
                    cells.append("-".rjust(width))
                else:
                    mark = "*" if value == best else " "
                    cells.append(f"{value:.3f}{mark}".rjust(width))
            lines.append(metric.ljust(16) + "".join(cells))
        blocks.append("\n".join(lines))
    blocks.append("distances from the real days: 0 = alike, 1 = unlike; * = best")
    return "\n\n".join(blocks)
