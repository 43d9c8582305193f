"""What a room learns from: its lux sensor, its lights' own history, or both.

A room's history comes to the engine as ``RoomSources``: the lux readings on
the minute grid (``None`` for a room without a sensor) and, per light, its
brightness on the same grid (0 off, 1 full, NaN where the light's state is
not known), plus the minutes never to learn from (``excluded``: replay's own
lighting and the time nobody was home). All of them share one grid in
``align``.

How the sources are combined, per minute (``combine_on_off``):

- lights only: the room is on when any light is on, off when every light is
  known to be off (or any known light is on); the whole day is learned,
  daylight hours included, because a light's state is not blinded by the sun;
- lux only: the lux rule of ``training`` (after dark only, by default);
- both: the lights decide wherever their state is known, and after dark a
  lit room that the lights call dark counts as on too (a lamp the lights do
  not cover, such as a plain floor lamp the sensor sees), but only where the
  lights have been off for longer than the sensor's smoothing (``settle``
  minutes: the smoothed lux trails a lamp switched off) and the sensor reads
  at least ``MIN_EXTRA_LUX`` (a room whose lux levels were fitted to noise,
  with no lamp ever on after dark in summer, would light every night);
  where the lights' state is unknown (a light unavailable, a gap in the
  recorder) the lux rule fills in. ``benchmarks/engine_train.py --sources``
  measures the rule against each source alone on the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .series import MinuteSeries

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]
type Int8Array = npt.NDArray[np.int8]

#: The kinds of rooms by what they learn from.
SOURCE_KINDS = ("lux", "lights", "both")
#: Lux below this never adds "on" to what the lights say (sensor noise).
MIN_EXTRA_LUX = 5.0


@dataclass(frozen=True, eq=False)
class RoomSources:
    """A room's history: lux, lights' brightness and the minutes to skip.

    ``lights`` maps a light's key (an entity id, or any stable name) to its
    brightness per minute (0..1, NaN unknown). ``excluded`` holds ranges of
    UTC epoch minutes ``(start, end)``, end exclusive, that are never learned
    from (see ``mask_excluded`` for the margin around them).
    """

    lux: MinuteSeries | None = None
    lights: Mapping[str, MinuteSeries] = field(default_factory=dict)
    excluded: tuple[tuple[int, int], ...] = ()

    @property
    def kind(self) -> str:
        """Return ``"lights"``, ``"lux"`` or ``"both"``."""
        if self.lux is not None and self.lights:
            return "both"
        return "lights" if self.lights else "lux"

    @property
    def light_keys(self) -> tuple[str, ...]:
        """Return the keys of the lights, in a fixed order."""
        return tuple(sorted(self.lights))

    def with_excluded(self, ranges: tuple[tuple[int, int], ...]) -> RoomSources:
        """Return the same sources with more ranges excluded."""
        return RoomSources(self.lux, self.lights, self.excluded + tuple(ranges))


def span(sources: RoomSources) -> tuple[int, int] | None:
    """Return the minutes ``(start, end)`` the sources' values cover, or None."""
    bounds = [
        (int(series.minutes[valid][0]), int(series.minutes[valid][-1]) + 1)
        for series in (sources.lux, *sources.lights.values())
        if series is not None and (valid := series.valid).any()
    ]
    if not bounds:
        return None
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def on_grid(
    series: MinuteSeries | None,
    start: int,
    n: int,
    out: FloatArray | None = None,
) -> FloatArray:
    """Return a series' values on the grid ``start .. start + n`` (NaN outside).

    With ``out`` (``n`` values) the values are written there, not to a new array.
    """
    if out is None:
        out = np.empty(n)
    out.fill(np.nan)
    if series is None or len(series) == 0:
        return out
    lo = max(series.start_minute, start)
    hi = min(series.end_minute, start + n)
    if hi > lo:
        out[lo - start : hi - start] = series.lux[
            lo - series.start_minute : hi - series.start_minute
        ]
    return out


def mask_excluded(
    series: MinuteSeries, excluded: tuple[tuple[int, int], ...], margin: int
) -> MinuteSeries:
    """Return the series with the excluded ranges (widened by ``margin``) missing.

    The margin covers the sensor's smoothing and a lamp still cooling down:
    the minutes right before and after replay are not the household's either.
    """
    if not excluded or len(series) == 0:
        return series
    values = series.lux.copy()
    for start, end in excluded:
        lo = max(start - margin - series.start_minute, 0)
        hi = min(end + margin - series.start_minute, values.size)
        if hi > lo:
            values[lo:hi] = np.nan
    return MinuteSeries(series.start_minute, values)


@dataclass(frozen=True, eq=False)
class LightsOnGrid:
    """The room's lights on one grid: brightness per light and minute.

    ``brightness`` is ``(n_lights, n)`` (NaN unknown); ``value`` is the sum
    of the known brightness, ``known`` says where the room's light state is
    known: every light known, or at least one known light on.
    """

    keys: tuple[str, ...]
    brightness: FloatArray
    value: FloatArray
    known: BoolArray

    @property
    def on(self) -> BoolArray:
        """Return where a light is on (``known`` and ``value > 0``)."""
        return self.known & (self.value > 0.0)


def lights_on_grid(sources: RoomSources, start: int, n: int) -> LightsOnGrid:
    """Put the room's lights on the grid ``start .. start + n``.

    A year of minutes is half a million values per light: the lights are
    put on the grid one at a time, straight into their row, and added up
    as they come (the same sums, light after light, as a sum over the rows).
    """
    keys = sources.light_keys
    brightness = np.empty((len(keys), n))
    value = np.zeros(n)
    all_seen = np.ones(n, dtype=bool)
    any_on = np.zeros(n, dtype=bool)
    seen = np.empty(n, dtype=bool)
    above = np.empty(n, dtype=bool)
    for row, key in enumerate(keys):
        values = on_grid(sources.lights[key], start, n, out=brightness[row])
        np.clip(values, 0.0, 1.0, out=values)
        np.isfinite(values, out=seen)
        all_seen &= seen
        np.add(value, values, out=value, where=seen)
        np.greater(values, 0.0, out=above)
        any_on |= above
    del seen, above
    if keys:
        known = np.logical_or(all_seen, any_on, out=all_seen)
    else:
        known = np.zeros(n, dtype=bool)
    return LightsOnGrid(keys, brightness, value, known)


def combine_on_off(
    lights: LightsOnGrid | None,
    lux_on_off: Int8Array | None,
    lux: FloatArray | None = None,
    *,
    settle: int = 0,
) -> Int8Array:
    """Return the room's on/off per minute (1/0/-1) from its sources.

    See the module's docstring for the rule; ``lux_on_off`` is the lux
    rule's result (already -1 in daylight when only the dark is learned),
    ``lux`` the (smoothed) lux it was found from.
    """
    if lights is None:
        if lux_on_off is None:
            raise ValueError("a room needs a lux sensor or lights to learn from")
        return lux_on_off
    on = lights.on
    state = np.full(on.size, -1, dtype=np.int8)
    state[lights.known] = 0
    state[on] = 1
    if lux_on_off is not None:
        # Minutes since a light was last on, as int32 (a series spans at
        # most MAX_SPAN_MINUTES): whole-length int64 temporaries would be
        # the largest arrays of the preparation.
        index = np.arange(state.size, dtype=np.int32)
        since_on = np.where(on, index, np.int32(-(settle + 1)))
        np.maximum.accumulate(since_on, out=since_on)
        np.subtract(index, since_on, out=since_on)
        del index
        extra = since_on > settle
        del since_on
        extra |= ~lights.known
        extra &= lux_on_off == 1
        if lux is not None:
            # NaN compares False: no reading adds nothing.
            extra &= lux >= MIN_EXTRA_LUX
        state[extra] = 1
        del extra
        fill = lux_on_off == 0
        fill &= ~lights.known
        state[fill] = 0
    return state
