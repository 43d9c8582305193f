"""How real do generated days look? Metrics, baselines and one score.

A day is 1440 values by local wall-clock minute: 1 (on), 0 (off) or NaN
(not observed). The metrics of a set of days:

- ``hourly``: the probability that the light is on, per hour of the day;
- ``on_minutes``: minutes on per day;
- ``periods``: number of on-periods per day;
- ``period_lengths``: lengths of all on-periods, in minutes;
- ``variability``: how different two days are, the mean over all pairs of
  days of the fraction of minutes where one is on and the other off.

Per-day figures use only days observed for at least ``MIN_COVERAGE`` of
their minutes (on-minutes are scaled up to the whole day).

``compare`` turns two sets of metrics into distances, each between 0 (the
same) and 1, and their mean, ``score``:

- ``hourly``: mean absolute difference of the hourly profiles;
- ``on_minutes``, ``periods``, ``period_lengths``: Kolmogorov-Smirnov
  distance between the two distributions;
- ``variability``: ``|a - b| / max(a, b)``.

A method beats a baseline when its ``score`` against the real days is lower.
The baselines are what simple tools do: replay the same weekday of last week
(Home Assistant's usual presence simulation), or a fixed timer from sunset to
23:00.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta

import numpy as np
import numpy.typing as npt

from .levels import Levels
from .model import RoomModel
from .schedule import ScheduleOptions, sample_day
from .series import MinuteSeries
from .training import lamp_on_off
from .zones import (
    DARK_ELEVATION_DEG,
    MINUTES_PER_DAY,
    Location,
    day_zones,
    local_clock,
    local_midnight,
    solar_elevation,
)

type FloatArray = npt.NDArray[np.float64]
type Days = Mapping[date, FloatArray]

#: A day counts for per-day figures when this share of it was observed.
MIN_COVERAGE = 0.8
#: Missing stretches up to this long inside a real day keep the state before.
MAX_FILL_MINUTES = 10
#: How many weeks back the "same weekday" baseline looks for a recorded day.
MAX_WEEKS_BACK = 8
#: The components of ``score``.
COMPONENTS = ("hourly", "on_minutes", "periods", "period_lengths", "variability")


@dataclass(frozen=True, eq=False)
class Metrics:
    """Realism metrics of a set of days (see the module's docstring)."""

    hourly: FloatArray
    on_minutes: FloatArray
    periods: FloatArray
    period_lengths: FloatArray
    variability: float
    n_days: int


def on_off_series(
    levels: Levels, series: MinuteSeries, location: Location | None = None
) -> MinuteSeries:
    """Return the on/off state of a (smoothed) lux series: 1, 0 or NaN.

    With ``location``, a bright minute while the sun is above civil dusk
    counts as off: daylight, not a lamp (the lamp light that matters is
    the light after dark, and the models learn from that). Without it every
    bright minute counts as on, as in the original system.
    """
    if location is None:
        on_off = levels.on_off(series.lux)
    else:
        elevation = solar_elevation(series.minutes, location)
        on_off = lamp_on_off(levels, series.lux, elevation, daylight="off")
    state = on_off.astype(np.float64)
    state[state < 0] = np.nan
    return MinuteSeries(series.start_minute, state)


def real_days(
    series_on_off: MinuteSeries, location: Location
) -> dict[date, FloatArray]:
    """Cut an on/off minute series (1/0/NaN) into local days of 1440 minutes.

    Missing stretches of up to ``MAX_FILL_MINUTES`` minutes take the state
    before them (smoothing widens every short gap of the readings); longer
    ones stay NaN. On a 1500-minute day the repeated hour keeps its second
    pass; on a 1380-minute day the skipped hour is NaN.
    """
    values = _fill_short_gaps(series_on_off.lux, MAX_FILL_MINUTES)
    index, dates, wall = local_clock(series_on_off.minutes, location)
    grid = np.full((len(dates), MINUTES_PER_DAY), np.nan)
    grid[index, np.clip(wall, 0, MINUTES_PER_DAY - 1)] = values
    observed = np.isfinite(grid).any(axis=1)
    return {d: grid[i] for i, d in enumerate(dates) if observed[i]}


def _fill_short_gaps(values: FloatArray, max_fill: int) -> FloatArray:
    """Forward-fill NaN runs of at most ``max_fill`` that follow a value."""
    out = np.asarray(values, dtype=np.float64).copy()
    missing = ~np.isfinite(out)
    if not missing.any() or max_fill <= 0:
        return out
    n = out.size
    last = np.maximum.accumulate(np.where(missing, -1, np.arange(n)))
    # Length of the missing run each missing minute belongs to.
    padded = np.concatenate(([False], missing, [False])).astype(np.int8)
    starts = np.flatnonzero(np.diff(padded) == 1)
    ends = np.flatnonzero(np.diff(padded) == -1)
    run_length = np.zeros(n, dtype=np.int64)
    run_length[missing] = np.repeat(ends - starts, ends - starts)
    fill = missing & (last >= 0) & (run_length <= max_fill)
    out[fill] = out[last[fill]]
    return out


def _stack(days: Days) -> FloatArray:
    """Return the days as a (n_days, 1440) array in date order."""
    if not days:
        return np.zeros((0, MINUTES_PER_DAY))
    rows = [np.asarray(days[d], dtype=np.float64).ravel() for d in sorted(days)]
    for row in rows:
        if row.size != MINUTES_PER_DAY:
            raise ValueError(f"a day has {MINUTES_PER_DAY} minutes, got {row.size}")
    return np.vstack(rows)


def measure(days: Days) -> Metrics:
    """Compute the realism metrics of a set of days."""
    grid = _stack(days)
    observed = np.isfinite(grid)
    on = np.where(observed, grid, 0.0) > 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour_on = on.reshape(-1, 24, 60).sum(axis=(0, 2))
        per_hour_seen = observed.reshape(-1, 24, 60).sum(axis=(0, 2))
        hourly = np.where(per_hour_seen > 0, per_hour_on / per_hour_seen, 0.0)
    coverage = observed.mean(axis=1) if grid.shape[0] else np.zeros(0)
    full = coverage >= MIN_COVERAGE
    on_full = on[full]
    on_minutes = on_full.sum(axis=1) / coverage[full]
    padded = np.pad(on_full.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    periods = (edges == 1).sum(axis=1).astype(np.float64)
    # Periods cut by a missing stretch or a day's edge count as they were seen.
    flat = np.pad(on.astype(np.int8), ((0, 0), (1, 1))).ravel()
    flat_edges = np.diff(flat)
    lengths = np.flatnonzero(flat_edges == -1) - np.flatnonzero(flat_edges == 1)
    return Metrics(
        hourly=np.asarray(hourly, dtype=np.float64),
        on_minutes=np.asarray(on_minutes, dtype=np.float64),
        periods=periods,
        period_lengths=lengths.astype(np.float64),
        variability=_variability(on_full, observed[full]),
        n_days=int(grid.shape[0]),
    )


def _variability(on: npt.NDArray[np.bool_], seen: npt.NDArray[np.bool_]) -> float:
    """Mean over pairs of days of the share of minutes where they differ."""
    if on.shape[0] < 2:
        return 0.0
    x = (on & seen).astype(np.float64)
    off = (~on & seen).astype(np.float64)
    both = seen.astype(np.float64) @ seen.astype(np.float64).T
    differ = x @ off.T + off @ x.T
    upper = np.triu_indices(on.shape[0], k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = differ[upper] / both[upper]
    share = share[np.isfinite(share)]
    return float(share.mean()) if share.size else 0.0


def ks_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Kolmogorov-Smirnov distance between two samples (0 same, 1 disjoint).

    Two empty samples are the same (0); one empty sample is as far as can
    be from a non-empty one (1).
    """
    x = np.sort(np.asarray(a, dtype=np.float64).ravel())
    y = np.sort(np.asarray(b, dtype=np.float64).ravel())
    if x.size == 0 or y.size == 0:
        return 0.0 if x.size == y.size else 1.0
    points = np.concatenate((x, y))
    cdf_x = np.searchsorted(x, points, side="right") / x.size
    cdf_y = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))


def compare(real: Metrics | Days, generated: Metrics | Days) -> dict[str, float]:
    """Return the distances between real and generated days, and ``score``."""
    r = real if isinstance(real, Metrics) else measure(real)
    g = generated if isinstance(generated, Metrics) else measure(generated)
    top = max(r.variability, g.variability)
    result = {
        "hourly": float(np.mean(np.abs(r.hourly - g.hourly))),
        "on_minutes": ks_distance(r.on_minutes, g.on_minutes),
        "periods": ks_distance(r.periods, g.periods),
        "period_lengths": ks_distance(r.period_lengths, g.period_lengths),
        "variability": abs(r.variability - g.variability) / top if top > 0 else 0.0,
    }
    result["score"] = float(np.mean([result[c] for c in COMPONENTS]))
    return result


def generate_days(
    model: RoomModel,
    days: Iterable[date],
    location: Location,
    *,
    rng: np.random.Generator,
    options: ScheduleOptions | None = None,
) -> dict[date, FloatArray]:
    """Sample a schedule for each day and return its on-minutes as 1/0."""
    return {
        d: sample_day(model, d, location, rng=rng, options=options)
        .on_minutes()
        .astype(np.float64)
        for d in days
    }


def baseline_same_weekday_last_week(
    real: Days, days: Iterable[date]
) -> dict[date, FloatArray]:
    """Replay, for each day, the recorded day one week earlier.

    If that day was not recorded, the same weekday further back is used (up
    to ``MAX_WEEKS_BACK`` weeks); a day with none is left out.
    """
    out: dict[date, FloatArray] = {}
    for d in days:
        for weeks in range(1, MAX_WEEKS_BACK + 1):
            source = d - timedelta(weeks=weeks)
            if source in real:
                out[d] = np.asarray(real[source], dtype=np.float64).copy()
                break
    return out


def baseline_fixed_timer(
    days: Iterable[date], location: Location, off_at: time = time(23)
) -> dict[date, FloatArray]:
    """Return the days of a timer: on at sunset, off at ``off_at``."""
    out: dict[date, FloatArray] = {}
    end = off_at.hour * 60 + off_at.minute
    for d in days:
        sunset = day_zones(d, location).sunset
        start = sunset.hour * 60 + sunset.minute if sunset.date() == d else end
        row = np.zeros(MINUTES_PER_DAY)
        row[start:end] = 1.0
        out[d] = row
    return out


def sensor_view(days: Days, location: Location) -> dict[date, FloatArray]:
    """Return days as a lux sensor sees them: sun above civil dusk counts as off.

    Real days of a lux sensor come through ``on_off_series`` with the
    location, where daylight hides the lamps; generated or timer days
    compared with them are seen the same way, or every lamp lit at dusk
    (on a while before the sensor could tell) counts against them.
    """
    out: dict[date, FloatArray] = {}
    for day, row in days.items():
        minutes = np.arange(
            local_midnight(day, location), local_midnight(day + timedelta(1), location)
        )
        wall = np.clip(local_clock(minutes, location)[2], 0, MINUTES_PER_DAY - 1)
        seen = np.asarray(row, dtype=np.float64).copy()
        seen[wall[solar_elevation(minutes, location) >= DARK_ELEVATION_DEG]] = 0.0
        out[day] = seen
    return out
