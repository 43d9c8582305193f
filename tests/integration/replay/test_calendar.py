"""The replay calendars: the same intervals the runner executes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.lighting_replay.const import PLAN_DAYS_AHEAD
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.engine.schedule import Interval
from custom_components.lighting_replay.lights import (
    RoomAction,
    brightness_words,
    describe_action,
)
from custom_components.lighting_replay.plan import brightness_for_level
from custom_components.lighting_replay.replay import Replay, room_changes
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import (
    HOME_CALENDAR,
    INCLUDE,
    LAMP,
    ROOM_CALENDAR,
    START,
    ReplayTestLight,
    async_run_until,
    async_setup_replay,
    async_setup_running_replay,
    entity_snapshot,
)


def home_days(replay: Replay, intervals: list[Interval]) -> list[dict[str, Any]]:
    """Return the home calendar's events of a room's intervals: one per day."""
    days: dict[date, list[Interval]] = {}
    for iv in intervals:
        days.setdefault(iv.start.date(), []).append(iv)
    room = replay.rooms[ROOM_SUBENTRY_ID]
    return [
        {
            "start": day_ivs[0].start.isoformat(),
            "end": max(iv.end for iv in day_ivs).isoformat(),
            "summary": "Living room",
            "description": "\n".join(
                f"Living room {iv.start:%H:%M} to {iv.end:%H:%M}: "
                f"{brightness_words(brightness_for_level(room, iv.level))}"
                for iv in day_ivs
            ),
        }
        for day_ivs in days.values()
    ]


def test_scene_descriptions_name_each_light() -> None:
    """A scene says which lights are on at what brightness; a level, how bright."""
    names = {LAMP: "Lamp", "light.bulb": "Bulb"}.__getitem__
    scene = RoomAction(
        on=True, level=2, brightness_pct=60, scene=((LAMP, 40), ("light.bulb", 0))
    )
    assert describe_action(scene, names) == "Lamp 40 %, Bulb off"
    assert describe_action(RoomAction(on=True, brightness_pct=20), names) == (
        "dim, 20 %"
    )
    assert describe_action(RoomAction(on=True, brightness_pct=70), names) == (
        "bright, 70 %"
    )
    assert describe_action(RoomAction(on=True, brightness_pct=100), names) == (
        "full, 100 %"
    )
    assert describe_action(RoomAction(on=False), names) == "off"


def room_intervals(replay: Replay) -> list[Interval]:
    """Return the intervals of the room's sampled days, in order."""
    return [
        iv
        for schedule in replay.schedules(ROOM_SUBENTRY_ID)
        for iv in schedule.intervals
    ]


async def get_events(
    hass: HomeAssistant, entity_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Read a calendar through the `calendar.get_events` action."""
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            ATTR_ENTITY_ID: entity_id,
            "start_date_time": start.isoformat(),
            "end_date_time": end.isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return response[entity_id]["events"]  # type: ignore[index,return-value]


async def test_calendar_shows_what_the_lights_do(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """Calendar events = the runner's intervals = the lamp's on periods."""
    freezer.move_to(START)
    replay = await async_setup_running_replay(hass, mock_config_entry, room_model)
    # The calendar shows a predicted week: today and the six days after it.
    until = datetime.combine(
        START.date() + timedelta(days=PLAN_DAYS_AHEAD + 1), time(0), START.tzinfo
    )
    events = await get_events(hass, ROOM_CALENDAR, START, until)
    intervals = room_intervals(replay)
    event_days = {datetime.fromisoformat(e["start"]).date() for e in events}
    assert len(event_days) >= 5, "the model lights the room on most evenings"
    assert max(event_days) > START.date() + timedelta(days=2)
    assert [
        (dt_util.parse_datetime(e["start"]), dt_util.parse_datetime(e["end"]))
        for e in events
    ] == [(iv.start, iv.end) for iv in intervals]
    assert all(e["summary"] == "Living room" for e in events)
    # Each event says in words how bright the room is.
    room = replay.rooms[ROOM_SUBENTRY_ID]
    assert [e["description"] for e in events] == [
        brightness_words(brightness_for_level(room, iv.level)) for iv in intervals
    ]
    assert {e["description"].split(",")[0] for e in events} <= {
        "dim",
        "bright",
        "full",
    }
    # The home calendar sums each day up instead of repeating the intervals.
    assert await get_events(hass, HOME_CALENDAR, START, until) == home_days(
        replay, intervals
    )

    # The calendar turns on while the lamp is on.
    first = intervals[0]
    await async_run_until(hass, freezer, replay, first.start)
    assert hass.states.get(ROOM_CALENDAR).state == STATE_ON  # type: ignore[union-attr]
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]

    # What the lamp did over the week is exactly the calendar's events.
    await async_run_until(hass, freezer, replay, until)
    lamp_on: list[datetime] = []
    lamp_off: list[datetime] = []
    for at, action, _ in replay_lights[LAMP].calls:
        if at > START:  # after the state applied when replay started
            (lamp_on if action == "on" else lamp_off).append(at)
    assert [
        (dt_util.parse_datetime(e["start"]), dt_util.parse_datetime(e["end"]))
        for e in events
    ] == list(zip(lamp_on, lamp_off, strict=True))
    assert [c.at for c in room_changes(replay.schedules(ROOM_SUBENTRY_ID))][
        -1
    ] >= lamp_off[-1]


async def test_room_left_out_has_no_events(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """What is shown is what will happen: a room left out shows nothing."""
    freezer.move_to(START)
    await async_setup_replay(hass, mock_config_entry, room_model)
    until = START + timedelta(days=2)
    assert await get_events(hass, ROOM_CALENDAR, START, until)
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: INCLUDE}, blocking=True
    )
    assert await get_events(hass, ROOM_CALENDAR, START, until) == []
    assert await get_events(hass, HOME_CALENDAR, START, until) == []
    assert hass.states.get(ROOM_CALENDAR).state == STATE_OFF  # type: ignore[union-attr]


async def test_calendar_entities(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The calendar entities (registry entries and states)."""
    freezer.move_to(START)
    with patch("custom_components.lighting_replay.PLATFORMS", [Platform.CALENDAR]):
        replay = await async_setup_replay(hass, mock_config_entry, room_model)
    intervals = room_intervals(replay)
    first = intervals[0]
    last_of_day = max(
        iv.end for iv in intervals if iv.start.date() == first.start.date()
    )
    for entity_id, end in ((ROOM_CALENDAR, first.end), (HOME_CALENDAR, last_of_day)):
        attributes = hass.states.get(entity_id).attributes  # type: ignore[union-attr]
        assert attributes["start_time"] == first.start.strftime("%Y-%m-%d %H:%M:%S")
        assert attributes["end_time"] == end.strftime("%Y-%m-%d %H:%M:%S")
    assert (
        entity_snapshot(
            hass,
            entity_registry,
            mock_config_entry,
            sampled=frozenset({"start_time", "end_time", "description"}),
        )
        == snapshot
    )
