"""Calendars of the replay: each room's planned "lights on", and the home's days.

A room's events are the intervals of the very `DaySchedule` objects the
replay runner executes (yesterday to a week ahead), so the calendar shows
what the lights will do, in words ("bright, 70 %"; for a scene, each light
with its brightness). The home's calendar does not repeat them: it has one
event per day, from the first light on to the last off, naming the rooms and
listing their periods. Rooms left out of replay show no events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import PLAN_DAYS_AHEAD
from .data import LightingReplayConfigEntry
from .engine.schedule import Interval
from .entity import (
    LightingReplayHomeEntity,
    LightingReplayRoomScheduleEntity,
    async_add_room_entities,
)
from .lights import describe_action
from .replay import Replay

# Calendars only read schedules held in memory.
PARALLEL_UPDATES = 0

ROOM_CALENDAR = CalendarEntityDescription(key="schedule", translation_key="schedule")
HOME_CALENDAR = CalendarEntityDescription(
    key="replay_schedule", translation_key="replay_schedule"
)


@dataclass(frozen=True)
class _RoomInterval:
    subentry_id: str
    interval: Interval


def _name_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return a light's name as the user sees it."""
    state = hass.states.get(entity_id)
    return entity_id if state is None else state.name


def _description(replay: Replay, item: _RoomInterval) -> str:
    """Return what a room's lights do during an interval, in words."""
    action = replay.action_of(item.subentry_id, item.interval)
    return describe_action(action, partial(_name_of, replay.hass))


def _event(replay: Replay, item: _RoomInterval) -> CalendarEvent:
    """Return the calendar event of a room's interval."""
    room = replay.rooms[item.subentry_id]
    interval = item.interval
    return CalendarEvent(
        start=interval.start,
        end=interval.end,
        summary=room.config.name,
        description=_description(replay, item),
        uid=f"{item.subentry_id}-{interval.start.isoformat()}",
    )


def _items(
    replay: Replay, subentry_ids: list[str], start: datetime, end: datetime
) -> list[_RoomInterval]:
    items = [
        _RoomInterval(sid, interval)
        for sid in subentry_ids
        for interval in replay.intervals(sid, start, end)
    ]
    items.sort(key=lambda item: (item.interval.start, item.subentry_id))
    return items


def _events(
    replay: Replay, subentry_ids: list[str], start: datetime, end: datetime
) -> Iterator[CalendarEvent]:
    """Return the rooms' events in order (made as they are taken)."""
    return (_event(replay, item) for item in _items(replay, subentry_ids, start, end))


def _day_events(
    replay: Replay, start: datetime, end: datetime
) -> Iterator[CalendarEvent]:
    """Return the home's days: one event per day from the first light to the last.

    The rooms' own calendars hold each interval; the home's calendar sums a
    day up (which rooms, when, how bright), so no interval shows twice. The
    events are made as they are taken: the next one alone costs one day's.
    """
    margin = timedelta(days=2)
    days: dict[date, list[_RoomInterval]] = {}
    for item in _items(replay, list(replay.rooms), start - margin, end + margin):
        days.setdefault(item.interval.start.date(), []).append(item)
    for day, items in sorted(days.items()):
        first = min(item.interval.start for item in items)
        last = max(item.interval.end for item in items)
        if dt_util.as_utc(first) < dt_util.as_utc(end) and dt_util.as_utc(
            last
        ) > dt_util.as_utc(start):
            yield _day_event(replay, day, items)


def _day_event(replay: Replay, day: date, items: list[_RoomInterval]) -> CalendarEvent:
    """Return the home's event of a day with these rooms' intervals."""
    rooms = list(dict.fromkeys(replay.rooms[i.subentry_id].config.name for i in items))
    lines = [
        f"{replay.rooms[i.subentry_id].config.name} "
        f"{i.interval.start:%H:%M} to {i.interval.end:%H:%M}: {_description(replay, i)}"
        for i in items
    ]
    return CalendarEvent(
        start=min(item.interval.start for item in items),
        end=max(item.interval.end for item in items),
        summary=", ".join(rooms),
        description="\n".join(lines),
        uid=f"{replay.entry.entry_id}-{day.isoformat()}",
    )


def _current_or_next(events: Iterator[CalendarEvent]) -> CalendarEvent | None:
    return next(events, None)


def _upcoming() -> tuple[datetime, datetime]:
    now = dt_util.now()
    # Replay plans at most until the end of the week ahead.
    return now, now + timedelta(days=PLAN_DAYS_AHEAD + 1)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LightingReplayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the home's calendar and one calendar per room."""
    async_add_entities([HomeReplayCalendar(entry=entry, description=HOME_CALENDAR)])
    async_add_room_entities(
        entry,
        async_add_entities,
        lambda room: [
            RoomReplayCalendar(entry=entry, room=room, description=ROOM_CALENDAR)
        ],
    )


class HomeReplayCalendar(LightingReplayHomeEntity, CalendarEntity):
    """The planned lights of every room taking part, one event per interval."""

    @property
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        return _current_or_next(_day_events(self.replay, *_upcoming()))

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events between two moments."""
        return list(_day_events(self.replay, start_date, end_date))


class RoomReplayCalendar(LightingReplayRoomScheduleEntity, CalendarEntity):
    """The planned lights of one room."""

    @property
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        return _current_or_next(
            _events(self.replay, [self.room.subentry_id], *_upcoming())
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events between two moments."""
        return list(_events(self.replay, [self.room.subentry_id], start_date, end_date))
