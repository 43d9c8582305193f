"""Changes of the entry: replay options apply without a reload, rooms reload."""

from __future__ import annotations

from datetime import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.lighting_replay.const import (
    CONF_ALL_OFF_BY,
    CONF_JITTER_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_RESTORE,
    CONF_WINDOW_START,
)
from custom_components.lighting_replay.engine.model import RoomModel
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import (
    START,
    ReplayTestLight,
    async_setup_replay,
    async_setup_running_replay,
)

OPTIONS = {
    CONF_WINDOW_START: "19:00:00",
    CONF_ALL_OFF_BY: "22:00:00",
    CONF_MIN_ON_MINUTES: 10,
    CONF_JITTER_MINUTES: 0,
    CONF_RESTORE: True,
}


async def test_options_apply_without_a_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """New options sample the week anew; no entity goes unavailable."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    seeds = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    hass.config_entries.async_update_entry(mock_config_entry, options=OPTIONS)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.replay is replay
    assert replay.active
    assert replay.options.schedule.window_start == time(19)
    plans = replay.plans[ROOM_SUBENTRY_ID]
    assert all(plans[d].seed != seeds[d] for d in seeds)
    for iv in (iv for p in plans.values() for iv in p.schedule.intervals):
        assert time(19) <= iv.start.time()
        assert iv.end.time() <= time(22)
    unavailable = [
        e.data["entity_id"]
        for e in changes
        if e.data["new_state"] is None or e.data["new_state"].state == STATE_UNAVAILABLE
    ]
    assert unavailable == []

    # The same options again change nothing.
    seeds = {d: p.seed for d, p in plans.items()}
    hass.config_entries.async_update_entry(mock_config_entry, options=dict(OPTIONS))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()} == seeds


async def test_restore_option_keeps_the_plan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Only "restore" changed: the planned week stays as shown."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    seeds = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_RESTORE: False}
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.runtime_data.replay is replay
    assert not replay.options.restore
    assert {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()} == seeds


async def test_room_change_reloads(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A renamed room sets the entry up again, with the room's new name."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    subentry = mock_config_entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        mock_config_entry, subentry, title="Lounge"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.replay is not replay
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.config.name == "Lounge"
