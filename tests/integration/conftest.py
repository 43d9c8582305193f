"""Fixtures of the integration tests: a real recorder filled with history.

History is written straight into the recorder's SQLite database (``States``
rows with past timestamps, through the recorder's own session and executor).
That is what the recorder itself would have written had Home Assistant run
for those days, and it takes a fraction of a second for weeks of minute
readings, where replaying them through ``hass.states.async_set`` with a
frozen clock would take minutes. Only changed values become rows, as in
Home Assistant.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, timedelta
import logging
import math
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.lighting_replay.const import (
    CONF_ARCHIVE_DAYS,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_N_LEVELS,
    DOMAIN,
    SUBENTRY_TYPE_ROOM,
)
from custom_components.lighting_replay.engine.model import HomeModel, RoomModel
from custom_components.lighting_replay.engine.simulate import simulate_household
from custom_components.lighting_replay.engine.training import (
    TrainingOptions,
    train_room,
)
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.learning import Learning
from custom_components.lighting_replay.training_process import TrainingProcess
from scripts.demo.recorder_db import changed_states, write_states

LUX_ENTITY = "sensor.living_room_lux"
LIGHT_ENTITY = "light.living_room_lamp"
LUX_ATTRIBUTES = {
    "unit_of_measurement": "lx",
    "device_class": "illuminance",
    "state_class": "measurement",
    "friendly_name": "Living room lux",
}
ROOM_NAME = "Living room"
ROOM_SUBENTRY_ID = "01JROOMLIVING0000000000000"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Every test runs with a real recorder and the custom integration.

    The recorder must be requested before `hass` (its database is prepared
    before Home Assistant starts), hence it comes first here.
    """


@pytest.fixture(autouse=True, scope="session")
def quiet_sql_statements() -> Generator[None]:
    """Keep SQLAlchemy's log of every statement out of the test output.

    Home Assistant's test plugin sets the ``sqlalchemy.engine`` logger to INFO
    when it is imported, beside a root handler on the real stderr; the
    recorder's thread then logs each statement, also while pytest's capture
    is suspended between tests, so hundreds of lines reach the terminal.
    Warnings and errors of SQLAlchemy still show.
    """
    logger = logging.getLogger("sqlalchemy.engine")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def fast_training() -> Generator[None]:
    """Train with fewer EM restarts and iterations than at home.

    The tests check what learning does with the model, not how good the
    model is; the full settings are measured by benchmarks/ha_learning.py.
    """
    with patch.object(
        Learning,
        "training_options",
        new_callable=PropertyMock,
        return_value=TrainingOptions(n_levels=4, n_restarts=1, n_iter=20),
    ):
        yield


def patch_training(
    side_effect: Any = None,
) -> Any:
    """Patch how a room is trained (`TrainingProcess.async_train`).

    `side_effect` is an exception to raise, or an async function given what
    the method is (the process first, then room, sources, location, options);
    `REAL_TRAIN` is the real method, to call from such a spy.
    """
    return patch.object(
        TrainingProcess, "async_train", autospec=True, side_effect=side_effect
    )


REAL_TRAIN = TrainingProcess.async_train


@pytest.fixture(autouse=True)
def private_config_dir(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """Give every test its own config folder for the archive and model files."""
    original = hass.config.config_dir
    hass.config.config_dir = str(tmp_path)
    yield tmp_path
    hass.config.config_dir = original


@pytest.fixture
def location(hass: HomeAssistant) -> Location:
    """The test home's location (Home Assistant's test configuration)."""
    return Location(hass.config.latitude, hass.config.longitude, hass.config.time_zone)


@pytest.fixture
def lux_sensor(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> er.RegistryEntry:
    """A registered illuminance sensor with a current reading."""
    entry = entity_registry.async_get_or_create(
        "sensor",
        "lux_node",
        "living-room-lux",
        suggested_object_id="living_room_lux",
        original_device_class="illuminance",
        unit_of_measurement="lx",
    )
    assert entry.entity_id == LUX_ENTITY
    hass.states.async_set(LUX_ENTITY, "3.0", LUX_ATTRIBUTES)
    return entry


@pytest.fixture
def light(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> er.RegistryEntry:
    """A registered light, off."""
    entry = entity_registry.async_get_or_create(
        "light", "hue", "living-room-lamp", suggested_object_id="living_room_lamp"
    )
    assert entry.entity_id == LIGHT_ENTITY
    hass.states.async_set(LIGHT_ENTITY, "off", {"friendly_name": "Living room lamp"})
    return entry


@pytest.fixture
def room_data(lux_sensor: er.RegistryEntry, light: er.RegistryEntry) -> dict[str, Any]:
    """The living room's subentry data, as the config flow stores it."""
    return {
        CONF_LUX_SENSOR: lux_sensor.id,
        CONF_LIGHTS: [light.id],
        CONF_LEARN_FROM: "lux",
    }


@pytest.fixture
def mock_config_entry(room_data: dict[str, Any]) -> MockConfigEntry:
    """The home with one room."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        version=2,
        data={CONF_ARCHIVE_DAYS: 400, CONF_N_LEVELS: 4},
        subentries_data=[
            ConfigSubentryData(
                data=room_data,
                subentry_id=ROOM_SUBENTRY_ID,
                subentry_type=SUBENTRY_TYPE_ROOM,
                title=ROOM_NAME,
                unique_id=None,
            )
        ],
        entry_id="01JHOMEENTRY00000000000000",
    )


@dataclass
class History:
    """What was written to the recorder."""

    timestamps_s: np.ndarray
    lux: np.ndarray
    rows: int


def _state_text(value: float) -> str:
    """Home Assistant's state of a reading (a sensor reports one decimal)."""
    if not math.isfinite(value):
        return "unavailable"
    return f"{value:.1f}"


async def async_write_history(
    hass: HomeAssistant,
    entity_id: str,
    rows: list[tuple[float, str, dict[str, Any]]],
) -> None:
    """Record the entity's current state, then insert older rows under it."""
    await async_wait_recording_done(hass)
    await get_instance(hass).async_add_executor_job(write_states, hass, entity_id, rows)
    await async_wait_recording_done(hass)


def simulated_rows(
    location: Location, days: int, *, end_s: float, seed: int = 0
) -> tuple[History, list[tuple[float, str, dict[str, Any]]]]:
    """Simulate the living room for `days` up to `end_s`; only changed states."""
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    start = end_local.date() - timedelta(days=days)
    timestamps, lux = simulate_household(location, start, days + 1, seed=seed)[
        "living_room"
    ]
    keep = timestamps < end_s
    timestamps, lux = timestamps[keep], lux[keep]
    rows: list[tuple[float, str, dict[str, Any]]] = [
        (time_s, text, LUX_ATTRIBUTES)
        for time_s, text in changed_states(
            timestamps, [_state_text(value) for value in lux.tolist()]
        )
    ]
    return History(timestamps, lux, len(rows)), rows


@pytest.fixture
def history_days() -> int:
    """Days of history in the recorder (parametrize to change)."""
    return 14


@pytest.fixture
async def lux_history(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    location: Location,
    history_days: int,
) -> History:
    """`history_days` of simulated living-room readings in the recorder."""
    end_s = dt_util.utcnow().timestamp() - 120
    history, rows = simulated_rows(location, history_days, end_s=end_s)
    await async_write_history(hass, LUX_ENTITY, rows)
    return history


def room_device(
    device_registry: dr.DeviceRegistry, entry_id: str, subentry_id: str
) -> dr.DeviceEntry | None:
    """Return the device of a room (looked up the same way in every version)."""
    for device in dr.async_entries_for_config_entry(device_registry, entry_id):
        if (DOMAIN, subentry_id) in device.identifiers:
            return device
    return None


async def async_setup_integration(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the entry and wait until its first learning is done."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The integration set up with one room and no history."""
    await async_setup_integration(hass, mock_config_entry)
    return mock_config_entry


FIXED_TRAINED_AT = "2026-06-10T03:17:00+00:00"


@pytest.fixture(scope="session")
def trained_model_data() -> dict[str, Any]:
    """A room model learned from a fixed simulated fortnight (JSON data).

    Made once per test session; `trained_at` is fixed so snapshots hold.
    """
    location = Location(32.87336, -117.22743, "US/Pacific")
    timestamps, lux = simulate_household(location, date(2026, 5, 27), 14, seed=3)[
        "living_room"
    ]
    model = train_room(
        "living_room",
        timestamps,
        lux,
        location,
        TrainingOptions(n_levels=4, n_restarts=1, n_iter=20),
    )
    data = model.to_dict()
    data["trained_at"] = FIXED_TRAINED_AT
    return data


def write_model_file(
    path: Path, location: Location, rooms: dict[str, dict[str, Any]]
) -> None:
    """Write a home model file (the trainer's format) with the given rooms."""
    home = HomeModel(
        location,
        {name: RoomModel.from_dict(data) for name, data in rooms.items()},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    home.save(path)


# Rooms that learn from their lights ------------------------------------------


def light_rows(
    start_minute: int,
    brightness: np.ndarray,
    end_s: float,
    *,
    with_brightness: bool = True,
) -> list[tuple[float, str, dict[str, Any]]]:
    """Return a light's recorded states from its brightness per minute (0..1).

    One row per change of state or brightness, as Home Assistant records a
    light; without `with_brightness` the brightness attribute is never
    recorded (an on/off light, or a switch). NaN minutes are `unavailable`.
    """
    rows: list[tuple[float, str, dict[str, Any]]] = []
    previous: tuple[str, int | None] | None = None
    for index, value in enumerate(brightness.tolist()):
        time_s = (start_minute + index) * 60.0
        if time_s >= end_s:
            break
        on = value > 0.0
        level = round(value * 255) if on and with_brightness else None
        text = "unavailable" if math.isnan(value) else ("on" if on else "off")
        if (text, level) == previous:
            continue
        previous = (text, level)
        attributes: dict[str, Any] = {}
        if level is not None:
            attributes["brightness"] = level
        rows.append((time_s, previous[0], attributes))
    return rows


async def async_write_light_history(
    hass: HomeAssistant,
    entity_id: str,
    start_minute: int,
    brightness: np.ndarray,
    end_s: float,
    *,
    with_brightness: bool = True,
) -> int:
    """Record a light's simulated states under its current one; the row count.

    The light gets a current state first (off) where it has none, so the
    recorder knows the entity.
    """
    if hass.states.get(entity_id) is None:
        hass.states.async_set(entity_id, "off", {})
    rows = light_rows(start_minute, brightness, end_s, with_brightness=with_brightness)
    await async_write_history(hass, entity_id, rows)
    return len(rows)


def home_entry(
    rooms: dict[str, tuple[str, dict[str, Any]]],
    *,
    version: int = 2,
    home_data: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Return a home entry with rooms: subentry id -> (title, room data)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        version=version,
        data={CONF_ARCHIVE_DAYS: 400, CONF_N_LEVELS: 4, **(home_data or {})},
        subentries_data=[
            ConfigSubentryData(
                data=data,
                subentry_id=subentry_id,
                subentry_type=SUBENTRY_TYPE_ROOM,
                title=title,
                unique_id=None,
            )
            for subentry_id, (title, data) in rooms.items()
        ],
        entry_id="01JHOMEENTRY00000000000000",
    )
