"""Days when nobody was home, found from the rooms' lights.

A home left empty for a trip teaches "dark house": its days must not be
learned from. Where the home has no presence entity, a local day is *dark*
when no room had any light on although the rooms were watched (at least
``MIN_WATCHED_MINUTES`` minutes of known state in some room that day). A
dark day alone is not a trip: a home with one room, or a lux room that sees
only the short summer nights, is dark on many normal days (a simulated lux
bedroom alone: 6 to 21 dark days in 8 weeks; all three simulated rooms
from lux: 3 in 672 days). So a run of consecutive dark days is taken for
time away only when it is at least ``MIN_AWAY_DAYS`` long and unlikely for
this home: ``q ** length <= MAX_CHANCE``, with ``q`` the home's share of
dark days among its watched days, one dark and one lit day added
(``(dark + 1) / (watched + 2)``; leaving the run itself out of ``q`` took
normal days of a one-room home for trips). A day half at home (the day of leaving or coming back) has light and is kept.
``benchmarks/engine_train.py --trip`` measures the rule on simulated
households that take a 5-day trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from .series import MinuteSeries
from .zones import Location, local_clock, local_midnight

#: A day counts as watched by a room with at least this many known minutes
#: from noon on.
MIN_WATCHED_MINUTES = 120
#: Local wall-clock minute from which a day's minutes count as watched.
WATCHED_FROM_MINUTE = 12 * 60
#: The shortest run of dark days taken for time away.
MIN_AWAY_DAYS = 2
#: A run of dark days is time away when a home at home would show it with
#: at most this chance (its share of dark days to the run's length).
MAX_CHANCE = 1e-3


def absent_days(
    rooms_on_off: Iterable[MinuteSeries], location: Location
) -> tuple[tuple[int, int], ...]:
    """Return the absent days as epoch-minute ranges ``(midnight, next midnight)``.

    ``rooms_on_off`` holds each room's on/off per minute (1, 0, NaN
    unknown), as the room learns it (lux rooms after dark only).
    """
    watched: dict[date, int] = {}
    lit: set[date] = set()
    for series in rooms_on_off:
        if len(series) == 0:
            continue
        known = np.isfinite(series.lux)
        index, dates, wall = local_clock(series.minutes, location)
        counted = known & (wall >= WATCHED_FROM_MINUTE)
        n_known = np.bincount(index[counted], minlength=len(dates))
        n_on = np.bincount(index[known & (series.lux > 0.5)], minlength=len(dates))
        for i, day in enumerate(dates):
            whole = local_midnight(day + timedelta(days=1), location) <= (
                series.end_minute
            )
            if whole:
                watched[day] = max(watched.get(day, 0), int(n_known[i]))
            if n_on[i] > 0:
                lit.add(day)
    seen = sorted(day for day, n in watched.items() if n >= MIN_WATCHED_MINUTES)
    dark = [day for day in seen if day not in lit]
    # The share of dark days, the run's own included: a home left for long
    # is not sure of itself, and a home dark on many days needs long runs.
    share = (len(dark) + 1) / (len(seen) + 2)
    runs: list[list[date]] = []
    for day in dark:
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return tuple(
        (
            local_midnight(day, location),
            local_midnight(day + timedelta(days=1), location),
        )
        for run in runs
        if len(run) >= MIN_AWAY_DAYS and share ** len(run) <= MAX_CHANCE
        for day in run
    )


def away_ranges(presence: MinuteSeries | None) -> tuple[tuple[int, int], ...]:
    """Return the epoch-minute ranges a presence series says nobody was home.

    ``presence`` holds 1 for minutes someone was home, 0 for minutes nobody
    was, NaN where it is unknown (never counted as away). Each range is
    ``(first minute away, first minute after)``.
    """
    if presence is None or len(presence) == 0:
        return ()
    away = np.concatenate(([False], presence.lux == 0.0, [False])).astype(np.int8)
    edges = np.diff(away)
    starts = np.flatnonzero(edges == 1) + presence.start_minute
    ends = np.flatnonzero(edges == -1) + presence.start_minute
    return tuple((int(a), int(b)) for a, b in zip(starts, ends, strict=True))
