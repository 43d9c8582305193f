"""Calendars of the replay: each room's planned "lights on" and the home's.

Events are the intervals of the very `DaySchedule` objects the replay runner
executes (yesterday to a week ahead), so the calendar shows what the
lights will do. Rooms left out of replay show no events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
from .replay import Replay, brightness_for_level

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


def _event(replay: Replay, item: _RoomInterval) -> CalendarEvent:
    """Return the calendar event of a room's interval."""
    room = replay.rooms[item.subentry_id]
    interval = item.interval
    level = interval.level
    return CalendarEvent(
        start=interval.start,
        end=interval.end,
        summary=room.config.name,
        description=f"Level {level}, {brightness_for_level(room, level)} %",
        uid=f"{item.subentry_id}-{interval.start.isoformat()}",
    )


def _events(
    replay: Replay, subentry_ids: list[str], start: datetime, end: datetime
) -> list[CalendarEvent]:
    items = [
        _RoomInterval(sid, interval)
        for sid in subentry_ids
        for interval in replay.intervals(sid, start, end)
    ]
    items.sort(key=lambda item: (item.interval.start, item.subentry_id))
    return [_event(replay, item) for item in items]


def _current_or_next(replay: Replay, subentry_ids: list[str]) -> CalendarEvent | None:
    now = dt_util.now()
    # Replay plans at most until the end of the week ahead.
    upcoming = _events(
        replay, subentry_ids, now, now + timedelta(days=PLAN_DAYS_AHEAD + 1)
    )
    return upcoming[0] if upcoming else None


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
        return _current_or_next(self.replay, list(self.replay.rooms))

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events between two moments."""
        return _events(self.replay, list(self.replay.rooms), start_date, end_date)


class RoomReplayCalendar(LightingReplayRoomScheduleEntity, CalendarEntity):
    """The planned lights of one room."""

    @property
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        return _current_or_next(self.replay, [self.room.subentry_id])

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events between two moments."""
        return _events(self.replay, [self.room.subentry_id], start_date, end_date)
