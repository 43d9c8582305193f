"""The replay runner switching real lights on frozen, advancing time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
import logging
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.lighting_replay.const import (
    DOMAIN,
    EVENT_LIGHT_ACTION,
    PLAN_DAYS_AHEAD,
)
from custom_components.lighting_replay.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.replay import (
    Replay,
    brightness_for_level,
    room_changes,
    week,
)
from custom_components.lighting_replay.services import end_of_call
from integration.conftest import ROOM_SUBENTRY_ID, async_setup_integration

from .conftest import (
    BULB,
    LAMP,
    START,
    SWITCH,
    ReplayTestLight,
    async_move_to,
    async_run_until,
    async_setup_replay,
    async_setup_running_replay,
    changes_after,
)


def expected_brightness(pct: int) -> int:
    """Home Assistant's conversion of a brightness percentage."""
    return round(pct * 255 / 100)


def check_lights(
    hass: HomeAssistant, replay: Replay, moment: datetime
) -> tuple[str, int | None]:
    """Assert that the lights are what the schedule says at `moment`."""
    want = replay.desired(ROOM_SUBENTRY_ID, moment)
    lamp = hass.states.get(LAMP)
    bulb = hass.states.get(BULB)
    assert lamp is not None
    assert bulb is not None
    expected = STATE_ON if want.on else STATE_OFF
    assert (lamp.state, bulb.state) == (expected, expected), moment
    if want.on:
        assert want.brightness_pct is not None
        assert lamp.attributes[ATTR_BRIGHTNESS] == expected_brightness(
            want.brightness_pct
        )
    return expected, want.brightness_pct


async def async_turn_on_lamp(hass: HomeAssistant, brightness: int) -> None:
    """The user leaves the lamp on before the vacation."""
    await hass.services.async_call(
        "light",
        "turn_on",
        {ATTR_ENTITY_ID: LAMP, ATTR_BRIGHTNESS: brightness},
        blocking=True,
    )


async def test_replay_switches_lights_on_schedule(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Lights change exactly at the scheduled minutes, at the level's brightness."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    await async_turn_on_lamp(hass, 200)
    events = async_capture_events(hass, EVENT_LIGHT_ACTION)

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]
    assert replay.snapshot[LAMP] == {"state": "on", ATTR_BRIGHTNESS: 200}
    assert replay.snapshot[BULB] == {"state": "off"}
    today = replay.plans[ROOM_SUBENTRY_ID][START.date()]
    assert today.start == START
    assert all(iv.end > START for iv in today.schedule.intervals)
    check_lights(hass, replay, START)

    # The days as planned now: today from noon and the week ahead.
    planned = list(replay.schedules(ROOM_SUBENTRY_ID))
    assert [s.day for s in planned] == week(START.date())
    assert len(planned) == PLAN_DAYS_AHEAD + 1 == 7
    until = datetime.combine(START.date() + timedelta(2), time(0), START.tzinfo)
    changes = [c for c in room_changes(planned) if START < c.at < until]
    assert len(changes) >= 4, "the model should light the room on two evenings"
    for light in replay_lights.values():
        light.calls.clear()
    events.clear()

    steps = await async_run_until(
        hass,
        freezer,
        replay,
        until - timedelta(minutes=1),
        check=lambda moment: check_lights(hass, replay, moment),
    )
    # Midnight was a step (tomorrow became today, a new last day was made).
    assert datetime.combine(START.date() + timedelta(1), time(0), START.tzinfo) in steps
    assert sorted(replay.plans[ROOM_SUBENTRY_ID]) == [
        START.date(),
        *week(START.date() + timedelta(1)),
    ]
    # The days already planned stayed as they were.
    assert replay.schedules(ROOM_SUBENTRY_ID)[:-1] == planned

    # Each light was switched once per change, at the change's minute.
    for entity_id, light in replay_lights.items():
        assert [(at, action) for at, action, _ in light.calls] == [
            (c.at, "on" if c.on else "off") for c in changes
        ], entity_id
    lamp_levels = [
        kwargs.get(ATTR_BRIGHTNESS)
        for _, action, kwargs in replay_lights[LAMP].calls
        if action == "on"
    ]
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert lamp_levels == [
        expected_brightness(brightness_for_level(room, c.level))
        for c in changes
        if c.on
    ]
    # The on/off-only bulb is never sent a brightness.
    assert all(not kwargs for _, _, kwargs in replay_lights[BULB].calls)
    # One event per room action, with what was done.
    assert [(e.data["action"], e.data["scheduled"]) for e in events] == [
        ("on" if c.on else "off", c.at.isoformat()) for c in changes
    ]
    assert events[0].data["entity_ids"] == [LAMP, BULB]
    assert events[0].data["room"] == "Living room"

    # Off: nothing more happens and the lights are as before the vacation.
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SWITCH).state == STATE_OFF  # type: ignore[union-attr]
    lamp = hass.states.get(LAMP)
    assert lamp.state == STATE_ON  # type: ignore[union-attr]
    assert lamp.attributes[ATTR_BRIGHTNESS] == 200  # type: ignore[union-attr]
    assert hass.states.get(BULB).state == STATE_OFF  # type: ignore[union-attr]
    assert replay.snapshot == {}
    calls = len(replay_lights[LAMP].calls)
    await async_run_until(hass, freezer, replay, until + timedelta(days=1))
    assert len(replay_lights[LAMP].calls) == calls


def _light_state(hass: HomeAssistant, entity_id: str) -> tuple[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, state.attributes.get(ATTR_BRIGHTNESS)


async def test_restart_resumes_without_a_burst(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """After a restart only the current state is applied, then future changes."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    changes = changes_after(replay, START)
    assert len(changes) >= 4
    intervals_before = {
        day: plan.schedule for day, plan in replay.plans[ROOM_SUBENTRY_ID].items()
    }
    # Run to the first "on", then Home Assistant stops.
    await async_run_until(hass, freezer, replay, changes[0].at)
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    # It starts again after two more changes were missed.
    down_until = changes[2].at + timedelta(minutes=1)
    await async_move_to(hass, freezer, down_until)
    calls_before = {e: len(light.calls) for e, light in replay_lights.items()}
    states_before = {e: _light_state(hass, e) for e in replay_lights}
    events = async_capture_events(hass, EVENT_LIGHT_ACTION)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    replay = mock_config_entry.runtime_data.replay
    assert replay.active
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]
    # The same days (the calendar does not change; a day was added at
    # midnight) ...
    assert {
        day: replay.plans[ROOM_SUBENTRY_ID][day].schedule for day in intervals_before
    } == intervals_before
    # ... and one action per light: the state of now, not the missed changes.
    for entity_id, light in replay_lights.items():
        new_calls = light.calls[calls_before[entity_id] :]
        assert len(new_calls) == 1, entity_id
        assert new_calls[0][1] == ("on" if changes[2].on else "off")
    # The logbook hears of the lights that changed, nothing else.
    changed = [e for e in replay_lights if _light_state(hass, e) != states_before[e]]
    assert [event.data["entity_ids"] for event in events] == (
        [changed] if changed else []
    )
    check_lights(hass, replay, down_until)

    # Then the next change happens on time.
    await async_run_until(
        hass,
        freezer,
        replay,
        changes[3].at,
        check=lambda moment: check_lights(hass, replay, moment),
    )
    assert replay_lights[LAMP].calls[-1][0] == changes[3].at


async def test_restore_cache_free_restart_from_storage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    hass_storage: dict,
) -> None:
    """What a restart reads: the replay state in storage (switch on, snapshot)."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    await async_turn_on_lamp(hass, 128)
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    stored = hass_storage[f"{DOMAIN}.replay"]["data"]
    assert stored["active"] is True
    assert stored["snapshot"][LAMP] == {"state": "on", ATTR_BRIGHTNESS: 128}
    assert set(stored["days"][ROOM_SUBENTRY_ID]) == {
        day.isoformat() for day in week(START.date())
    }
    today = stored["days"][ROOM_SUBENTRY_ID][START.date().isoformat()]
    assert today["seed"] >= 1002
    assert today["start"] == START.isoformat()


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)])
async def test_daylight_saving_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    day: date,
) -> None:
    """On a 23- or 25-hour day every change happens at its instant."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.latitude, hass.config.longitude = 52.52, 13.40
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime.combine(day, time(0, 0, 30), berlin)
    freezer.move_to(start)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    plan = replay.plans[ROOM_SUBENTRY_ID][day]
    end = datetime.combine(day + timedelta(1), time(0), berlin)
    hours = (dt_util.as_utc(end) - dt_util.as_utc(start)).total_seconds() / 3600
    assert hours == pytest.approx(23 if day.month == 3 else 25, abs=0.01)
    changes = [c for c in room_changes([plan.schedule]) if start < c.at < end]
    assert changes, "the model lights the room in the evening"
    for light in replay_lights.values():
        light.calls.clear()

    await async_run_until(
        hass,
        freezer,
        replay,
        end - timedelta(minutes=1),
        check=lambda moment: check_lights(hass, replay, moment),
    )
    lamp_calls = [(dt_util.as_utc(at), a) for at, a, _ in replay_lights[LAMP].calls]
    assert lamp_calls == [
        (dt_util.as_utc(c.at), "on" if c.on else "off") for c in changes
    ]
    # Every interval lies in the day and on whole local minutes.
    for iv in plan.schedule.intervals:
        assert iv.start.tzinfo is not None
        assert (
            dt_util.as_utc(start) - timedelta(minutes=1)
            <= dt_util.as_utc(iv.start)
            < dt_util.as_utc(iv.end)
            <= dt_util.as_utc(end)
        )
        assert iv.start.second == 0


async def test_unreachable_light(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unavailable or failing light is logged once and tried again later."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    changes = changes_after(replay, START)
    assert len(changes) >= 4
    lamp, bulb = replay_lights[LAMP], replay_lights[BULB]
    lamp.set_available(False)
    caplog.set_level(logging.WARNING)
    caplog.clear()

    await async_run_until(hass, freezer, replay, changes[1].at)
    warnings = [r for r in caplog.records if LAMP in r.getMessage()]
    assert len(warnings) == 1, "logged once, not at every action"
    switch = hass.states.get(SWITCH)
    assert switch.attributes["unreachable_lights"] == [LAMP]  # type: ignore[union-attr]
    # The bulb kept following the schedule.
    assert [a for _, a, _ in bulb.calls[-2:]] == ["on", "off"]
    diagnostics = await async_get_config_entry_diagnostics(hass, mock_config_entry)
    assert LAMP in diagnostics["replay"]["unreachable_lights"]

    # Back, but its bridge fails: still unreachable, still not logged again.
    lamp.set_available(True)
    lamp.fail = True
    await async_run_until(hass, freezer, replay, changes[2].at)
    assert len([r for r in caplog.records if LAMP in r.getMessage()]) == 1
    assert replay.unreachable[LAMP] == "the bridge does not answer"
    assert hass.states.get(BULB).state == (STATE_ON if changes[2].on else STATE_OFF)  # type: ignore[union-attr]

    # Working again: the next action reaches it and the attribute clears.
    lamp.fail = False
    await async_run_until(hass, freezer, replay, changes[3].at)
    check_lights(hass, replay, changes[3].at)
    assert lamp.calls[-1][0] == changes[3].at
    switch = hass.states.get(SWITCH)
    assert switch.attributes["unreachable_lights"] == []  # type: ignore[union-attr]


async def test_end_stops_replay(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Replay stops by itself when the vacation ends and restores the lights."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    await async_turn_on_lamp(hass, 90)
    first_on = next(
        c.at
        for c in room_changes(replay.schedules(ROOM_SUBENTRY_ID))
        if c.on and c.at > START
    )
    end = first_on + timedelta(minutes=1)
    await hass.services.async_call(
        DOMAIN, "start", {"end": end.isoformat()}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get(SWITCH)
    assert state.state == STATE_ON  # type: ignore[union-attr]
    assert state.attributes["end"] == end  # type: ignore[union-attr]

    await async_run_until(hass, freezer, replay, end - timedelta(seconds=1))
    assert replay.active
    await async_move_to(hass, freezer, end)
    assert not replay.active
    assert hass.states.get(SWITCH).state == STATE_OFF  # type: ignore[union-attr]
    lamp = hass.states.get(LAMP)
    assert lamp.state == STATE_ON  # type: ignore[union-attr]
    assert lamp.attributes[ATTR_BRIGHTNESS] == 90  # type: ignore[union-attr]
    assert hass.states.get(BULB).state == STATE_OFF  # type: ignore[union-attr]


async def test_start_action_end_date_and_errors(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """`end_date` replays the last day to its end; a past end is refused."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "start",
            {"end": (START - timedelta(hours=1)).isoformat()},
            blocking=True,
        )
    assert err.value.translation_key == "end_in_past"
    assert not replay.active

    await hass.services.async_call(
        DOMAIN, "start", {"end_date": "2026-06-12"}, blocking=True
    )
    assert replay.active
    assert replay.end == datetime(2026, 6, 13, tzinfo=START.tzinfo)
    naive = datetime(2026, 6, 12, 22)  # noqa: DTZ001 - a naive end is local
    assert end_of_call({"end": naive}) == naive.replace(
        tzinfo=dt_util.get_default_time_zone()
    )
    await hass.services.async_call(DOMAIN, "stop", blocking=True)
    assert not replay.active
    assert replay.end is None


async def test_regenerate_samples_new_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """`regenerate` samples the week (today from now) with new seeds."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    seeds = {d: p.seed for d, p in replay.plans[ROOM_SUBENTRY_ID].items()}
    later = START + timedelta(hours=1)
    freezer.move_to(later)
    await hass.services.async_call(DOMAIN, "regenerate", blocking=True)
    plans = replay.plans[ROOM_SUBENTRY_ID]
    assert set(plans) == set(seeds) == set(week(START.date()))
    assert all(plans[d].seed != seeds[d] for d in seeds)
    assert plans[START.date()].start == later
    assert all(plans[d].start is None for d in week(START.date())[1:])


async def test_leaving_a_room_out(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A room left out is restored, not switched, and stays out after a restart."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    await async_turn_on_lamp(hass, 77)
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    include = "switch.living_room_include_in_replay"
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: include}, blocking=True
    )
    assert hass.states.get(include).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(LAMP).attributes[ATTR_BRIGHTNESS] == 77  # type: ignore[union-attr]
    calls = len(replay_lights[LAMP].calls)
    await async_run_until(hass, freezer, replay, START + timedelta(hours=14))
    assert len(replay_lights[LAMP].calls) == calls
    assert replay.next_change(ROOM_SUBENTRY_ID, replay.now()) is None

    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(include).state == STATE_OFF  # type: ignore[union-attr]
    assert len(replay_lights[LAMP].calls) == calls

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: include}, blocking=True
    )
    replay = mock_config_entry.runtime_data.replay
    check_lights(hass, replay, replay.now())


async def test_room_without_model_gets_days_when_its_model_comes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A room's first model gives it the week (today from now) at once."""
    freezer.move_to(START)
    await async_setup_integration(hass, mock_config_entry)
    replay = mock_config_entry.runtime_data.replay
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.model is None
    assert replay.plans[ROOM_SUBENTRY_ID] == {}
    room.model = room_model
    room.async_update_listeners()
    await hass.async_block_till_done(wait_background_tasks=True)
    plans = dict(replay.plans[ROOM_SUBENTRY_ID])
    assert set(plans) == set(week(START.date()))
    assert plans[START.date()].start == START
    # A newer model changes the days from tomorrow on, not today as shown.
    room.model = RoomModel.from_dict(room_model.to_dict())
    room.async_update_listeners()
    await hass.async_block_till_done(wait_background_tasks=True)
    after = replay.plans[ROOM_SUBENTRY_ID]
    assert set(after) == set(plans)
    assert after[START.date()] is plans[START.date()]
    assert all(after[d].seed != plans[d].seed for d in week(START.date())[1:])


async def test_damaged_store_starts_afresh(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    hass_storage: dict,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged replay store is logged and replaced, never a crash."""
    freezer.move_to(START)
    hass_storage[f"{DOMAIN}.replay"] = {
        "version": 1,
        "key": f"{DOMAIN}.replay",
        "data": {
            "active": True,
            "days": {ROOM_SUBENTRY_ID: {"yesterday": {"intervals": 3}}},
        },
    }
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    assert "damaged" in caplog.text
    assert not replay.active
    assert START.date() in replay.plans[ROOM_SUBENTRY_ID]


async def test_action_descriptions(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """The replay actions are described (services.yaml) with their fields."""
    await async_setup_replay(hass, mock_config_entry, room_model)
    descriptions = await async_get_all_descriptions(hass)
    actions = descriptions[DOMAIN]
    assert set(actions["start"]["fields"]) == {"end", "end_date"}
    assert {"stop", "regenerate"} <= set(actions)
