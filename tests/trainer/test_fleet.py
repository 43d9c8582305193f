"""lighting-replay fleet: a small simulated fleet through Spark in local mode.

One Spark session serves the whole test session (starting one takes about
20 s). The fleet is four simulated homes of eight days in CSV, damaged on
purpose: one home has a corrupted row, one has two days of readings only,
one a time zone that does not exist, and a fifth home is in the homes table
without readings.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import csv
from dataclasses import dataclass
import io
import json
import os
from pathlib import Path
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.training import TrainingOptions
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.evaluation import METHODS, METRICS
from lighting_replay_trainer.fleet import (
    CITIES,
    CITY_SPREAD_DEG,
    EVALUATION_SCHEMA,
    HOME_COLUMNS,
    REPORT_COLUMNS,
    HomeTraining,
    home_of_model,
    home_rows,
    model_path,
    schema_fields,
    simulated_homes,
)
from lighting_replay_trainer.spark import (
    SparkUnavailable,
    check_java,
    find_java,
    java_major,
    package_zip,
    read_readings,
    spark_session,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

START = "2024-03-04"
DAYS = 8
UNTIL = "2024-03-09"
"""The models learn from the first six days; the last two are evaluated."""
QUICK = ["--states", "3", "--restarts", "1", "--until", UNTIL]
"""Training options that keep the tests fast (the same for `train`)."""
CORRUPT_VALUE = "#corrupt#"


@dataclass(frozen=True)
class Run:
    """A command's exit code and what it printed."""

    code: int
    out: str
    err: str


def run(argv: list[str]) -> Run:
    """Run the command, capturing what it prints (usable in session fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return Run(code, out.getvalue(), err.getvalue())


def allow_local_sockets() -> None:
    """Let Spark's driver talk to its JVM over local sockets.

    Home Assistant's test plugin blocks sockets before every test, and a
    session fixture is set up before the test's own fixtures could enable
    them, so the Spark fixtures call this too.
    """
    with contextlib.suppress(ImportError):
        import pytest_socket

        pytest_socket.enable_socket()


@pytest.fixture(autouse=True)
def _local_sockets() -> None:
    allow_local_sockets()


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The Spark session of every test here: local[2], no web UI."""
    try:
        check_java()
    except SparkUnavailable as err:
        pytest.skip(f"JAVA NOT INSTALLED: {err}")
    allow_local_sockets()
    quiet = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
    with spark_session("local[2]", quiet) as session:
        yield session


def part_file(readings: Path, home: str) -> Path:
    """Return the readings file of a home in a partitioned CSV dataset."""
    (path,) = (readings / f"home={home}").glob("part-*.csv")
    return path


@pytest.fixture(scope="session")
def fleet(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The damaged fleet dataset (see the module's docstring)."""
    allow_local_sockets()
    folder = tmp_path_factory.mktemp("fleet") / "dataset"
    argv = ["fleet", "simulate", "-o", str(folder), "--homes", "4", "--days",
            str(DAYS), "--start", START, "--seed", "5", "--format", "csv"]  # fmt: skip
    simulated = run(argv)
    assert simulated.code == 0, simulated.err
    readings = folder / "readings"
    damaged = part_file(readings, "h0002")
    columns = damaged.read_text(encoding="utf-8").splitlines()[0].split(",")
    corrupt = {"room": "kitchen", "timestamp": "1709800000.5", "value": CORRUPT_VALUE}
    with damaged.open("a", encoding="utf-8") as handle:
        handle.write(",".join(corrupt[c] for c in columns) + "\n")
    short = part_file(readings, "h0003")
    rows = pd.read_csv(short, dtype=str)
    stamps = rows["timestamp"].astype(float)
    rows[stamps < stamps.min() + 2 * 86400].to_csv(short, index=False)
    homes = pd.read_csv(folder / "homes.csv", dtype=str)
    homes.loc[homes["home"] == "h0004", "time_zone"] = "Mars/Olympus_Mons"
    homes.loc[len(homes)] = ["h0005", "6.5", "3.4", "Africa/Lagos"]
    homes.to_csv(folder / "homes.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def trained(fleet: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """The models of the fleet, written by `fleet train`, and what it printed."""
    allow_local_sockets()
    folder = tmp_path_factory.mktemp("fleet-models")
    return folder, run(["fleet", "train", str(fleet), "-o", str(folder), *QUICK])


def capture_csv(readings: pd.DataFrame, path: Path) -> Path:
    """Write a home's readings as a capture CSV file for `train`/`evaluate`."""
    frame = readings.rename(columns={"room": "sensor_id"})
    frame[["timestamp", "sensor_id", "value"]].to_csv(path, index=False)
    return path


def location_args(homes: pd.DataFrame, home: str) -> list[str]:
    row = homes.set_index("home").loc[home]
    return ["--latitude", str(row["latitude"]), "--longitude",
            str(row["longitude"]), "--timezone", str(row["time_zone"])]  # fmt: skip


def without_training_time(model: HomeModel) -> dict[str, Any]:
    data = model.to_dict()
    for room in data["rooms"].values():
        del room["trained_at"]
    return data


# ----------------------------------------------------------------------
# Through Spark
# ----------------------------------------------------------------------
def test_simulate_writes_readings_partitioned_by_home(fleet: Path) -> None:
    readings = fleet / "readings"
    assert sorted(p.name for p in readings.glob("home=*")) == [
        f"home=h000{i}" for i in range(1, 5)
    ]
    header = part_file(readings, "h0001").read_text(encoding="utf-8").split("\n")[0]
    assert header.split(",") == ["room", "timestamp", "value"]
    assert not list(readings.rglob("*.crc"))
    homes = pd.read_csv(fleet / "homes.csv")
    assert tuple(homes.columns) == HOME_COLUMNS


def test_fleet_train_writes_a_model_per_home_and_reports_the_others(
    fleet: Path, trained: tuple[Path, Run]
) -> None:
    folder, result = trained
    assert result.code == 0, result.err
    assert sorted(p.name for p in folder.glob("*.json")) == ["h0001.json", "h0002.json"]
    homes = pd.read_csv(fleet / "homes.csv").set_index("home")
    for home in ("h0001", "h0002"):
        model = HomeModel.load(model_path(folder, home))
        assert sorted(model.rooms) == ["bedroom", "kitchen", "living_room"]
        assert model.location.time_zone == homes.loc[home, "time_zone"]
        assert model.location.latitude == homes.loc[home, "latitude"]

    with (folder / "report.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == REPORT_COLUMNS
    report = {row["home"]: row for row in rows}
    assert sorted(report) == ["h0001", "h0002", "h0003", "h0004", "h0005"]
    assert report["h0001"]["status"] == "trained"
    assert report["h0001"]["reason"] == ""
    assert report["h0002"]["status"] == "trained"
    assert report["h0002"]["rows_skipped"] == "1"
    assert report["h0002"]["reason"] == f"1 row skipped (bad value '{CORRUPT_VALUE}')"
    assert report["h0003"]["status"] == "skipped"
    assert report["h0003"]["rooms"] == "0"
    assert report["h0003"]["rooms_skipped"] == "3"
    assert report["h0003"]["reason"].startswith("no room could be trained; bedroom:")
    assert "at least 3 needed" in report["h0003"]["reason"]
    assert report["h0004"]["status"] == "skipped"
    assert "unknown time zone 'Mars/Olympus_Mons'" in report["h0004"]["reason"]
    assert report["h0005"]["reason"] == "no readings"

    for home in ("h0002", "h0003", "h0004", "h0005"):
        assert f"home {home} " in result.err
    assert (
        result.out.strip()
        .splitlines()[-1]
        .startswith(
            "fleet: 5 homes, 2 trained (6 rooms), 3 not trained, 1 rows skipped;"
        )
    )


@pytest.mark.parametrize("home", ["h0001", "h0002"])
def test_fleet_models_equal_the_train_command(
    fleet: Path, trained: tuple[Path, Run], tmp_path: Path, home: str
) -> None:
    # The home's own rows, the corrupted one included, as a capture file.
    part = part_file(fleet / "readings", home)
    single = tmp_path / "model.json"
    homes = pd.read_csv(fleet / "homes.csv", dtype=str)
    argv = ["train", "--csv", str(capture_csv(pd.read_csv(part, dtype=str), tmp_path / "r.csv")),
            *location_args(homes, home), *QUICK, "-o", str(single)]  # fmt: skip
    assert run(argv).code == 0
    fleet_model = HomeModel.load(model_path(trained[0], home))
    assert without_training_time(fleet_model) == without_training_time(
        HomeModel.load(single)
    )


def test_fleet_evaluate_equals_the_evaluate_command(
    fleet: Path, trained: tuple[Path, Run], tmp_path: Path
) -> None:
    models = trained[0]
    target = tmp_path / "results.parquet"
    period = ["--start", "2024-03-10", "--days", "2", "--samples", "3"]
    result = run(["fleet", "evaluate", str(fleet), "--models", str(models),
                  *period, "-o", str(target)])  # fmt: skip
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].split() == ["home", "room", "days", *METHODS]
    summary = lines.index("fleet: 2 homes evaluated (6 rooms), 2 not evaluated")
    assert [line.split()[:2] for line in lines[summary + 2 : summary + 5]] == [
        [method, "6"] for method in METHODS
    ]

    results = pd.read_parquet(target)
    assert list(results.columns) == [
        name for name, _ in schema_fields(EVALUATION_SCHEMA)
    ]
    assert set(results.loc[results["method"].notna(), "home"]) == {"h0001", "h0002"}
    assert set(results.loc[results["method"].isna(), "reason"]) == {"no model"}

    part = part_file(fleet / "readings", "h0001")
    one = run(["evaluate", "--model", str(model_path(models, "h0001")), "--csv",
               str(capture_csv(pd.read_csv(part, dtype=str), tmp_path / "r.csv")),
               *period, "--json"])  # fmt: skip
    assert one.code == 0
    expected = json.loads(one.out)
    mine = results[results["home"] == "h0001"].set_index(["room", "method"])
    for room in expected["rooms"]:
        for method, scores in room["methods"].items():
            row = mine.loc[(room["room"], method)]
            assert row["days"] == len(room["days"])
            for metric in METRICS:
                assert row[metric] == pytest.approx(scores[metric], rel=1e-12)


def test_fleet_evaluate_reports_homes_without_a_model(
    fleet: Path, trained: tuple[Path, Run], tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    # One good model, and one home whose model file is damaged.
    (models / "h0001.json").write_text(
        (trained[0] / "h0001.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (models / "h0002.json").write_text("{", encoding="utf-8")
    target = tmp_path / "results.csv"
    result = run(["fleet", "evaluate", str(fleet), "--models", str(models),
                  "--start", "2024-03-10", "--days", "1", "--samples", "1",
                  "-o", str(target)])  # fmt: skip
    assert result.code == 0, result.err
    assert "fleet: 1 homes evaluated (3 rooms), 3 not evaluated" in result.out
    assert "home h0002: bad model: not valid JSON" in result.err
    assert "home h0003: no model" in result.err
    rows = pd.read_csv(target)
    assert set(rows.loc[rows["method"].isna(), "home"]) == {"h0002", "h0003", "h0004"}


def test_parquet_and_plain_csv_fleets_train_alike(
    spark: SparkSession, tmp_path: Path
) -> None:
    dataset = tmp_path / "dataset"
    assert run(["fleet", "simulate", "-o", str(dataset), "--homes", "2",
                "--days", "5", "--start", "2024-10-21", "--seed", "9"]).code == 0  # fmt: skip
    homes = pd.read_parquet(dataset / "homes.parquet")
    readings = pd.read_parquet(dataset / "readings")
    assert str(readings["timestamp"].dtype) == "float64"
    options = ["--states", "2", "--restarts", "1"]
    from_parquet = tmp_path / "parquet-models"
    assert (
        run(["fleet", "train", str(dataset), "-o", str(from_parquet), *options]).code
        == 0
    )

    # The same rows as one CSV file with a home column, not partitioned.
    flat = tmp_path / "all.csv"
    readings.astype({"home": str}).to_csv(flat, index=False)
    from_csv = tmp_path / "csv-models"
    argv = ["fleet", "train", "--readings", str(flat), "--homes",
            str(dataset / "homes.parquet"), "-o", str(from_csv), *options]  # fmt: skip
    assert run(argv).code == 0

    home = str(homes["home"].iloc[1])
    single = tmp_path / "model.json"
    mine = readings[readings["home"].astype(str) == home]
    argv = ["train", "--csv", str(capture_csv(mine, tmp_path / "r.csv")),
            *location_args(homes, home), *options, "-o", str(single)]  # fmt: skip
    assert run(argv).code == 0
    expected = without_training_time(HomeModel.load(single))
    for folder in (from_parquet, from_csv):
        assert (
            without_training_time(HomeModel.load(model_path(folder, home))) == expected
        )


def test_timestamps_of_a_timestamp_type_become_epoch_seconds(
    spark: SparkSession, tmp_path: Path
) -> None:
    seconds = [1709800000.5, 1709800060.25]
    utc = pd.to_datetime(seconds, unit="s", utc=True)
    frame = pd.DataFrame({"home": [7, 7], "room": "hall", "value": [1.0, 2.0]})
    # Spark reads Parquet timestamps of micro- or milliseconds, not nanoseconds.
    frame.assign(timestamp=utc).to_parquet(
        tmp_path / "aware.parquet", coerce_timestamps="us"
    )
    frame.assign(timestamp=utc.tz_localize(None)).to_parquet(
        tmp_path / "naive.parquet", coerce_timestamps="ms"
    )
    for name in ("aware.parquet", "naive.parquet"):
        rows = read_readings(spark, str(tmp_path / name)).toPandas()
        assert list(rows.columns) == ["home", "room", "timestamp", "value"]
        assert list(rows["home"]) == ["7", "7"]
        assert list(rows["timestamp"]) == seconds


def test_readings_without_a_needed_column_are_one_error(
    spark: SparkSession, fleet: Path, tmp_path: Path
) -> None:
    readings = tmp_path / "readings.csv"
    readings.write_text("home,room,timestamp\nh0001,kitchen,1709800000\n")
    result = run(["fleet", "train", "--readings", str(readings), "--homes",
                  str(fleet / "homes.csv"), "-o", str(tmp_path / "out")])  # fmt: skip
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        f"lighting-replay: error: {readings}: no column value"
        " (has home, room, timestamp; needs home, room, timestamp, value)"
    )


# ----------------------------------------------------------------------
# Without Spark
# ----------------------------------------------------------------------
def test_simulated_homes_spread_over_the_cities() -> None:
    homes = simulated_homes(len(CITIES) + 1, seed=4)
    assert homes["home"].iloc[0] == "h0001"
    assert homes["time_zone"].nunique() == len(CITIES)
    for row, city in zip(homes.itertuples(), [*CITIES, CITIES[0]], strict=True):
        assert abs(row.latitude - city[0]) <= CITY_SPREAD_DEG
        assert abs(row.longitude - city[1]) <= CITY_SPREAD_DEG
        assert row.time_zone == city[2]
    assert homes["seed"].nunique() == len(homes)
    pd.testing.assert_frame_equal(homes, simulated_homes(len(CITIES) + 1, seed=4))


def test_home_rows_leave_out_unusable_rows_whatever_their_order() -> None:
    rows = pd.DataFrame(
        {
            "home": "h1",
            "room": ["b", "a", "a", " ", "a", None, "a"],
            "timestamp": ["120", "60.5", "x", "61", "60", "62", "59"],
            "value": ["1", "2", "3", "4", "5", "6", "inf"],
        }
    )
    result = home_rows(rows)
    assert sorted(result.rooms) == ["a", "b"]
    np.testing.assert_array_equal(result.rooms["a"].timestamps_s, [60.0, 60.5])
    np.testing.assert_array_equal(result.rooms["a"].lux, [5.0, 2.0])
    assert result.n_skipped == 4
    assert result.describe_skipped() == (
        "4 rows skipped (2 no room, first ' ', bad timestamp 'x', bad value 'inf')"
    )
    shuffled = home_rows(rows.sample(frac=1.0, random_state=3))
    np.testing.assert_array_equal(shuffled.rooms["a"].lux, result.rooms["a"].lux)


def homes_table(*rows: tuple[str, Any, Any, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(HOME_COLUMNS))


def readings_of(home: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"home": home, "room": ["kitchen"], "timestamp": [1.7e9], "value": [3.0]}
    )


@pytest.mark.parametrize(
    ("home", "homes", "readings", "status", "reason"),
    [
        (None, homes_table(), readings_of("x"), "skipped", "rows without a home"),
        ("h1", homes_table(), readings_of("h1"), "skipped", "not in the homes table"),
        ("h1", homes_table(("h1", 1, 2, "UTC"), ("h1", 1, 2, "UTC")), readings_of("h1"),
         "skipped", "listed 2 times in the homes table"),
        ("h1", homes_table(("h1", "north", 2, "UTC")), readings_of("h1"), "skipped",
         "bad location: could not convert string to float: 'north'"),
        ("h1", homes_table(("h1", 1, 2, "UTC")), readings_of("h1").iloc[:0], "skipped",
         "no readings"),
        ("h1", homes_table(("h1", 1, 2, "UTC")), readings_of("h1"), "skipped",
         "no room could be trained; kitchen: 0.0 days of readings, at least 3 needed"),
        ("h1", homes_table(("h1", 1, 2, "UTC")), readings_of("h1").drop(columns="value"),
         "failed", "KeyError: 'value'"),
    ],
)  # fmt: skip
def test_a_home_that_cannot_be_trained_is_a_row_with_its_reason(
    home: str | None,
    homes: pd.DataFrame,
    readings: pd.DataFrame,
    status: str,
    reason: str,
) -> None:
    (result,) = (
        HomeTraining(TrainingOptions()).home(home, readings, homes).to_dict("records")
    )
    assert result["home"] == home
    assert result["status"] == status
    assert result["reason"] == reason
    assert pd.isna(result["model"])


@pytest.mark.parametrize("home", ["h0001", "a/b c", "..", "küche%20"])
def test_model_file_names_give_back_the_home(tmp_path: Path, home: str) -> None:
    path = model_path(tmp_path, home)
    assert path.parent == tmp_path
    assert "/" not in path.name
    assert home_of_model(path) == home


def fake_java(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    java = folder / "java"
    java.write_text(f"#!/bin/sh\necho '{version}' >&2\n", encoding="utf-8")
    java.chmod(0o755)
    return java


def test_java_versions_are_read(tmp_path: Path) -> None:
    assert (
        java_major(str(fake_java(tmp_path / "a", 'openjdk version "17.0.15" 2025')))
        == 17
    )
    assert java_major(str(fake_java(tmp_path / "b", 'java version "1.8.0_402"'))) == 8
    assert java_major(str(fake_java(tmp_path / "c", "no version here"))) is None
    assert java_major(str(tmp_path / "missing")) is None


def test_spark_needs_java_17_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_java() is None
    with pytest.raises(SparkUnavailable, match="found no Java runtime"):
        check_java()
    old = fake_java(tmp_path / "old", 'openjdk version "11.0.2"')
    monkeypatch.setenv("PATH", str(old.parent))
    with pytest.raises(SparkUnavailable, match=r"found Java 11 .*openjdk-17-jre"):
        check_java()
    new = fake_java(tmp_path / "jdk" / "bin", 'openjdk version "21.0.1"')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert find_java() == str(new)
    check_java()


def test_executors_of_a_cluster_get_the_installed_packages(tmp_path: Path) -> None:
    archive = package_zip(tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import lighting_replay_engine.training as t, lighting_replay_trainer.fleet as f;"
        "print(t.__file__); print(f.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(archive)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.stdout.split() == [
        f"{archive}/lighting_replay_engine/training.py",
        f"{archive}/lighting_replay_trainer/fleet.py",
    ]


def test_fleet_commands_check_their_inputs_before_spark(tmp_path: Path) -> None:
    missing = run(["fleet", "train", str(tmp_path / "nothing"), "-o", str(tmp_path)])
    assert missing.code == 2
    assert "nothing/readings: no such file or folder" in missing.err
    (tmp_path / "readings").mkdir()
    no_homes = run(["fleet", "train", str(tmp_path), "-o", str(tmp_path / "out")])
    assert no_homes.code == 2
    assert "expected one homes table" in no_homes.err
    wrong = run(["fleet", "evaluate", str(tmp_path), "--models", str(tmp_path),
                 "--start", "2024-01-01", "--days", "1", "-o", "x.json"])  # fmt: skip
    assert wrong.code == 2
    assert "x.json: name a .csv or .parquet file" in wrong.err


def test_fleet_train_has_the_options_of_train() -> None:
    result = run(["fleet", "train", "--help"])
    assert result.code == 0
    for option in ("--states", "--restarts", "--until", "--on-level", "--master",
                   "--conf", "--readings", "--homes"):  # fmt: skip
        assert option in result.out
    assert run(["fleet", "--help"]).code == 0
