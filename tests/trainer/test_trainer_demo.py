"""demo: every output from simulated readings, offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lighting_replay_engine.model import HomeModel
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.sources import read_csv


def test_demo_writes_model_schedule_figures_and_realism(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    argv = ["demo", "-o", str(out), "--days", "8", "--test-days", "3", "--seed", "4"]
    assert main(argv) == 0
    summary = capsys.readouterr().out
    model = HomeModel.load(out / "model.json")
    assert len(model.rooms) == 3
    for room, room_model in model.rooms.items():
        assert room in summary
        assert f"{room_model.levels.centres[0]:.1f}" in summary
    assert "fixed_timer" in summary
    assert "same_weekday_last_week" in summary
    with (out / "schedule.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {r["room"] for r in rows} <= set(model.rooms)
    realism = json.loads((out / "realism.json").read_text())
    assert realism["n_days"] == 3
    assert realism["mean"]["model"]["score"] < realism["mean"]["fixed_timer"]["score"]
    assert len(list((out / "plots").glob("*.png"))) == 12
    # The simulated readings are capture files the other commands read.
    readings = read_csv([out / "readings"])
    assert readings.problems == []
    assert sorted(readings.rooms) == sorted(model.rooms)
