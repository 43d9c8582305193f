"""The replay options: set in the options flow, applied when days are sampled."""

from __future__ import annotations

from datetime import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import (
    CONF_ALL_OFF_BY,
    CONF_JITTER_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_RESTORE,
    CONF_SUNSET_OFFSET,
    CONF_WINDOW_START,
    DEFAULT_JITTER_MINUTES,
    DEFAULT_MIN_ON_MINUTES,
)
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.replay import ReplayOptions, week
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import LAMP, START, ReplayTestLight, async_setup_replay


async def test_options_flow_shapes_the_schedules(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Options saved in the flow resample the planned week with them."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    before = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_WINDOW_START: "19:00:00",
            CONF_ALL_OFF_BY: "22:00:00",
            CONF_MIN_ON_MINUTES: 10,
            CONF_JITTER_MINUTES: 0,
            CONF_RESTORE: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {
        CONF_WINDOW_START: "19:00:00",
        CONF_ALL_OFF_BY: "22:00:00",
        CONF_MIN_ON_MINUTES: 10,
        CONF_JITTER_MINUTES: 0,
        CONF_RESTORE: False,
    }
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    replay = mock_config_entry.runtime_data.replay
    assert replay.options.schedule.window_start == time(19)
    assert not replay.options.restore
    plans = replay.plans[ROOM_SUBENTRY_ID]
    assert set(plans) == set(before) == set(week(START.date()))
    assert all(plans[d].seed != before[d] for d in before)
    intervals = [iv for p in plans.values() for iv in p.schedule.intervals]
    assert intervals, "the model lights the room between 19:00 and 22:00"
    for iv in intervals:
        assert time(19) <= iv.start.time()
        assert iv.end.time() <= time(22)
        assert iv.minutes >= 10

    # The form shows what is set; without restore, stopping leaves the lights.
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    schema_defaults = {
        str(key): key.description.get("suggested_value")  # type: ignore[union-attr]
        for key in result["data_schema"].schema  # type: ignore[union-attr]
        if getattr(key, "description", None)
    }
    assert schema_defaults[CONF_WINDOW_START] == "19:00"
    hass.config_entries.options.async_abort(result["flow_id"])

    await hass.services.async_call(
        "light", "turn_on", {ATTR_ENTITY_ID: LAMP}, blocking=True
    )
    await replay.async_turn_on()
    assert replay.desired(ROOM_SUBENTRY_ID, START).on is False
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]
    await replay.async_turn_off()
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]


async def test_options_with_sunset_and_defaults(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A sunset offset is kept as minutes; empty times are left out."""
    freezer.move_to(START)
    await async_setup_replay(hass, mock_config_entry, room_model)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_SUNSET_OFFSET: -30,
            CONF_MIN_ON_MINUTES: DEFAULT_MIN_ON_MINUTES,
            CONF_JITTER_MINUTES: DEFAULT_JITTER_MINUTES,
            CONF_RESTORE: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_SUNSET_OFFSET] == -30
    assert CONF_WINDOW_START not in mock_config_entry.options
    await hass.async_block_till_done(wait_background_tasks=True)
    replay = mock_config_entry.runtime_data.replay
    assert replay.options.schedule.sunset_offset_minutes == -30


def test_bad_options_fall_back(caplog: pytest.LogCaptureFixture) -> None:
    """Bad stored options are logged and replaced by the defaults."""
    options = ReplayOptions.from_options(
        {CONF_WINDOW_START: "late", CONF_MIN_ON_MINUTES: "many"}
    )
    assert options.schedule.window_start is None
    assert options.schedule.min_on_minutes == DEFAULT_MIN_ON_MINUTES
    assert options.restore is True
    assert "window_start" in caplog.text
    assert "min_on_minutes" in caplog.text


async def test_time_fields_show_and_check_a_time_of_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Times are offered as HH:MM; a typed one that is no time is refused."""
    freezer.move_to(START)
    await async_setup_replay(hass, mock_config_entry, room_model)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_WINDOW_START: "19:00:00"}
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    shown = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    # What the user set, as a 24-hour clock time without seconds.
    assert shown[CONF_WINDOW_START] == "19:00"
    selector = result["data_schema"].schema[CONF_ALL_OFF_BY]
    assert "22:30" in selector.config["options"]

    form = {CONF_MIN_ON_MINUTES: 5, CONF_JITTER_MINUTES: 5, CONF_RESTORE: True}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form | {CONF_ALL_OFF_BY: "half past ten"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ALL_OFF_BY: "invalid_time"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form | {CONF_ALL_OFF_BY: "22:40"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_ALL_OFF_BY] == "22:40"
    await hass.async_block_till_done(wait_background_tasks=True)
    replay = mock_config_entry.runtime_data.replay
    assert replay.options.schedule.all_off_by == time(22, 40)
