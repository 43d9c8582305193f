"""Reading a recorder database that Home Assistant's real recorder wrote."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
import json
import math
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from workbench_data import LOCATION_ARGS, SUNNYVALE

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.series import held_minute_series
from lighting_replay_engine.simulate import simulate_rooms
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import TrainingOptions, lux_sources, train_sources
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.sources import SourceError, read_recorder
from scripts.demo.recorder_db import write_states

type StateRow = tuple[float, str, Mapping[str, object]]

LUX = {"unit_of_measurement": "lx", "device_class": "illuminance"}
START = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)


def database_path(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


@pytest.mark.parametrize("persistent_database", [True])
async def test_states_become_readings_held_until_last_reported(
    recorder_db_url: str,
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(START)
    front = ["3.5"] * 3 + ["120.0"] * 5 + ["unavailable"] * 2
    front += ["unknown", "bright", "7.25", "7.25"]
    for minute, value in enumerate(front):
        hass.states.async_set("sensor.front_lux", value, LUX)
        hass.states.async_set("sensor.back_lux", str(minute * 10), LUX)
        hass.states.async_set("sensor.door", "on" if minute % 2 else "off")
        await hass.async_block_till_done()
        freezer.tick(timedelta(minutes=1))
    await async_wait_recording_done(hass)

    for source in (recorder_db_url, str(database_path(recorder_db_url))):
        readings = await hass.async_add_executor_job(
            partial(
                read_recorder,
                source,
                ["sensor.front_lux", "sensor.back_lux"],
                rooms={"sensor.front_lux": "front-room"},
            )
        )
        assert readings.problems == []
        assert sorted(readings.rooms) == ["front-room", "sensor.back_lux"]
        got = readings.rooms["front-room"]
        minutes = (got.timestamps_s - START.timestamp()) / 60.0
        # A repeated value is one row whose last report holds it; the
        # non-numeric states are left out and end what came before.
        np.testing.assert_allclose(minutes, [0, 1, 2, 3, 4, 5, 6, 7, 12, 13])
        np.testing.assert_array_equal(got.lux, [3.5] * 3 + [120.0] * 5 + [7.25] * 2)
        back = readings.rooms["sensor.back_lux"]
        np.testing.assert_allclose(
            (back.timestamps_s - START.timestamp()) / 60.0, range(len(front))
        )
        np.testing.assert_array_equal(back.lux, [10.0 * m for m in range(len(front))])


@pytest.mark.parametrize("persistent_database", [True])
async def test_train_from_the_recorder_through_the_command(
    recorder_db_url: str,
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    # Six hours of a lamp going on and off every half hour; the readings
    # change slightly every minute, as a real sensor's do.
    freezer.move_to(START)
    rng = np.random.default_rng(0)
    for minute in range(6 * 60):
        lamp = (minute // 30) % 2 == 1
        base = 80.0 if lamp else 0.5
        value = round(base * (1.0 + 0.02 * rng.standard_normal()), 2)
        hass.states.async_set("sensor.hall_lux", f"{value}", LUX)
        if minute % 50 == 0:
            hass.states.async_set("sensor.hall_lux", "unavailable", LUX)
        await hass.async_block_till_done()
        freezer.tick(timedelta(minutes=1))
    await async_wait_recording_done(hass)

    output = tmp_path / "model.json"
    argv = ["train", "--recorder-db", str(database_path(recorder_db_url)),
            "--entity", "sensor.hall_lux", "--room", "sensor.hall_lux=hall",
            *LOCATION_ARGS, "--min-days", "0.1", "--states", "2",
            "--restarts", "1", "--on-level", "1", "-o", str(output)]  # fmt: skip
    assert await hass.async_add_executor_job(main, argv) == 0
    model = HomeModel.load(output)
    assert list(model.rooms) == ["hall"]
    room = model.rooms["hall"]
    assert room.days_of_data > 0.1
    assert math.isclose(room.levels.centres[0], 0.5, abs_tol=1.0)
    # The first minutes go into the first sliding mean.
    assert START <= room.data_start <= START + timedelta(minutes=5)


async def test_a_database_without_recorder_tables_is_a_clear_error(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    path = tmp_path / "empty.db"
    import sqlite3

    sqlite3.connect(path).close()
    with pytest.raises(SourceError, match="not a Home Assistant recorder database"):
        await hass.async_add_executor_job(read_recorder, str(path), ["sensor.x"])
    with pytest.raises(SourceError, match="no such database file"):
        read_recorder(str(tmp_path / "absent.db"), ["sensor.x"])


def changes(
    start_minute: int, values: np.ndarray, state: Callable[[float], StateRow]
) -> list[StateRow]:
    """One recorder row per change of a per-minute series, at its minute."""
    rows: list[StateRow] = []
    previous = None
    for index, value in enumerate(values.tolist()):
        if value != previous:
            time_s, text, attributes = state(value)
            rows.append(((start_minute + index) * 60.0 + time_s, text, attributes))
            previous = value
    return rows


def dimmable(value: float) -> StateRow:
    """A light that records its brightness (none while off, as lights do)."""
    if value <= 0:
        return 0.0, "off", {"brightness": None, "supported_color_modes": ["brightness"]}
    return 0.0, "on", {"brightness": round(value * 255), "color_mode": "brightness"}


def on_off(value: float) -> StateRow:
    """A light or switch that records on and off only."""
    return 0.0, "on" if value > 0 else "off", {"friendly_name": "plain"}


def expected_brightness(rows: list[StateRow]) -> list[float]:
    """What the rows mean as brightness 0..1 (NaN not known)."""
    result = []
    for _, state, attributes in rows:
        if state == "on":
            level = attributes.get("brightness")
            result.append(1.0 if level is None else level / 255)
        else:
            result.append(0.0 if state == "off" else math.nan)
    return result


@pytest.mark.parametrize("persistent_database", [True])
async def test_lights_switches_and_lux_of_one_room(
    recorder_db_url: str,
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    simulated = simulate_rooms(SUNNYVALE, date(2024, 2, 26), 3, seed=1)
    living = simulated["living_room"]
    bedroom = simulated["bedroom"]
    end = datetime.fromtimestamp(float(living.timestamps_s[-1]) + 60.0, UTC)
    lux_rows: list[StateRow] = [
        (t, f"{v:.1f}" if math.isfinite(v) else "unavailable", LUX)
        for t, v in zip(living.timestamps_s.tolist(), living.lux.tolist(), strict=True)
    ]
    kitchen = simulated["kitchen"]
    sofa = changes(living.start_minute, living.lights["ceiling"] * 0.5, dimmable)
    ceiling = changes(kitchen.start_minute, kitchen.lights["ceiling"], on_off)
    plug = changes(bedroom.start_minute, bedroom.lights["reading_lamp"], on_off)
    # The plug's power went for an hour on the second day; the sofa light
    # once reported a state that is neither on nor off.
    outage = float(bedroom.start_minute * 60 + 86_400 + 3_600 + 30)
    plug = sorted([*plug, (outage, "unavailable", {}), (outage + 3_600, "off", {})])
    sofa = sorted([*sofa, (outage + 60.0, "flickering", {})])
    entities = {
        "sensor.living_lux": lux_rows,
        "light.sofa": sofa,
        "light.ceiling": ceiling,
        "switch.reading_plug": plug,
    }
    freezer.move_to(end)
    for entity_id, rows in entities.items():
        # The current state (at `end`), then the history under it.
        _, state, attributes = rows[-1]
        hass.states.async_set(entity_id, state, attributes)
        await async_wait_recording_done(hass)
        await get_instance(hass).async_add_executor_job(
            write_states, hass, entity_id, rows
        )
    # Another entity's state half an hour later: the recording's end.
    last = end + timedelta(minutes=30)
    freezer.move_to(last)
    hass.states.async_set("sensor.clock", "12:30")
    await async_wait_recording_done(hass)

    rooms = dict.fromkeys(entities, "living")
    readings = await hass.async_add_executor_job(
        partial(
            read_recorder,
            str(database_path(recorder_db_url)),
            [*entities, "light.never_recorded"],
            rooms=rooms,
        )
    )
    problems = [problem.reason for problem in readings.problems]
    assert problems == [
        "light.sofa: states other than on/off taken as not known: 'flickering' (1x)",
        "light.never_recorded: no states recorded",
    ]
    assert readings.room_names == ["living"]
    lights = readings.lights["living"]
    assert list(lights) == ["light.sofa", "light.ceiling", "switch.reading_plug"]
    for entity_id in lights:
        rows = [*entities[entity_id], (end.timestamp(), *entities[entity_id][-1][1:])]
        states = lights[entity_id]
        np.testing.assert_allclose(states.times_s, [row[0] for row in rows])
        np.testing.assert_array_equal(states.brightness, expected_brightness(rows))
        # Held until the newest state in the database.
        assert states.end_s == last.timestamp()
    sofa_levels = lights["light.sofa"].brightness
    assert set(sofa_levels[np.isfinite(sofa_levels)]) == {0.0, 128 / 255}
    # A light without recorded brightness is at full brightness when on.
    assert set(lights["light.ceiling"].brightness) == {0.0, 1.0}
    plug_states = lights["switch.reading_plug"]
    assert math.isnan(plug_states.brightness[plug_states.times_s == outage][0])

    # The command learns the room from all four, as the engine does.
    output = tmp_path / "model.json"
    argv = ["train", "--recorder-db", str(database_path(recorder_db_url)),
            *(f"--entity={entity_id}" for entity_id in entities),
            *(f"--room={entity_id}=living" for entity_id in entities),
            *LOCATION_ARGS, "--min-days", "2", "--states", "2",
            "--restarts", "1", "--seed", "4", "-o", str(output)]  # fmt: skip
    assert await hass.async_add_executor_job(main, argv) == 0
    out = capsys.readouterr()
    assert "flickering" in out.err
    room = HomeModel.load(output).rooms["living"]
    assert room.settings["sources"] == "both"
    assert room.lights == ("light.ceiling", "light.sofa", "switch.reading_plug")
    options = TrainingOptions(n_states=2, n_restarts=1, seed=4, min_days=2)
    lux = readings.rooms["living"]
    sources = RoomSources(
        lux=lux_sources(lux.timestamps_s, lux.lux, options).lux,
        lights={
            entity_id: held_minute_series(
                [row[0] for row in entities[entity_id]],
                expected_brightness(entities[entity_id]),
                last.timestamp(),
            )
            for entity_id in lights
        },
    )
    want = train_sources("living", sources, SUNNYVALE, options)
    got = room.to_dict()
    expected = json.loads(json.dumps(want.to_dict()))
    for data in (got, expected):
        data.pop("trained_at")
        data["settings"].pop("backend", None)
    assert got == expected
