"""The recorder reader gives what Home Assistant's history API gives.

`history.read_minute_series` reads the recorder's rows directly (no state
object per row). Here the same recorder data is read once with it and once
with the reader it replaced, built on `state_changes_during_period` (kept
below as `read_with_history_api`): the minute series, the reports, the
archive files and the models of a room learning from lux, a light with
brightness and a switch must be identical.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import datetime, timedelta
import json
import math
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.components.recorder import get_instance, history as ha_history
from homeassistant.components.recorder.db_schema import StateAttributes, States
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import select, update

from custom_components.lighting_replay import (
    history as history_module,
    learning as learning_module,
)
from custom_components.lighting_replay.const import (
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    ModelStatus,
)
from custom_components.lighting_replay.engine.series import (
    MinuteSeries,
    to_minute_series,
)
from custom_components.lighting_replay.engine.simulate import simulate_rooms
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.history import (
    HistoryReport,
    StateKind,
    held_samples,
    read_minute_series,
)
from custom_components.lighting_replay.learning import storage_path

from .conftest import (
    LUX_ATTRIBUTES,
    LUX_ENTITY,
    ROOM_SUBENTRY_ID,
    async_setup_integration,
    async_write_history,
    async_write_light_history,
    home_entry,
    simulated_rows,
)

FLOOR_LAMP = "light.living_room_floor_lamp"
PLUG = "switch.living_room_plug"
PERSON = "person.someone"
OLD_PAGE_ROWS = 1000


def _all_states(
    hass: HomeAssistant, entity_id: str, start: datetime, end: datetime
) -> Iterator[State]:
    """Yield every recorded state of an entity, changes of attributes alone too."""
    yield from ha_history.get_significant_states(
        hass,
        start,
        end,
        [entity_id],
        include_start_time_state=True,
        significant_changes_only=False,
    ).get(entity_id, [])


def _old_state_changes(
    hass: HomeAssistant,
    entity_id: str,
    start: datetime,
    end: datetime,
    *,
    attributes: bool,
) -> Iterator[State]:
    """Yield an entity's states from `start` to `end` (the replaced reader's way)."""
    page_start = start
    first_page = True
    while True:
        states = ha_history.state_changes_during_period(
            hass,
            page_start,
            end,
            entity_id,
            no_attributes=not attributes,
            limit=OLD_PAGE_ROWS,
            include_start_time_state=first_page,
        ).get(entity_id, [])
        for state in states:
            if not first_page and state.last_changed <= page_start:
                continue
            yield state
        if len(states) < OLD_PAGE_ROWS:
            return
        page_start = max(
            states[-1].last_changed, page_start + timedelta(microseconds=1)
        )
        first_page = False


def read_with_history_api(
    hass: HomeAssistant,
    entity_id: str,
    start: datetime,
    end: datetime,
    kind: StateKind = StateKind.LUX,
) -> tuple[MinuteSeries | None, HistoryReport]:
    """The reader `read_minute_series` replaced: a state object per row."""
    report = HistoryReport()
    start_s = start.timestamp()
    end_s = end.timestamp()
    state_times = array("d")
    state_values = array("d")
    if kind.needs_attributes:
        # Every row: a change of attributes alone changes the value too.
        states: Iterator[State] = _all_states(hass, entity_id, start, end)
    else:
        states = _old_state_changes(hass, entity_id, start, end, attributes=False)
    for state in states:
        report.states += 1
        state_times.append(max(state.last_updated.timestamp(), start_s))
        state_values.append(kind.value_of(state, report))
    times, values = held_samples(
        np.frombuffer(state_times, dtype=np.float64),
        np.frombuffer(state_values, dtype=np.float64),
        end_s,
        kind.max_hold,
    )
    keep = (times >= start_s) & (times < end_s)
    if not np.any(keep & np.isfinite(values)):
        return None, report
    series = to_minute_series(times[keep], values[keep], max_gap_minutes=1)
    end_minute = math.floor(end_s / 60)
    if series.end_minute > end_minute:
        series = MinuteSeries(
            series.start_minute, series.lux[: max(0, end_minute - series.start_minute)]
        )
    return (series if len(series) else None), report


def assert_same(
    new: tuple[MinuteSeries | None, HistoryReport],
    old: tuple[MinuteSeries | None, HistoryReport],
) -> None:
    """Assert two readers' series and reports are identical."""
    assert new[1] == old[1]
    if old[0] is None:
        assert new[0] is None
        return
    assert new[0] is not None
    assert new[0].start_minute == old[0].start_minute
    assert np.array_equal(new[0].lux, old[0].lux, equal_nan=True)


async def async_write_room(hass: HomeAssistant, location: Location, days: int) -> float:
    """Record lux (with odd states and units), a dimmable lamp, a plug; end time."""
    end_s = dt_util.utcnow().timestamp() - 120
    _history, rows = simulated_rows(location, days, end_s=end_s)
    t0 = rows[len(rows) // 2][0] + 1.0
    rows += [
        (t0, "unavailable", LUX_ATTRIBUTES),
        (t0 + 600, "abc", LUX_ATTRIBUTES),
        (t0 + 1200, "20.0", {**LUX_ATTRIBUTES, "unit_of_measurement": "%"}),
        (t0 + 1800, "10.0", {**LUX_ATTRIBUTES, "unit_of_measurement": "fc"}),
        (t0 + 2400, "nan", LUX_ATTRIBUTES),
        (
            t0 + 3000,
            "5.0",
            {k: v for k, v in LUX_ATTRIBUTES.items() if k != "unit_of_measurement"},
        ),
    ]
    rows.sort(key=lambda row: row[0])
    await async_write_history(hass, LUX_ENTITY, rows)
    end_local = dt_util.utc_from_timestamp(end_s).astimezone(location.tzinfo)
    room = simulate_rooms(
        location, end_local.date() - timedelta(days=days), days + 1, seed=0
    )["living_room"]
    lamp = room.lights["floor_lamp"].copy()
    lamp[100:400] = np.nan  # unavailable for five hours
    await async_write_light_history(hass, FLOOR_LAMP, room.start_minute, lamp, end_s)
    await async_write_light_history(
        hass,
        PLUG,
        room.start_minute,
        room.lights["ceiling"],
        end_s,
        with_brightness=False,
    )
    hass.states.async_set(PERSON, "home", {})
    person_rows = [
        (end_s - (days - day) * 86400.0 + hour * 3600.0, state, {})
        for day in range(days)
        for hour, state in (
            (8, "not_home"),
            (17, "home"),
            (20, "unknown"),
            (21, "home"),
        )
    ]
    await async_write_history(hass, PERSON, person_rows)
    return end_s


@pytest.mark.parametrize(
    ("driver_cursor", "kept_states"),
    [(True, None), (False, None), (True, 40)],
    ids=["driver", "session", "few-kept"],
)
@pytest.mark.parametrize(
    ("entity_id", "kind"),
    [
        (LUX_ENTITY, StateKind.LUX),
        (FLOOR_LAMP, StateKind.LIGHT),
        (PLUG, StateKind.LIGHT),
        (PERSON, StateKind.PRESENCE),
    ],
)
async def test_reader_matches_history_api(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    location: Location,
    request: pytest.FixtureRequest,
    entity_id: str,
    kind: StateKind,
    driver_cursor: bool,
    kept_states: int | None,
) -> None:
    """Every kind of source reads the same minutes, from any start.

    Both ways of fetching rows are checked: the driver's cursor (SQLite)
    and the session's streamed rows (the other databases); and a sensor
    with more distinct states than the reader keeps (worked out row by row
    past the first ones, the report included).
    """
    patches = []
    if not driver_cursor:
        patches.append(
            patch.object(history_module, "DRIVER_CURSOR_DIALECTS", frozenset())
        )
    if kept_states is not None:
        patches.append(patch.object(history_module, "MAX_KEPT_STATES", kept_states))
    for patcher in patches:
        patcher.start()
        request.addfinalizer(patcher.stop)
    end_s = await async_write_room(hass, location, 4)
    end = dt_util.utc_from_timestamp(end_s + 60)
    recorder = get_instance(hass)
    # From before the first row, from a start inside the history (the state
    # in force then comes first), and an empty window.
    for start in (
        end - timedelta(days=10),
        end - timedelta(days=2, minutes=7, seconds=13),
        end - timedelta(days=3, hours=5),
        end - timedelta(seconds=30),
    ):
        new = await recorder.async_add_executor_job(
            read_minute_series, hass, entity_id, start, end, kind
        )
        old = await recorder.async_add_executor_job(
            read_with_history_api, hass, entity_id, start, end, kind
        )
        assert old[1].states > 0 or start > end - timedelta(minutes=1)
        assert_same(new, old)
    # An entity the recorder never saw.
    new = await recorder.async_add_executor_job(
        read_minute_series, hass, "sensor.nothing", end - timedelta(days=1), end, kind
    )
    assert new[0] is None
    assert new[1].states == 0


def _move_attributes_into_rows(hass: HomeAssistant, before_s: float) -> int:
    """Make rows older than `before_s` keep their attributes in the row.

    As the recorder wrote them before the shared attributes table (blocking).
    """
    with session_scope(hass=hass) as session:
        result = session.execute(
            update(States)
            .where(States.last_updated_ts < before_s)
            .where(States.attributes_id.is_not(None))
            .values(
                attributes=select(StateAttributes.shared_attrs)
                .where(StateAttributes.attributes_id == States.attributes_id)
                .scalar_subquery(),
                attributes_id=None,
            )
        )
        return int(result.rowcount)


@pytest.mark.parametrize(
    ("entity_id", "kind"),
    [(LUX_ENTITY, StateKind.LUX), (FLOOR_LAMP, StateKind.LIGHT)],
)
async def test_reader_matches_history_api_on_old_rows(
    hass: HomeAssistant,
    lux_sensor: er.RegistryEntry,
    location: Location,
    entity_id: str,
    kind: StateKind,
) -> None:
    """Rows that keep their attributes in the row read as the history API reads them.

    The older half of the history is made such rows, so pages mix both kinds.
    """
    end_s = await async_write_room(hass, location, 4)
    recorder = get_instance(hass)
    moved = await recorder.async_add_executor_job(
        _move_attributes_into_rows, hass, end_s - 2 * 86400.0
    )
    assert moved > 0
    end = dt_util.utc_from_timestamp(end_s + 60)
    for start in (end - timedelta(days=10), end - timedelta(days=3, hours=5)):
        new = await recorder.async_add_executor_job(
            read_minute_series, hass, entity_id, start, end, kind
        )
        old = await recorder.async_add_executor_job(
            read_with_history_api, hass, entity_id, start, end, kind
        )
        assert old[1].states > 0
        assert_same(new, old)


class _StoppedClock:
    """Home Assistant's `dt_util` with `utcnow` held at one time."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def __getattr__(self, name: str) -> Any:
        return getattr(dt_util, name)

    def utcnow(self) -> datetime:
        return self._now


def _model_without_time(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    for room in data.get("rooms", {}).values():
        room.pop("trained_at", None)
    return data


async def test_archives_and_models_identical(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    location: Location,
    lux_sensor: er.RegistryEntry,
) -> None:
    """A room of lux, a dimmable lamp and a plug: the same files from both readers.

    Both learn up to the same time: a light's last state holds until the
    minute its room learns, which would move if a minute began between them.
    """
    lamp = entity_registry.async_get_or_create(
        "light", "hue", "floor_lamp", suggested_object_id="living_room_floor_lamp"
    )
    plug = entity_registry.async_get_or_create(
        "switch", "hue", "plug", suggested_object_id="living_room_plug"
    )
    assert (lamp.entity_id, plug.entity_id) == (FLOOR_LAMP, PLUG)
    await async_write_room(hass, location, 6)
    folder = storage_path(hass)

    async def learn() -> dict[str, bytes]:
        entry = home_entry(
            {
                ROOM_SUBENTRY_ID: (
                    "Living room",
                    {
                        CONF_LUX_SENSOR: lux_sensor.id,
                        CONF_LIGHTS: [lamp.id, plug.id],
                        CONF_LEARN_FROM: "both",
                    },
                )
            }
        )
        await async_setup_integration(hass, entry)
        assert entry.runtime_data.rooms[ROOM_SUBENTRY_ID].status is ModelStatus.TRAINED
        assert await hass.config_entries.async_unload(entry.entry_id)

        def files() -> dict[str, bytes]:
            out = {path.name: path.read_bytes() for path in folder.glob("*.archive")}
            for path in folder.glob("*.model.json"):
                out[path.name] = repr(_model_without_time(path)).encode()
            return out

        learned = await hass.async_add_executor_job(files)
        # Removing the entry removes its files: the next run starts afresh.
        await hass.config_entries.async_remove(entry.entry_id)
        assert not await hass.async_add_executor_job(folder.exists)
        return learned

    with patch.object(learning_module, "dt_util", _StoppedClock(dt_util.utcnow())):
        new_files = await learn()
        with patch.object(learning_module, "read_minute_series", read_with_history_api):
            old_files = await learn()
    assert len([name for name in new_files if name.endswith(".archive")]) == 3
    assert f"{ROOM_SUBENTRY_ID}.model.json" in new_files
    assert new_files.keys() == old_files.keys()
    for name, content in new_files.items():
        assert content == old_files[name], name


def _rows_of(hass: HomeAssistant, entity_id: str) -> list[tuple[str, bool]]:
    """Return an entity's rows as (state, whether the state changed with it)."""
    with session_scope(hass=hass, read_only=True) as session:
        metadata_id = get_instance(hass).states_meta_manager.get(
            entity_id, session, False
        )
        rows = session.execute(
            select(States.state, States.last_changed_ts, States.last_updated_ts)
            .where(States.metadata_id == metadata_id)
            .order_by(States.last_updated_ts)
        ).all()
    return [
        (state, changed is None or changed == updated)
        for state, changed, updated in rows
    ]


async def test_a_light_dimmed_while_on_is_read_dimmed(hass: HomeAssistant) -> None:
    """A dimming while on is a change of attributes alone: it is read.

    The recorder stores it as such (the state's last change stays that of
    switching on), and so does the writer the tests and the demo use.
    """
    lamp = "light.reading_lamp"
    hass.states.async_set(lamp, "on", {ATTR_BRIGHTNESS: 255})
    await async_wait_recording_done(hass)
    hass.states.async_set(lamp, "on", {ATTR_BRIGHTNESS: 51})
    await async_wait_recording_done(hass)
    recorder = get_instance(hass)
    recorded = await recorder.async_add_executor_job(_rows_of, hass, lamp)
    assert recorded[-2:] == [("on", True), ("on", False)]

    end_s = math.floor(dt_util.utcnow().timestamp() / 60) * 60.0 - 3600.0
    t0 = end_s - 3 * 3600.0
    rows = [
        (t0, "on", {ATTR_BRIGHTNESS: 255}),
        (t0 + 600, "on", {ATTR_BRIGHTNESS: 51}),
        (t0 + 1200, "off", {}),
    ]
    await async_write_history(hass, lamp, rows)
    written = await recorder.async_add_executor_job(_rows_of, hass, lamp)
    assert written[:3] == [("on", True), ("on", False), ("off", True)]
    start = dt_util.utc_from_timestamp(t0 - 60.0)
    for reader in (read_minute_series, read_with_history_api):
        series, report = await recorder.async_add_executor_job(
            reader,
            hass,
            lamp,
            start,
            dt_util.utc_from_timestamp(end_s),
            StateKind.LIGHT,
        )
        assert series is not None
        assert report.states == 3
        assert series.start_minute == t0 // 60
        np.testing.assert_array_equal(
            series.lux[:30], [1.0] * 10 + [0.2] * 10 + [0.0] * 10
        )
