"""Apache Spark for the fleet commands: the session, and the jobs per home.

Spark does the grouping, the shuffling and the parallelism: the readings are
grouped by home (cogrouped with the homes table or the models, so a home
present on one side only is reported too) and each group goes to a function
of `fleet.py` through `applyInPandas`. With no master given the session runs
embedded on `local[*]`; `--master` points it at a cluster.

The executors run the installed `lighting_replay_engine` and
`lighting_replay_trainer` packages: locally, the driver's own interpreter;
on a cluster, the same two packages zipped from the driver's installation
and sent with the job (`addPyFile`). Their Python needs numpy, astral,
pandas and pyarrow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
import contextlib
from functools import partial
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Final
import zipfile

import pandas as pd

import lighting_replay_engine

from .fleet import (
    EVALUATION_SCHEMA,
    HOME_COLUMNS,
    READING_COLUMNS,
    READINGS_SCHEMA,
    TRAIN_SCHEMA,
    HomeEvaluation,
    HomeTraining,
    Simulation,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER: Final = "local[*]"
JAVA_NEEDED: Final = 17
"""Spark 4 runs on Java 17 or newer."""
FORMATS: Final = ("parquet", "csv")
MAX_PARTITIONS: Final = 10_000

SESSION_DEFAULTS: Final = {
    "spark.ui.showConsoleProgress": "true",
    # Epoch seconds and dates mean UTC, whatever the machine's zone.
    "spark.sql.session.timeZone": "UTC",
    # A partition folder home=0042 stays the home "0042", not the number 42.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    # The work per home is CPU, not data: merging small partitions would
    # leave cores idle.
    "spark.sql.adaptive.coalescePartitions.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
"""Settings of a session the fleet commands start; `--conf` overrides them."""


class SparkUnavailable(Exception):
    """PySpark or a Java runtime is missing; the message says what to install."""


class DatasetError(Exception):
    """A fleet dataset that cannot be used as it is (missing columns, parts)."""


# ----------------------------------------------------------------------
# The session
# ----------------------------------------------------------------------
def java_major(java: str) -> int | None:
    """Return the major version of a Java runtime, None if it does not run."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # 'openjdk version "17.0.15" ...'; before Java 9 'java version "1.8.0_402"'.
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if found is None:
        return None
    major = int(found[1])
    return int(found[2] or 0) if major == 1 else major


def find_java() -> str | None:
    """Return the Java runtime Spark will start: JAVA_HOME's, else PATH's."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_java() -> None:
    """Raise `SparkUnavailable` unless a Java runtime Spark can use is there."""
    java = find_java()
    major = None if java is None else java_major(java)
    if major is None or major < JAVA_NEEDED:
        found = "no Java runtime" if major is None else f"Java {major} ({java})"
        raise SparkUnavailable(
            f"Spark needs Java {JAVA_NEEDED} or newer, found {found}: install one"
            " (Debian: apt-get install openjdk-17-jre-headless; scripts/setup does"
            " this when run as root) or set JAVA_HOME to one"
        )


def is_local(master: str) -> bool:
    """Return whether a master runs the executors in this process's machine."""
    return master == "local" or master.startswith("local[")


@contextlib.contextmanager
def spark_session(
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    app_name: str = "lighting-replay fleet",
) -> Iterator[SparkSession]:
    """Start a Spark session (default `local[*]`) and stop it afterwards.

    A session that is already running (the caller's own Spark application)
    is used as it is and left running.
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError as err:
        raise SparkUnavailable(
            "PySpark is not installed: pip install 'lighting-replay[fleet]'"
        ) from err
    running = SparkSession.getActiveSession()
    if running is not None:
        yield running
        return
    check_java()
    chosen = master or DEFAULT_MASTER
    if is_local(chosen):
        # Workers must start this interpreter, which has the packages
        # installed, not whatever `python3` is first on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(chosen).appName(app_name)
    for key, value in {**SESSION_DEFAULTS, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        spark.sparkContext.setLogLevel("WARN")
        with tempfile.TemporaryDirectory(prefix="lighting-replay-") as folder:
            if not is_local(chosen):
                spark.sparkContext.addPyFile(str(package_zip(Path(folder))))
            yield spark
    finally:
        spark.stop()


def package_zip(folder: Path) -> Path:
    """Zip the installed engine and trainer packages for the executors.

    The files are the ones this process imports, under their package names,
    so the executors run exactly the driver's code.
    """
    trainer = str(__package__)
    target = folder / "lighting_replay_packages.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, module_file in (
            (lighting_replay_engine.__name__, lighting_replay_engine.__file__),
            (trainer, sys.modules[trainer].__file__),
        ):
            root = Path(str(module_file)).parent
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.suffix in {".py", ".typed"}:
                    archive.write(path, f"{name}/{path.relative_to(root)}")
    return target


# ----------------------------------------------------------------------
# The dataset
# ----------------------------------------------------------------------
def dataset_format(path: str) -> str:
    """Guess the format of readings or a homes table from its path.

    A `.csv`/`.parquet` name says it; a local folder is Parquet if it holds
    any `.parquet` file, CSV if it holds `.csv` files. Anything else (a
    cluster's storage) is taken as Parquet; `--format` says otherwise.
    """
    lowered = path.lower().rstrip("/")
    for fmt in FORMATS:
        if lowered.endswith(f".{fmt}"):
            return fmt
    folder = Path(path)
    if folder.is_dir():
        for fmt in FORMATS:
            if next(folder.rglob(f"*.{fmt}"), None) is not None:
                return fmt
    return "parquet"


def read_table(
    spark: SparkSession, path: str, columns: tuple[str, ...], fmt: str | None = None
) -> DataFrame:
    """Read a Parquet or CSV table (files or partitioned folders) with its columns.

    CSV values arrive as text; the functions per home turn them into
    numbers and count the rows where that fails. A timestamp column of a
    timestamp type becomes epoch seconds.
    """
    from pyspark.sql import functions as sf  # noqa: PLC0415
    from pyspark.sql.types import TimestampNTZType, TimestampType  # noqa: PLC0415

    chosen = fmt or dataset_format(path)
    reader = spark.read.format(chosen)
    if chosen == "csv":
        reader = reader.option("header", "true")
    frame = reader.load(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DatasetError(
            f"{path}: no column {', '.join(missing)}"
            f" (has {', '.join(frame.columns)}; needs {', '.join(columns)})"
        )
    picked = {c: sf.col(c) for c in columns}
    # Home ids are text, even where a file stores them as numbers.
    picked["home"] = picked["home"].cast("string")
    if "timestamp" in columns and isinstance(
        frame.schema["timestamp"].dataType, TimestampType | TimestampNTZType
    ):
        # A timestamp without a time zone is taken as UTC (the session's zone).
        instant = sf.col("timestamp").cast("timestamp")
        picked["timestamp"] = sf.unix_micros(instant) / 1_000_000
    return frame.select(*(column.alias(name) for name, column in picked.items()))


def read_readings(spark: SparkSession, path: str, fmt: str | None = None) -> DataFrame:
    """Read a fleet's readings (`home, room, timestamp, value`)."""
    return read_table(spark, path, READING_COLUMNS, fmt)


def read_homes(spark: SparkSession, path: str) -> DataFrame:
    """Read a fleet's homes table (`home, latitude, longitude, time_zone`)."""
    return read_table(spark, path, HOME_COLUMNS)


def _spread(spark: SparkSession, n_homes: int) -> None:
    """Give the shuffle about one partition per home, so every core has work."""
    partitions = max(1, min(n_homes, MAX_PARTITIONS))
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))


# ----------------------------------------------------------------------
# The jobs
# ----------------------------------------------------------------------
type HomeWork = Callable[[str | None, pd.DataFrame, pd.DataFrame], pd.DataFrame]
"""The work for one home: (home, its rows on each side) -> result rows."""


def _per_home(
    work: HomeWork, key: tuple[Any, ...], left: pd.DataFrame, right: pd.DataFrame
) -> pd.DataFrame:
    """Call `work` the way Spark calls a cogroup function with the group's key."""
    return work(key[0], left, right)


def _each_home(
    left: DataFrame, right: DataFrame, work: HomeWork, schema: str
) -> DataFrame:
    """Group both sides by home and apply `work` to every home, on Spark."""
    # Spark passes the key when the function takes three arguments.
    return (
        left.groupBy("home")
        .cogroup(right.groupBy("home"))
        .applyInPandas(partial(_per_home, work), schema=schema)
    )


def train_fleet(
    spark: SparkSession, readings: DataFrame, homes: DataFrame, training: HomeTraining
) -> list[dict[str, Any]]:
    """Train every home on Spark; return each home's result row."""
    _spread(spark, homes.count())
    results = _each_home(readings, homes, training.home, TRAIN_SCHEMA)
    return [row.asDict() for row in results.collect()]


def evaluate_fleet(
    spark: SparkSession,
    readings: DataFrame,
    models: pd.DataFrame,
    evaluation: HomeEvaluation,
) -> pd.DataFrame:
    """Evaluate every home's model on Spark; return the rows of every home."""
    model_rows = spark.createDataFrame(models, schema="home string, model string")
    _spread(spark, len(models))
    return _each_home(
        readings, model_rows, evaluation.home, EVALUATION_SCHEMA
    ).toPandas()


def simulate_fleet(
    spark: SparkSession,
    homes: pd.DataFrame,
    simulation: Simulation,
    path: str,
    fmt: str,
) -> None:
    """Simulate the readings of `homes` on Spark; write them partitioned by home."""
    parallel = max(1, spark.sparkContext.defaultParallelism)
    readings = (
        spark.createDataFrame(homes)
        .repartition(min(len(homes), parallel * 4))
        .mapInPandas(simulation, schema=READINGS_SCHEMA)
    )
    writer = readings.write.mode("errorifexists").partitionBy("home")
    if fmt == "csv":
        writer = writer.option("header", "true")
    writer.format(fmt).save(path)
