"""Raw lux readings as a regular one-minute series.

Sensors report roughly once a minute, sometimes twice within a few seconds,
sometimes not at all for a while. Everything downstream works on a regular
grid of UTC *epoch minutes* (minutes since 1970-01-01 UTC), so this module
turns readings into that grid and smooths it.

Rules for the readings, applied on purpose and in this order:

1. A reading with a timestamp or a value that is not a finite number (NaN,
   infinity) is dropped: it carries no information.
2. Slightly negative values (down to ``-NEGATIVE_TOLERANCE_LUX``) are sensor
   offset noise in the dark and become 0 lx. More negative values cannot be
   light and are dropped.
3. Values above ``max_lux`` are absurd spikes (a bus glitch, a wrong unit) and
   are dropped. The default is above full sunlight on a sensor.
4. Several readings in the same minute (doubled readings within seconds are
   common) are averaged.
5. A minute without a reading takes the value of the reading before it
   (light is a state: it stays what it was until the next report), but only
   when the time between that reading and the next one is at most
   ``max_gap_minutes``. Across a longer gap every minute stays missing (NaN):
   nothing is ever interpolated across a gap.

A device that records its *state changes* rather than readings (a light:
on, off, a brightness) is put on the same grid by ``held_minute_series``:
each state holds until the next change, however long, unless a limit is
given.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import numpy.typing as npt

#: Negative readings down to this many lux are sensor noise and mean 0 lx.
NEGATIVE_TOLERANCE_LUX = 5.0
#: Default upper bound of a plausible reading; full sunlight is about 100 klx.
DEFAULT_MAX_LUX = 150_000.0
#: Default number of samples of the sliding mean, as the original system.
DEFAULT_WINDOW = 5
#: Longest span of readings accepted (5 years): a wrong timestamp far off
#: would otherwise ask for an enormous series.
MAX_SPAN_MINUTES = 5 * 366 * 1440

type FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MinuteSeries:
    """Lux on a regular grid of UTC epoch minutes; NaN marks a missing minute.

    ``lux[i]`` belongs to epoch minute ``start_minute + i``. ``end_minute`` is
    exclusive (the first minute after the series).
    """

    start_minute: int
    lux: FloatArray

    def __post_init__(self) -> None:
        """Store the values as a one-dimensional float64 array."""
        values = np.asarray(self.lux, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError("a minute series holds a one-dimensional array")
        object.__setattr__(self, "start_minute", int(self.start_minute))
        object.__setattr__(self, "lux", values)

    def __len__(self) -> int:
        """Return the number of minutes covered (missing ones included)."""
        return int(self.lux.shape[0])

    @property
    def minutes(self) -> npt.NDArray[np.int64]:
        """Return the epoch minute of every value."""
        return np.arange(self.start_minute, self.end_minute, dtype=np.int64)

    @property
    def end_minute(self) -> int:
        """Return the first epoch minute after the series (exclusive end)."""
        return self.start_minute + len(self)

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        """Return a mask of the minutes that have a value."""
        return np.isfinite(self.lux)

    @property
    def n_valid(self) -> int:
        """Return the number of minutes with a value."""
        return int(np.count_nonzero(self.valid))


def clean_readings(
    timestamps_s: npt.ArrayLike,
    lux: npt.ArrayLike,
    *,
    max_lux: float = DEFAULT_MAX_LUX,
) -> tuple[FloatArray, FloatArray]:
    """Apply rules 1-3 of the module: drop invalid readings, clip noise to 0.

    Returns the remaining (timestamps, lux) sorted by time.
    """
    times = np.asarray(timestamps_s, dtype=np.float64).ravel()
    values = np.asarray(lux, dtype=np.float64).ravel()
    if times.shape != values.shape:
        raise ValueError(
            f"{times.size} timestamps but {values.size} lux values: "
            "they must have the same length"
        )
    keep = np.isfinite(times)
    keep &= np.isfinite(values)
    keep &= values >= -NEGATIVE_TOLERANCE_LUX
    keep &= values <= max_lux
    times = times[keep]
    values = values[keep]
    del keep
    np.maximum(values, 0.0, out=values)
    if times.size > 1 and bool(np.any(times[1:] < times[:-1])):
        order = np.argsort(times, kind="stable")
        return times[order], values[order]
    # Already in order (as history is): no sorting copies.
    return times, values


def to_minute_series(
    timestamps_s: npt.ArrayLike,
    lux: npt.ArrayLike,
    *,
    max_gap_minutes: int = 10,
    max_lux: float = DEFAULT_MAX_LUX,
) -> MinuteSeries:
    """Turn readings (UTC epoch seconds, lux) into a one-minute series.

    The series runs from the minute of the first valid reading to the minute
    of the last one. See the module's docstring for the rules; an input
    without any valid reading raises ``ValueError``.
    """
    if max_gap_minutes < 0:
        raise ValueError("max_gap_minutes must not be negative")
    times, values = clean_readings(timestamps_s, lux, max_lux=max_lux)
    if times.size == 0:
        raise ValueError("no valid lux readings")

    # The minute of each reading, from the first reading's minute. Arrays
    # of minutes are int32 (a series spans at most MAX_SPAN_MINUTES) and
    # temporaries are dropped as soon as they are used: a year of readings
    # is half a million values.
    start = math.floor(float(times[0]) / 60.0)
    n = math.floor(float(times[-1]) / 60.0) - start + 1
    if n > MAX_SPAN_MINUTES:
        raise ValueError(
            f"readings span {n / 1440:.0f} days, more than {MAX_SPAN_MINUTES // 1440}"
            " days: check the timestamps (UTC epoch seconds)"
        )
    index = np.floor(times / 60.0)
    index -= start
    index = index.astype(np.int32)
    # Mean of the readings that fall in each minute.
    out = np.bincount(index, weights=values, minlength=n).astype(np.float64, copy=False)
    counts = np.bincount(index, minlength=n)
    observed = counts > 0
    np.divide(out, counts, out=out, where=observed)
    del counts
    out[~observed] = np.nan
    # Hold the last value through short silences only. For each observed
    # minute, the next observed minute and the time between the readings
    # decide whether the minutes in between are filled.
    obs_idx = np.flatnonzero(observed).astype(np.int32)
    if obs_idx.size > 1:
        # Seconds from the last reading of one observed minute to the first
        # reading of the next observed minute.
        first_in_minute = np.searchsorted(index, obs_idx[1:], side="left")
        silence_s = times[first_in_minute]
        del first_in_minute
        last_in_minute = np.searchsorted(index, obs_idx[:-1], side="right")
        last_in_minute -= 1
        silence_s -= times[last_in_minute]
        del last_in_minute
        # Forward fill: every minute takes the index of the last observed
        # minute at or before it, but only where the silence after that
        # observed minute is short.
        fill_ok = np.zeros(n, dtype=bool)
        fill_ok[obs_idx[:-1]] = silence_s <= max_gap_minutes * 60.0
        del silence_s
        last_obs = np.arange(n, dtype=np.int32)
        last_obs[~observed] = 0
        np.maximum.accumulate(last_obs, out=last_obs)
        holdable = fill_ok[last_obs]
        del fill_ok
        holdable &= ~observed
        out[holdable] = out[last_obs[holdable]]
    return MinuteSeries(start, out)


def smooth(series: MinuteSeries, window: int = DEFAULT_WINDOW) -> MinuteSeries:
    """Trailing sliding mean of ``window`` minutes that never crosses a gap.

    The value at minute ``t`` is the mean of minutes ``t - window + 1 .. t``
    and exists only when all of them have a value; otherwise it is missing.
    So the first ``window - 1`` minutes after a gap are missing too, rather
    than averaged over fewer samples.
    """
    if window < 1:
        raise ValueError("the smoothing window must be at least 1")
    values = series.lux
    if window == 1 or values.size == 0:
        return MinuteSeries(series.start_minute, values.copy())
    out = np.full(values.size, np.nan)
    if values.size >= window:
        # A NaN anywhere in a window makes its mean NaN: exactly the rule.
        windows = np.lib.stride_tricks.sliding_window_view(values, window)
        out[window - 1 :] = windows.mean(axis=1)
    return MinuteSeries(series.start_minute, out)


def held_minute_series(
    times_s: npt.ArrayLike,
    values: npt.ArrayLike,
    end_s: float,
    *,
    max_hold_s: float | None = None,
) -> MinuteSeries:
    """Turn state changes (UTC epoch seconds, value) into a one-minute series.

    Each state holds from its time until the next change, the last one until
    ``end_s``, and for at most ``max_hold_s`` seconds when given (the minutes
    after that are missing). A NaN value is a state that is not known (a
    device ``unavailable`` or ``unknown``): it ends the state before it and
    its minutes are missing. A minute takes the state in force at its middle
    (second 30), so a change in the first half of a minute counts from that
    minute, a later one from the next. Changes with a time that is not a
    finite number are dropped; of changes at the same time the last counts.

    The series runs from the first minute whose middle follows the first
    change to the last minute whose middle comes before ``end_s``; it is
    empty when there is no such minute.
    """
    times = np.asarray(times_s, dtype=np.float64).ravel()
    states = np.asarray(values, dtype=np.float64).ravel()
    if times.shape != states.shape:
        raise ValueError(
            f"{times.size} times but {states.size} values: "
            "they must have the same length"
        )
    keep = np.isfinite(times)
    times, states = times[keep], states[keep]
    order = np.argsort(times, kind="stable")
    times, states = times[order], states[order]
    if times.size == 0 or not math.isfinite(end_s):
        return MinuteSeries(0, np.empty(0))
    start = math.ceil((times[0] - 30.0) / 60.0)
    end = max(math.ceil((end_s - 30.0) / 60.0), start)
    if end - start > MAX_SPAN_MINUTES:
        raise ValueError(
            f"states span {(end - start) / 1440:.0f} days, more than"
            f" {MAX_SPAN_MINUTES // 1440} days: check the timestamps"
            " (UTC epoch seconds)"
        )
    middles = np.arange(start, end, dtype=np.float64) * 60.0 + 30.0
    index = np.searchsorted(times, middles, side="right") - 1
    out = states[np.maximum(index, 0)].copy()
    out[index < 0] = np.nan
    if max_hold_s is not None:
        out[middles - times[np.maximum(index, 0)] > max_hold_s] = np.nan
    return MinuteSeries(start, out)
