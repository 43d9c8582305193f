"""`lighting-replay fleet`: simulate, train and evaluate many homes on Spark.

The options, messages and output files of the three commands; the work per
home is in `fleet.py`, the Spark jobs in `spark.py`. Nothing here imports
PySpark until a command runs, so the rest of the command works without it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import contextlib
from datetime import date
from pathlib import Path
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .cli import (
    MAX_PROBLEMS_SHOWN,
    _days,
    _note,
    _out,
    _output_folder,
    _pairs,
    _schedule_options,
    _training_options,
)
from .evaluation import METHODS
from .fleet import (
    REPORT_FILE,
    HomeEvaluation,
    HomeTraining,
    Simulation,
    home_of_model,
    save_training,
    simulated_homes,
)
from .parser import CliError, _add_schedule, _add_series, _add_training, _day, _positive

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FORMAT_CHOICES = ("auto", "parquet", "csv")


# ----------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------
@contextlib.contextmanager
def _spark(args: argparse.Namespace) -> Iterator[SparkSession]:
    """Run Spark for a command; its problems become one-line errors."""
    from .spark import DatasetError, SparkUnavailable, spark_session  # noqa: PLC0415

    try:
        with spark_session(args.master, _pairs(args.conf, "--conf")) as spark:
            yield spark
    except (SparkUnavailable, DatasetError) as err:
        raise CliError(str(err)) from err
    except Exception as err:
        # Spark's own errors (a path it cannot read, a bad setting) are the
        # user's to fix; anything else is a bug and keeps its traceback.
        if type(err).__module__.partition(".")[0] not in {"pyspark", "py4j"}:
            raise
        raise CliError(f"Spark: {str(err).strip().splitlines()[0]}") from err


def _add_spark(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Spark")
    group.add_argument(
        "--master",
        metavar="URL",
        help="Spark master, e.g. spark://host:7077 or yarn (default: local[*],"
        " every core of this machine, no cluster needed)",
    )
    group.add_argument(
        "--conf",
        action="append",
        metavar="KEY=VALUE",
        help="a Spark setting (repeatable), e.g. --conf spark.executor.memory=4g",
    )


def _add_dataset(parser: argparse.ArgumentParser, *, homes: bool) -> None:
    parser.add_argument(
        "dataset",
        nargs="?",
        metavar="DATASET",
        help="folder with readings/ and homes.parquet or homes.csv"
        " (as fleet simulate writes it)",
    )
    group = parser.add_argument_group("dataset parts (instead of DATASET)")
    group.add_argument(
        "--readings",
        metavar="PATH",
        help="readings home,room,timestamp,value: Parquet or CSV files or folders,"
        " any path Spark reads (default DATASET/readings)",
    )
    if homes:
        group.add_argument(
            "--homes",
            metavar="PATH",
            help="homes table home,latitude,longitude,time_zone"
            " (default DATASET/homes.parquet or .csv)",
        )
    group.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default="auto",
        help="format of the readings (default: from the file names)",
    )


def _local_path(path: str) -> bool:
    return "://" not in path


def _readings_path(args: argparse.Namespace) -> str:
    path = args.readings or (args.dataset and str(Path(args.dataset) / "readings"))
    if not path:
        raise CliError("give a DATASET folder or --readings")
    if _local_path(path) and not Path(path).exists():
        raise CliError(f"{path}: no such file or folder")
    return str(path)


def _homes_path(args: argparse.Namespace) -> str:
    if args.homes:
        if _local_path(args.homes) and not Path(args.homes).exists():
            raise CliError(f"{args.homes}: no such file or folder")
        return str(args.homes)
    if not args.dataset:
        raise CliError("give a DATASET folder or --homes")
    found = [
        Path(args.dataset) / f"homes.{fmt}"
        for fmt in ("parquet", "csv")
        if (Path(args.dataset) / f"homes.{fmt}").exists()
    ]
    if len(found) != 1:
        raise CliError(
            f"{args.dataset}: expected one homes table, homes.parquet or homes.csv"
            f" (found {len(found)}); or give --homes"
        )
    return str(found[0])


def _format(args: argparse.Namespace) -> str | None:
    return None if args.format == "auto" else str(args.format)


def _report_homes(problems: Sequence[str], where: str) -> None:
    """Show homes and their reasons on stderr (the first ones, then a count)."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        _note(problem)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        _note(f"{len(problems) - MAX_PROBLEMS_SHOWN} more in {where}")


# ----------------------------------------------------------------------
# simulate
# ----------------------------------------------------------------------
def cmd_fleet_simulate(args: argparse.Namespace) -> int:
    """Write a simulated fleet dataset."""
    folder = _output_folder(args.output)
    readings = folder / "readings"
    if readings.exists():
        raise CliError(f"{readings}: exists already; choose another folder")
    homes = simulated_homes(args.homes, args.seed)
    started = time.perf_counter()
    with _spark(args) as spark:
        from .spark import simulate_fleet  # noqa: PLC0415

        simulate_fleet(
            spark,
            homes,
            Simulation(args.start, args.days),
            str(readings),
            args.format,
        )
    # Hadoop's checksum files would only make an edited file unreadable.
    for checksum in readings.rglob(".*.crc"):
        checksum.unlink()
    table = folder / f"homes.{args.format}"
    homes = homes.drop(columns="seed")
    if args.format == "csv":
        homes.to_csv(table, index=False, lineterminator="\n")
    else:
        homes.to_parquet(table, index=False)
    _out(
        f"fleet: {len(homes)} homes in {homes['time_zone'].nunique()} time zones,"
        f" {args.days} days from {args.start}: {table} and {readings}"
        f" ({args.format}, partitioned by home) in"
        f" {time.perf_counter() - started:.1f} s"
    )
    return 0


# ----------------------------------------------------------------------
# train
# ----------------------------------------------------------------------
def cmd_fleet_train(args: argparse.Namespace) -> int:
    """Train every home of a fleet; write a model file per home and a report."""
    options, per_room = _training_options(args)
    training = HomeTraining(
        options, per_room, args.backend, since=args.since, until=args.until
    )
    readings_path = _readings_path(args)
    homes_path = _homes_path(args)
    folder = _output_folder(args.output)
    started = time.perf_counter()
    with _spark(args) as spark:
        from .spark import read_homes, read_readings, train_fleet  # noqa: PLC0415

        results = train_fleet(
            spark,
            read_readings(spark, readings_path, _format(args)),
            read_homes(spark, homes_path),
            training,
        )
    results.sort(key=lambda r: str(r["home"] or ""))
    tally = save_training(results, folder)
    noted = [
        f"home {r['home'] or '(none)'} {r['status']}: {r['reason']}"
        for r in results
        if r["reason"]
    ]
    _report_homes(noted, str(folder / REPORT_FILE))
    _out(tally.line(folder, time.perf_counter() - started))
    if not tally.trained:
        raise CliError(f"no home could be trained (see {folder / REPORT_FILE})")
    return 0


# ----------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------
def _read_models(folder: Path) -> pd.DataFrame:
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise CliError(f"{folder}: no model files (*.json); run fleet train first")
    return pd.DataFrame(
        {
            "home": [home_of_model(path) for path in paths],
            "model": [path.read_text(encoding="utf-8") for path in paths],
        }
    )


def _check_results_file(path: str) -> Path:
    target = Path(path)
    if target.suffix.lower() not in {".csv", ".parquet"}:
        raise CliError(f"{path}: name a .csv or .parquet file")
    if not target.parent.is_dir():
        raise CliError(f"{path}: folder {target.parent} does not exist")
    return target


def cmd_fleet_evaluate(args: argparse.Namespace) -> int:
    """Realism of every home's model against the baselines, with a summary."""
    readings_path = _readings_path(args)
    target = _check_results_file(args.output) if args.output else None
    models = _read_models(Path(args.models))
    evaluation = HomeEvaluation(
        tuple(_days(args.start, args.days)),
        samples=args.samples,
        seed=args.seed,
        window=args.window,
        max_gap_minutes=args.max_gap,
        options=_schedule_options(args),
    )
    with _spark(args) as spark:
        from .spark import evaluate_fleet, read_readings  # noqa: PLC0415

        results = evaluate_fleet(
            spark,
            read_readings(spark, readings_path, _format(args)),
            models,
            evaluation,
        )
    results = results.sort_values(["home", "room", "method"], na_position="first")
    results = results.reset_index(drop=True)
    unscored = results[results["method"].isna()]
    _report_homes(
        [
            f"home {home or '(none)'}{'' if pd.isna(room) else f' room {room}'}:"
            f" {reason}"
            for home, room, reason in unscored[["home", "room", "reason"]].itertuples(
                index=False
            )
        ],
        "the results",
    )
    table = results[results["method"].notna()].pivot(
        index=["home", "room", "days"], columns="method", values="score"
    )
    table = table.reindex(columns=list(METHODS))
    _out(format_scores(table))
    _out("")
    _out(format_summary(table, results["home"].nunique()))
    if target is not None:
        if target.suffix.lower() == ".parquet":
            results.to_parquet(target, index=False)
        else:
            results.to_csv(target, index=False, lineterminator="\n")
        _out(f"results written to {target}")
    if table.empty:
        raise CliError("no home could be evaluated")
    return 0


def _columns(rows: Sequence[Sequence[str]], left: int) -> list[str]:
    """Align rows of cells: the first `left` columns left, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def _best(table: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Return the lowest score of each row (NaN where none)."""
    values = table.to_numpy(dtype=np.float64)
    known = np.isfinite(values).any(axis=1)
    best = np.full(len(values), np.nan)
    best[known] = np.nanmin(values[known], axis=1)
    return best


def format_scores(table: pd.DataFrame) -> str:
    """Return the score of each method per home and room (`*` = best)."""
    rows = [["home", "room", "days", *table.columns]]
    keys = table.index.to_frame(index=False).itertuples(index=False, name=None)
    for (home, room, days), scores, best in zip(
        keys, table.to_numpy(dtype=np.float64), _best(table), strict=True
    ):
        cells = [
            "-" if np.isnan(score) else f"{score:.3f}{'*' if score == best else ' '}"
            for score in scores
        ]
        rows.append([str(home), str(room), str(int(days)), *cells])
    title = (
        "realism score per home and room (0 = like the real days, 1 = unlike; * = best)"
    )
    return "\n".join([title, *_columns(rows, left=2)])


def format_summary(table: pd.DataFrame, n_homes: int) -> str:
    """Return the fleet's summary: per method the rooms, mean, median and wins."""
    best = _best(table)
    evaluated = table.index.get_level_values("home").nunique()
    rows = [["method", "rooms", "mean", "median", "best in"]]
    for method in table.columns:
        scores = table[method].dropna()
        wins = int(np.count_nonzero(table[method].to_numpy() == best))
        rows.append(
            [
                method,
                str(len(scores)),
                f"{scores.mean():.3f}" if len(scores) else "-",
                f"{scores.median():.3f}" if len(scores) else "-",
                str(wins),
            ]
        )
    title = (
        f"fleet: {evaluated} homes evaluated ({len(table)} rooms),"
        f" {n_homes - evaluated} not evaluated"
    )
    return "\n".join([title, *_columns(rows, left=1)])


# ----------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------
def add_fleet_parser(commands: Any) -> None:
    """Add `fleet` and its commands to the subcommands of `lighting-replay`."""
    fleet = commands.add_parser(
        "fleet",
        help="simulate, train and evaluate many homes on Apache Spark",
        description="Many homes at once: every home is trained (or evaluated) by"
        " the same engine as `train`, in parallel on Spark (embedded local[*]"
        " by default, a cluster with --master).",
    )
    fleet_commands = fleet.add_subparsers(
        dest="fleet_command", metavar="COMMAND", required=True
    )

    p = fleet_commands.add_parser(
        "simulate",
        help="write a simulated fleet dataset",
        description="Simulate homes in cities around the world with the engine's"
        " household simulator; write readings/ (partitioned by home) and the"
        " homes table.",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument(
        "--homes", type=_positive, default=20, help="homes (default %(default)s)"
    )
    p.add_argument(
        "--days", type=_positive, default=60, help="days (default %(default)s)"
    )
    p.add_argument(
        "--start",
        type=_day,
        default=date(2024, 1, 8),
        metavar="YYYY-MM-DD",
        help="first simulated day (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="file format (default %(default)s)",
    )
    _add_spark(p)
    p.set_defaults(func=cmd_fleet_simulate)

    p = fleet_commands.add_parser(
        "train",
        help="train every home; one model file per home",
        description="Train every home's rooms as `train` does and write"
        " <home>.json (the model file the integration imports) per home and"
        f" {REPORT_FILE}: every home, with the reason when it was not trained.",
    )
    _add_dataset(p, homes=True)
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    _add_training(p)
    _add_spark(p)
    p.set_defaults(func=cmd_fleet_train)

    p = fleet_commands.add_parser(
        "evaluate",
        help="realism of every home's model against the baselines",
        description="Compare each home's generated days with its real days, as"
        " `evaluate` does, beside the two baselines; print a table per home and"
        " room and a summary over the fleet. Lower is closer.",
    )
    _add_dataset(p, homes=False)
    p.add_argument(
        "--models", required=True, metavar="DIR", help="the folder of fleet train"
    )
    p.add_argument("--start", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--days", type=_positive, required=True)
    p.add_argument(
        "--samples",
        type=_positive,
        default=20,
        help="generated draws averaged (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "-o",
        "--output",
        metavar="RESULTS.csv|.parquet",
        help="also write every score (per home, room and method)",
    )
    _add_series(p)
    _add_schedule(p)
    _add_spark(p)
    p.set_defaults(func=cmd_fleet_evaluate)
