"""Reading a recorder database that Home Assistant's real recorder wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
import math
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from workbench_data import LOCATION_ARGS

from lighting_replay_engine.model import HomeModel
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.sources import SourceError, read_recorder

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
