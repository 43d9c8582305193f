"""The planned week: one sampled `DaySchedule` per room and local day.

A `PlannedDay` keeps a room's sampled day with its random seed and start, so
the day can be sampled again (same model, options and start) for
diagnostics. `sample_days` samples many rooms' days at once and is meant for
the executor; one room's unusable model never stops the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging
import secrets
from typing import Any

import numpy as np

from .const import PLAN_DAYS_AHEAD
from .data import RoomState
from .engine.model import RoomModel
from .engine.schedule import Change, DaySchedule, Interval, ScheduleOptions, sample_day
from .engine.zones import Location

_LOGGER = logging.getLogger(__name__)

# Lowest brightness replay sets (a dim level of a bright room stays visible).
MIN_BRIGHTNESS_PCT = 1


@dataclass(frozen=True, kw_only=True)
class PlannedDay:
    """A sampled day of a room, with what is needed to sample it again."""

    schedule: DaySchedule
    seed: int
    start: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {
            "room": self.schedule.room,
            "seed": self.seed,
            "start": None if self.start is None else self.start.isoformat(),
            "intervals": [
                [
                    iv.start.isoformat(),
                    iv.end.isoformat(),
                    iv.level,
                    None if iv.scene is None else list(iv.scene),
                ]
                for iv in self.schedule.intervals
            ],
        }

    @classmethod
    def from_dict(
        cls, day: date, data: Mapping[str, Any], location: Location
    ) -> PlannedDay:
        """Read a stored day (raises KeyError, TypeError or ValueError if bad)."""
        tz = location.tzinfo

        def moment(text: str) -> datetime:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                raise ValueError(f"{text} has no time zone")
            return parsed.astimezone(tz)

        def interval(item: list[Any]) -> Interval:
            # Days stored before scenes existed have three items.
            start, end, level, *scene = item
            return Interval(
                moment(start),
                moment(end),
                int(level),
                None if not scene or scene[0] is None else tuple(map(int, scene[0])),
            )

        intervals = tuple(interval(item) for item in data["intervals"])
        start = data.get("start")
        return cls(
            schedule=DaySchedule(str(data["room"]), day, intervals),
            seed=int(data["seed"]),
            start=None if start is None else moment(start),
        )


@dataclass(frozen=True, kw_only=True)
class SampleJob:
    """One room's day to sample (today from `start`, other days whole)."""

    subentry_id: str
    name: str
    model: RoomModel
    day: date
    start: datetime | None


def room_changes(days: Iterable[DaySchedule]) -> list[Change]:
    """Return the changes of consecutive days of a room, in order.

    An "off" at midnight followed by an "on" at the same moment (the light
    stays on over midnight) is left out: nothing happens then.
    """
    out: list[Change] = []
    for schedule in sorted(days, key=lambda s: s.day):
        for change in schedule.changes():
            if (
                change.on
                and out
                and not out[-1].on
                and out[-1].at.timestamp() == change.at.timestamp()
            ):
                out.pop()
            out.append(change)
    return out


def week(today: date) -> list[date]:
    """Return the days replay plans: today and the `PLAN_DAYS_AHEAD` after it."""
    return [today + timedelta(days=n) for n in range(PLAN_DAYS_AHEAD + 1)]


def brightness_for_level(room: RoomState, level: int | None) -> int:
    """Return the brightness (percent) of a level relative to the brightest.

    Lux from a lamp grows with its output, so a level's lux centre over the
    brightest centre of the room is the share of full brightness.
    """
    model = room.model
    if model is None or level is None:
        return 100
    centres = np.asarray(model.levels.centres, dtype=np.float64)
    if not 0 <= level < centres.size or centres[-1] <= 0:
        return 100
    pct = round(100.0 * float(centres[level]) / float(centres[-1]))
    return min(max(pct, MIN_BRIGHTNESS_PCT), 100)


def sample_days(
    jobs: Iterable[SampleJob], location: Location, options: ScheduleOptions
) -> list[PlannedDay]:
    """Sample rooms' days, each with a fresh seed (in the executor)."""
    return [_sample(job, location, options) for job in jobs]


def _sample(job: SampleJob, location: Location, options: ScheduleOptions) -> PlannedDay:
    """Sample a room's day (a few ms per room and day)."""
    seed = secrets.randbits(64)
    try:
        schedule = sample_day(
            job.model,
            job.day,
            location,
            rng=np.random.default_rng(seed),
            start=job.start,
            options=options,
        )
    except Exception:
        # An unusable model must not stop the other rooms.
        _LOGGER.exception("Sampling %s of room %s failed", job.day, job.name)
        schedule = DaySchedule(job.name, job.day, ())
    return PlannedDay(schedule=schedule, seed=seed, start=job.start)
