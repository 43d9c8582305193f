"""Data quality of a lux archive: a stuck sensor, long gaps.

Pure numpy on a ``MinuteSeries``, so the trainer can check its data as the
integration does. The integration turns the findings into its data-problem
states and sensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .series import MinuteSeries

#: Minutes of the archive's end looked at for a stuck sensor (a day).
STUCK_MINUTES = 24 * 60
#: A gap of missing readings longer than this many minutes is long (6 hours).
LONG_GAP_MINUTES = 6 * 60
#: Minutes before now looked at for long gaps (a week).
WINDOW_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Quality:
    """What is wrong with a lux archive (nothing: both false)."""

    stuck: bool = False
    long_gaps: bool = False


def lux_quality(
    series: MinuteSeries | None,
    now_minute: int,
    *,
    stuck_minutes: int = STUCK_MINUTES,
    long_gap_minutes: int = LONG_GAP_MINUTES,
    window_minutes: int = WINDOW_MINUTES,
) -> Quality:
    """Find the data-quality problems of a lux archive.

    - stuck: in the last ``stuck_minutes`` of the archive, readings are
      (almost, 90 %) all there and (almost, 98 %) all the same value, which
      a lux sensor in a room with a window never shows;
    - long gaps: within the last ``window_minutes`` before ``now_minute``
      (epoch minutes), readings are missing for longer than
      ``long_gap_minutes`` at a stretch (the time since the last reading
      counts too).
    """
    if series is None or len(series) == 0:
        return Quality()
    stuck = False
    tail = series.lux[-stuck_minutes:]
    valid_tail = tail[np.isfinite(tail)]
    if tail.size == stuck_minutes and valid_tail.size >= 0.9 * stuck_minutes:
        _values, counts = np.unique(valid_tail, return_counts=True)
        stuck = bool(counts.max() >= 0.98 * valid_tail.size)
    window_start = max(series.start_minute, now_minute - window_minutes)
    end = max(now_minute, series.end_minute)
    missing = np.ones(max(end - window_start, 0), dtype=bool)
    lo = window_start - series.start_minute
    if lo < len(series):
        part = series.lux[lo:][: missing.size]
        missing[: part.size] = ~np.isfinite(part)
    long_gaps = False
    if missing.any():
        # Longest run of True.
        padded = np.concatenate(([False], missing, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        longest = int((edges[1::2] - edges[0::2]).max())
        long_gaps = longest > long_gap_minutes
    return Quality(stuck=stuck, long_gaps=long_gaps)
