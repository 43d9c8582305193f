"""Days when nobody was home, found from the rooms' lights.

A home left empty for a trip teaches "dark house": its days must not be
learned from. Where the home has no presence entity, a local day on which
no room had any light on, although the rooms were watched (at least
``MIN_WATCHED_MINUTES`` minutes of known state in some room that day), is
taken for a day away. A day half at home (the day of leaving or coming
back) has light and is kept. ``benchmarks/engine_train.py --trip`` measures
the rule on a simulated household that takes a 5-day trip.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from .series import MinuteSeries
from .zones import Location, local_dates, local_midnight

#: A day counts as watched by a room with at least this many known minutes.
MIN_WATCHED_MINUTES = 120


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
        index, dates = local_dates(series.minutes, location)
        n_known = np.bincount(index[known], minlength=len(dates))
        n_on = np.bincount(index[known & (series.lux > 0.5)], minlength=len(dates))
        for i, day in enumerate(dates):
            watched[day] = max(watched.get(day, 0), int(n_known[i]))
            if n_on[i] > 0:
                lit.add(day)
    return tuple(
        (
            local_midnight(day, location),
            local_midnight(day + timedelta(days=1), location),
        )
        for day in sorted(watched)
        if watched[day] >= MIN_WATCHED_MINUTES and day not in lit
    )


def away_periods(
    times_s: Iterable[float], home: Iterable[bool | None], end_s: float
) -> tuple[tuple[int, int], ...]:
    """Turn a presence entity's states into epoch-minute ranges of nobody home.

    ``times_s`` are the moments the state changed, ``home`` whether someone
    was home from then on (None: unknown, never counted as away); the last
    state holds until ``end_s``.
    """
    moments = list(times_s)
    flags = list(home)
    ranges: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag is not False:
            continue
        until = moments[i + 1] if i + 1 < len(moments) else end_s
        start, stop = int(moments[i] // 60), int(-(-until // 60))
        if stop <= start:
            continue
        if ranges and ranges[-1][1] >= start:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], stop))
        else:
            ranges.append((start, stop))
    return tuple(ranges)
