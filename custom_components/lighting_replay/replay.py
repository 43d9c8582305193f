"""The replay runner: day schedules, timers, light actions, snapshot and restore.

`Replay` holds, for every room, one sampled `DaySchedule` per local day, from
yesterday to a week ahead (today and the `PLAN_DAYS_AHEAD` days after it).
Those very objects are what the runner executes and what the calendars and
next-change sensors show, so nothing is computed twice.

- At local midnight the oldest day is forgotten and a new last day of the
  week is sampled for each room, each with its own random seed drawn from the
  operating system, stored with the schedule so the day can be sampled again
  (same model, options and start) for diagnostics. Sampling runs in the
  executor, and the new days replace the old ones in one step, so the
  calendars never show a half-planned week.
- The options (active window, all-off time, minimum on-duration, jitter) are
  applied when a day is sampled; changing them samples the week anew (today
  from now).
- Turning replay on samples the rest of today anew, takes a snapshot of the
  lights and applies the state of this minute; from then on one timer fires
  at the next change of any room (or at midnight, or at the end of the
  vacation) and only rooms whose state changes are acted on.
- Turning it off cancels the timer and any action under way and restores the
  snapshot (an option, on by default).
- Everything (on/off, end, snapshot, rooms left out, the sampled days) is
  kept in Home Assistant's storage, so a restart or reload resumes with the
  same schedules: only the state of the current minute is applied once, the
  changes missed while Home Assistant was down are not replayed.
- A light that is unavailable or whose action fails is logged once, skipped
  and tried again at the room's next action; it is listed in
  `unreachable` until an action reaches it.
- A room's new model (nightly training, import) is used from tomorrow on: the
  days after today are sampled anew; today's stays as shown unless the room
  had none yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
import logging
import secrets
from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_BRIGHTNESS_PCT,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_RGB_COLOR,
    ATTR_RGBW_COLOR,
    ATTR_RGBWW_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_XY_COLOR,
    brightness_supported,
)
from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN, ColorMode
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_point_in_time
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import numpy as np

from .const import (
    CONF_ALL_OFF_BY,
    CONF_JITTER_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_RESTORE,
    CONF_SUNSET_OFFSET,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DEFAULT_JITTER_MINUTES,
    DEFAULT_MIN_ON_MINUTES,
    DEFAULT_RESTORE,
    DOMAIN,
    EVENT_LIGHT_ACTION,
    MAX_ARCHIVE_DAYS,
    PLAN_DAYS_AHEAD,
    REPLAY_STORAGE_KEY,
    STORAGE_VERSION,
)
from .data import ChangeNotifier, LightingReplayConfigEntry, RoomState
from .engine.model import RoomModel
from .engine.schedule import Change, DaySchedule, Interval, ScheduleOptions, sample_day
from .engine.zones import Location

_LOGGER = logging.getLogger(__name__)

# Storage writes are grouped; a snapshot is written at once.
SAVE_DELAY = 1
# A light that does not answer within this time counts as unreachable.
LIGHT_CALL_TIMEOUT = 30
# Lowest brightness replay sets (a dim level of a bright room stays visible).
MIN_BRIGHTNESS_PCT = 1

# What is kept of a light's state to restore it, by colour mode.
COLOR_ATTRIBUTE: dict[str, str] = {
    ColorMode.COLOR_TEMP: ATTR_COLOR_TEMP_KELVIN,
    ColorMode.HS: ATTR_HS_COLOR,
    ColorMode.XY: ATTR_XY_COLOR,
    ColorMode.RGB: ATTR_RGB_COLOR,
    ColorMode.RGBW: ATTR_RGBW_COLOR,
    ColorMode.RGBWW: ATTR_RGBWW_COLOR,
}


def _parse_time(value: Any, key: str) -> time | None:
    """Return a local time from an option ("HH:MM[:SS]"), None if unset or bad."""
    if value in (None, ""):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        _LOGGER.warning("The replay option %s=%r is not a time; ignored", key, value)
        return None


def _parse_int(value: Any, key: str, default: int | None) -> int | None:
    """Return a whole number from an option, the default if unset or bad."""
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        _LOGGER.warning("The replay option %s=%r is not a number; ignored", key, value)
        return default


@dataclass(frozen=True, kw_only=True)
class ReplayOptions:
    """The replay options of the config entry, ready for the engine."""

    schedule: ScheduleOptions
    restore: bool = DEFAULT_RESTORE

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ReplayOptions:
        """Read the entry's options; bad values fall back to the defaults."""
        min_on = _parse_int(
            options.get(CONF_MIN_ON_MINUTES),
            CONF_MIN_ON_MINUTES,
            DEFAULT_MIN_ON_MINUTES,
        )
        jitter = _parse_int(
            options.get(CONF_JITTER_MINUTES),
            CONF_JITTER_MINUTES,
            DEFAULT_JITTER_MINUTES,
        )
        schedule = ScheduleOptions(
            window_start=_parse_time(options.get(CONF_WINDOW_START), CONF_WINDOW_START),
            window_end=_parse_time(options.get(CONF_WINDOW_END), CONF_WINDOW_END),
            sunset_offset_minutes=_parse_int(
                options.get(CONF_SUNSET_OFFSET), CONF_SUNSET_OFFSET, None
            ),
            all_off_by=_parse_time(options.get(CONF_ALL_OFF_BY), CONF_ALL_OFF_BY),
            min_on_minutes=max(0, min_on or 0),
            jitter_minutes=max(0, jitter or 0),
        )
        return cls(
            schedule=schedule, restore=bool(options.get(CONF_RESTORE, DEFAULT_RESTORE))
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the options as plain data (stored to notice a change)."""
        opts = self.schedule
        return {
            CONF_WINDOW_START: _time_text(opts.window_start),
            CONF_WINDOW_END: _time_text(opts.window_end),
            CONF_SUNSET_OFFSET: opts.sunset_offset_minutes,
            CONF_ALL_OFF_BY: _time_text(opts.all_off_by),
            CONF_MIN_ON_MINUTES: opts.min_on_minutes,
            CONF_JITTER_MINUTES: opts.jitter_minutes,
        }


def _time_text(value: time | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, kw_only=True)
class PlannedDay:
    """A sampled day of a room, with what is needed to sample it again."""

    schedule: DaySchedule
    seed: int
    start: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {
            "room": self.schedule.room,
            "seed": self.seed,
            "start": None if self.start is None else self.start.isoformat(),
            "intervals": [
                [
                    iv.start.isoformat(),
                    iv.end.isoformat(),
                    iv.level,
                    None if iv.scene is None else list(iv.scene),
                ]
                for iv in self.schedule.intervals
            ],
        }

    @classmethod
    def from_dict(
        cls, day: date, data: Mapping[str, Any], location: Location
    ) -> PlannedDay:
        """Read a stored day (raises KeyError, TypeError or ValueError if bad)."""
        tz = location.tzinfo

        def moment(text: str) -> datetime:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                raise ValueError(f"{text} has no time zone")
            return parsed.astimezone(tz)

        def interval(item: list[Any]) -> Interval:
            # Days stored before scenes existed have three items.
            start, end, level, *scene = item
            return Interval(
                moment(start),
                moment(end),
                int(level),
                None if not scene or scene[0] is None else tuple(map(int, scene[0])),
            )

        intervals = tuple(interval(item) for item in data["intervals"])
        start = data.get("start")
        return cls(
            schedule=DaySchedule(str(data["room"]), day, intervals),
            seed=int(data["seed"]),
            start=None if start is None else moment(start),
        )


@dataclass(frozen=True, kw_only=True)
class RoomAction:
    """What a room's lights should be: on at a level and brightness, or off.

    `scene` (learned from the lights) gives some lights their own
    brightness, 0 for off: entity_id -> percent; the others follow
    `brightness_pct`.
    """

    on: bool
    level: int | None = None
    brightness_pct: int | None = None
    scene: tuple[tuple[str, int], ...] = ()

    def brightness_of(self, entity_id: str) -> int | None:
        """Return the brightness a light gets, 0 if it stays off (None: off)."""
        if not self.on:
            return None
        return dict(self.scene).get(entity_id, self.brightness_pct)

    def same_as(self, other: RoomAction | None) -> bool:
        """Return whether two actions leave the lights the same."""
        return self == other


def room_changes(days: Iterable[DaySchedule]) -> list[Change]:
    """Return the changes of consecutive days of a room, in order.

    An "off" at midnight followed by an "on" at the same moment (the light
    stays on over midnight) is left out: nothing happens then.
    """
    out: list[Change] = []
    for schedule in sorted(days, key=lambda s: s.day):
        for change in schedule.changes():
            if (
                change.on
                and out
                and not out[-1].on
                and out[-1].at.timestamp() == change.at.timestamp()
            ):
                out.pop()
            out.append(change)
    return out


def week(today: date) -> list[date]:
    """Return the days replay plans: today and the `PLAN_DAYS_AHEAD` after it."""
    return [today + timedelta(days=n) for n in range(PLAN_DAYS_AHEAD + 1)]


def brightness_for_level(room: RoomState, level: int | None) -> int:
    """Return the brightness (percent) of a level relative to the brightest.

    Lux from a lamp grows with its output, so a level's lux centre over the
    brightest centre of the room is the share of full brightness.
    """
    model = room.model
    if model is None or level is None:
        return 100
    centres = np.asarray(model.levels.centres, dtype=np.float64)
    if not 0 <= level < centres.size or centres[-1] <= 0:
        return 100
    pct = round(100.0 * float(centres[level]) / float(centres[-1]))
    return min(max(pct, MIN_BRIGHTNESS_PCT), 100)


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
        for sid, room in self.rooms.items():
            self._models[sid] = room.model
            self.entry.async_on_unload(
                room.async_add_listener(self._room_listener(sid))
            )
        self.entry.async_on_unload(async_at_started(self.hass, self._async_at_started))

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

    def _spawn(self, coro: Any, what: str, *, action: bool = True) -> None:
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
        jobs: list[tuple[str, str, RoomModel, date, datetime | None]] = []
        for sid, room in self.rooms.items():
            days = self.plans[sid]
            for day in [d for d in days if d < today - timedelta(days=1)]:
                days.pop(day)
            if room.model is None:
                continue
            jobs.extend(
                (sid, room.config.name, room.model, day, now if day == today else None)
                for day in week(today)
                if day not in days or (day in again and sid in again_rooms)
            )
        if not jobs:
            return
        plans = await self.hass.async_add_executor_job(self._sample_days, jobs)
        # All at once, so readers never see a half-planned week.
        for (sid, _, _, day, _), plan in zip(jobs, plans, strict=True):
            self.plans[sid][day] = plan

    def _sample_days(
        self, jobs: list[tuple[str, str, RoomModel, date, datetime | None]]
    ) -> list[PlannedDay]:
        """Sample days of rooms (in the executor)."""
        return [
            self._sample(name, model, day, start) for _, name, model, day, start in jobs
        ]

    def _sample(
        self, name: str, model: RoomModel, day: date, start: datetime | None
    ) -> PlannedDay:
        """Sample a room's day with a fresh seed (a few ms per room and day)."""
        seed = secrets.randbits(64)
        try:
            schedule = sample_day(
                model,
                day,
                self.location,
                rng=np.random.default_rng(seed),
                start=start,
                options=self.options.schedule,
            )
        except Exception:
            # An unusable model must not stop the other rooms.
            _LOGGER.exception("Sampling %s of room %s failed", day, name)
            schedule = DaySchedule(name, day, ())
        return PlannedDay(schedule=schedule, seed=seed, start=start)

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
        """Act on every included room whose state at `moment` is new."""
        for sid in list(rooms if rooms is not None else self.rooms):
            if not self.is_included(sid):
                continue
            action = self.desired(sid, moment)
            if not force and action.same_as(self._applied.get(sid)):
                continue
            await self._async_act(sid, action, moment)

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
        state = self.hass.states.get(entity_id)
        if state is None or state.state not in (STATE_ON, STATE_OFF):
            return  # nothing known to restore; taken before the next action
        saved: dict[str, Any] = {"state": state.state}
        if state.state == STATE_ON:
            if (brightness := state.attributes.get(ATTR_BRIGHTNESS)) is not None:
                saved[ATTR_BRIGHTNESS] = brightness
            mode = state.attributes.get(ATTR_COLOR_MODE)
            if (attribute := COLOR_ATTRIBUTE.get(str(mode))) is not None and (
                value := state.attributes.get(attribute)
            ) is not None:
                saved[attribute] = (
                    list(value) if isinstance(value, tuple | list) else value
                )
        self.snapshot[entity_id] = saved

    async def _async_act(
        self, sid: str, action: RoomAction, scheduled: datetime
    ) -> None:
        """Switch a room's lights; unreachable lights are skipped and listed."""
        room = self.rooms[sid]
        context = Context()
        targets: list[str] = []
        for entity_id in room.config.light_entity_ids(self.hass):
            state = self.hass.states.get(entity_id)
            if state is None or state.state == STATE_UNAVAILABLE:
                self._mark_unreachable(entity_id, "unavailable")
                continue
            self._snapshot_light(entity_id)
            targets.append(entity_id)
        if not targets and not room.config.lights:
            _LOGGER.debug("Room %s has no lights", room.config.name)
        results = await asyncio.gather(
            *(self._async_switch(e, action, context) for e in targets),
            return_exceptions=True,
        )
        reached: list[str] = []
        for entity_id, result in zip(targets, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                self._mark_unreachable(entity_id, str(result) or type(result).__name__)
            else:
                self._mark_reachable(entity_id)
                reached.append(entity_id)
        self._applied[sid] = action
        if not reached:
            return
        event = {
            "room": room.config.name,
            "room_id": sid,
            "entity_ids": reached,
            "action": "on" if action.on else "off",
            "level": action.level,
            "brightness_pct": action.brightness_pct,
            "scheduled": scheduled.isoformat(),
        }
        self.last_action = event
        self.hass.bus.async_fire(EVENT_LIGHT_ACTION, event, context=context)

    async def _async_switch(
        self, entity_id: str, action: RoomAction, context: Context
    ) -> None:
        """Switch one light or switch as `action` says for it."""
        data: dict[str, Any] = {}
        service = SERVICE_TURN_OFF
        pct = action.brightness_of(entity_id)
        if pct:
            service = SERVICE_TURN_ON
            state = self.hass.states.get(entity_id)
            modes = (
                None
                if state is None
                else state.attributes.get(ATTR_SUPPORTED_COLOR_MODES)
            )
            if entity_id.startswith(f"{LIGHT_DOMAIN}.") and brightness_supported(modes):
                data[ATTR_BRIGHTNESS_PCT] = pct
        await self._async_call(entity_id, service, data, context)

    async def _async_call(
        self, entity_id: str, service: str, data: dict[str, Any], context: Context
    ) -> None:
        """Call a light's or switch's service, in its own domain, with a timeout."""
        async with asyncio.timeout(LIGHT_CALL_TIMEOUT):
            await self.hass.services.async_call(
                entity_id.split(".", maxsplit=1)[0],
                service,
                data | {ATTR_ENTITY_ID: entity_id},
                blocking=True,
                context=context,
            )

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
        """Put lights back as they were in the snapshot."""
        context = Context()
        calls = []
        for entity_id in entity_ids:
            saved = self.snapshot.get(entity_id)
            if saved is None:
                continue
            data = {key: value for key, value in saved.items() if key != "state"} | {
                ATTR_ENTITY_ID: entity_id
            }
            service = (
                SERVICE_TURN_ON if saved.get("state") == STATE_ON else SERVICE_TURN_OFF
            )
            if service == SERVICE_TURN_OFF:
                data = {ATTR_ENTITY_ID: entity_id}
            calls.append((entity_id, service, data))

        results = await asyncio.gather(
            *(
                self._async_call(entity_id, service, data, context)
                for entity_id, service, data in calls
            ),
            return_exceptions=True,
        )
        for (entity_id, _service, _data), result in zip(calls, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                _LOGGER.warning("Restoring %s failed: %s", entity_id, result)

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

    async def async_turn_on(self, end: datetime | None = None) -> None:
        """Start replay (until `end`), or change the end if it runs."""
        if end is not None and end <= dt_util.now():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="end_in_past",
                translation_placeholders={"end": end.isoformat()},
            )
        async with self._lock:
            self.end = end
            if not self.active:
                self.active = True
                self._open_period()
                if self._started:
                    now = self.now()
                    await self._async_plan(now, resample=[now.date()])
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
                    if self.options.restore:
                        await self._async_restore(lights)
                    for entity_id in lights:
                        self.snapshot.pop(entity_id, None)
                    self._applied.pop(subentry_id, None)
        self._after_change()


async def async_remove_replay_storage(hass: HomeAssistant) -> None:
    """Delete the stored replay (the integration was removed)."""
    await Store[dict[str, Any]](
        hass, STORAGE_VERSION, REPLAY_STORAGE_KEY
    ).async_remove()
