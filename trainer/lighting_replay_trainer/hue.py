"""Replay a trained model on Philips Hue lights through the bridge's local API.

The player keeps one `DaySchedule` per room for the current local day, samples
the next day's schedules at local midnight, and switches each room's lights
whenever its schedule changes. It never counts elapsed time: after every wake
it reads the clock again, so drift, a suspended computer or a daylight saving
change cannot shift the replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import json
from pathlib import Path
import threading
import time as systime
from typing import Protocol

import numpy as np

from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.schedule import DaySchedule, ScheduleOptions, sample_day

MAX_BRIGHTNESS = 254
"""Highest `bri` value of the Hue API."""

MAX_SLEEP_S = 60.0
"""Longest single sleep: the clock is read again at least this often."""

RETRY_S = 30.0
"""A switch that failed (bridge unreachable) is tried again this much later."""


class PlayerError(Exception):
    """The player cannot start (unknown light, unreachable bridge, bad mapping)."""


class SwitchError(Exception):
    """A light could not be switched (the bridge did not answer)."""


class Clock(Protocol):
    """Where the player gets the time and how it waits."""

    def now(self) -> datetime:
        """Return the current time as an aware datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """The computer's clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Sleep in real time."""
        systime.sleep(max(seconds, 0.0))


class ScaledClock:
    """A clock that starts at `start` and runs `speed` times faster than real."""

    def __init__(self, start: datetime, speed: float) -> None:
        """Start the clock now at `start` (aware)."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start
        self._speed = speed
        self._real_start = systime.monotonic()

    def now(self) -> datetime:
        """Return the scaled time."""
        elapsed = (systime.monotonic() - self._real_start) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scaled time."""
        systime.sleep(max(seconds, 0.0) / self._speed)


class SteppedClock:
    """A clock that only moves when slept on: replays days in no time.

    Thread-safe, so a fake device can read the time the player acts at.
    """

    def __init__(self, start: datetime) -> None:
        """Start the clock at `start` (aware)."""
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's time."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward at once."""
        with self._lock:
            self._now += timedelta(seconds=max(seconds, 0.0))


class Lights(Protocol):
    """Lights the player can switch, by name."""

    def names(self) -> list[str]:
        """Return the names of all lights."""
        ...

    def switch(self, name: str, on: bool, brightness: int | None = None) -> None:
        """Switch one light on (optionally at a brightness 1-254) or off."""
        ...


class HueLights:
    """The lights of a Hue bridge, through `phue`."""

    def __init__(
        self,
        host: str,
        *,
        username: str | None = None,
        config_file: Path | None = None,
    ) -> None:
        """Connect to the bridge at `host` (`ip` or `ip:port`).

        Without a username, `phue` reads it from its config file or registers
        with the bridge (press the link button first) and saves it there.
        """
        import phue  # noqa: PLC0415  # only needed when a bridge is used

        try:
            self._bridge = phue.Bridge(
                host,
                username=username,
                config_file_path=None if config_file is None else str(config_file),
            )
            lights = self._bridge.get_light_objects("name")
        except phue.PhueRegistrationException as err:
            raise PlayerError(
                f"bridge {host}: press its link button, then run again ({err.message})"
            ) from err
        except (phue.PhueException, OSError, ValueError, KeyError) as err:
            raise PlayerError(f"bridge {host}: cannot connect ({err})") from err
        except TypeError as err:
            # phue cannot read the bridge's error list (e.g. an unknown user).
            raise PlayerError(
                f"bridge {host}: the bridge refused the user; register again"
                " (drop --username, press the link button)"
            ) from err
        if not isinstance(lights, dict):
            raise PlayerError(f"bridge {host}: unexpected answer listing lights")
        self._ids: dict[str, int] = {
            name: light.light_id for name, light in lights.items()
        }

    def names(self) -> list[str]:
        """Return the names of the bridge's lights."""
        return sorted(self._ids)

    def switch(self, name: str, on: bool, brightness: int | None = None) -> None:
        """Switch a light through `PUT /api/<user>/lights/<id>/state`."""
        import phue  # noqa: PLC0415

        state: dict[str, object] = {"on": on}
        if on and brightness is not None:
            state["bri"] = int(brightness)
        try:
            self._bridge.set_light(self._ids[name], state)
        except (phue.PhueException, OSError, ValueError) as err:
            raise SwitchError(f"{name}: {err}") from err


class PrintedLights:
    """Lights that only print what would be done (`--dry-run`)."""

    def __init__(
        self,
        names: Sequence[str],
        clock: Clock,
        out: Callable[[str], None],
        tzinfo: tzinfo | None = None,
    ) -> None:
        """Pretend `names` exist; print each switch with the clock's local time."""
        self._names = list(names)
        self._clock = clock
        self._out = out
        self._tzinfo = tzinfo

    def names(self) -> list[str]:
        """Return the pretended light names."""
        return list(self._names)

    def switch(self, name: str, on: bool, brightness: int | None = None) -> None:
        """Print the switch instead of doing it."""
        when = self._clock.now().astimezone(self._tzinfo).isoformat(timespec="seconds")
        state = "off" if not on else f"on (brightness {brightness})"
        self._out(f"{when} {name}: {state}")


def parse_light_mapping(
    pairs: Sequence[str], file: Path | None = None
) -> dict[str, list[str]]:
    """Build the room -> light names mapping.

    `pairs` are `ROOM=LIGHT` (repeat for several lights in one room); `file`
    is JSON `{"room": "light"}` or `{"room": ["light", ...]}`.
    """
    mapping: dict[str, list[str]] = {}
    if file is not None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as err:
            raise PlayerError(f"{file}: cannot read ({err.strerror})") from err
        except json.JSONDecodeError as err:
            raise PlayerError(f"{file}: not JSON ({err})") from err
        if not isinstance(data, dict):
            raise PlayerError(f"{file}: expected an object of room: light(s)")
        for room, lights in data.items():
            names = [lights] if isinstance(lights, str) else lights
            if not isinstance(names, list) or not all(
                isinstance(n, str) for n in names
            ):
                raise PlayerError(f"{file}: lights of {room!r} must be names")
            mapping.setdefault(str(room), []).extend(names)
    for pair in pairs:
        room, sep, light = pair.partition("=")
        if not sep or not room.strip() or not light.strip():
            raise PlayerError(f"--light {pair!r}: expected ROOM=LIGHT")
        mapping.setdefault(room.strip(), []).append(light.strip())
    return mapping


def brightness_of(model: RoomModel, level: int) -> int:
    """Map a lamp level of a room to a Hue brightness (top level = full)."""
    n_levels = len(model.levels.centres)
    on_level = int(model.levels.on_level)
    steps = max(n_levels - on_level, 1)
    rank = min(max(level - on_level + 1, 1), steps)
    return max(1, round(MAX_BRIGHTNESS * rank / steps))


@dataclass(frozen=True, slots=True)
class LightState:
    """What a room's lights are set to."""

    on: bool
    brightness: int | None


class Player:
    """Switches the mapped lights along each room's day schedule."""

    def __init__(
        self,
        model: HomeModel,
        lights: Lights,
        mapping: Mapping[str, Sequence[str]],
        clock: Clock,
        *,
        rng: np.random.Generator,
        options: ScheduleOptions | None = None,
        dim: bool = True,
        log: Callable[[str], None] = print,
    ) -> None:
        """Check the mapping against the model and the lights."""
        unknown_rooms = sorted(set(mapping) - set(model.rooms))
        if unknown_rooms:
            raise PlayerError(
                f"rooms not in the model: {', '.join(unknown_rooms)}"
                f" (model has {', '.join(sorted(model.rooms))})"
            )
        if not mapping:
            raise PlayerError("no light mapped to a room (use --light ROOM=LIGHT)")
        available = set(lights.names())
        missing = sorted(
            {name for names in mapping.values() for name in names} - available
        )
        if missing:
            raise PlayerError(
                f"lights not found: {', '.join(missing)}"
                f" (available: {', '.join(sorted(available)) or 'none'})"
            )
        self.model = model
        self.lights = lights
        self.mapping = {room: list(names) for room, names in mapping.items()}
        self.clock = clock
        self.rng = rng
        self.options = options or ScheduleOptions()
        self.dim = dim
        self.log = log
        self.day: date | None = None
        self.schedules: dict[str, DaySchedule] = {}
        self._applied: dict[str, LightState] = {}

    def local_now(self) -> datetime:
        """Return the clock's time in the home's time zone."""
        return self.clock.now().astimezone(self.model.location.tzinfo)

    def light_test(self, seconds: float = 1.0) -> None:
        """Switch every mapped light on briefly, one after the other."""
        for room, names in self.mapping.items():
            for name in names:
                self.log(f"light test: {room} / {name}")
                self.lights.switch(name, True, MAX_BRIGHTNESS if self.dim else None)
                self.clock.sleep(seconds)
                self.lights.switch(name, False)

    def all_off(self) -> None:
        """Switch every mapped light off, going on past failing lights."""
        for names in self.mapping.values():
            for name in names:
                try:
                    self.lights.switch(name, False)
                except SwitchError as err:  # keep switching the rest
                    self.log(f"could not switch {name} off: {err}")
        self._applied.clear()

    def plan_day(self, day: date) -> None:
        """Sample the schedules of every mapped room for `day`."""
        location = self.model.location
        self.schedules = {
            room: sample_day(
                self.model.rooms[room],
                day,
                location,
                rng=self.rng,
                options=self.options,
            )
            for room in self.mapping
        }
        self.day = day
        for room, schedule in self.schedules.items():
            spans = ", ".join(
                f"{i.start:%H:%M}-{i.end:%H:%M}" for i in schedule.intervals
            )
            self.log(f"{day} {room}: {spans or 'dark all day'}")

    def step(self) -> datetime:
        """Bring the lights to the schedule's state now; return when to wake."""
        now = self.local_now()
        if now.date() != self.day:
            self.plan_day(now.date())
        failed = False
        for room, schedule in self.schedules.items():
            interval = schedule.state_at(now)
            if interval is None:
                wanted = LightState(False, None)
            else:
                level = int(interval.level)
                bright = (
                    brightness_of(self.model.rooms[room], level) if self.dim else None
                )
                wanted = LightState(True, bright)
            if self._applied.get(room) != wanted:
                try:
                    for name in self.mapping[room]:
                        self.lights.switch(name, wanted.on, wanted.brightness)
                except SwitchError as err:
                    self.log(f"could not switch {room}: {err}; trying again")
                    self._applied.pop(room, None)
                    failed = True
                else:
                    self._applied[room] = wanted
        wake = self.next_wake(now)
        if failed:
            retry = datetime.fromtimestamp(now.timestamp() + RETRY_S, UTC)
            wake = min(wake, retry)
        return wake

    def next_wake(self, now: datetime) -> datetime:
        """Return the next change of any schedule, or the next local midnight."""
        tz = self.model.location.tzinfo
        midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tz)
        # Compare instants, not wall times: wall times repeat when clocks go back.
        after = now.timestamp()
        wake = midnight.timestamp()
        for schedule in self.schedules.values():
            for change in schedule.changes():
                at = change.at.timestamp()
                if after < at < wake:
                    wake = at
        return datetime.fromtimestamp(wake, UTC)

    def run(self, until: datetime | None = None) -> None:
        """Replay until `until` (aware) or forever; all lights off at the end.

        Ends on KeyboardInterrupt too (the command turns SIGTERM into one).
        """
        try:
            while True:
                wake = self.step()
                if until is not None and wake >= until:
                    wake = until
                self._sleep_until(wake)
                if until is not None and self.clock.now() >= until:
                    return
        finally:
            self.all_off()

    def _sleep_until(self, wake: datetime) -> None:
        """Sleep until `wake`, re-reading the clock at least every minute."""
        while True:
            left = wake.timestamp() - self.clock.now().timestamp()
            if left <= 0:
                return
            self.clock.sleep(min(left, MAX_SLEEP_S))
