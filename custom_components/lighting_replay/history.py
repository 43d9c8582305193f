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

It reads the recorder's `states` table through the recorder's own session,
the same rows Home Assistant's history API returns (the state in force at
the start, then every row where the value depends on the attributes, as
`get_significant_states` without `significant_changes_only` does, or each
change of state, as `state_changes_during_period` does), but as plain
(time, state, where the attributes are) rows streamed a page at a time: no
state object, no datetime and no attribute dictionary per row. Each distinct
attributes row is decoded once. A year of a lux sensor is about half a
million rows; made into state objects they cost seconds, and the objects
that outlived a young collection were promoted into the oldest generation
until a full collection ran, which stops every thread, the event loop too,
for 100 ms and more. The rows here are consumed as they arrive and leave
nothing tracked behind (the values go into plain arrays), so reading
promotes nothing.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
import itertools
import math
import re
from typing import Any

from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.components.recorder.db_schema import StateAttributes, States
from homeassistant.components.recorder.models.state_attributes import (
    decode_attributes_from_source,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_HOME,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import CoreState, HomeAssistant, State, split_entity_id
from homeassistant.helpers.recorder import get_instance, session_scope
import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Select, case, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .const import LUX_UNITS, MAX_HOLD
from .engine.series import MinuteSeries, to_minute_series

type FloatArray = npt.NDArray[np.float64]
#: Where a row's attributes are: the id of a shared attributes row, the
#: attributes kept in the row itself (rows older than the shared table), or
#: none.
type AttributesKey = int | str | None

# Rows fetched from the database at a time. Fetching a page holds the
# interpreter (the driver makes the page's rows in one go), and the rows of
# a page are alive until it is consumed: a few hundred rows keep both short.
PAGE_ROWS = 500
# Databases whose rows are read from the driver's cursor (see `_pages`).
DRIVER_CURSOR_DIALECTS = frozenset({"sqlite"})
# Distinct states whose value is kept (per entity and attributes row). A
# sensor reporting many digits has nearly as many states as rows: past this
# many, its further states are worked out row by row, not kept.
MAX_KEPT_STATES = 1 << 16


class ReadingStopped(Exception):
    """Home Assistant stops: a read was given up before the recorder closes."""


# While Home Assistant is in these states, a read stops at its next page: the
# recorder closes its connections as it stops, under a cursor still reading.
_STOPPING = frozenset(
    {CoreState.stopping, CoreState.final_write, CoreState.not_running}
)


@dataclass(kw_only=True)
class HistoryReport:
    """What the reader found besides readings, for logs and diagnostics."""

    states: int = 0
    not_numeric: int = 0
    other_units: dict[str, int] = field(default_factory=dict)


#: A sensor state that is a number (see `lux_value`).
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def light_value(
    state: str, attributes: Mapping[str, Any], report: HistoryReport
) -> float:
    """Return a light's or switch's brightness (0..1), NaN if not known."""
    if state == STATE_OFF:
        return 0.0
    if state != STATE_ON:
        if state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            report.not_numeric += 1
        return math.nan
    brightness = attributes.get(ATTR_BRIGHTNESS)
    if isinstance(brightness, int | float) and math.isfinite(brightness):
        # On at brightness 0 still shines a little.
        return min(max(float(brightness) / 255.0, 1.0 / 255.0), 1.0)
    return 1.0


def presence_value(state: str, entity_id: str, report: HistoryReport) -> float:
    """Return 1 while anybody is home, 0 while nobody is, NaN if not known.

    A person, device tracker or group of them is home in the state `home`;
    a binary sensor or a group of them while `on`; a zone while the number
    of people in it (its state) is above 0.
    """
    if state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return math.nan
    if state in (STATE_HOME, STATE_ON):
        return 1.0
    if split_entity_id(entity_id)[0] == "zone":
        try:
            return 1.0 if int(state) > 0 else 0.0
        except ValueError:
            report.not_numeric += 1
            return math.nan
    return 0.0


def lux_factor(attributes: Mapping[str, Any]) -> float | str:
    """Return the factor to lux of a sensor's unit, or the unit if it has none."""
    unit = attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit is None:
        # An illuminance sensor without a unit reports lux.
        return 1.0
    if (factor := LUX_UNITS.get(str(unit).strip().lower())) is None:
        return str(unit)
    return factor


def lux_value(state: str, factor: float | str, report: HistoryReport) -> float:
    """Return a state's lux value (`factor`: `lux_factor`), NaN if none.

    Only what a sensor's state can be is a number: ASCII digits with an
    optional sign, point and exponent. Python's `float` also takes "1_000"
    and other scripts' digits ("١٢٣"), which no sensor reports.
    """
    if NUMBER.fullmatch(state) is None:
        report.not_numeric += 1
        return math.nan
    value = float(state)
    if not math.isfinite(value):
        report.not_numeric += 1
        return math.nan
    if isinstance(factor, str):
        report.other_units[factor] = report.other_units.get(factor, 0) + 1
        return math.nan
    return value * factor


def light_value_of(state: State, report: HistoryReport) -> float:
    """Return a light's or switch's brightness (0..1), NaN if not known."""
    return light_value(state.state, state.attributes, report)


def presence_value_of(state: State, report: HistoryReport) -> float:
    """Return 1 while anybody is home, 0 while nobody is, NaN if not known."""
    # The recorder's states (`LazyState`) have no `domain`: take the entity_id's.
    return presence_value(state.state, state.entity_id, report)


def reading_of(state: State, report: HistoryReport) -> float:
    """Return a state's lux value, or NaN if it is not an illuminance reading."""
    return lux_value(state.state, lux_factor(state.attributes), report)


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


class _StateValues(dict[str | None, float]):
    """What each state of one entity with one attributes row is worth.

    A state's value is found once (``__missing__``); a page of rows is then
    looked up without a Python call per row. What a state adds to the report
    (a text that is no reading, a unit that is not lux) is kept per state
    and added once per row seen, in `add_to`. Such a state has no value
    (NaN), so only rows without a value are counted. Past `MAX_KEPT_STATES`
    distinct states, rows are worked out one by one.
    """

    def __init__(self, value_of: Callable[[str, HistoryReport], float]) -> None:
        super().__init__()
        self.value_of = value_of
        self.reported: dict[str | None, HistoryReport] = {}
        self.rows: Counter[str | None] = Counter()
        # What the rows worked out one by one add to the report.
        self.not_kept = HistoryReport()

    def __missing__(self, state: str | None) -> float:
        counted = HistoryReport()
        value = self[state] = self.value_of(state or "", counted)
        if counted != HistoryReport():
            self.reported[state] = counted
        return value

    def of_states(self, states: Sequence[str | None]) -> FloatArray:
        """Return the values of a page of states (and count the reported rows)."""
        if len(self) >= MAX_KEPT_STATES:
            return np.fromiter(
                (self.value_of(state or "", self.not_kept) for state in states),
                np.float64,
                len(states),
            )
        values = np.fromiter(map(self.__getitem__, states), np.float64, len(states))
        if self.reported:
            self.rows.update(
                state
                for state in map(states.__getitem__, np.flatnonzero(np.isnan(values)))
                if state in self.reported
            )
        return values

    def add_to(self, report: HistoryReport) -> None:
        """Add what the rows seen add to the report."""
        for counted, rows in (
            *((counted, self.rows[state]) for state, counted in self.reported.items()),
            (self.not_kept, 1),
        ):
            report.not_numeric += counted.not_numeric * rows
            for unit, count in counted.other_units.items():
                report.other_units[unit] = (
                    report.other_units.get(unit, 0) + count * rows
                )


class _RowValues:
    """Turns pages of (state, `AttributesKey`) rows of one entity into values.

    The attributes of a key are decoded once, and what a state with them is
    worth is found once (`_StateValues`): a year of a lux sensor is half a
    million rows but a few thousand distinct states.
    """

    def __init__(
        self,
        kind: StateKind,
        entity_id: str,
        attributes_of: Callable[[AttributesKey], Mapping[str, Any]],
    ) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.attributes_of = attributes_of
        self.tables: dict[AttributesKey, _StateValues] = {}

    def _table(self, key: AttributesKey) -> _StateValues:
        if (table := self.tables.get(key)) is None:
            table = self.tables[key] = _StateValues(self._value_function(key))
        return table

    def _value_function(
        self, key: AttributesKey
    ) -> Callable[[str, HistoryReport], float]:
        if self.kind is StateKind.LUX:
            factor = lux_factor(self.attributes_of(key))
            return partial(_lux_value_with, factor)
        if self.kind is StateKind.LIGHT:
            attributes = self.attributes_of(key)
            return partial(_light_value_with, attributes)
        return partial(_presence_value_of, self.entity_id)

    def values(
        self,
        states: Sequence[str | None],
        keys: Sequence[AttributesKey],
    ) -> FloatArray:
        """Return the values of a page of rows, in order."""
        first = keys[0]
        if keys.count(first) == len(keys):
            # The usual page: the same attributes for all of it.
            return self._table(first).of_states(states)
        runs: list[FloatArray] = []
        done = 0
        for key, run in itertools.groupby(keys):
            size = sum(1 for _ in run)
            runs.append(self._table(key).of_states(states[done : done + size]))
            done += size
        return np.concatenate(runs)

    def add_to(self, report: HistoryReport) -> None:
        """Add what the rows seen add to the report."""
        for table in self.tables.values():
            table.add_to(report)


def _lux_value_with(factor: float | str, state: str, report: HistoryReport) -> float:
    return lux_value(state, factor, report)


def _light_value_with(
    attributes: Mapping[str, Any], state: str, report: HistoryReport
) -> float:
    return light_value(state, attributes, report)


def _presence_value_of(entity_id: str, state: str, report: HistoryReport) -> float:
    return presence_value(state, entity_id, report)


def _attributes_reader(
    session: Session,
) -> Callable[[AttributesKey], Mapping[str, Any]]:
    """Return a function from where attributes are to the attributes.

    Each distinct attributes text is decoded once.
    """
    cache: dict[str, dict[str, Any]] = {}

    def attributes_of(key: AttributesKey) -> Mapping[str, Any]:
        if key is None:
            return {}
        if isinstance(key, str):
            source: str | None = key
        else:
            source = session.execute(
                select(StateAttributes.shared_attrs).where(
                    StateAttributes.attributes_id == key
                )
            ).scalar()
        return decode_attributes_from_source(source, cache)

    return attributes_of


def _key_columns(
    dialect: str,
) -> tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]:
    """Return the columns that say where a row's attributes are.

    SQLite gives one (`AttributesKey`): the shared row's id, or else the
    attributes kept in the row. Other databases do not mix a number and a
    text in one column: they give both, and `_keys` makes the keys.
    """
    in_row = (States.attributes_id.is_(None), States.attributes)
    if dialect in DRIVER_CURSOR_DIALECTS:
        return (case(in_row, else_=States.attributes_id),)
    return (States.attributes_id, case(in_row))


def _keys(columns: Sequence[Sequence[Any]]) -> Sequence[AttributesKey]:
    """Return the rows' `AttributesKey`s from the columns of `_key_columns`."""
    if len(columns) == 1:
        return columns[0]
    ids, in_rows = columns
    return [
        in_row if key is None else key for key, in_row in zip(ids, in_rows, strict=True)
    ]


def _pages(session: Session, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """Yield a query's rows a page at a time, streamed from the database.

    On SQLite (most homes) the rows come straight from the driver's cursor
    as plain tuples: the query layer's row objects would double the cost of
    reading. Other databases stream through the session (server-side cursor).
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name not in DRIVER_CURSOR_DIALECTS:
        result = session.execute(
            stmt, execution_options={"stream_results": True, "yield_per": PAGE_ROWS}
        )
        yield from result.partitions()
        return
    compiled = stmt.compile(dialect=dialect)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        while page := cursor.fetchmany(PAGE_ROWS):
            yield page
    finally:
        cursor.close()


def _append(into: array[float], values: FloatArray) -> None:
    """Append an array of floats to a growing array, as one copy of its bytes."""
    into.frombytes(values.view(np.uint8))


def _read_states(
    hass: HomeAssistant,
    entity_id: str,
    start: datetime,
    end: datetime,
    kind: StateKind,
    report: HistoryReport,
) -> tuple[array[float], array[float]]:
    """Return the times and values of an entity's states from `start` to `end`.

    The first is the state in force at `start` (its time `start`), as the
    history API gives it when the recorder holds anything that old; then
    each row in order. Where the value depends on the attributes (a light's
    brightness, a sensor's unit), that is every row, a light dimmed while on
    too; otherwise each change of state (not of attributes alone).
    """
    times = array("d")
    values = array("d")
    instance = get_instance(hass)
    start_s = start.timestamp()
    end_s = end.timestamp()
    with session_scope(hass=hass, read_only=True) as session:
        metadata_id = instance.states_meta_manager.get(entity_id, session, False)
        if metadata_id is None:
            return times, values
        key_columns = _key_columns(session.connection().dialect.name)
        rows = _RowValues(kind, entity_id, _attributes_reader(session))
        oldest_s = instance.states_manager.oldest_ts
        if oldest_s is not None and oldest_s < start_s:
            first = session.execute(
                select(States.state, *key_columns)
                .where(States.metadata_id == metadata_id)
                .where(States.last_updated_ts < start_s)
                .order_by(States.last_updated_ts.desc())
                .limit(1)
            ).first()
            if first is not None:
                state, *where = first
                times.append(start_s)
                _append(values, rows.values((state,), _keys([(key,) for key in where])))
        stmt = (
            select(States.last_updated_ts, States.state, *key_columns)
            .where(States.metadata_id == metadata_id)
            .where(States.last_updated_ts > start_s)
            .where(States.last_updated_ts < end_s)
            .order_by(States.last_updated_ts)
        )
        if not kind.needs_attributes:
            # Its value is the state's alone: changes of attributes add nothing.
            stmt = stmt.where(
                (States.last_changed_ts == States.last_updated_ts)
                | States.last_changed_ts.is_(None)
            )
        for page in _pages(session, stmt):
            if hass.state in _STOPPING:
                raise ReadingStopped(entity_id)
            # Columns of the page; no Python call per row from here on.
            stamps, states, *where = zip(*page, strict=True)
            del page
            _append(times, np.fromiter(stamps, np.float64, len(stamps)))
            _append(values, rows.values(states, _keys(where)))
        report.states += len(times)
        rows.add_to(report)
    return times, values


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
    state_times, state_values = _read_states(hass, entity_id, start, end, kind, report)
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
