"""Changes of the entry: replay options and rooms apply without a reload."""

from __future__ import annotations

from datetime import time, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
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
from integration.conftest import ROOM_SUBENTRY_ID, room_device

from .conftest import (
    BULB,
    INCLUDE,
    LAMP,
    ROOM_CALENDAR,
    START,
    SWITCH,
    ReplayTestLight,
    async_move_to,
    async_run_until,
    async_set_room_lights,
    async_setup_replay,
    async_setup_running_replay,
    changes_after,
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
    assert unavailable_states(changes) == []

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


def unavailable_states(changes: list[Event[EventStateChangedData]]) -> list[str]:
    """Return the entities that went unavailable (or away) in `changes`."""
    return [
        e.data["entity_id"]
        for e in changes
        if e.data["new_state"] is None or e.data["new_state"].state == STATE_UNAVAILABLE
    ]


async def test_renamed_room_keeps_running(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    device_registry: dr.DeviceRegistry,
) -> None:
    """A renamed room is renamed in place: same plan, no entity unavailable."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    seeds = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    subentry = mock_config_entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        mock_config_entry, subentry, title="Lounge"
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.replay is replay
    assert replay.active
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.config.name == "Lounge"
    device = room_device(device_registry, mock_config_entry.entry_id, ROOM_SUBENTRY_ID)
    assert device is not None
    assert device.name == "Lounge"
    # The entities keep their ids and show the new name.
    state = hass.states.get(ROOM_CALENDAR)
    assert state is not None
    assert state.attributes["friendly_name"] == "Lounge Schedule"
    assert {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()} == seeds
    assert unavailable_states(changes) == []


async def test_room_lights_change_while_replay_runs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
) -> None:
    """A light taken out of a lit room is given back; one put in is switched."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    seeds = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}
    first_on = next(c for c in changes_after(replay, START) if c.on)
    await async_run_until(hass, freezer, replay, first_on.at)
    assert hass.states.get(BULB).state == STATE_ON  # type: ignore[union-attr]
    assert replay.snapshot[BULB] == {"state": STATE_OFF}
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    lamp_id = entity_registry.async_get(LAMP).id  # type: ignore[union-attr]
    bulb_id = entity_registry.async_get(BULB).id  # type: ignore[union-attr]

    await async_set_room_lights(hass, mock_config_entry, [lamp_id])
    assert mock_config_entry.runtime_data.replay is replay
    # The bulb is back as it was before the vacation; the lamp stays lit.
    assert hass.states.get(BULB).state == STATE_OFF  # type: ignore[union-attr]
    assert BULB not in replay.snapshot
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]
    bulb_calls = len(replay_lights[BULB].calls)
    next_change = replay.next_change(ROOM_SUBENTRY_ID, replay.now())
    assert next_change is not None
    await async_run_until(hass, freezer, replay, next_change.at)
    assert len(replay_lights[BULB].calls) == bulb_calls
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]

    # Put back in at the next lit period: switched to this minute's state.
    lit = next(c for c in changes_after(replay, replay.now()) if c.on)
    await async_run_until(hass, freezer, replay, lit.at)
    assert hass.states.get(BULB).state == STATE_OFF  # type: ignore[union-attr]
    await async_set_room_lights(hass, mock_config_entry, [lamp_id, bulb_id])
    assert hass.states.get(BULB).state == STATE_ON  # type: ignore[union-attr]
    assert replay.snapshot[BULB] == {"state": STATE_OFF}
    # The planned days stayed as the calendars showed them (a day that came
    # into the week since is new).
    plans = replay.plans[ROOM_SUBENTRY_ID]
    kept = [d for d in seeds if d in plans]
    assert kept
    assert {d: plans[d].seed for d in kept} == {d: seeds[d] for d in kept}
    assert unavailable_states(changes) == []


async def test_room_removed_while_replay_runs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A removed room gives its lights back; the home's entities stay available."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    first_on = next(c for c in changes_after(replay, START) if c.on)
    await async_run_until(hass, freezer, replay, first_on.at)
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)

    assert hass.config_entries.async_remove_subentry(
        mock_config_entry, ROOM_SUBENTRY_ID
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.runtime_data.replay is replay
    assert replay.active
    assert ROOM_SUBENTRY_ID not in replay.plans
    assert replay.snapshot == {}
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(BULB).state == STATE_OFF  # type: ignore[union-attr]
    # The room's entities are gone, not unavailable; the home's stay.
    assert hass.states.get(ROOM_CALENDAR) is None
    assert hass.states.get(INCLUDE) is None
    gone = set(unavailable_states(changes))
    assert gone
    assert all(
        e.data["new_state"] is None for e in changes if e.data["entity_id"] in gone
    )
    assert not any(
        entity_id.startswith(("switch.home", "calendar.home")) for entity_id in gone
    )
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]
    # Nothing is switched any more.
    calls = len(replay_lights[LAMP].calls)
    await async_move_to(hass, freezer, START + timedelta(days=1))
    assert len(replay_lights[LAMP].calls) == calls
