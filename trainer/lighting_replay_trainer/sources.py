"""Where readings come from: capture CSV files and Home Assistant's recorder.

Both sources give the same thing: for every room, the lux readings sorted by
time (epoch seconds), ready for the engine's `to_minute_series`, and the
state changes of its lights (brightness 0..1 from each change on, NaN where
the light's state is not known), ready for the engine's `held_minute_series`.
A light is an entity of the `light` or `switch` domain in the recorder, and
a `sensor_id` with `on`/`off` values in a capture file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import csv
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from lighting_replay_engine.series import MinuteSeries, held_minute_series

CSV_COLUMNS: Final = ("timestamp", "datetime", "sensor_id", "value")
"""Columns of the capture format, in the order the capture writes them."""

NOT_A_READING: Final = frozenset({"unavailable", "unknown", "none", ""})
"""Recorder states that say the sensor had no value at that moment."""

LIGHT_DOMAINS: Final = ("light", "switch")
"""Entity domains read as lights (on/off and brightness), not as lux."""

LIGHT_STATES: Final = {"on": 1.0, "off": 0.0}
"""A light's states and their brightness (on without a brightness is full)."""

MAX_BRIGHTNESS: Final = 255
"""Home Assistant's brightness scale: 0..255."""

READING_INTERVAL_S: Final = 60.0
"""How often a held recorder state is repeated as a reading (one a minute)."""

_BAD_LINE: Final = "\x1fbad-line\x1f"


class SourceError(Exception):
    """A source cannot be read at all (missing file, wrong format, bad URL)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One input row that was skipped, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        """Return the problem as `path:line: reason`."""
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RoomReadings:
    """Lux readings of one room, sorted by time."""

    room: str
    timestamps_s: npt.NDArray[np.float64]
    lux: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of readings."""
        return len(self.timestamps_s)


@dataclass(frozen=True, slots=True)
class LightStates:
    """A light's state changes: brightness (0 off .. 1 full) from each time on.

    NaN is a state that is not known (`unavailable`, `unknown`). Each state
    holds until the next change, the last one until `end_s` (the end of the
    recording).
    """

    key: str
    times_s: npt.NDArray[np.float64]
    brightness: npt.NDArray[np.float64]
    end_s: float

    def __len__(self) -> int:
        """Return the number of state changes."""
        return len(self.times_s)

    def series(self) -> MinuteSeries:
        """Return the brightness per minute (the engine's `held_minute_series`)."""
        return held_minute_series(self.times_s, self.brightness, self.end_s)

    def between(self, low: float, high: float) -> LightStates | None:
        """Return the states from `low` to `high` (epoch seconds), or None.

        The state in force at `low` starts there; the last one ends at `high`
        at the latest.
        """
        end = min(self.end_s, high)
        before = np.flatnonzero(self.times_s < low)
        inside = (self.times_s >= low) & (self.times_s < end)
        times = self.times_s[inside]
        values = self.brightness[inside]
        if before.size:
            times = np.concatenate([[low], times])
            values = np.concatenate([[self.brightness[before[-1]]], values])
        if times.size == 0 or end <= times[0]:
            return None
        return LightStates(self.key, times, values, end)


@dataclass(slots=True)
class Readings:
    """Readings of every room of a source, and the rows that were skipped.

    `rooms` holds the lux readings of the rooms with a lux sensor, `lights`
    the lights of each room by their key (entity id or sensor id).
    """

    rooms: dict[str, RoomReadings] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    lights: dict[str, dict[str, LightStates]] = field(default_factory=dict)

    @property
    def room_names(self) -> list[str]:
        """Return every room, with lux or lights or both, sorted."""
        return sorted(set(self.rooms) | set(self.lights))


def is_light_entity(entity_id: str) -> bool:
    """Return whether an entity is read as a light (its domain)."""
    return entity_id.partition(".")[0].strip().lower() in LIGHT_DOMAINS


def parse_brightness(value: object) -> float | None:
    """Return a brightness 0..255 as 0..1, or None when it is not one.

    An `on` light with brightness 0 is still on: it counts as the lowest
    brightness (1/255), never as off.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        return None
    if not math.isfinite(number) or not 0 <= number <= MAX_BRIGHTNESS:
        return None
    return max(number, 1.0) / MAX_BRIGHTNESS


def csv_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into the CSV files to read.

    A folder stands for the `*.csv` files directly inside it.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.csv") if p.is_file())
            if not found:
                raise SourceError(f"{path}: folder holds no .csv files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise SourceError(f"{path}: not a file or folder")
        else:
            raise SourceError(f"{path}: no such file or folder")
    return files


@dataclass(frozen=True, slots=True)
class _SensorRows:
    """The rows of one sensor in one file that have a time and a sensor id."""

    path: str
    lines: npt.NDArray[np.int64]
    stamps: npt.NDArray[np.float64]
    values: npt.NDArray[np.object_]
    brightness: npt.NDArray[np.object_]
    on_off: npt.NDArray[np.bool_]


def read_csv(
    paths: Iterable[str | Path], *, rooms: Mapping[str, str] | None = None
) -> Readings:
    """Read capture CSV files (or folders of them) into readings per room.

    The room of a row is its `sensor_id`, renamed through `rooms` when it is a
    key there (e.g. `{"1": "dining-room"}`). A sensor id with `on` or `off`
    values (in any file) is a light of its room: `on` at the row's
    `brightness` (0-255, full when empty or without that column), `off`,
    or `unavailable`/`unknown` (not known); each state holds until the
    sensor's next row, the last one until the latest time in the input.
    Other sensor ids are lux readings. Rows that cannot be used are left out
    and listed in `Readings.problems` with their line numbers.
    """
    rooms = dict(rooms or {})
    problems: list[RowProblem] = []
    sensors: dict[str, list[_SensorRows]] = {}
    files = csv_files(paths)
    for path in files:
        for sensor, rows in _read_csv_file(path, problems).items():
            sensors.setdefault(sensor, []).append(rows)
    end_s = max(
        (float(rows.stamps.max()) for chunks in sensors.values() for rows in chunks),
        default=-math.inf,
    )
    parts: dict[str, list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]] = {}
    result = Readings()
    for sensor, chunks in sensors.items():
        room = rooms.get(sensor, sensor)
        if any(rows.on_off.any() for rows in chunks):
            states = _light_rows(sensor, chunks, end_s, problems)
            if states is not None:
                result.lights.setdefault(room, {})[sensor] = states
            continue
        for rows in chunks:
            stamps, lux = _lux_rows(rows, problems)
            if stamps.size:
                parts.setdefault(room, []).append((stamps, lux))
    for room, lux_chunks in sorted(parts.items()):
        result.rooms[room] = _sorted_readings(
            room,
            np.concatenate([c[0] for c in lux_chunks]),
            np.concatenate([c[1] for c in lux_chunks]),
        )
    result.lights = {room: result.lights[room] for room in sorted(result.lights)}
    order = {str(path): index for index, path in enumerate(files)}
    result.problems = sorted(problems, key=lambda p: (order.get(p.path, 0), p.line))
    return result


def _lux_rows(
    rows: _SensorRows, problems: list[RowProblem]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return a lux sensor's readings; the rows without a number go to problems."""
    lux = pd.to_numeric(pd.Series(rows.values), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(lux)
    problems.extend(
        RowProblem(
            rows.path, int(rows.lines[index]), f"bad value {rows.values[index]!r}"
        )
        for index in np.flatnonzero(bad)
    )
    return rows.stamps[~bad], lux[~bad]


def _light_rows(
    sensor: str, chunks: list[_SensorRows], end_s: float, problems: list[RowProblem]
) -> LightStates | None:
    """Return a light's states from its rows; unusable rows go to problems."""
    times: list[float] = []
    values: list[float] = []
    for rows in chunks:
        for index in range(len(rows.lines)):
            line = int(rows.lines[index])
            text = str(rows.values[index])
            level = str(rows.brightness[index])
            state = text.lower()
            if state == "on" and str(level).strip():
                value = parse_brightness(level)
                if value is None:
                    problems.append(
                        RowProblem(
                            rows.path,
                            line,
                            f"light {sensor}: bad brightness {level!r}"
                            f" (expected 0-{MAX_BRIGHTNESS})",
                        )
                    )
                    continue
            elif state in LIGHT_STATES:
                value = LIGHT_STATES[state]
            elif state in NOT_A_READING:
                value = math.nan
            else:
                problems.append(
                    RowProblem(
                        rows.path,
                        line,
                        f"light {sensor}: bad value {text!r}"
                        " (expected on, off, unavailable or unknown)",
                    )
                )
                continue
            times.append(float(rows.stamps[index]))
            values.append(value)
    if not times:
        return None
    stamps = np.array(times, dtype=np.float64)
    order = np.argsort(stamps, kind="stable")
    return LightStates(
        sensor, stamps[order], np.array(values, dtype=np.float64)[order], end_s
    )


def _read_csv_file(path: Path, problems: list[RowProblem]) -> dict[str, _SensorRows]:
    """Read one capture file into rows per sensor; bad rows go to `problems`.

    Rows without a valid time or sensor id, or with the wrong number of
    fields, are reported here; values are judged per sensor by `read_csv`.
    A file with a `brightness` column may leave it out of a row.
    """
    name = str(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"{name}: cannot read ({err})") from err
    if header is None:
        raise SourceError(f"{name}: file is empty")
    header = [column.strip().lower() for column in header]
    if "timestamp" not in header or "value" not in header:
        raise SourceError(
            f"{name}: not a capture file (header {','.join(header)!r},"
            f" expected {','.join(CSV_COLUMNS)!r})"
        )
    frame = _read_rows(path, len(header))
    frame.columns = pd.Index(header)

    blank = pd.Series(_blank_lines(path, len(frame)), index=frame.index)
    bad_shape = (frame == _BAD_LINE).all(axis=1)
    required = [column for column in header if column != "brightness"]
    short = frame[required].isna().any(axis=1) & ~blank
    stamps = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    values = frame["value"].fillna("").astype(str).str.strip()
    on_off = values.str.lower().isin(tuple(LIGHT_STATES)).to_numpy()
    if "brightness" in header:
        brightness = frame["brightness"].fillna("").astype(str).str.strip()
    else:
        brightness = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    if "sensor_id" in header:
        sensors = frame["sensor_id"].fillna("").astype(str).str.strip()
    else:
        # A file without a sensor column is one room, named after the file.
        sensors = pd.Series([path.stem] * len(frame), index=frame.index)

    bad_stamp = ~np.isfinite(stamps)
    no_sensor = (sensors == "").to_numpy()
    skip = bad_shape.to_numpy() | short.to_numpy() | bad_stamp | no_sensor
    skip |= blank.to_numpy()
    for index in np.flatnonzero(skip & ~blank.to_numpy()):
        line = int(index) + 2  # one header line; lines count from 1
        if bad_shape.iat[index]:
            reason = f"expected {len(header)} fields, found more"
        elif short.iat[index]:
            reason = f"expected {len(header)} fields, found fewer"
        elif bad_stamp[index]:
            reason = f"bad timestamp {frame['timestamp'].iat[index]!r}"
        else:
            reason = "empty sensor_id"
        problems.append(RowProblem(name, line, reason))

    keep = ~skip
    lines = np.arange(len(frame), dtype=np.int64)[keep] + 2
    kept_sensors = sensors.to_numpy()[keep]
    kept_stamps = stamps[keep]
    kept_values = values.to_numpy(dtype=object)[keep]
    kept_brightness = brightness.to_numpy(dtype=object)[keep]
    result: dict[str, _SensorRows] = {}
    for sensor in pd.unique(kept_sensors):
        rows = kept_sensors == sensor
        result[str(sensor)] = _SensorRows(
            name,
            lines[rows],
            kept_stamps[rows],
            kept_values[rows],
            kept_brightness[rows],
            on_off[keep][rows],
        )
    return result


def _blank_lines(path: Path, n_rows: int) -> npt.NDArray[np.bool_]:
    """Return which data rows are empty lines (these are not reported)."""
    blank = np.zeros(n_rows, dtype=bool)
    with path.open(encoding="utf-8") as handle:
        next(handle, None)
        for index, line in enumerate(handle):
            if index >= n_rows:
                break
            blank[index] = not line.strip()
    return blank


def _read_rows(path: Path, n_columns: int) -> pd.DataFrame:
    """Read the data rows as text, one frame row per line after the header.

    Rows with too many fields are kept as marker rows so that a frame row
    still maps to its line number.
    """
    names = list(range(n_columns))
    try:
        # The fast parser handles well-formed files; the slower one is only
        # needed to keep the line numbers of rows with too many fields.
        return pd.read_csv(
            path,
            engine="c",
            on_bad_lines="error",
            header=None,
            skiprows=1,
            names=names,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except pd.errors.ParserError:
        pass
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(range(n_columns)), dtype=object)
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"{path}: cannot read ({err})") from err

    def keep_place(fields: list[str]) -> list[str]:
        return [_BAD_LINE] * n_columns

    try:
        return pd.read_csv(
            path,
            engine="python",
            on_bad_lines=keep_place,
            header=None,
            skiprows=1,
            names=names,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise SourceError(f"{path}: cannot read ({err})") from err


def _sorted_readings(
    room: str, stamps: npt.NDArray[np.float64], lux: npt.NDArray[np.float64]
) -> RoomReadings:
    """Return readings sorted by time (stable, so doubled rows keep their order)."""
    order = np.argsort(stamps, kind="stable")
    return RoomReadings(room, stamps[order], lux[order])


def database_url(source: str) -> str:
    """Turn a recorder database argument into an SQLAlchemy URL.

    A plain path is a SQLite file; anything with `://` is used as given
    (e.g. `mysql+pymysql://...` or `postgresql://...`).
    """
    if "://" in source:
        return source
    path = Path(source)
    if not path.is_file():
        raise SourceError(f"{source}: no such database file")
    return f"sqlite:///{path.resolve()}"


def read_recorder(
    source: str,
    entities: Sequence[str],
    *,
    rooms: Mapping[str, str] | None = None,
) -> Readings:
    """Read the states of `entities` from Home Assistant's recorder database.

    `source` is a SQLite file path or an SQLAlchemy URL. The room of an
    entity is its entity id unless `rooms` renames it; several entities may
    share a room.

    Entities of the `light` and `switch` domains are the room's lights: `on`
    is the recorded `brightness` attribute (0-255) or full brightness where
    none is recorded, `off` is 0, `unavailable` and `unknown` are not known;
    each state holds until the next one, the last one until the latest state
    the database holds.

    Other entities are lux sensors. The recorder stores a new row only when
    a state changes; a row's value holds until `last_reported_ts` (the last
    time the sensor sent the same value), so it is repeated once a minute up
    to then. States that are not numbers (`unavailable`, `unknown`, text) are
    skipped and end the value before.
    """
    if not entities:
        raise SourceError("no entity given (use --entity sensor.x)")
    rooms = dict(rooms or {})
    entities = list(dict.fromkeys(entities))
    lights = [entity for entity in entities if is_light_entity(entity)]
    sensors = [entity for entity in entities if not is_light_entity(entity)]
    url = database_url(source)
    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ValueError, ImportError) as err:
        raise SourceError(f"{source}: cannot open database ({err})") from err
    try:
        with engine.connect() as connection:
            schema = _schema(connection)
            rows = _recorder_rows(connection, schema, sensors) if sensors else {}
            light_rows = (
                _recorder_rows(connection, schema, lights, attributes=True)
                if lights
                else {}
            )
            end_s = _last_state_time(connection) if lights else math.inf
    except SQLAlchemyError as err:
        message = str(err).splitlines()[0]
        raise SourceError(f"{source}: cannot read recorder ({message})") from err
    finally:
        engine.dispose()

    result = Readings()
    parts: dict[str, list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]] = {}
    for entity in sensors:
        stamps, lux = _held_readings(rows.get(entity, []))
        if len(stamps) == 0:
            result.problems.append(
                RowProblem(source, 0, f"{entity}: no numeric states recorded")
            )
            continue
        parts.setdefault(rooms.get(entity, entity), []).append((stamps, lux))
    for room, chunks in parts.items():
        result.rooms[room] = _sorted_readings(
            room,
            np.concatenate([c[0] for c in chunks]),
            np.concatenate([c[1] for c in chunks]),
        )
    for entity in lights:
        states = _light_states(
            entity, light_rows.get(entity, []), end_s, source, result
        )
        if states is not None:
            result.lights.setdefault(rooms.get(entity, entity), {})[entity] = states
    return result


def _light_states(
    entity: str, rows: list[_StateRow], end_s: float, source: str, result: Readings
) -> LightStates | None:
    """Turn a light's recorder rows into its states; report what is odd."""
    if not rows:
        result.problems.append(RowProblem(source, 0, f"{entity}: no states recorded"))
        return None
    times = np.array([row[0] for row in rows], dtype=np.float64)
    values = np.empty(len(rows), dtype=np.float64)
    other: dict[str, int] = {}
    bad_brightness = 0
    for index, (_, state, _, attributes) in enumerate(rows):
        text = state.strip().lower()
        if text == "on":
            level = _attribute(attributes, "brightness")
            value = 1.0 if level is None else parse_brightness(level)
            if value is None:
                bad_brightness += 1
                value = 1.0
            values[index] = value
        elif text in LIGHT_STATES:
            values[index] = LIGHT_STATES[text]
        else:
            if text not in NOT_A_READING:
                other[state] = other.get(state, 0) + 1
            values[index] = math.nan
    if other:
        found = ", ".join(
            f"{state!r} ({count}x)" for state, count in sorted(other.items())
        )
        result.problems.append(
            RowProblem(
                source,
                0,
                f"{entity}: states other than on/off taken as not known: {found}",
            )
        )
    if bad_brightness:
        result.problems.append(
            RowProblem(
                source,
                0,
                f"{entity}: {bad_brightness} brightness values not in"
                f" 0-{MAX_BRIGHTNESS}, taken as full",
            )
        )
    if not np.isfinite(values).any():
        result.problems.append(
            RowProblem(source, 0, f"{entity}: no on or off state recorded")
        )
        return None
    return LightStates(entity, times, values, max(end_s, float(times[-1])))


def _attribute(text: str | None, name: str) -> object:
    """Return one attribute from the recorder's JSON text, or None."""
    if not text:
        return None
    try:
        attributes = json.loads(text)
    except ValueError:
        return None
    return attributes.get(name) if isinstance(attributes, dict) else None


type _StateRow = tuple[float, str, float | None, str | None]


@dataclass(frozen=True, slots=True)
class _Schema:
    """Which of the recorder's tables and columns the database has."""

    meta: bool
    reported: bool
    shared_attributes: bool
    own_attributes: bool


def _schema(connection: sa.Connection) -> _Schema:
    """Find the recorder schema's tables and columns (schema 31 and newer)."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    if "states" not in tables:
        raise SourceError("not a Home Assistant recorder database (no states table)")
    columns = {column["name"] for column in inspector.get_columns("states")}
    if "last_updated_ts" not in columns:
        raise SourceError(
            "recorder schema too old (no last_updated_ts): upgrade Home Assistant"
        )
    return _Schema(
        # Schema 41 and newer: entity ids in states_meta.
        meta="states_meta" in tables and "metadata_id" in columns,
        # Schema 43 and newer: a held value has its last report time.
        reported="last_reported_ts" in columns,
        shared_attributes="state_attributes" in tables and "attributes_id" in columns,
        own_attributes="attributes" in columns,
    )


def _recorder_rows(
    connection: sa.Connection,
    schema: _Schema,
    entities: list[str],
    *,
    attributes: bool = False,
) -> dict[str, list[_StateRow]]:
    """Fetch (last_updated_ts, state, last_reported_ts, attributes) rows per entity.

    The attributes' JSON text is read only when asked for (lights); older
    rows may keep it in the states table itself.
    """
    entity = "states_meta.entity_id" if schema.meta else "states.entity_id"
    joins = (
        " JOIN states_meta ON states.metadata_id = states_meta.metadata_id"
        if schema.meta
        else ""
    )
    reported = "states.last_reported_ts" if schema.reported else "NULL"
    attrs = "NULL"
    if attributes:
        sources = []
        if schema.shared_attributes:
            joins += (
                " LEFT JOIN state_attributes"
                " ON states.attributes_id = state_attributes.attributes_id"
            )
            sources.append("state_attributes.shared_attrs")
        if schema.own_attributes:
            sources.append("states.attributes")
        if len(sources) == 2:
            attrs = f"COALESCE({', '.join(sources)})"
        elif sources:
            attrs = sources[0]
    query = sa.text(
        f"SELECT {entity}, states.last_updated_ts, states.state, {reported},"  # noqa: S608
        f" {attrs} FROM states{joins} WHERE {entity} IN :entities"
        " ORDER BY states.last_updated_ts"
    ).bindparams(sa.bindparam("entities", expanding=True))
    rows: dict[str, list[_StateRow]] = {}
    for entity_id, updated, state, last_reported, attributes_text in connection.execute(
        query, {"entities": entities}
    ):
        if updated is None:
            continue
        rows.setdefault(entity_id, []).append(
            (
                float(updated),
                "" if state is None else str(state),
                None if last_reported is None else float(last_reported),
                None if attributes_text is None else str(attributes_text),
            )
        )
    return rows


def _last_state_time(connection: sa.Connection) -> float:
    """Return the time of the newest state of any entity: the recording's end."""
    latest = connection.execute(
        sa.text("SELECT MAX(last_updated_ts) FROM states")
    ).scalar()
    return -math.inf if latest is None else float(latest)


def _number(state: str) -> float:
    """Return a state as a finite number, or NaN when it is not one."""
    if state.strip().lower() in NOT_A_READING:
        return math.nan
    try:
        value = float(state)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _held_readings(
    rows: list[_StateRow],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Expand state rows into readings, repeating held values once a minute."""
    if not rows:
        return np.empty(0), np.empty(0)
    updated = np.array([row[0] for row in rows], dtype=np.float64)
    values = np.array([_number(row[1]) for row in rows], dtype=np.float64)
    reported = np.array(
        [row[0] if row[2] is None else row[2] for row in rows], dtype=np.float64
    )
    # A value is known from its row until it was last reported, never past the
    # next row of the same entity.
    next_row = np.append(updated[1:], np.inf)
    held_until = np.minimum(np.maximum(reported, updated), next_row)
    last_report = (held_until > updated) & (held_until < next_row)
    numeric = np.isfinite(values)
    updated, values = updated[numeric], values[numeric]
    held_until, last_report = held_until[numeric], last_report[numeric]
    # Repeats at +60 s, +120 s, ... strictly before the end of the hold, plus
    # the row itself; the last report is a reading of its own.
    repeats = np.ceil((held_until - updated) / READING_INTERVAL_S).astype(np.int64)
    repeats = np.maximum(repeats, 1)
    starts = np.repeat(updated, repeats)
    steps = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    stamps = starts + steps * READING_INTERVAL_S
    lux = np.repeat(values, repeats)
    stamps = np.concatenate([stamps, held_until[last_report]])
    lux = np.concatenate([lux, values[last_report]])
    return stamps, lux
