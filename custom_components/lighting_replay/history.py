"""Read a room's sources from the recorder as minute series.

Home Assistant records a state only when it changes, so a state holds until
the next one: 0 lx at 23:00 followed by 14 lx at 06:40 means it was dark all
night. This module turns those held states into one sample per minute and
hands them to the engine's `to_minute_series`, which builds the regular grid.
What a state is worth depends on the entity (`StateKind`):

- a lux sensor (`LUX`): its reading in lux, held for at most `MAX_HOLD`;
  states that are not readings (`unavailable`, `unknown`, text) and readings
  in a unit that is not an illuminance unit end the hold: those minutes
  stay missing;
- a light or a switch (`LIGHT`): its brightness, 0 when off and from 0 to 1
  when on (the `brightness` attribute over 255, or 1 where none is
  recorded, as for a switch); held until the next state, however long (a
  lamp left off for a week was off); `unavailable` and `unknown` are
  missing;
- a presence entity (`PRESENCE`): 1 while anybody is home, 0 while nobody
  is, held like a light.

`read_minute_series` does blocking database reads: run it in the recorder's
own executor (`recorder.get_instance(hass).async_add_executor_job`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
import gc
import math

from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.components.recorder import history
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_HOME,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, State, split_entity_id
import numpy as np
import numpy.typing as npt

from .const import LUX_UNITS, MAX_HOLD
from .engine.series import MinuteSeries, to_minute_series

type FloatArray = npt.NDArray[np.float64]

# Rows per history query. The database driver turns a query's rows into
# Python objects without letting other threads run, so a large page would
# stall the event loop; a thousand rows take a few milliseconds.
PAGE_ROWS = 1000


@dataclass(kw_only=True)
class HistoryReport:
    """What the reader found besides readings, for logs and diagnostics."""

    states: int = 0
    not_numeric: int = 0
    other_units: dict[str, int] = field(default_factory=dict)


def light_value_of(state: State, report: HistoryReport) -> float:
    """Return a light's or switch's brightness (0..1), NaN if not known."""
    if state.state == STATE_OFF:
        return 0.0
    if state.state != STATE_ON:
        if state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            report.not_numeric += 1
        return math.nan
    brightness = state.attributes.get(ATTR_BRIGHTNESS)
    if isinstance(brightness, int | float) and math.isfinite(brightness):
        # On at brightness 0 still shines a little.
        return min(max(float(brightness) / 255.0, 1.0 / 255.0), 1.0)
    return 1.0


def presence_value_of(state: State, report: HistoryReport) -> float:
    """Return 1 while anybody is home, 0 while nobody is, NaN if not known.

    A person, device tracker or group of them is home in the state `home`;
    a binary sensor or a group of them while `on`; a zone while the number
    of people in it (its state) is above 0.
    """
    value = state.state
    if value in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return math.nan
    if value in (STATE_HOME, STATE_ON):
        return 1.0
    # The recorder's states (`LazyState`) have no `domain`: take the entity_id's.
    if split_entity_id(state.entity_id)[0] == "zone":
        try:
            return 1.0 if int(value) > 0 else 0.0
        except ValueError:
            report.not_numeric += 1
            return math.nan
    return 0.0


def reading_of(state: State, report: HistoryReport) -> float:
    """Return a state's lux value, or NaN if it is not an illuminance reading."""
    try:
        value = float(state.state)
    except ValueError:
        report.not_numeric += 1
        return math.nan
    if not math.isfinite(value):
        report.not_numeric += 1
        return math.nan
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit is None:
        # An illuminance sensor without a unit reports lux.
        return value
    if (factor := LUX_UNITS.get(str(unit).strip().lower())) is None:
        report.other_units[str(unit)] = report.other_units.get(str(unit), 0) + 1
        return math.nan
    return value * factor


class StateKind(Enum):
    """What an entity's states are worth: its value function, its hold."""

    LUX = "lux"
    LIGHT = "light"
    PRESENCE = "presence"

    def value_of(self, state: State, report: HistoryReport) -> float:
        """Return a state's value for this kind (NaN: no value)."""
        if self is StateKind.LUX:
            return reading_of(state, report)
        if self is StateKind.LIGHT:
            return light_value_of(state, report)
        return presence_value_of(state, report)

    @property
    def max_hold(self) -> timedelta | None:
        """Return how long a state may hold (None: until the next one)."""
        return MAX_HOLD if self is StateKind.LUX else None

    @property
    def needs_attributes(self) -> bool:
        """Return whether the value depends on the state's attributes."""
        return self is not StateKind.PRESENCE


def held_samples(
    times_s: FloatArray,
    values: FloatArray,
    end_s: float,
    max_hold: timedelta | None = MAX_HOLD,
) -> tuple[FloatArray, FloatArray]:
    """Expand states (time, value) into one sample a minute while each holds.

    A state holds until the next one (the last until `end_s`), for at most
    `max_hold` (None: no limit). NaN values yield no samples.
    """
    if times_s.size == 0:
        return np.empty(0), np.empty(0)
    until = np.append(times_s[1:], end_s)
    if max_hold is not None:
        until = np.minimum(until, times_s + max_hold.total_seconds())
    counts = np.ceil((until - times_s) / 60.0).astype(np.int64)
    counts[~np.isfinite(values) | (counts < 0)] = 0
    total = int(counts.sum())
    if total == 0:
        return np.empty(0), np.empty(0)
    firsts = np.cumsum(counts) - counts
    steps = np.arange(total) - np.repeat(firsts, counts)
    return np.repeat(times_s, counts) + 60.0 * steps, np.repeat(values, counts)


def _state_changes(
    hass: HomeAssistant,
    entity_id: str,
    start: datetime,
    end: datetime,
    *,
    attributes: bool,
) -> Iterator[State]:
    """Yield an entity's states from `start` to `end`, a page at a time.

    The first is the state in force at `start`.
    """
    page_start = start
    first_page = True
    while True:
        # The previous page is garbage by now: a young collection here keeps
        # the next page's objects from being promoted to the oldest
        # generation (a collection during the page would promote them), and
        # promotions are what start a full collection, which stops every
        # thread, the event loop too.
        gc.collect(1)
        states = history.state_changes_during_period(
            hass,
            page_start,
            end,
            entity_id,
            no_attributes=not attributes,
            limit=PAGE_ROWS,
            include_start_time_state=first_page,
        ).get(entity_id, [])
        for state in states:
            # A page starts at the previous page's last row, which the query
            # may return again (its time went through a float and back).
            if not first_page and state.last_changed <= page_start:
                continue
            yield state
        if len(states) < PAGE_ROWS:
            return
        page_start = max(
            states[-1].last_changed, page_start + timedelta(microseconds=1)
        )
        first_page = False
        del states


def read_minute_series(
    hass: HomeAssistant,
    entity_id: str,
    start: datetime,
    end: datetime,
    kind: StateKind = StateKind.LUX,
) -> tuple[MinuteSeries | None, HistoryReport]:
    """Read `entity_id` from `start` to `end` as whole minutes (end exclusive).

    Returns None for the series when there is no valid value.
    """
    report = HistoryReport()
    start_s = start.timestamp()
    end_s = end.timestamp()
    state_times = array("d")
    state_values = array("d")
    for state in _state_changes(
        hass, entity_id, start, end, attributes=kind.needs_attributes
    ):
        report.states += 1
        state_times.append(max(state.last_changed.timestamp(), start_s))
        state_values.append(kind.value_of(state, report))

    times, values = held_samples(
        np.frombuffer(state_times, dtype=np.float64),
        np.frombuffer(state_values, dtype=np.float64),
        end_s,
        kind.max_hold,
    )
    keep = (times >= start_s) & (times < end_s)
    if not np.any(keep & np.isfinite(values)):
        return None, report
    series = to_minute_series(times[keep], values[keep], max_gap_minutes=1)
    # Only whole minutes before `end` (the current minute is not over).
    end_minute = math.floor(end_s / 60)
    if series.end_minute > end_minute:
        series = MinuteSeries(
            series.start_minute, series.lux[: max(0, end_minute - series.start_minute)]
        )
    return (series if len(series) else None), report
