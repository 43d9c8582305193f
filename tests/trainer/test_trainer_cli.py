"""train, generate and evaluate through the command, on simulated readings."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
import io
import json
from pathlib import Path

from hmmlearn.hmm import CategoricalHMM as HmmlearnHMM
import numpy as np
import pytest
from workbench_data import LOCATION_ARGS, SUNNYVALE, TRAINING_UNTIL

from lighting_replay_engine.hmm import CategoricalHMM
from lighting_replay_engine.levels import on_level_for_lux
from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.simulate import DEFAULT_ROOMS
from lighting_replay_engine.training import TrainingOptions, prepare_room
from lighting_replay_engine.zones import Zone
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.parser import build_parser
from lighting_replay_trainer.sources import read_csv

COMMANDS = ["train", "generate", "evaluate", "plot", "play", "capture", "demo", "fleet"]


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text
    for command in COMMANDS:
        assert main([command, "--help"]) == 0
        assert f"usage: lighting-replay {command}" in capsys.readouterr().out
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def test_train_writes_every_room(simulated_model: Path) -> None:
    model = HomeModel.load(simulated_model)
    assert sorted(model.rooms) == sorted(room.name for room in DEFAULT_ROOMS)
    assert model.location == SUNNYVALE
    for room in model.rooms.values():
        assert room.settings["backend"] == "engine"
        assert room.settings["levels_from"] == "after_dark"
        assert room.levels.n_levels == 4
        # --until: nothing after the last training day was used.
        last_day = date.fromisoformat(TRAINING_UNTIL)
        assert room.data_end.astimezone(
            SUNNYVALE.tzinfo
        ).date() <= last_day + timedelta(days=1)
        learned = [z for z in room.zones.values() if z is not None]
        assert learned
        for zone_model in learned:
            assert zone_model.hmm.n_components == 3


def read_schedule(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["room", "sample", "start", "end", "level"]
    return list(reader)


def test_generate_writes_on_intervals_of_every_draw(
    simulated_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "schedule.csv"
    # 2024-03-10 is the spring-forward day in Sunnyvale.
    argv = ["generate", "--model", str(simulated_model), "--start", "2024-03-09",
            "--days", "3", "--samples", "3", "--seed", "7", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = read_schedule(out.read_text(encoding="utf-8"))
    model = HomeModel.load(simulated_model)
    assert {r["room"] for r in rows} == set(model.rooms)
    assert {r["sample"] for r in rows} == {"1", "2", "3"}
    offsets = set()
    for row in rows:
        start = datetime.fromisoformat(row["start"])
        end = datetime.fromisoformat(row["end"])
        assert start.tzinfo is not None
        assert end.tzinfo is not None
        assert start < end
        assert date(2024, 3, 9) <= start.date() <= date(2024, 3, 11)
        assert start.utcoffset() == start.astimezone(SUNNYVALE.tzinfo).utcoffset()
        offsets.add((start.date(), start.utcoffset()))
        levels = model.rooms[row["room"]].levels
        assert levels.on_level <= int(row["level"]) < levels.n_levels
    assert (date(2024, 3, 9), timedelta(hours=-8)) in offsets
    assert (date(2024, 3, 11), timedelta(hours=-7)) in offsets
    # The same seed gives the same file; another seed another one.
    again = tmp_path / "again.csv"
    assert main([*argv[:-1], str(again)]) == 0
    assert again.read_text() == out.read_text()
    other = tmp_path / "other.csv"
    argv[argv.index("--seed") + 1] = "8"
    assert main([*argv[:-1], str(other)]) == 0
    assert other.read_text() != out.read_text()


def test_generate_to_stdout_and_for_one_room(
    simulated_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--model", str(simulated_model), "--start", "2024-03-07",
                 "--days", "7", "--only", "kitchen", "-o", "-"]) == 0  # fmt: skip
    rows = read_schedule(capsys.readouterr().out)
    assert rows
    assert {r["room"] for r in rows} == {"kitchen"}


def evaluate_json(
    model: Path, csv_dir: Path, capsys: pytest.CaptureFixture[str]
) -> dict:
    argv = ["evaluate", "--model", str(model), "--csv", str(csv_dir),
            "--start", "2024-03-07", "--days", "4", "--samples", "5", "--json"]  # fmt: skip
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_beats_the_fixed_timer(
    simulated_model: Path, simulated_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = evaluate_json(simulated_model, simulated_csv, capsys)
    assert results["n_days"] == 4
    assert len(results["rooms"]) == 3
    for room in results["rooms"]:
        assert len(room["days"]) == 4
        model = room["methods"]["model"]
        assert set(model) == {
            "hourly", "on_minutes", "periods", "period_lengths", "variability", "score"
        }  # fmt: skip
        assert all(0.0 <= v <= 1.0 for v in model.values())
    mean = results["mean"]
    assert mean["model"]["score"] < mean["fixed_timer"]["score"]
    # The table names every method and marks the best.
    argv = ["evaluate", "--model", str(simulated_model), "--csv", str(simulated_csv),
            "--start", "2024-03-07", "--days", "4", "--samples", "2"]  # fmt: skip
    assert main(argv) == 0
    table = capsys.readouterr().out
    for name in ("model", "same_weekday_last_week", "fixed_timer", "score", "*"):
        assert name in table


def test_hmmlearn_backend_saves_the_same_format(
    simulated_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hmmlearn.json"
    argv = ["train", "--csv", str(simulated_csv), *LOCATION_ARGS, "--until",
            TRAINING_UNTIL, "--states", "2-3", "--backend", "hmmlearn",
            "--on-level", "kitchen=2", "--levels-from", "all",
            "-o", str(path)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    model = HomeModel.load(path)
    readings = read_csv([simulated_csv])
    assert model.rooms["kitchen"].levels.on_level == 2
    for name, room in model.rooms.items():
        assert room.settings["backend"] == "hmmlearn"
        assert room.settings["n_states"] == [2, 3]
        assert room.settings["levels_from"] == "all"
        options = TrainingOptions(on_level=room.levels.on_level)
        data = readings.rooms[name]
        until = datetime.combine(
            date.fromisoformat(TRAINING_UNTIL) + timedelta(days=1),
            datetime.min.time(),
            SUNNYVALE.tzinfo,
        ).timestamp()
        kept = data.timestamps_s < until
        sequences = prepare_room(
            data.timestamps_s[kept],
            data.lux[kept],
            SUNNYVALE,
            options,
            levels=room.levels,
        ).sequences
        for zone, zone_model in room.zones.items():
            if zone_model is None:
                assert zone not in sequences
                continue
            hmm = zone_model.hmm
            assert isinstance(hmm, CategoricalHMM)
            assert hmm.n_components in (2, 3)
            seqs = sequences[Zone(zone)]
            # hmmlearn scores the saved parameters exactly as the engine does.
            check = HmmlearnHMM(n_components=hmm.n_components, n_features=2)
            check.startprob_ = hmm.startprob_
            check.transmat_ = hmm.transmat_
            check.emissionprob_ = hmm.emissionprob_
            expected = check.score(seqs.X, seqs.lengths)
            assert hmm.score(seqs.X, seqs.lengths) == pytest.approx(expected)
            assert zone_model.log_likelihood == pytest.approx(expected)
    results = evaluate_json(path, simulated_csv, capsys)
    assert results["mean"]["model"]["score"] < results["mean"]["fixed_timer"]["score"]


def test_too_little_data_for_a_room_is_reported(
    simulated_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.json"
    argv = ["train", "--csv", str(simulated_csv), *LOCATION_ARGS, "--until",
            "2024-02-27", "-o", str(path)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    for room in DEFAULT_ROOMS:
        assert f"room {room.name} skipped" in err
        assert "needed" in err
    assert not path.exists()


def test_models_roundtrip_through_json(simulated_model: Path) -> None:
    text = simulated_model.read_text()
    model = HomeModel.loads(text)
    assert json.loads(model.dumps()) == json.loads(text)
    hmm = next(z for z in model.rooms["kitchen"].zones.values() if z).hmm
    np.testing.assert_allclose(hmm.transmat_.sum(axis=1), 1.0)


def test_lux_threshold_per_room_as_in_home_assistant(
    simulated_model: Path,
    simulated_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--on-lux picks the level a room's lux threshold picks in the integration."""
    before = HomeModel.load(simulated_model)
    centres = before.rooms["kitchen"].levels.centres
    automatic = before.rooms["kitchen"].levels.on_level
    wanted = 1 if automatic != 1 else 2
    on_lux = float(np.nextafter(centres[wanted], -np.inf))
    assert on_level_for_lux(centres, on_lux) == wanted
    path = tmp_path / "thresholds.json"
    argv = ["train", "--csv", str(simulated_csv), *LOCATION_ARGS, "--until",
            TRAINING_UNTIL, "--states", "3", "--on-lux", f"kitchen={on_lux!r}",
            "-o", str(path)]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    after = HomeModel.load(path)
    np.testing.assert_array_equal(after.rooms["kitchen"].levels.centres, centres)
    assert after.rooms["kitchen"].levels.on_level == wanted
    assert after.rooms["kitchen"].settings["on_lux"] == on_lux
    # The other rooms keep the threshold found after dark.
    for name, room in after.rooms.items():
        if name != "kitchen":
            assert room.levels.on_level == before.rooms[name].levels.on_level

    for value, message in (("kitchen=dark", "expected [ROOM=]LUX"),
                           ("-3", "at least 0"), ("attic=20", "unknown rooms")):  # fmt: skip
        argv = ["train", "--csv", str(simulated_csv), *LOCATION_ARGS,
                "--on-lux", value, "-o", str(tmp_path / "bad.json")]  # fmt: skip
        assert main(argv) == 2
        assert message in capsys.readouterr().err
