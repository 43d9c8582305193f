"""The whole command on the real recordings of three rooms (July 2016)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
import io
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest
from workbench_data import LOCATION_ARGS

from lighting_replay_engine.model import HomeModel
from lighting_replay_trainer.cli import main

ROOMS = ["back-room", "dining-room", "front-room"]
EVALUATE = ["--start", "2016-07-18", "--days", "7", "--samples", "10", "--json"]


@pytest.fixture(scope="module")
def recordings(shared_data: Path) -> Path:
    folder = shared_data / "thingflow-lux"
    if not folder.is_dir():
        pytest.skip(f"real recordings not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def real_model(recordings: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "model.json"
    # The dining room's sensor was called "1" before it was renamed.
    argv = ["train", "--csv", str(recordings), "--room", "1=dining-room",
            *LOCATION_ARGS, "-o", str(path)]  # fmt: skip
    assert main(argv) == 0
    return path


def script() -> list[str]:
    """The installed console script, else the module run by this Python."""
    installed = Path(sys.executable).with_name("lighting-replay")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-m", "lighting_replay_trainer"]


def test_model_of_every_room(real_model: Path) -> None:
    model = HomeModel.load(real_model)
    assert sorted(model.rooms) == ROOMS
    for room in model.rooms.values():
        assert room.days_of_data > 5
        assert sum(z is not None for z in room.zones.values()) >= 3


def test_generated_week(
    real_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "week.csv"
    argv = ["generate", "--model", str(real_model), "--start", "2016-07-25",
            "--days", "7", "--samples", "4", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["room"] for r in rows} == set(ROOMS)
    assert {r["sample"] for r in rows} == {"1", "2", "3", "4"}
    for row in rows:
        start = datetime.fromisoformat(row["start"])
        assert start.utcoffset() == timedelta(hours=-7)
        assert date(2016, 7, 25) <= start.date() <= date(2016, 7, 31)


def test_model_beats_the_fixed_timer(
    real_model: Path, recordings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--model", str(real_model), "--csv", str(recordings),
            "--room", "1=dining-room", *EVALUATE]  # fmt: skip
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["room"] for r in results["rooms"]] == ROOMS
    for room in results["rooms"]:
        assert len(room["days"]) >= 6
        methods = room["methods"]
        assert methods["model"]["score"] < methods["fixed_timer"]["score"], room
    mean = results["mean"]
    assert mean["model"]["score"] < mean["fixed_timer"]["score"]
    # ... and on most of the metrics the score is made of.
    metrics = ("hourly", "on_minutes", "periods", "period_lengths", "variability")
    wins = [m for m in metrics if mean["model"][m] < mean["fixed_timer"][m]]
    assert len(wins) >= 3, mean

    # The installed command gives the very same figures.
    done = subprocess.run(
        [*script(), *argv],
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == results


def test_figures_of_the_real_rooms(
    real_model: Path, recordings: Path, tmp_path: Path
) -> None:
    from test_trainer_plots import check_picture

    out = tmp_path / "figures"
    argv = ["plot", "--csv", str(recordings), "--room", "1=dining-room", "--model",
            str(real_model), "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    pictures = sorted(out.glob("*.png"))
    assert len(pictures) == 12
    for path in pictures:
        check_picture(path)
