"""Lights as sources: on/off rows in capture files, held states, training."""

from __future__ import annotations

from datetime import date
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from workbench_data import LOCATION_ARGS, SUNNYVALE

from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.realism import real_days
from lighting_replay_engine.series import MinuteSeries, held_minute_series
from lighting_replay_engine.simulate import simulate_rooms
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import TrainingOptions, lux_sources, train_sources
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.evaluation import sources_real_days
from lighting_replay_trainer.sources import read_csv

HEADER = "timestamp,datetime,sensor_id,value,brightness\n"
T0 = 1_700_000_040.0  # a whole minute


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def comparable(room: RoomModel) -> dict[str, Any]:
    """A room model as saved, without what differs between two trainings."""
    data = json.loads(json.dumps(room.to_dict()))
    data.pop("trained_at")
    data["settings"].pop("backend", None)
    return data


def test_held_states_fill_every_minute_until_the_next_change() -> None:
    day = 86_400.0
    series = held_minute_series(
        [T0, T0 + 100.0, T0 + 3 * day, T0 + 3 * day + 600.0, T0 + 3 * day + 900.0],
        [1.0, 0.5, math.nan, 0.0, 0.25],
        T0 + 3 * day + 1200.0,
    )
    assert series.start_minute == T0 // 60
    values = series.lux
    # A minute has the state in force at its middle: the change at +100 s
    # comes after the second minute's (+90 s), so 0.5 counts from the third
    # minute on, held for three days (no limit for a light's state).
    assert values[0] == 1.0
    assert values[1] == 1.0
    assert np.all(values[2 : 3 * 1440] == 0.5)
    # Not known from `unavailable` to the next state, then off, then dimmed.
    assert np.all(np.isnan(values[3 * 1440 : 3 * 1440 + 10]))
    assert np.all(values[3 * 1440 + 10 : 3 * 1440 + 15] == 0.0)
    assert np.all(values[3 * 1440 + 15 :] == 0.25)
    assert series.end_minute == T0 // 60 + 3 * 1440 + 20
    limited = held_minute_series([T0, T0 + day], [1.0, 0.0], T0 + day, max_hold_s=600)
    assert np.all(limited.lux[:10] == 1.0)  # ten minutes: 600 s
    assert np.all(np.isnan(limited.lux[10:]))
    assert len(held_minute_series([], [], T0)) == 0


def test_light_rows_become_the_states_of_their_room(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a.csv",
        HEADER
        + f"{T0},x,living,3.5\n"  # a lux row may leave brightness out
        + f"{T0 + 60},x,sofa,on,128\n"
        + f"{T0 + 120},x,sofa,ON,\n"  # on without brightness: full
        + f"{T0 + 180},x,sofa,off,\n"
        + f"{T0 + 240},x,sofa,unavailable,\n"
        + f"{T0 + 60},x,living,4.5,\n",
    )
    second = write(
        tmp_path / "b.csv",
        "timestamp,datetime,sensor_id,value\n"
        f"{T0 + 30},x,plug,on\n"
        f"{T0 + 600},x,plug,off\n"
        f"{T0 + 300},x,sofa,on\n",
    )
    readings = read_csv([first, second], rooms={"sofa": "living", "plug": "hall"})
    assert readings.problems == []
    assert list(readings.rooms) == ["living"]
    np.testing.assert_array_equal(readings.rooms["living"].lux, [3.5, 4.5])
    assert readings.room_names == ["hall", "living"]
    assert list(readings.lights["living"]) == ["sofa"]
    sofa = readings.lights["living"]["sofa"]
    np.testing.assert_array_equal(sofa.times_s - T0, [60, 120, 180, 240, 300])
    np.testing.assert_array_equal(sofa.brightness, [128 / 255, 1.0, 0.0, math.nan, 1.0])
    # The last state holds until the latest time of the whole input.
    assert sofa.end_s == T0 + 600
    plug = readings.lights["hall"]["plug"]
    np.testing.assert_array_equal(plug.brightness, [1.0, 0.0])
    series = sofa.series()
    assert series.start_minute == T0 // 60 + 1
    np.testing.assert_array_equal(
        series.lux, [128 / 255, 1.0, 0.0, math.nan, 1.0, 1.0, 1.0, 1.0, 1.0]
    )


def test_chosen_days_cut_a_light_with_the_state_in_force(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lamp.csv",
        HEADER + f"{T0},x,lamp,on,51\n{T0 + 600},x,lamp,off,\n{T0 + 1200},x,lamp,on,\n",
    )
    lamp = read_csv([path]).lights["lamp"]["lamp"]
    part = lamp.between(T0 + 300, T0 + 900)
    assert part is not None
    # The state at the start (on at 51) begins there; the end is cut.
    np.testing.assert_array_equal(part.times_s - T0, [300, 600])
    np.testing.assert_array_equal(part.brightness, [0.2, 0.0])
    assert part.end_s == T0 + 900
    assert lamp.between(T0 + 1300, T0 + 2000) is None  # after the recording
    assert lamp.between(T0 - 900, T0) is None  # before the first state


def test_bad_light_rows_are_skipped_with_their_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "lights.csv",
        HEADER
        + f"{T0},x,lamp,on,200\n"  # line 2: good
        + f"{T0 + 60},x,lamp,on,256\n"  # line 3: brightness out of range
        + f"{T0 + 120},x,lamp,on,bright\n"  # line 4: brightness not a number
        + f"{T0 + 180},x,lamp,dim,\n"  # line 5: not a light state
        + f"{T0 + 240},x,lamp,12.5,\n"  # line 6: a number for a light
        + f"{T0 + 300},x,lamp,off,-3\n"  # line 7: off needs no brightness
        + "later,x,lamp,on,\n"  # line 8: bad timestamp
        + f"{T0 + 360},x,lux,bright,\n",  # line 9: bad lux value
    )
    readings = read_csv([path])
    problems = [(p.line, p.reason) for p in readings.problems]
    assert [line for line, _ in problems] == [3, 4, 5, 6, 8, 9]
    assert "bad brightness '256' (expected 0-255)" in problems[0][1]
    assert "bad brightness 'bright'" in problems[1][1]
    assert "light lamp: bad value 'dim' (expected on, off" in problems[2][1]
    assert "bad value '12.5'" in problems[3][1]
    assert "timestamp" in problems[4][1]
    assert problems[5][1] == "bad value 'bright'"
    lamp = readings.lights["lamp"]["lamp"]
    np.testing.assert_array_equal(lamp.times_s - T0, [0, 300])
    np.testing.assert_array_equal(lamp.brightness, [200 / 255, 0.0])

    # The command goes on with the good rows and lists the others.
    output = tmp_path / "model.json"
    argv = ["train", "--csv", str(path), *LOCATION_ARGS, "-o", str(output)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"skipped {path}:3: light lamp: bad brightness '256'" in err
    assert f"skipped {path}:9: bad value 'bright'" in err
    assert "room lamp skipped: 0.0 days of readings" in err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "lighting-replay: error: no room could be trained (see the messages above)"
    )


def test_other_commands_say_that_they_leave_light_rows_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "lights.csv", HEADER + f"{T0},x,lamp,on,\n")
    argv = ["plot", "--csv", str(path), *LOCATION_ARGS, "-o", str(tmp_path / "f")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "plot uses lux readings only; the light rows of lamp are left out" in err
    assert "no usable readings in the CSV input" in err


def light_rows(
    sensor: str, start_minute: int, brightness: np.ndarray, *, dimmable: bool
) -> list[str]:
    """The capture rows of a light: one per change, at the minute's start."""
    rows = []
    previous = None
    for index, value in enumerate(brightness.tolist()):
        if value == previous:
            continue
        previous = value
        time_s = (start_minute + index) * 60
        if value <= 0:
            rows.append(f"{time_s},x,{sensor},off,\n")
        elif dimmable:
            rows.append(f"{time_s},x,{sensor},on,{round(value * 255)}\n")
        else:
            rows.append(f"{time_s},x,{sensor},on,\n")
    return rows


def test_the_command_trains_rooms_from_lights_as_train_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulated = simulate_rooms(SUNNYVALE, date(2024, 2, 26), 4, seed=3)
    living = simulated["living_room"]
    kitchen = simulated["kitchen"]
    lux_lines = [
        f"{t!r},x,living_lux,{v!r}\n"
        for t, v in zip(living.timestamps_s.tolist(), living.lux.tolist(), strict=True)
    ]
    ceiling = light_rows(
        "ceiling", living.start_minute, living.lights["ceiling"], dimmable=True
    )
    floor = light_rows(
        "floor_lamp", living.start_minute, living.lights["floor_lamp"], dimmable=True
    )
    # A light whose brightness is never recorded, alone in its room.
    plug = light_rows(
        "kitchen_plug", kitchen.start_minute, kitchen.lights["ceiling"], dimmable=False
    )
    lux_file = write(tmp_path / "lux.csv", HEADER + "".join(lux_lines))
    light_file = write(
        tmp_path / "lights.csv", HEADER + "".join(ceiling + floor + plug)
    )
    output = tmp_path / "model.json"
    argv = ["train", "--csv", str(lux_file), str(light_file),
            "--room", "living_lux=living", "--room", "ceiling=living",
            "--room", "floor_lamp=living", "--room", "kitchen_plug=kitchen",
            *LOCATION_ARGS, "--min-days", "2", "--states", "2", "--restarts", "1",
            "--seed", "5", "-o", str(output)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "living: 4.0 days of lux and ceiling, floor_lamp, levels" in out
    assert "kitchen: 4.0 days of kitchen_plug, levels" in out
    model = HomeModel.load(output)
    assert sorted(model.rooms) == ["kitchen", "living"]
    assert model.rooms["living"].settings["sources"] == "both"
    assert model.rooms["living"].lights == ("ceiling", "floor_lamp")
    assert model.rooms["kitchen"].settings["sources"] == "lights"

    # The same data handed to the engine directly gives the same model.
    end_s = max(
        float(living.timestamps_s.max()),
        *(float(line.split(",")[0]) for line in ceiling + floor + plug),
    )

    def held(rows: list[str]) -> MinuteSeries:
        times = [float(row.split(",")[0]) for row in rows]
        values = [
            0.0
            if row.split(",")[3] == "off"
            else (float(row.split(",")[4]) / 255 if row.split(",")[4].strip() else 1.0)
            for row in rows
        ]
        return held_minute_series(times, values, end_s)

    options = TrainingOptions(n_states=2, n_restarts=1, seed=5, min_days=2)
    expected = {
        "living": RoomSources(
            lux=lux_sources(living.timestamps_s, living.lux, options).lux,
            lights={"ceiling": held(ceiling), "floor_lamp": held(floor)},
        ),
        "kitchen": RoomSources(lights={"kitchen_plug": held(plug)}),
    }
    for room, sources in expected.items():
        want = train_sources(room, sources, SUNNYVALE, options)
        assert comparable(model.rooms[room]) == comparable(want)

    # The kitchen's light series is the simulator's lamp, minute by minute.
    plug_series = held(plug)
    assert plug_series.start_minute == kitchen.start_minute
    truth = kitchen.lights["ceiling"] > 0
    # It ends with the input's last reading, within the last minute.
    assert truth.size - 1 <= len(plug_series) <= truth.size
    np.testing.assert_array_equal(plug_series.lux > 0, truth[: len(plug_series)])


def test_evaluate_compares_a_rooms_lights_with_their_real_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model of lights is judged against the lights' own on/off days."""
    simulated = simulate_rooms(SUNNYVALE, date(2024, 2, 1), 21, seed=4)
    kitchen = simulated["kitchen"]
    truth = kitchen.lights["ceiling"]
    rows = light_rows("kitchen_plug", kitchen.start_minute, truth, dimmable=False)
    path = write(tmp_path / "lights.csv", HEADER + "".join(rows))

    # The real days are the light's own on/off, minute by minute.
    end_s = (kitchen.start_minute + truth.size) * 60.0
    held = held_minute_series(
        [float(row.split(",")[0]) for row in rows],
        [0.0 if row.split(",")[3] == "off" else 1.0 for row in rows],
        end_s,
    )
    real = sources_real_days(
        RoomSources(lights={"kitchen_plug": held}), SUNNYVALE, TrainingOptions()
    )
    expected = real_days(
        MinuteSeries(kitchen.start_minute, (truth > 0).astype(np.float64)), SUNNYVALE
    )
    whole = [day for day in expected if np.isfinite(expected[day]).all()]
    assert len(whole) >= 19
    for day in whole:
        np.testing.assert_array_equal(real[day], expected[day], err_msg=str(day))

    model_path = tmp_path / "model.json"
    argv = ["train", "--csv", str(path), "--room", "kitchen_plug=kitchen",
            *LOCATION_ARGS, "--until", "2024-02-14", "--states", "3",
            "-o", str(model_path)]  # fmt: skip
    assert main(argv) == 0
    argv = ["evaluate", "--model", str(model_path), "--csv", str(path),
            "--room", "kitchen_plug=kitchen", "--start", "2024-02-15",
            "--days", "6", "--samples", "3", "--json"]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    results = json.loads(capsys.readouterr().out)
    (room,) = results["rooms"]
    assert room["room"] == "kitchen"
    assert len(room["days"]) == 6
    for method in ("model", "same_weekday_last_week", "fixed_timer"):
        assert room["methods"][method] is not None, method
        assert 0.0 <= room["methods"][method]["score"] <= 1.0
    # The model of the lights is nearer their real days than a timer is.
    assert room["methods"]["model"]["score"] < room["methods"]["fixed_timer"]["score"]
