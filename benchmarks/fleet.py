"""Train a simulated fleet on Spark (local[1], local[2]) and in a plain loop.

`lighting-replay fleet simulate` writes the fleet (Parquet, partitioned by
home); then the same fleet is trained three times with the default training
options:

- `lighting-replay fleet train --master local[1]` and `--master local[2]`,
  each a command of its own as a user runs it (session start included);
- a plain loop in this process: per home, read its Parquet folder with
  pandas, call the same `HomeTraining.home` the Spark job applies per home
  group, and write the models with the same `save_training`.

The three sets of models must be equal (JSON without the training time).
Spark's cost is shown apart: an empty session's start and stop, and (on
local[1]) the time outside the homes' training. The machine is shared: the
load average (1 minute) after each run and the loop's CPU time are printed
too.

Run: ``python benchmarks/fleet.py [--homes 200] [--days 60]``. The last line
is ``RESULT homes=... seconds_local1=... seconds_local2=...
seconds_sequential=... speedup=...`` (speedup: the loop's time over
local[2]'s).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

import pandas as pd

from lighting_replay_engine.model import HomeModel
from lighting_replay_trainer.fleet import HomeTraining, model_path, save_training

COMMAND = [sys.executable, "-m", "lighting_replay_trainer"]
START_ONLY = (
    "from lighting_replay_trainer.spark import spark_session\n"
    "with spark_session('local[1]'):\n"
    "    pass\n"
)


def load() -> str:
    """Return the load average of the last minute."""
    return f"{os.getloadavg()[0]:.2f}"


def timed(argv: list[str]) -> tuple[float, str]:
    """Run a command; return its wall seconds and output."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def train_sequentially(dataset: Path, folder: Path) -> None:
    """Train every home in this process, one after the other."""
    homes = pd.read_parquet(dataset / "homes.parquet")
    training = HomeTraining()
    results: list[dict[str, Any]] = []
    for home in homes["home"]:
        readings = pd.read_parquet(dataset / "readings" / f"home={home}")
        # The partition folder's name holds the home.
        readings.insert(0, "home", home)
        one = training.home(home, readings, homes[homes["home"] == home])
        results.extend(one.to_dict("records"))
    folder.mkdir()
    save_training(results, folder)


def models_of(folder: Path, homes: pd.Series) -> list[dict[str, Any]]:
    """Return every home's model as data, without the training time."""
    models = []
    for home in homes:
        data = HomeModel.load(model_path(folder, str(home))).to_dict()
        for room in data["rooms"].values():
            del room["trained_at"]
        models.append(data)
    return models


def main() -> None:
    """Simulate, train three ways, compare, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    print(f"load average before: {load()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="fleet-benchmark-") as raw:
        work = Path(raw)
        dataset = work / "dataset"
        size = ["--homes", str(args.homes), "--days", str(args.days)]
        simulate = ["fleet", "simulate", "-o", str(dataset), *size]
        wall, out = timed([*COMMAND, *simulate, "--master", "local[2]"])
        homes = pd.read_parquet(dataset / "homes.parquet")["home"]
        rows = len(pd.read_parquet(dataset / "readings", columns=["value"]))
        print(out.strip())
        print(f"{len(homes)} homes x 3 rooms x {args.days} days, {rows} readings")

        start_only, _ = timed([sys.executable, "-c", START_ONLY])
        print(f"an empty Spark session, started and stopped: {start_only:.1f} s")

        seconds: dict[str, float] = {}
        for master in ("local[1]", "local[2]"):
            train = ["fleet", "train", str(dataset), "-o", str(work / master)]
            wall, out = timed([*COMMAND, *train, "--master", master])
            summary = out.strip().splitlines()[-1]
            inside = re.search(r"\(([\d.]+) s of training summed", summary)
            seconds[master] = wall
            print(f"fleet train --master {master}: {wall:.1f} s, load {load()}")
            print(f"    {summary}")
            if inside and master == "local[1]":
                # With one core the homes' training runs one after the other.
                outside = wall - float(inside[1])
                print(f"    outside the homes' training: {outside:.1f} s")

        cpu = time.process_time()
        started = time.perf_counter()
        train_sequentially(dataset, work / "sequential")
        sequential = time.perf_counter() - started
        loop_cpu = time.process_time() - cpu
        print(f"plain loop: {sequential:.1f} s ({loop_cpu:.1f} s CPU), load {load()}")

        reference = models_of(work / "sequential", homes)
        for master in ("local[1]", "local[2]"):
            if models_of(work / master, homes) != reference:
                sys.exit(f"the models of {master} differ from the loop's")
        print(f"models of {len(reference)} homes: equal in all three runs")

    local1, local2 = seconds["local[1]"], seconds["local[2]"]
    print(
        f"local[1] against the loop: {local1 - sequential:+.1f} s"
        f" ({local1 / sequential:.2f}x the time);"
        f" local[2] is {local1 / local2:.2f}x as fast as local[1]"
    )
    print(f"load average after: {load()}")
    print(
        f"RESULT homes={len(homes)} seconds_local1={local1:.1f}"
        f" seconds_local2={local2:.1f} seconds_sequential={sequential:.1f}"
        f" speedup={sequential / local2:.2f}"
    )


if __name__ == "__main__":
    main()
