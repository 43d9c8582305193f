"""Where readings come from: capture CSV files and Home Assistant's recorder.

Both sources give the same thing: for every room, the lux readings sorted by
time (epoch seconds), ready for the engine's `to_minute_series`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import csv
from dataclasses import dataclass, field
import math
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

CSV_COLUMNS: Final = ("timestamp", "datetime", "sensor_id", "value")
"""Columns of the capture format, in the order the capture writes them."""

NOT_A_READING: Final = frozenset({"unavailable", "unknown", "none", ""})
"""Recorder states that say the sensor had no value at that moment."""

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


@dataclass(slots=True)
class Readings:
    """Readings of every room of a source, and the rows that were skipped."""

    rooms: dict[str, RoomReadings] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


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


def read_csv(
    paths: Iterable[str | Path], *, rooms: Mapping[str, str] | None = None
) -> Readings:
    """Read capture CSV files (or folders of them) into readings per room.

    The room of a row is its `sensor_id`, renamed through `rooms` when it is a
    key there (e.g. `{"1": "dining-room"}`). Rows that cannot be used are left
    out and listed in `Readings.problems` with their line numbers.
    """
    rooms = dict(rooms or {})
    parts: dict[str, list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]] = {}
    problems: list[RowProblem] = []
    for path in csv_files(paths):
        for sensor, (stamps, lux) in _read_csv_file(path, problems).items():
            parts.setdefault(rooms.get(sensor, sensor), []).append((stamps, lux))
    result = Readings(problems=problems)
    for room, chunks in sorted(parts.items()):
        result.rooms[room] = _sorted_readings(
            room,
            np.concatenate([c[0] for c in chunks]),
            np.concatenate([c[1] for c in chunks]),
        )
    return result


def _read_csv_file(
    path: Path, problems: list[RowProblem]
) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Read one capture file; append skipped rows to `problems`."""
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
    short = frame.isna().any(axis=1) & ~blank
    stamps = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    lux = pd.to_numeric(frame["value"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if "sensor_id" in header:
        sensors = frame["sensor_id"].fillna("").astype(str).str.strip()
    else:
        # A file without a sensor column is one room, named after the file.
        sensors = pd.Series([path.stem] * len(frame), index=frame.index)

    bad_stamp = ~np.isfinite(stamps)
    bad_lux = ~np.isfinite(lux)
    no_sensor = (sensors == "").to_numpy()
    skip = (
        bad_shape.to_numpy()
        | short.to_numpy()
        | bad_stamp
        | bad_lux
        | no_sensor
        | blank.to_numpy()
    )
    for index in np.flatnonzero(skip & ~blank.to_numpy()):
        line = int(index) + 2  # one header line; lines count from 1
        if bad_shape.iat[index]:
            reason = f"expected {len(header)} fields, found more"
        elif short.iat[index]:
            reason = f"expected {len(header)} fields, found fewer"
        elif bad_stamp[index]:
            reason = f"bad timestamp {frame['timestamp'].iat[index]!r}"
        elif bad_lux[index]:
            reason = f"bad value {frame['value'].iat[index]!r}"
        else:
            reason = "empty sensor_id"
        problems.append(RowProblem(name, line, reason))

    keep = ~skip
    result: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    kept_sensors = sensors.to_numpy()[keep]
    kept_stamps = stamps[keep]
    kept_lux = lux[keep]
    for sensor in pd.unique(kept_sensors):
        rows = kept_sensors == sensor
        result[str(sensor)] = (kept_stamps[rows], kept_lux[rows])
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

    `source` is a SQLite file path or an SQLAlchemy URL. The recorder stores a
    new row only when a state changes; a row's value holds until
    `last_reported_ts` (the last time the sensor sent the same value), so it
    is repeated once a minute up to then. States that are not numbers
    (`unavailable`, `unknown`, text) are skipped and end the value before.
    The room of an entity is its entity id unless `rooms` renames it.
    """
    if not entities:
        raise SourceError("no entity given (use --entity sensor.x)")
    rooms = dict(rooms or {})
    url = database_url(source)
    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ValueError, ImportError) as err:
        raise SourceError(f"{source}: cannot open database ({err})") from err
    try:
        with engine.connect() as connection:
            rows = _recorder_rows(connection, list(entities))
    except SQLAlchemyError as err:
        message = str(err).splitlines()[0]
        raise SourceError(f"{source}: cannot read recorder ({message})") from err
    finally:
        engine.dispose()

    result = Readings()
    for entity in entities:
        entity_rows = rows.get(entity, [])
        stamps, lux = _held_readings(entity_rows)
        if len(stamps) == 0:
            result.problems.append(
                RowProblem(source, 0, f"{entity}: no numeric states recorded")
            )
            continue
        room = rooms.get(entity, entity)
        result.rooms[room] = _sorted_readings(room, stamps, lux)
    return result


type _StateRow = tuple[float, str, float | None]


def _recorder_rows(
    connection: sa.Connection, entities: list[str]
) -> dict[str, list[_StateRow]]:
    """Fetch (last_updated_ts, state, last_reported_ts) rows per entity."""
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    if "states" not in tables:
        raise SourceError("not a Home Assistant recorder database (no states table)")
    columns = {column["name"] for column in inspector.get_columns("states")}
    if "states_meta" in tables and "last_reported_ts" in columns:
        # Schema 43 and newer: a held value has its last report time.
        query = sa.text(
            "SELECT states_meta.entity_id, states.last_updated_ts, states.state,"
            " states.last_reported_ts FROM states JOIN states_meta"
            " ON states.metadata_id = states_meta.metadata_id"
            " WHERE states_meta.entity_id IN :entities"
            " ORDER BY states.last_updated_ts"
        )
    elif "states_meta" in tables and "last_updated_ts" in columns:
        query = sa.text(
            "SELECT states_meta.entity_id, states.last_updated_ts, states.state,"
            " NULL FROM states JOIN states_meta"
            " ON states.metadata_id = states_meta.metadata_id"
            " WHERE states_meta.entity_id IN :entities"
            " ORDER BY states.last_updated_ts"
        )
    elif "last_updated_ts" in columns:
        # Schema 31 to 40: entity ids still in the states table.
        query = sa.text(
            "SELECT entity_id, last_updated_ts, state, NULL FROM states"
            " WHERE entity_id IN :entities ORDER BY last_updated_ts"
        )
    else:
        raise SourceError(
            "recorder schema too old (no last_updated_ts): upgrade Home Assistant"
        )
    query = query.bindparams(sa.bindparam("entities", expanding=True))
    rows: dict[str, list[_StateRow]] = {}
    for entity_id, updated, state, reported in connection.execute(
        query, {"entities": entities}
    ):
        if updated is None:
            continue
        rows.setdefault(entity_id, []).append(
            (
                float(updated),
                "" if state is None else str(state),
                None if reported is None else float(reported),
            )
        )
    return rows


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
