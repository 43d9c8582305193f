"""Watchful while away: replay's changes confirmed, activity in an empty home.

While replay is on, nobody is home and the home's sensors are its only eyes.
`Watch` follows the replay runner, the rooms' lights and lux sensors:

**Confirmation of every replayed change.** When what replay wants of a room
light changes (`Replay.desired` after each action), the light's own state
must agree within `CONFIRM_STATE_S`: on when replay turned it on, off when
it turned it off. A light that stays "unavailable" or in the other state
misses. Where the room has a lux sensor and it is dark (the sun more than 6
degrees below the horizon), the change must also show in lux: a consistent
shift in the right direction, more than noise and, for a room learned from
lux, at least a share of the learned lux of the level replay set
(`level_lux`; `engine.anomaly.LuxWatch`, its confirmation rule). A light whose `MISSES_FOR_PROBLEM` changes in a row
went unconfirmed is "not responding" (the room's problem sensor names it and
the time of its first miss, and `EVENT_LIGHTS_NOT_RESPONDING` is fired); at
`REPAIR_MISSES` in a row a repair issue says so. One confirmed change
clears it.

**Activity in an empty home.** While replay is on:

- a room light or switch turned on or off in a context that is not replay's
  own: replay's calls are known by the ``lighting_replay_light_action``
  event it fires once its calls are done (within the light call timeout),
  so a change waits `OWN_WAIT_S` for it; a light reaching the state replay
  just asked of it is replay's too;
- after dark, a consistent lux shift in a room that replay did not cause
  (`LuxWatch` activity: its noise, daylight, a stuck, flapping or
  implausible sensor never count).

Each finding fires `EVENT_UNEXPECTED_ACTIVITY` (room, what, when, score)
and turns on the room's and the home's activity sensors for
`ACTIVITY_HOLD`. A stuck sensor turns on the room's existing stuck-sensor
problem, a flapping or implausible one the room's unreliable-sensor problem.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util
import numpy as np

from .const import EVENT_LIGHT_ACTION, DataProblem, ModelSource
from .data import ChangeNotifier, LightingReplayConfigEntry, RoomState
from .engine.anomaly import (
    CONFIRM_WINDOW_S,
    MISSES_FOR_PROBLEM,
    Confirmations,
    Finding,
    Kind,
    LuxWatch,
)
from .engine.zones import after_dark
from .repairs import (
    async_clear_lights_not_responding,
    async_report_lights_not_responding,
)

if TYPE_CHECKING:
    from .replay import Replay

_LOGGER = logging.getLogger(__name__)

#: Fired for every finding of activity while replay is on.
EVENT_UNEXPECTED_ACTIVITY = "lighting_replay_unexpected_activity"
#: Fired for every replayed change checked: confirmed or missed.
EVENT_CHANGE_CHECKED = "lighting_replay_change_checked"
#: Fired when a room's light is found not responding.
EVENT_LIGHTS_NOT_RESPONDING = "lighting_replay_lights_not_responding"
#: A light must report the state replay asked of it within this time.
CONFIRM_STATE_S = 60.0
#: A light change waits this long for replay to claim it (call timeout + 10 s).
OWN_WAIT_S = 40.0
#: Activity sensors stay on this long after a finding.
ACTIVITY_HOLD = timedelta(minutes=30)
#: Misses in a row of one light that raise a repair issue.
REPAIR_MISSES = 2 * MISSES_FOR_PROBLEM
#: Findings kept per room for diagnostics.
HISTORY = 20

#: Lux sensor faults that the room's problem sensors show.
FAULT_PROBLEMS: dict[Kind, str] = {
    Kind.STUCK: DataProblem.SENSOR_STUCK.value,
    Kind.FLAPPING: "sensor_unreliable",
    Kind.IMPLAUSIBLE: "sensor_unreliable",
}


def level_lux(room: RoomState, level: int | None) -> float:
    """Return the learned lux a level adds to the dark room (0: unknown).

    Known only for a model learned or imported from lux readings; a model of
    the lights has brightness levels, the fallback none of the room's own.
    """
    model = room.model
    if (
        model is None
        or level is None
        or room.source not in (ModelSource.LEARNED, ModelSource.IMPORTED)
        or model.settings.get("sources", "lux") != "lux"
    ):
        return 0.0
    centres = model.levels.centres
    if not 0 < level < len(centres):
        return 0.0
    return max(float(centres[level]) - float(centres[0]), 0.0)


@dataclass(kw_only=True)
class RoomWatch:
    """What the watch knows of one room."""

    room: RoomState
    lux: LuxWatch = field(default_factory=LuxWatch)
    confirmations: Confirmations = field(default_factory=Confirmations)
    # Last on/off replay wanted of each light.
    expected: dict[str, bool] = field(default_factory=dict)
    # Lights waiting for their state to confirm: entity_id -> (on, timer).
    pending: dict[str, tuple[bool, CALLBACK_TYPE]] = field(default_factory=dict)
    # When each light was last seen turning on or off.
    changed: dict[str, datetime] = field(default_factory=dict)
    # The learned lux of the level replay set last (for the fall when off).
    level_lux: float = 0.0
    # Lights whose change waits for the lux verdict.
    lux_lights: set[str] = field(default_factory=set)
    # Counts lux expectations, so an older window's end is told apart.
    lux_round: int = 0
    activity_until: datetime | None = None
    last_activity: dict[str, Any] | None = None
    problems: frozenset[str] = frozenset()
    confirmed: int = 0
    missed: int = 0
    history: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=HISTORY)
    )

    def not_responding(self) -> dict[str, datetime]:
        """Return the lights not responding, with the time of the first miss."""
        return {
            light: dt_util.utc_from_timestamp(since)
            for light, since in self.confirmations.not_responding().items()
        }

    def activity(self, now: datetime) -> bool:
        """Return whether activity was found within the hold time."""
        return self.activity_until is not None and now < self.activity_until


class Watch(ChangeNotifier):
    """The watch of one home while replay is on (see the module)."""

    def __init__(self, hass: HomeAssistant, entry: LightingReplayConfigEntry) -> None:
        """Prepare the watch of the entry's rooms; `async_start` starts it."""
        self.hass = hass
        self.entry = entry
        self._listeners = []
        runtime = entry.runtime_data
        self.replay: Replay = runtime.replay
        self.location = runtime.location
        self.rooms = {sid: RoomWatch(room=room) for sid, room in runtime.rooms.items()}
        self.activity_until: datetime | None = None
        self._own_contexts: deque[str] = deque(maxlen=64)
        # Light changes waiting for replay to claim them.
        self._unclaimed: dict[str, tuple[str, str, bool, CALLBACK_TYPE]] = {}
        # When replay last said it changed each light.
        self._claimed: dict[str, datetime] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        # Trackers of the rooms' lights and lux sensors.
        self._room_unsubs: list[CALLBACK_TYPE] = []
        self._light_room: dict[str, str] = {}
        self._lux_room: dict[str, str] = {}
        self._active = False
        self._timers: set[CALLBACK_TYPE] = set()

    # Life ------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Follow replay, the lights and the lux sensors."""
        self._unsubs.append(self.replay.async_add_listener(self._on_replay))
        self._unsubs.append(
            self.hass.bus.async_listen(EVENT_LIGHT_ACTION, self._on_light_action)
        )
        self._follow_rooms()
        self._on_replay()

    @callback
    def _follow_rooms(self) -> None:
        """Follow the state changes of the rooms' lights and lux sensors."""
        self._light_room.clear()
        self._lux_room.clear()
        for sid, watch in self.rooms.items():
            config = watch.room.config
            for entity_id in config.light_entity_ids(self.hass):
                self._light_room[entity_id] = sid
            if (lux := config.lux_entity_id(self.hass)) is not None:
                self._lux_room[lux] = sid
        if self._light_room:
            self._room_unsubs.append(
                async_track_state_change_event(
                    self.hass, list(self._light_room), self._on_light
                )
            )
        if self._lux_room:
            self._room_unsubs.append(
                async_track_state_change_event(
                    self.hass, list(self._lux_room), self._on_lux
                )
            )
            self._room_unsubs.append(
                async_track_state_report_event(
                    self.hass, list(self._lux_room), self._on_lux_reported
                )
            )

    @callback
    def _unfollow_rooms(self) -> None:
        for unsub in self._room_unsubs:
            unsub()
        self._room_unsubs.clear()

    @callback
    def async_rooms_changed(self) -> None:
        """Follow the entry's rooms as they are now (added, changed, removed).

        A room that stays keeps what the watch knows of it; a changed room's
        lights and sensor are followed from now on.
        """
        rooms = self.entry.runtime_data.rooms
        for sid in [sid for sid in self.rooms if sid not in rooms]:
            self._forget_waits(self.rooms.pop(sid))
        for sid, room in rooms.items():
            if sid not in self.rooms:
                self.rooms[sid] = RoomWatch(room=room)
            else:
                self.rooms[sid].room = room
        self._unfollow_rooms()
        self._follow_rooms()
        self._on_replay()
        self.async_update_listeners()

    @callback
    def async_stop(self) -> None:
        """Stop following anything."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._unfollow_rooms()
        self._cancel_waits()
        for cancel in list(self._timers):
            cancel()
        self._timers.clear()

    @callback
    def _later(self, action: Callable[[datetime], None], when: datetime) -> None:
        """Call `action` at `when` (cancelled when the watch stops)."""

        @callback
        def fire(moment: datetime) -> None:
            self._timers.discard(cancel)
            action(moment)

        cancel = async_track_point_in_utc_time(self.hass, fire, when)
        self._timers.add(cancel)

    @callback
    def _cancel_waits(self) -> None:
        for watch in self.rooms.values():
            self._forget_waits(watch)
        for *_rest, cancel in self._unclaimed.values():
            cancel()
        self._unclaimed.clear()

    @staticmethod
    def _forget_waits(watch: RoomWatch) -> None:
        """Stop waiting for a room's lights to confirm."""
        for _on, cancel in watch.pending.values():
            cancel()
        watch.pending.clear()
        watch.lux_lights.clear()
        watch.expected.clear()

    def now(self) -> datetime:
        """Return the time now."""
        return dt_util.utcnow()

    def _dark(self, moment: datetime) -> bool:
        minute = moment.timestamp() / 60.0
        return bool(after_dark(np.asarray([minute]), self.location)[0])

    # Confirmation ------------------------------------------------------------

    @callback
    def _on_replay(self) -> None:
        """After a replay change: what replay wants now, light by light."""
        if not self.replay.active:
            if self._active:
                self._active = False
                self._cancel_waits()
            return
        self._active = True
        now = self.now()
        for sid, watch in self.rooms.items():
            if not self.replay.is_included(sid):
                continue
            try:
                action = self.replay.desired(sid, now)
            except Exception:
                _LOGGER.debug("No replay action of %s", sid, exc_info=True)
                continue
            if action.on:
                watch.level_lux = level_lux(watch.room, action.level)
            for entity_id in watch.room.config.light_entity_ids(self.hass):
                on = bool(action.brightness_of(entity_id))
                if watch.expected.get(entity_id) == on:
                    continue
                watch.expected[entity_id] = on
                self._expect(watch, entity_id, on, now)

    @callback
    def _expect(
        self, watch: RoomWatch, entity_id: str, on: bool, now: datetime
    ) -> None:
        if (old := watch.pending.pop(entity_id, None)) is not None:
            old[1]()
        state = self.hass.states.get(entity_id)
        if (
            state is not None
            and (state.state == STATE_ON) == on
            and state.state
            in (
                STATE_ON,
                STATE_OFF,
            )
        ):
            # Changed just now by replay's call: confirmed, and lux follows.
            # Otherwise its change may still be on its way; if not, it was
            # so before (the first action, or after a miss): no verdict.
            changed = watch.changed.get(entity_id)
            if (
                changed is not None
                and (now - changed).total_seconds() <= CONFIRM_STATE_S
            ):
                self._own_contexts.append(state.context.id)
                self._claim(entity_id)
                self._state_confirmed(watch, entity_id, on, now, lux=True)
                return

        @callback
        def timed_out(_now: datetime) -> None:
            if watch.pending.pop(entity_id, None) is None:
                return
            current = self.hass.states.get(entity_id)
            if current is not None and current.state == (STATE_ON if on else STATE_OFF):
                return
            reason = (
                "unavailable"
                if current is None or current.state == STATE_UNAVAILABLE
                else f"stayed {current.state}"
            )
            self._verdict(watch, entity_id, False, reason)

        cancel = async_track_point_in_utc_time(
            self.hass, timed_out, now + timedelta(seconds=CONFIRM_STATE_S)
        )
        watch.pending[entity_id] = (on, cancel)

    @callback
    def _state_confirmed(
        self, watch: RoomWatch, entity_id: str, on: bool, now: datetime, *, lux: bool
    ) -> None:
        if (
            lux
            and watch.room.config.lux_entity_id(self.hass) is not None
            and self._dark(now)
        ):
            watch.lux.expect(
                now.timestamp(), 1 if on else -1, watch.level_lux, dark=True
            )
            if watch.lux.expecting:
                watch.lux_lights.add(entity_id)
                watch.lux_round += 1
                this_round = watch.lux_round

                @callback
                def window_over(moment: datetime) -> None:
                    if watch.lux_round != this_round or not watch.lux_lights:
                        return
                    finding = watch.lux.check(moment.timestamp())
                    self._lux_verdict(watch, finding)

                self._later(window_over, now + timedelta(seconds=CONFIRM_WINDOW_S + 1))
                return
        self._verdict(watch, entity_id, True, "state")

    @callback
    def _lux_verdict(self, watch: RoomWatch, finding: Finding | None) -> None:
        """Settle the lights waiting for lux (no verdict: their state confirms)."""
        lights, watch.lux_lights = watch.lux_lights, set()
        for entity_id in sorted(lights):
            if finding is not None and finding.kind is Kind.MISSED:
                self._verdict(watch, entity_id, False, "lux did not follow")
            else:
                how = "lux" if finding is not None else "state"
                self._verdict(watch, entity_id, True, how)

    @callback
    def _verdict(
        self, watch: RoomWatch, entity_id: str, confirmed: bool, how: str
    ) -> None:
        now = self.now()
        before = set(watch.confirmations.not_responding())
        watch.confirmations.record(entity_id, confirmed, now.timestamp())
        if confirmed:
            watch.confirmed += 1
        else:
            watch.missed += 1
        watch.history.append(
            {
                "when": now.isoformat(),
                "kind": "confirmed" if confirmed else "missed",
                "entity_id": entity_id,
                "how": how,
            }
        )
        after = watch.not_responding()
        room = watch.room.config.name
        self.hass.bus.async_fire(
            EVENT_CHANGE_CHECKED,
            {
                "room": room,
                "room_id": watch.room.subentry_id,
                "entity_id": entity_id,
                "confirmed": confirmed,
                "how": how,
            },
        )
        if entity_id in after and entity_id not in before:
            _LOGGER.warning(
                "%s in %s is not responding: %d replayed changes in a row unconfirmed",
                entity_id,
                room,
                watch.confirmations.misses(entity_id),
            )
            self.hass.bus.async_fire(
                EVENT_LIGHTS_NOT_RESPONDING,
                {
                    "room": room,
                    "room_id": watch.room.subentry_id,
                    "entity_id": entity_id,
                    "since": after[entity_id].isoformat(),
                    "reason": how,
                },
            )
        if watch.confirmations.misses(entity_id) >= REPAIR_MISSES:
            async_report_lights_not_responding(
                self.hass, watch.room.subentry_id, room, after
            )
        elif not after:
            async_clear_lights_not_responding(self.hass, watch.room.subentry_id)
        self.async_update_listeners()

    # Activity ----------------------------------------------------------------

    @callback
    def _on_light_action(self, event: Event[dict[str, Any]]) -> None:
        """Replay's calls are done: the changes they made are replay's own."""
        now = self.now()
        for entity_id in event.data.get("entity_ids", ()):
            self._claimed[entity_id] = now
            self._claim(entity_id)

    @callback
    def _claim(self, entity_id: str) -> None:
        """Take a light's waiting change as replay's own."""
        if (waiting := self._unclaimed.pop(entity_id, None)) is not None:
            self._own_contexts.append(waiting[1])
            waiting[3]()

    @callback
    def _on_light(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        new, old = event.data["new_state"], event.data["old_state"]
        sid = self._light_room.get(entity_id)
        if sid is None or new is None:
            return
        watch = self.rooms[sid]
        on = new.state == STATE_ON
        if (
            old is not None
            and new.state in (STATE_ON, STATE_OFF)
            and old.state != new.state
        ):
            watch.changed[entity_id] = self.now()
        pending = watch.pending.get(entity_id)
        if (
            pending is not None
            and new.state in (STATE_ON, STATE_OFF)
            and pending[0] == on
        ):
            watch.pending.pop(entity_id)[1]()
            self._own_contexts.append(new.context.id)
            self._claim(entity_id)
            self._state_confirmed(watch, entity_id, on, self.now(), lux=True)
            return
        if not self.replay.active or not self.replay.is_included(sid):
            return
        if new.state not in (STATE_ON, STATE_OFF) or old is None:
            return
        if old.state not in (STATE_ON, STATE_OFF) or (old.state == STATE_ON) == on:
            return
        if new.context.id in self._own_contexts:
            return
        claimed = self._claimed.get(entity_id)
        if claimed is not None and (self.now() - claimed).total_seconds() <= OWN_WAIT_S:
            return
        if (earlier := self._unclaimed.pop(entity_id, None)) is not None:
            earlier[3]()
        when = new.last_changed

        @callback
        def unclaimed(_now: datetime) -> None:
            if self._unclaimed.pop(entity_id, None) is None:
                return
            if not self.replay.active:
                return
            name = new.name
            self._activity(
                watch,
                f"{name} turned {'on' if on else 'off'}",
                when,
                1.0,
                entity_id=entity_id,
                user_id=new.context.user_id,
            )

        cancel = async_track_point_in_utc_time(
            self.hass, unclaimed, when + timedelta(seconds=OWN_WAIT_S)
        )
        self._unclaimed[entity_id] = (sid, new.context.id, on, cancel)

    @callback
    def _on_lux(self, event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            self._reading(event.data["entity_id"], new)

    @callback
    def _on_lux_reported(self, event: Event[EventStateReportedData]) -> None:
        """Take the same value again (a stuck sensor shows only this way)."""
        if (new := event.data["new_state"]) is not None:
            self._reading(event.data["entity_id"], new)

    @callback
    def _reading(self, entity_id: str, new: State) -> None:
        sid = self._lux_room.get(entity_id)
        if sid is None:
            return
        if new.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return
        try:
            value = float(new.state)
        except ValueError:
            value = float("nan")
        watch = self.rooms[sid]
        moment = new.last_reported
        findings = watch.lux.update(moment.timestamp(), value, dark=self._dark(moment))
        for finding in findings:
            if finding.kind is Kind.ACTIVITY and self.replay.active:
                if not self.replay.is_included(sid):
                    continue
                verb = "rose" if finding.direction > 0 else "fell"
                self._activity(
                    watch,
                    f"lux {verb} to {finding.lux:.0f} lx",
                    moment,
                    round(finding.score, 1),
                    entity_id=entity_id,
                )
            elif finding.kind in (Kind.CONFIRMED, Kind.MISSED) and watch.lux_lights:
                self._lux_verdict(watch, finding)
        problems = frozenset(FAULT_PROBLEMS[kind] for kind in watch.lux.faults)
        if problems != watch.problems:
            if problems - watch.problems:
                _LOGGER.warning(
                    "Lux sensor of %s looks faulty (%s): not counted as activity",
                    watch.room.config.name,
                    ", ".join(sorted(problems)),
                )
            watch.problems = problems
            watch.history.append(
                {
                    "when": moment.isoformat(),
                    "kind": "sensor",
                    "problems": sorted(problems),
                }
            )
            self.async_update_listeners()

    @callback
    def _activity(
        self,
        watch: RoomWatch,
        what: str,
        when: datetime,
        score: float,
        *,
        entity_id: str,
        user_id: str | None = None,
    ) -> None:
        now = self.now()
        until = now + ACTIVITY_HOLD
        watch.activity_until = until
        self.activity_until = until
        finding = {
            "room": watch.room.config.name,
            "room_id": watch.room.subentry_id,
            "what": what,
            "when": when.isoformat(),
            "score": score,
            "entity_id": entity_id,
        }
        if user_id is not None:
            finding["user_id"] = user_id
        watch.last_activity = finding
        watch.history.append({"kind": "activity"} | finding)
        _LOGGER.info("Unexpected activity in %s: %s", finding["room"], what)
        self.hass.bus.async_fire(EVENT_UNEXPECTED_ACTIVITY, finding)
        self.async_update_listeners()

        @callback
        def hold_over(_now: datetime) -> None:
            self.async_update_listeners()

        self._later(hold_over, until)

    # Reading -----------------------------------------------------------------

    def activity(self, now: datetime | None = None) -> bool:
        """Return whether activity was found anywhere within the hold time."""
        now = now or self.now()
        return self.activity_until is not None and now < self.activity_until

    def diagnostics(self) -> dict[str, Any]:
        """Return confirmations, misses and findings per room."""
        return {
            "activity_until": None
            if self.activity_until is None
            else self.activity_until.isoformat(),
            "rooms": {
                sid: {
                    "confirmed": watch.confirmed,
                    "missed": watch.missed,
                    "not_responding": {
                        light: since.isoformat()
                        for light, since in watch.not_responding().items()
                    },
                    "sensor_problems": sorted(watch.problems),
                    "lux_noise": round(watch.lux.sigma, 2),
                    "recent": list(watch.history),
                }
                for sid, watch in self.rooms.items()
            },
        }
