"""Sampled day schedules as rows of the `generate` CSV."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import csv
from datetime import date
from typing import IO, Any
import zlib

import numpy as np

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.schedule import DaySchedule, ScheduleOptions, sample_day

from .progress import progress

CSV_HEADER = ("room", "sample", "start", "end", "level")
"""Columns of the schedule CSV."""


def write_schedule_csv(handle: IO[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write schedule rows as CSV, the header first."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)


def sample_rng(seed: int, sample: int, room: str) -> np.random.Generator:
    """Return the generator of one draw of one room.

    Each (seed, draw, room) has its own stream, so a room's draw is the same
    whichever other rooms or how many draws are asked for.
    """
    return np.random.default_rng([seed & 0xFFFFFFFF, sample, zlib.crc32(room.encode())])


def sample_schedules(
    model: HomeModel,
    room: str,
    days: Sequence[date],
    *,
    sample: int,
    seed: int,
    options: ScheduleOptions | None = None,
) -> list[DaySchedule]:
    """Sample one draw of consecutive days of a room."""
    rng = sample_rng(seed, sample, room)
    return [
        sample_day(model.rooms[room], day, model.location, rng=rng, options=options)
        for day in days
    ]


def schedule_rows(
    model: HomeModel,
    rooms: Sequence[str],
    days: Sequence[date],
    *,
    samples: int = 1,
    seed: int = 0,
    options: ScheduleOptions | None = None,
) -> list[tuple[str, int, str, str, int]]:
    """Return one row per on interval: room, draw (1..samples), start, end, level.

    Times are local ISO 8601 with their UTC offset.
    """

    rows: list[tuple[str, int, str, str, int]] = []
    work = [(room, sample) for room in rooms for sample in range(1, samples + 1)]
    for room, sample in progress(work, "sampling"):
        for schedule in sample_schedules(
            model, room, days, sample=sample, seed=seed, options=options
        ):
            rows.extend(
                (
                    room,
                    sample,
                    interval.start.isoformat(timespec="minutes"),
                    interval.end.isoformat(timespec="minutes"),
                    int(interval.level),
                )
                for interval in schedule.intervals
            )
    return rows
