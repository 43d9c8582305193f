"""The replay runner: the week's plan, one timer, light actions, restore.

`Replay` holds, for every room, one sampled `DaySchedule` per local day, from
yesterday to a week ahead (today and the `PLAN_DAYS_AHEAD` days after it;
`plan.py`). Those very objects are what the runner executes and what the
calendars and next-change sensors show, so nothing is computed twice.

- At local midnight the oldest day is forgotten and a new last day of the
  week is sampled for each room, each with its own random seed drawn from the
  operating system, stored with the schedule so the day can be sampled again
  (same model, options and start) for diagnostics. Sampling runs in the
  executor, and the new days replace the old ones in one step, so the
  calendars never show a half-planned week.
- The options (active window, all-off time, minimum on-duration, jitter;
  `options.py`) are applied when a day is sampled; changing them samples
  the week anew (today from now), without reloading the entry.
- Turning replay on keeps the planned days as the calendars show them,
  takes a snapshot of the lights and applies the state of this minute; from
  then on one timer fires at the next change of any room (or at midnight, or
  at the end of the vacation) and only rooms whose state changes are acted
  on. An end more than `MAX_REPLAY_DAYS` ahead is refused before anything
  changes.
- Turning it off cancels the timer and any action under way and restores the
  snapshot (an option, on by default).
- Everything (on/off, end, snapshot, rooms left out, the sampled days) is
  kept in Home Assistant's storage, so a restart or reload resumes with the
  same schedules: only the state of the current minute is applied once, the
  changes missed while Home Assistant was down are not replayed.
- Rooms due at the same moment are switched at once (`lights.py`), so one
  hanging light holds up no other room. A light that is unavailable or whose
  action fails is logged once, skipped and tried again at the room's next
  action; it is listed in `unreachable` until an action reaches it.
- What changed a light is told to the logbook (`EVENT_LIGHT_ACTION`): the
  lights a room's action changed, and the lights the restore changed.
- A room's new model (nightly training, import) is used from tomorrow on: the
  days after today are sampled anew; today's stays as shown unless the room
  had none yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Mapping
import contextlib
from datetime import date, datetime, time, timedelta
import logging
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_point_in_time
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CONF_RESTORE,
    DOMAIN,
    EVENT_LIGHT_ACTION,
    MAX_ARCHIVE_DAYS,
    MAX_REPLAY_DAYS,
    REPLAY_STORAGE_KEY,
    STORAGE_VERSION,
)
from .data import ChangeNotifier, LightingReplayConfigEntry, RoomState
from .engine.schedule import Change, DaySchedule, Interval
from .engine.zones import Location
from .lights import (
    LightCall,
    RoomAction,
    async_call_lights,
    restore_call,
    snapshot_of,
    switch_call,
)
from .options import ReplayOptions
from .plan import (
    MIN_BRIGHTNESS_PCT,
    PlannedDay,
    SampleJob,
    brightness_for_level,
    room_changes,
    sample_days,
    week,
)

__all__ = [
    "PlannedDay",
    "Replay",
    "ReplayOptions",
    "RoomAction",
    "async_remove_replay_storage",
    "brightness_for_level",
    "room_changes",
    "week",
]

_LOGGER = logging.getLogger(__name__)

# Storage writes are grouped; a snapshot is written at once.
SAVE_DELAY = 1


def end_too_far(end: str) -> ServiceValidationError:
    """Return the error of an end further ahead than replay runs."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="end_too_far",
        translation_placeholders={"end": end, "days": str(MAX_REPLAY_DAYS)},
    )


class Replay(ChangeNotifier):
    """The replay of one home (config entry): schedules, timer and lights."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LightingReplayConfigEntry,
        *,
        location: Location,
        rooms: dict[str, RoomState],
        options: ReplayOptions,
    ) -> None:
        """Prepare the replay; nothing is read until `async_load`."""
        self.hass = hass
        self.entry = entry
        self.location = location
        self.rooms = rooms
        self.options = options
        self.active = False
        self.end: datetime | None = None
        # entity_id -> what to restore; taken before replay first touches it.
        self.snapshot: dict[str, dict[str, Any]] = {}
        self.included: dict[str, bool] = dict.fromkeys(rooms, True)
        self.plans: dict[str, dict[date, PlannedDay]] = {sid: {} for sid in rooms}
        # entity_id -> why the last action did not reach it.
        self.unreachable: dict[str, str] = {}
        self.last_action: dict[str, Any] | None = None
        # When replay was on (start, end; None: still on): never learned from.
        self.periods: list[tuple[datetime, datetime | None]] = []
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, REPLAY_STORAGE_KEY
        )
        self._applied: dict[str, RoomAction] = {}
        self._models: dict[str, Any] = {}
        self._room_unsubs: dict[str, CALLBACK_TYPE] = {}
        self._listeners = []
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._next_point: datetime | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._other_tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._options_changed = False
        self._started = False
        self._shut_down = False

    # Reading -----------------------------------------------------------

    def now(self) -> datetime:
        """Return the current local time of the home."""
        return dt_util.now().astimezone(self.location.tzinfo)

    def schedules(self, subentry_id: str) -> list[DaySchedule]:
        """Return a room's sampled days in order (yesterday to a week ahead)."""
        days = self.plans.get(subentry_id, {})
        return [days[day].schedule for day in sorted(days)]

    def is_included(self, subentry_id: str) -> bool:
        """Return whether a room takes part in replay."""
        return self.included.get(subentry_id, False)

    def intervals(
        self, subentry_id: str, start: datetime, end: datetime
    ) -> list[Interval]:
        """Return a room's intervals that overlap [start, end)."""
        if not self.is_included(subentry_id):
            return []
        return [
            iv
            for schedule in self.schedules(subentry_id)
            for iv in schedule.intervals
            if dt_util.as_utc(iv.start) < dt_util.as_utc(end)
            and dt_util.as_utc(iv.end) > dt_util.as_utc(start)
        ]

    def next_change(self, subentry_id: str, moment: datetime) -> Change | None:
        """Return a room's next change after `moment` (None: none planned)."""
        if not self.is_included(subentry_id):
            return None
        utc = dt_util.as_utc(moment)
        for change in room_changes(self.schedules(subentry_id)):
            if dt_util.as_utc(change.at) > utc:
                return change
        return None

    def desired(self, subentry_id: str, moment: datetime) -> RoomAction:
        """Return what a room's lights should be at `moment`."""
        plan = self.plans[subentry_id].get(
            moment.astimezone(self.location.tzinfo).date()
        )
        interval = None if plan is None else plan.schedule.state_at(moment)
        if interval is None:
            return RoomAction(on=False)
        return self.action_of(subentry_id, interval)

    def action_of(self, subentry_id: str, interval: Interval) -> RoomAction:
        """Return what a room's lights are during one of its planned intervals."""
        room = self.rooms[subentry_id]
        scene: tuple[tuple[str, int], ...] = ()
        if interval.scene is not None and room.model is not None:
            scene = tuple(
                (entity_id, max(pct, MIN_BRIGHTNESS_PCT) if pct else 0)
                for key, pct in zip(room.model.lights, interval.scene, strict=False)
                if (entity_id := room.config.light_entity_id(self.hass, key))
                is not None
            )
        return RoomAction(
            on=True,
            level=interval.level,
            brightness_pct=brightness_for_level(room, interval.level),
            scene=scene,
        )

    def learning_exclusions(self) -> tuple[tuple[int, int], ...]:
        """Return the epoch-minute ranges replay was on: never learned from."""
        now = dt_util.utcnow()
        ranges: list[tuple[int, int]] = []
        for start, end in self.periods:
            stop = now if end is None else end
            ranges.append(
                (int(start.timestamp() // 60), int(-(-stop.timestamp() // 60)) + 1)
            )
        return tuple(ranges)

    def diagnostics(self) -> dict[str, Any]:
        """Return the replay's state for diagnostics."""
        return {
            "active": self.active,
            "end": None if self.end is None else self.end.isoformat(),
            "options": self.options.as_dict() | {CONF_RESTORE: self.options.restore},
            "included": dict(self.included),
            "unreachable_lights": dict(self.unreachable),
            "snapshot": dict(self.snapshot),
            "next_point": None
            if self._next_point is None
            else self._next_point.isoformat(),
            "last_action": self.last_action,
            "periods": [
                [start.isoformat(), None if end is None else end.isoformat()]
                for start, end in self.periods
            ],
            "days": {
                sid: {
                    day.isoformat(): plan.to_dict()
                    for day, plan in sorted(days.items())
                }
                for sid, days in self.plans.items()
            },
        }

    # Storage -----------------------------------------------------------

    async def async_load(self) -> None:
        """Read the stored replay; a damaged store starts afresh (logged)."""
        data = await self._store.async_load()
        if not data:
            return
        try:
            self._read(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            _LOGGER.warning(
                "The stored replay state is damaged (%s); starting afresh", err
            )
            self.active = False
            self.end = None
            self.snapshot = {}
            self.included = dict.fromkeys(self.rooms, True)
            self.plans = {sid: {} for sid in self.rooms}

    def _read(self, data: Mapping[str, Any]) -> None:
        end = data.get("end")
        self.active = bool(data.get("active", False))
        self.end = (
            None if end is None else dt_util.parse_datetime(end, raise_on_error=True)
        )
        self.snapshot = {
            str(entity_id): dict(state)
            for entity_id, state in dict(data.get("snapshot", {})).items()
        }
        for sid, included in dict(data.get("included", {})).items():
            if sid in self.rooms:
                self.included[sid] = bool(included)
        for sid, days in dict(data.get("days", {})).items():
            if sid not in self.rooms:
                continue
            for day_text, plan in dict(days).items():
                day = date.fromisoformat(day_text)
                self.plans[sid][day] = PlannedDay.from_dict(day, plan, self.location)
        self._options_changed = data.get("options") != self.options.as_dict()
        self.periods = [
            (
                dt_util.parse_datetime(start, raise_on_error=True),
                None
                if end is None
                else dt_util.parse_datetime(end, raise_on_error=True),
            )
            for start, end in data.get("periods", [])
        ]

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "end": None if self.end is None else self.end.isoformat(),
            "snapshot": self.snapshot,
            "included": self.included,
            "options": self.options.as_dict(),
            "periods": [
                [start.isoformat(), None if end is None else end.isoformat()]
                for start, end in self.periods
            ],
            "days": {
                sid: {day.isoformat(): plan.to_dict() for day, plan in days.items()}
                for sid, days in self.plans.items()
            },
        }

    @callback
    def _async_save(self) -> None:
        self._store.async_delay_save(self._data_to_store, SAVE_DELAY)

    # Running -----------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Follow the rooms' models; resume once Home Assistant runs."""
        for sid in self.rooms:
            self._follow_room(sid)
        self.entry.async_on_unload(self._unfollow_rooms)
        self.entry.async_on_unload(async_at_started(self.hass, self._async_at_started))

    @callback
    def _follow_room(self, sid: str) -> None:
        room = self.rooms[sid]
        self._models[sid] = room.model
        self._room_unsubs[sid] = room.async_add_listener(self._room_listener(sid))

    @callback
    def _unfollow_rooms(self) -> None:
        for unsub in self._room_unsubs.values():
            unsub()
        self._room_unsubs.clear()

    async def _async_at_started(self, _hass: HomeAssistant) -> None:
        # Lights of other integrations exist by now.
        self._spawn(self._async_resume(), "resume", action=False)

    async def async_shutdown(self) -> None:
        """Stop the timer and pending actions; write the state."""
        self._shut_down = True
        self._cancel_timer()
        tasks = [*self._tasks, *self._other_tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._store.async_save(self._data_to_store())

    def _spawn(
        self, coro: Coroutine[Any, Any, None], what: str, *, action: bool = True
    ) -> None:
        """Run `coro` in the background; actions are cancelled by a stop."""
        task = self.entry.async_create_background_task(
            self.hass, coro, f"{DOMAIN} replay {what}"
        )
        tasks = self._tasks if action else self._other_tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _async_resume(self) -> None:
        """Bring the days up to date and apply this minute's state once."""
        async with self._lock:
            now = self.now()
            await self._async_plan(
                now, resample=week(now.date()) if self._options_changed else ()
            )
            self._options_changed = False
            self._started = True
            if self.active:
                if self.end is not None and dt_util.as_utc(now) >= self.end:
                    await self._async_stop_locked()
                else:
                    self._take_snapshot(self.rooms)
                    await self._async_apply(now, force=True)
        self._after_change()

    @callback
    def _after_change(self) -> None:
        self._async_save()
        self._arm()
        self.async_update_listeners()

    def _room_listener(self, sid: str) -> CALLBACK_TYPE:
        @callback
        def room_changed() -> None:
            model = self.rooms[sid].model
            if model is self._models.get(sid):
                return
            self._models[sid] = model
            if model is None or not self._started:
                return
            self._spawn(self._async_new_model(sid), "new model", action=False)

        return room_changed

    async def _async_new_model(self, sid: str) -> None:
        """Follow a room's new model from tomorrow on (today if it had none)."""
        async with self._lock:
            now = self.now()
            await self._async_plan(now, resample=week(now.date())[1:], rooms=[sid])
        if self.active:
            self._spawn(self._async_apply_locked(), "new model")
        self._after_change()

    async def _async_plan(
        self,
        now: datetime,
        *,
        resample: Iterable[date] = (),
        rooms: Iterable[str] | None = None,
    ) -> None:
        """Forget days before yesterday; sample the week ahead where missing.

        The days in `resample` are sampled anew for `rooms` (all by default);
        today always from `now`. Sampling runs in the executor.
        """
        today = now.date()
        again = set(resample)
        again_rooms = set(self.rooms if rooms is None else rooms)
        jobs: list[SampleJob] = []
        for sid, room in self.rooms.items():
            days = self.plans[sid]
            for day in [d for d in days if d < today - timedelta(days=1)]:
                days.pop(day)
            if room.model is None:
                continue
            jobs.extend(
                SampleJob(
                    subentry_id=sid,
                    name=room.config.name,
                    model=room.model,
                    day=day,
                    start=now if day == today else None,
                )
                for day in week(today)
                if day not in days or (day in again and sid in again_rooms)
            )
        if not jobs:
            return
        plans = await self.hass.async_add_executor_job(
            sample_days, jobs, self.location, self.options.schedule
        )
        # All at once, so readers never see a half-planned week.
        for job, plan in zip(jobs, plans, strict=True):
            self.plans[job.subentry_id][job.day] = plan

    def _points(self, now: datetime) -> list[datetime]:
        tz = self.location.tzinfo
        points = [datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=tz)]
        if self.active and self.end is not None:
            points.append(self.end)
        changes = (self.next_change(sid, now) for sid in self.rooms)
        points.extend(change.at for change in changes if change is not None)
        return points

    @callback
    def _arm(self) -> None:
        """Set the one timer to the next change, midnight or the end."""
        self._cancel_timer()
        if self._shut_down:
            return
        now = self.now()
        point = min(p for p in map(dt_util.as_utc, self._points(now)) if p > now)
        self._next_point = point
        self._unsub_timer = async_track_point_in_time(self.hass, self._on_timer, point)

    @callback
    def _cancel_timer(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._unsub_timer = None
        point = self._next_point
        self._spawn(self._async_tick(point), "change")

    async def _async_tick(self, point: datetime | None) -> None:
        try:
            async with self._lock:
                now = self.now()
                # The timer may fire a little early or late; act for the
                # moment it was set for.
                moment = (now if point is None else max(now, point)).astimezone(
                    self.location.tzinfo
                )
                await self._async_plan(moment)
                if (
                    self.active
                    and self.end is not None
                    and dt_util.as_utc(moment) >= self.end
                ):
                    _LOGGER.info("The vacation ended; replay stops")
                    await self._async_stop_locked()
                elif self.active:
                    await self._async_apply(moment, force=False)
        finally:
            self._after_change()

    async def _async_apply_locked(self) -> None:
        async with self._lock:
            if self.active:
                await self._async_apply(self.now(), force=False)
        self.async_update_listeners()

    async def _async_apply(
        self, moment: datetime, *, force: bool, rooms: Iterable[str] | None = None
    ) -> None:
        """Act, all at once, on every included room whose state at `moment` is new."""
        actions: dict[str, RoomAction] = {}
        for sid in list(rooms if rooms is not None else self.rooms):
            if not self.is_included(sid):
                continue
            action = self.desired(sid, moment)
            if force or action != self._applied.get(sid):
                actions[sid] = action
        if actions:
            await self._async_act(actions, moment)

    # Lights ------------------------------------------------------------

    def _take_snapshot(self, sids: Iterable[str]) -> None:
        """Remember the lights of the included rooms not remembered yet."""
        for sid in sids:
            if not self.is_included(sid):
                continue
            for entity_id in self.rooms[sid].config.light_entity_ids(self.hass):
                self._snapshot_light(entity_id)

    def _snapshot_light(self, entity_id: str) -> None:
        if entity_id in self.snapshot:
            return
        # Nothing known to restore: taken before the next action.
        if (saved := snapshot_of(self.hass.states.get(entity_id))) is not None:
            self.snapshot[entity_id] = saved

    async def _async_act(
        self, actions: Mapping[str, RoomAction], scheduled: datetime
    ) -> None:
        """Switch rooms' lights at once; unreachable lights are skipped and listed."""
        calls: dict[str, list[LightCall]] = {}
        for sid, action in actions.items():
            room = self.rooms[sid]
            calls[sid] = []
            for entity_id in room.config.light_entity_ids(self.hass):
                state = self.hass.states.get(entity_id)
                if state is None or state.state == STATE_UNAVAILABLE:
                    self._mark_unreachable(entity_id, "unavailable")
                    continue
                self._snapshot_light(entity_id)
                calls[sid].append(switch_call(self.hass, entity_id, action))
            if not room.config.lights:
                _LOGGER.debug("Room %s has no lights", room.config.name)
        failures = await async_call_lights(
            self.hass,
            [call for room_calls in calls.values() for call in room_calls],
            Context(),
        )
        for sid, action in actions.items():
            self._applied[sid] = action
            reached: list[LightCall] = []
            for call in calls[sid]:
                if (reason := failures[call.entity_id]) is None:
                    self._mark_reachable(call.entity_id)
                    reached.append(call)
                else:
                    self._mark_unreachable(call.entity_id, reason)
            if reached:
                self._log_action(sid, action, reached, scheduled)

    @callback
    def _log_action(
        self,
        sid: str,
        action: RoomAction,
        reached: list[LightCall],
        scheduled: datetime,
    ) -> None:
        """Keep the room's last action; tell the logbook what it changed."""
        room = self.rooms[sid]
        changed = [call for call in reached if call.changes]
        event = {
            "room": room.config.name,
            "room_id": sid,
            "entity_ids": [call.entity_id for call in reached],
            "action": "on" if action.on else "off",
            "level": action.level,
            "brightness_pct": action.brightness_pct,
            "scheduled": scheduled.isoformat(),
        }
        self.last_action = event
        if changed:
            self._fire(
                event
                | {
                    "entity_ids": [call.entity_id for call in changed],
                    "lights": {
                        call.entity_id: action.brightness_of(call.entity_id)
                        if call.on
                        else 0
                        for call in changed
                    },
                }
            )

    @callback
    def _fire(self, event: dict[str, Any]) -> None:
        """Fire a logbook event in a context of its own (not "via" a light)."""
        self.hass.bus.async_fire(EVENT_LIGHT_ACTION, event, context=Context())

    @callback
    def _mark_unreachable(self, entity_id: str, reason: str) -> None:
        if entity_id not in self.unreachable:
            _LOGGER.warning(
                "Replay cannot reach %s (%s); it is tried again at the next action",
                entity_id,
                reason,
            )
        self.unreachable[entity_id] = reason

    @callback
    def _mark_reachable(self, entity_id: str) -> None:
        if self.unreachable.pop(entity_id, None) is not None:
            _LOGGER.info("Replay reaches %s again", entity_id)

    async def _async_restore(self, entity_ids: Iterable[str]) -> None:
        """Put lights back as they were in the snapshot, all at once."""
        calls = [
            restore_call(self.hass, entity_id, saved)
            for entity_id in entity_ids
            if (saved := self.snapshot.get(entity_id)) is not None
        ]
        failures = await async_call_lights(self.hass, calls, Context())
        restored: list[str] = []
        for call in calls:
            if (reason := failures[call.entity_id]) is not None:
                _LOGGER.warning("Restoring %s failed: %s", call.entity_id, reason)
            elif call.changes:
                restored.append(call.entity_id)
        if restored:
            self._fire(
                {
                    "room": self.entry.title,
                    "entity_ids": restored,
                    "action": "restore",
                }
            )

    async def _async_stop_locked(self) -> None:
        self.active = False
        self.end = None
        if self.periods and self.periods[-1][1] is None:
            self.periods[-1] = (self.periods[-1][0], dt_util.utcnow())
        if self.options.restore:
            await self._async_restore(list(self.snapshot))
        self.snapshot.clear()
        self._applied.clear()

    # Commands ----------------------------------------------------------

    @staticmethod
    def check_end(end: datetime | None) -> datetime | None:
        """Return the end in UTC if replay may run until it; else raise.

        The end must be in the future and at most `MAX_REPLAY_DAYS` ahead.
        """
        if end is None:
            return None
        now = dt_util.utcnow()
        try:
            end_utc = dt_util.as_utc(end)
        except OverflowError:
            end_utc = None
        if end_utc is not None and end_utc <= now:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="end_in_past",
                translation_placeholders={"end": end.isoformat()},
            )
        if end_utc is None or end_utc > now + timedelta(days=MAX_REPLAY_DAYS):
            raise end_too_far(end.isoformat())
        return end_utc

    async def async_turn_on(self, end: datetime | None = None) -> None:
        """Start replay (until `end`), or change the end if it runs.

        The end is checked before anything changes. Today's plan stays as
        the calendars show it; only the state of this minute is applied.
        """
        end = self.check_end(end)
        async with self._lock:
            self.end = end
            if not self.active:
                self.active = True
                self._open_period()
                if self._started:
                    now = self.now()
                    await self._async_plan(now)
                    self._take_snapshot(self.rooms)
                    await self._async_apply(now, force=True)
        await self._store.async_save(self._data_to_store())
        self._after_change()

    @callback
    def _open_period(self) -> None:
        """Note that replay is on from now (older periods than kept go)."""
        now = dt_util.utcnow()
        oldest = now - timedelta(days=MAX_ARCHIVE_DAYS)
        self.periods = [
            (start, end) for start, end in self.periods if end is None or end >= oldest
        ]
        if not self.periods or self.periods[-1][1] is not None:
            self.periods.append((now, None))

    async def async_turn_off(self) -> None:
        """Stop replay: cancel what is pending, restore the snapshot."""
        self._cancel_timer()
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        async with self._lock:
            if self.active:
                await self._async_stop_locked()
        await self._store.async_save(self._data_to_store())
        self._after_change()

    async def async_update_options(self, options: ReplayOptions) -> None:
        """Use new options; a change of the schedule's samples the week anew."""
        if options == self.options:
            return
        resample = options.as_dict() != self.options.as_dict()
        async with self._lock:
            self.options = options
            if resample and self._started:
                now = self.now()
                await self._async_plan(now, resample=week(now.date()))
                if self.active:
                    await self._async_apply(now, force=False)
            elif resample:
                self._options_changed = True
        self._after_change()

    async def async_regenerate(self) -> None:
        """Sample the week (today from now) anew for every room."""
        async with self._lock:
            now = self.now()
            await self._async_plan(now, resample=week(now.date()))
            if self.active and self._started:
                await self._async_apply(now, force=False)
        self._after_change()

    async def async_set_included(self, subentry_id: str, included: bool) -> None:
        """Include a room in replay or leave it out (its lights are restored)."""
        async with self._lock:
            if self.included.get(subentry_id) == included:
                return
            self.included[subentry_id] = included
            if self.active and self._started:
                lights = self.rooms[subentry_id].config.light_entity_ids(self.hass)
                if included:
                    self._take_snapshot([subentry_id])
                    await self._async_apply(self.now(), force=True, rooms=[subentry_id])
                else:
                    await self._async_give_back(lights)
                    self._applied.pop(subentry_id, None)
        self._after_change()

    # Rooms -------------------------------------------------------------

    async def async_add_room(self, subentry_id: str) -> None:
        """Take in a room added while the entry runs (planned once it has a model)."""
        async with self._lock:
            self.included.setdefault(subentry_id, True)
            self.plans.setdefault(subentry_id, {})
            self._follow_room(subentry_id)
            if self._started and self.rooms[subentry_id].model is not None:
                now = self.now()
                await self._async_plan(now, rooms=[subentry_id])
                if self.active:
                    self._take_snapshot([subentry_id])
                    await self._async_apply(now, force=True, rooms=[subentry_id])
        self._after_change()

    async def async_update_room(self, subentry_id: str, old_lights: list[str]) -> None:
        """Follow a changed room: lights it no longer has are given back.

        While replay runs, lights taken out of the room are restored (when
        the options say so) and the room's lights as they are now are set to
        this minute's state. The planned days stay as the calendars show them.
        """
        async with self._lock:
            if self.active and self._started and self.is_included(subentry_id):
                lights = self.rooms[subentry_id].config.light_entity_ids(self.hass)
                await self._async_give_back([e for e in old_lights if e not in lights])
                self._take_snapshot([subentry_id])
                await self._async_apply(self.now(), force=True, rooms=[subentry_id])
        self._after_change()

    async def async_remove_room(self, subentry_id: str, lights: list[str]) -> None:
        """Forget a removed room; while replay runs, its lights are given back."""
        async with self._lock:
            if self.active and self._started and self.is_included(subentry_id):
                await self._async_give_back(lights)
            if (unsub := self._room_unsubs.pop(subentry_id, None)) is not None:
                unsub()
            self.included.pop(subentry_id, None)
            self.plans.pop(subentry_id, None)
            self._applied.pop(subentry_id, None)
            self._models.pop(subentry_id, None)
        self._after_change()

    async def _async_give_back(self, lights: list[str]) -> None:
        """Restore lights replay no longer drives (if the options say so)."""
        if self.options.restore:
            await self._async_restore(lights)
        for entity_id in lights:
            self.snapshot.pop(entity_id, None)


async def async_remove_replay_storage(hass: HomeAssistant) -> None:
    """Delete the stored replay (the integration was removed)."""
    await Store[dict[str, Any]](
        hass, STORAGE_VERSION, REPLAY_STORAGE_KEY
    ).async_remove()
