"""The fleet dataset, and the work done for one home of it.

A fleet dataset holds the readings of many homes:

- readings: rows `home, room, timestamp, value` (UTC epoch seconds, lux) as
  Parquet or CSV, usually partitioned by home (`readings/home=h0001/...`);
- a homes table: rows `home, latitude, longitude, time_zone`.

The functions here take one home's rows as pandas frames and return its
result rows, so the same code runs under Spark (one call per home group,
see `spark.py`) and in a plain loop. Training goes through `backends.train`,
the engine's `train_room`, exactly as `lighting-replay train` does; rows
that cannot be used and homes that cannot be learned are results with their
reason, never errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
import csv
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
import time
from typing import Any, Final
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd

from lighting_replay_engine.model import HomeModel, ModelError, RoomModel
from lighting_replay_engine.schedule import ScheduleOptions
from lighting_replay_engine.simulate import simulate_household
from lighting_replay_engine.training import NotEnoughData, TrainingOptions
from lighting_replay_engine.zones import Location

from .backends import train
from .cli import _limit_days
from .evaluation import METHODS, METRICS, evaluate_home
from .sources import Readings, RoomReadings

READING_COLUMNS: Final = ("home", "room", "timestamp", "value")
HOME_COLUMNS: Final = ("home", "latitude", "longitude", "time_zone")
# Spark DDL of the readings `fleet simulate` writes, and of the result rows
# of one home's training and evaluation.
READINGS_SCHEMA: Final = "home string, room string, timestamp double, value double"
TRAIN_SCHEMA: Final = (
    "home string, status string, rooms int, rooms_skipped int, rows long,"
    " rows_skipped long, seconds double, reason string, model string"
)
EVALUATION_SCHEMA: Final = (
    "home string, room string, method string, days int, "
    + ", ".join(f"{metric} double" for metric in METRICS)
    + ", reason string"
)
_PANDAS_TYPES: Final = {
    "string": "object",
    "int": "Int64",
    "long": "Int64",
    "double": "float64",
}


def schema_fields(schema: str) -> list[tuple[str, str]]:
    """Return the (name, type) pairs of a flat Spark DDL schema."""
    return [(name, kind) for name, kind in (part.split() for part in schema.split(","))]


def result_frame(rows: Iterable[Mapping[str, Any]], schema: str) -> pd.DataFrame:
    """Return result rows as a frame of the schema's columns and types.

    Values a row lacks are missing (null for Spark); without the types, a
    column of only missing values would be float and Spark could not turn
    it into text.
    """
    fields = schema_fields(schema)
    frame = pd.DataFrame(list(rows), columns=[name for name, _ in fields])
    return frame.astype({name: _PANDAS_TYPES[kind] for name, kind in fields})


REPORT_COLUMNS: Final = tuple(
    name for name, _ in schema_fields(TRAIN_SCHEMA) if name != "model"
)
REPORT_FILE: Final = "report.csv"
"""The training report `fleet train` writes next to the models."""

CITIES: Final = (
    # (latitude, longitude, time zone): both hemispheres, whole and half-hour
    # offsets, none so far north or south that dusk never comes in summer.
    (52.52, 13.40, "Europe/Berlin"),
    (51.51, -0.13, "Europe/London"),
    (40.42, -3.70, "Europe/Madrid"),
    (41.90, 12.50, "Europe/Rome"),
    (37.98, 23.73, "Europe/Athens"),
    (41.01, 28.98, "Europe/Istanbul"),
    (30.04, 31.24, "Africa/Cairo"),
    (-1.29, 36.82, "Africa/Nairobi"),
    (-26.20, 28.05, "Africa/Johannesburg"),
    (25.20, 55.27, "Asia/Dubai"),
    (19.08, 72.88, "Asia/Kolkata"),
    (27.72, 85.32, "Asia/Kathmandu"),
    (13.76, 100.50, "Asia/Bangkok"),
    (1.35, 103.82, "Asia/Singapore"),
    (31.23, 121.47, "Asia/Shanghai"),
    (35.68, 139.69, "Asia/Tokyo"),
    (-34.93, 138.60, "Australia/Adelaide"),
    (-33.87, 151.21, "Australia/Sydney"),
    (-36.85, 174.76, "Pacific/Auckland"),
    (21.31, -157.86, "Pacific/Honolulu"),
    (34.05, -118.24, "America/Los_Angeles"),
    (39.74, -104.99, "America/Denver"),
    (41.88, -87.63, "America/Chicago"),
    (40.71, -74.01, "America/New_York"),
    (47.56, -52.71, "America/St_Johns"),
    (19.43, -99.13, "America/Mexico_City"),
    (4.71, -74.07, "America/Bogota"),
    (-23.55, -46.63, "America/Sao_Paulo"),
    (-34.60, -58.38, "America/Argentina/Buenos_Aires"),
)
CITY_SPREAD_DEG: Final = 0.3
"""Homes of a city lie up to this far from its centre."""


# ----------------------------------------------------------------------
# Simulated fleets
# ----------------------------------------------------------------------
def simulated_homes(count: int, seed: int = 0) -> pd.DataFrame:
    """Return the homes table of a simulated fleet, with each home's seed.

    Homes are spread over `CITIES` in turn, each a little off its centre.
    The `seed` column is the simulator's seed of the home; it is not part of
    the homes table that is written.
    """
    if count < 1:
        raise ValueError("simulate at least one home")
    rng = np.random.default_rng(seed)
    width = max(4, len(str(count)))
    cities = [CITIES[i % len(CITIES)] for i in range(count)]
    offsets = rng.uniform(-CITY_SPREAD_DEG, CITY_SPREAD_DEG, size=(count, 2))
    return pd.DataFrame(
        {
            "home": [f"h{i + 1:0{width}d}" for i in range(count)],
            "latitude": [
                round(c[0] + d, 4) for c, d in zip(cities, offsets[:, 0], strict=True)
            ],
            "longitude": [
                round(c[1] + d, 4) for c, d in zip(cities, offsets[:, 1], strict=True)
            ],
            "time_zone": [c[2] for c in cities],
            "seed": rng.integers(0, 2**31 - 1, size=count),
        }
    )


@dataclass(frozen=True)
class Simulation:
    """Readings of simulated homes: the function Spark maps over the homes."""

    start: date
    days: int

    def __call__(self, homes: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Yield the readings of every home in the batches, one home at a time."""
        for batch in homes:
            for home, latitude, longitude, time_zone, seed in batch[
                [*HOME_COLUMNS, "seed"]
            ].itertuples(index=False, name=None):
                yield self.home(
                    str(home),
                    Location(float(latitude), float(longitude), str(time_zone)),
                    int(seed),
                )

    def home(self, home: str, location: Location, seed: int) -> pd.DataFrame:
        """Return the readings of one home (engine's household simulator)."""
        frames = []
        for room, (stamps, lux) in simulate_household(
            location, self.start, self.days, seed=seed
        ).items():
            # A lost reading is a missing row, as in the capture files; times
            # in milliseconds and lux with 3 decimals, as sensors report them
            # (and short enough that text gives back the very same numbers).
            sent = np.isfinite(stamps) & np.isfinite(lux)
            frames.append(
                pd.DataFrame(
                    {
                        "home": home,
                        "room": room,
                        "timestamp": np.round(stamps[sent], 3),
                        "value": np.round(lux[sent], 3),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------
# One home's rows
# ----------------------------------------------------------------------
class HomeProblem(Exception):
    """A home that cannot be learned or evaluated; the message says why."""


@dataclass
class HomeRows:
    """The usable readings of one home per room, and the rows left out."""

    rooms: dict[str, RoomReadings] = field(default_factory=dict)
    skipped: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Per reason: how many rows, and the first such value (as text)."""

    @property
    def n_skipped(self) -> int:
        """Return the number of rows left out."""
        return sum(count for count, _ in self.skipped.values())

    def describe_skipped(self) -> str:
        """Say which rows were left out, e.g. `1 row skipped (bad value 'n/a')`."""
        n = self.n_skipped
        if not n:
            return ""
        kinds = ", ".join(
            f"{count} {reason}, first {example}" if count > 1 else f"{reason} {example}"
            for reason, (count, example) in self.skipped.items()
        )
        return f"{n} row{'s' if n > 1 else ''} skipped ({kinds})"


def home_rows(rows: pd.DataFrame) -> HomeRows:
    """Split a home's rows into readings per room; leave out unusable rows.

    Timestamps and values may arrive as numbers (Parquet) or text (CSV);
    a row whose timestamp or value is not a finite number, or that names no
    room, is left out and counted. Each room's readings are sorted by time
    (and value, so the order Spark delivers rows in does not matter).
    """
    stamps = pd.to_numeric(rows["timestamp"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    lux = pd.to_numeric(rows["value"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    rooms = rows["room"].astype("string").str.strip().fillna("").to_numpy(dtype=str)
    result = HomeRows()
    checks = (
        ("no room", rooms == "", rows["room"]),
        ("bad timestamp", ~np.isfinite(stamps), rows["timestamp"]),
        ("bad value", ~np.isfinite(lux), rows["value"]),
    )
    bad = np.zeros(len(rows), dtype=bool)
    for reason, failed, raw in checks:
        # Each row is counted once, under the first reason it fails.
        new = failed & ~bad
        if new.any():
            first = raw.iat[int(np.flatnonzero(new)[0])]
            example = "(missing)" if pd.isna(first) else repr(str(first))
            result.skipped[reason] = (int(new.sum()), example)
        bad |= failed
    keep = ~bad
    for room in sorted(set(rooms[keep])):
        mine = keep & (rooms == room)
        order = np.lexsort((lux[mine], stamps[mine]))
        result.rooms[str(room)] = RoomReadings(
            str(room), stamps[mine][order], lux[mine][order]
        )
    return result


def home_location(homes: pd.DataFrame) -> Location:
    """Return the location of the home in its homes-table rows."""
    if len(homes) == 0:
        raise HomeProblem("not in the homes table")
    if len(homes) > 1:
        raise HomeProblem(f"listed {len(homes)} times in the homes table")
    row = homes.iloc[0]
    try:
        return Location(
            float(row["latitude"]), float(row["longitude"]), str(row["time_zone"])
        )
    except (TypeError, ValueError) as err:
        raise HomeProblem(f"bad location: {err}") from err


# ----------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class HomeTraining:
    """How every home is trained: the options of `lighting-replay train`.

    `home` gives a home's result row (`TRAIN_SCHEMA`) from its readings and
    its homes-table rows: Spark's function per home group.
    """

    options: TrainingOptions = field(default_factory=TrainingOptions)
    room_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per room name (in every home), its own thresholds (`on_level`, `on_lux`)."""
    backend: str = "engine"
    since: date | None = None
    until: date | None = None

    def home(
        self, home: str | None, readings: pd.DataFrame, homes: pd.DataFrame
    ) -> pd.DataFrame:
        """Train one home; a home that cannot be trained is a row with its reason."""
        started = time.perf_counter()
        result: dict[str, Any] = {
            "home": home,
            "status": "skipped",
            "rooms": 0,
            "rooms_skipped": 0,
            "rows": len(readings),
            "rows_skipped": 0,
            "reason": None,
            "model": None,
        }
        try:
            self._train(readings, homes, result)
        except HomeProblem as err:
            result["reason"] = "; ".join(filter(None, [str(err), result["reason"]]))
        except Exception as err:  # noqa: BLE001
            # Whatever goes wrong in one home, the others' work goes on.
            result["status"] = "failed"
            result["reason"] = f"{type(err).__name__}: {err}"
        result["seconds"] = time.perf_counter() - started
        return result_frame([result], TRAIN_SCHEMA)

    def _train(
        self, readings: pd.DataFrame, homes: pd.DataFrame, result: dict[str, Any]
    ) -> None:
        if result["home"] is None:
            raise HomeProblem("rows without a home")
        location = home_location(homes)
        if len(readings) == 0:
            raise HomeProblem("no readings")
        rows = home_rows(readings)
        result["rows_skipped"] = rows.n_skipped
        result["reason"] = rows.describe_skipped() or None
        chosen = _limit_days(Readings(rows.rooms), location, self.since, self.until)
        if not chosen.rooms:
            raise HomeProblem("no usable readings in the chosen days")
        trained: dict[str, RoomModel] = {}
        problems: list[str] = []
        for room, room_readings in chosen.rooms.items():
            options = replace(self.options, **self.room_options.get(room, {}))
            try:
                trained[room] = train(
                    room,
                    room_readings.timestamps_s,
                    room_readings.lux,
                    location,
                    options,
                    self.backend,
                )
            except (NotEnoughData, ValueError) as err:
                problems.append(f"{room}: {err}")
        result["rooms"] = len(trained)
        result["rooms_skipped"] = len(problems)
        result["reason"] = (
            "; ".join(filter(None, [*problems, result["reason"]])) or None
        )
        if not trained:
            raise HomeProblem("no room could be trained")
        result["status"] = "trained"
        result["model"] = HomeModel(location, trained).dumps()


def model_path(folder: Path, home: str) -> Path:
    """Return the model file of a home (any home id makes a safe file name)."""
    return folder / f"{quote(home, safe='')}.json"


def home_of_model(path: Path) -> str:
    """Return the home a model file belongs to (see `model_path`)."""
    return unquote(path.name.removesuffix(".json"))


@dataclass
class TrainingTally:
    """What a fleet training did, counted as its results are saved."""

    homes: int = 0
    trained: int = 0
    rooms: int = 0
    rows_skipped: int = 0
    not_trained: int = 0
    seconds: float = 0.0

    def line(self, folder: Path, wall_seconds: float) -> str:
        """Return the summary line of the run."""
        return (
            f"fleet: {self.homes} homes, {self.trained} trained ({self.rooms} rooms),"
            f" {self.not_trained} not trained, {self.rows_skipped} rows skipped;"
            f" models and {REPORT_FILE} in {folder}; {wall_seconds:.1f} s"
            f" ({self.seconds:.1f} s of training summed over the homes)"
        )


def save_training(results: Iterable[Mapping[str, Any]], folder: Path) -> TrainingTally:
    """Write each trained home's model file and the report of every home.

    A home without a model this time loses the model file an earlier run
    may have left, so the folder holds exactly this run's models.
    """
    tally = TrainingTally()
    with (folder / REPORT_FILE).open("w", newline="", encoding="utf-8") as handle:
        report = csv.writer(handle, lineterminator="\n")
        report.writerow(REPORT_COLUMNS)
        for result in results:
            report.writerow(
                [
                    "" if result[c] is None else _report_value(result[c])
                    for c in REPORT_COLUMNS
                ]
            )
            tally.homes += 1
            tally.rows_skipped += int(result["rows_skipped"])
            tally.seconds += float(result["seconds"])
            home = result["home"]
            if result["model"] is None:
                tally.not_trained += 1
                if home is not None:
                    model_path(folder, home).unlink(missing_ok=True)
                continue
            model_path(folder, home).write_text(result["model"], encoding="utf-8")
            tally.trained += 1
            tally.rooms += int(result["rooms"])
    return tally


def _report_value(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


# ----------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class HomeEvaluation:
    """How every home is evaluated: the options of `lighting-replay evaluate`.

    `home` gives a home's rows (`EVALUATION_SCHEMA`), one per room and
    method, from its readings and its model row (`home, model`); a home or
    room that cannot be evaluated is a row with its reason.
    """

    days: tuple[date, ...]
    samples: int = 20
    seed: int = 0
    window: int = 5
    max_gap_minutes: int = 10
    options: ScheduleOptions | None = None

    def home(
        self, home: str | None, readings: pd.DataFrame, models: pd.DataFrame
    ) -> pd.DataFrame:
        """Evaluate one home against the baselines."""
        try:
            rows = self._evaluate(home, readings, models)
        except HomeProblem as err:
            rows = [{"home": home, "reason": str(err)}]
        except Exception as err:  # noqa: BLE001
            # Whatever goes wrong in one home, the others' work goes on.
            rows = [{"home": home, "reason": f"{type(err).__name__}: {err}"}]
        return result_frame(rows, EVALUATION_SCHEMA)

    def _evaluate(
        self, home: str | None, readings: pd.DataFrame, models: pd.DataFrame
    ) -> list[dict[str, Any]]:
        if home is None:
            raise HomeProblem("rows without a home")
        if len(models) == 0:
            raise HomeProblem("no model")
        if len(readings) == 0:
            raise HomeProblem("no readings")
        try:
            model = HomeModel.loads(str(models["model"].iat[0]))
        except ModelError as err:
            raise HomeProblem(f"bad model: {err}") from err
        rows = home_rows(readings)
        rooms = {room: rows.rooms[room] for room in model.rooms if room in rows.rooms}
        if not rooms:
            raise HomeProblem(
                f"no readings of the model's rooms ({', '.join(model.rooms)})"
            )
        results = evaluate_home(
            model,
            rooms,
            list(self.days),
            samples=self.samples,
            seed=self.seed,
            window=self.window,
            max_gap_minutes=self.max_gap_minutes,
            options=self.options,
        )
        out: list[dict[str, Any]] = []
        for room in results["rooms"]:
            n_days = len(room["days"])
            if not n_days:
                out.append(
                    {
                        "home": home,
                        "room": room["room"],
                        "days": 0,
                        "reason": "no real day in the evaluated days",
                    }
                )
                continue
            for method in METHODS:
                scores = room["methods"][method]
                out.append(
                    {
                        "home": home,
                        "room": room["room"],
                        "method": method,
                        "days": n_days,
                        **(scores or {"reason": "no day to compare with"}),
                    }
                )
        return out
