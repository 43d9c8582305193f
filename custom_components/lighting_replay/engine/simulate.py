"""A simulated household: realistic lux readings of several rooms.

The demo and the tests learn from these instead of outside data. Per room:

- daylight that reaches the sensor: the sun's elevation at the home, a
  cloudiness per day and slow changes within a day (passing clouds),
  with a dim twilight while the sun is less than 6 degrees below the horizon;
- lamp habits (``LampHabit``): a lamp goes on around a moment (a local clock
  time or sunset) with some spread, stays on for a random time (gamma
  distributed), with different odds on weekdays and weekends and later on
  weekends; lamps that overlap add their light;
- the sensor: about one reading a minute with jitter, noise (slightly
  negative in the dark, like real sensors), doubled readings within
  seconds, lost readings, outages of minutes to hours, and rare glitches
  (NaN, absurd spikes).

Everything is drawn from ``numpy.random.Generator`` streams derived from the
seed, so a seed gives the same household every time. The work is done on
whole arrays; the only Python loops run over days and habits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from .series import MinuteSeries
from .zones import Location, day_zones, epoch_minute, local_midnight, solar_elevation

type FloatArray = npt.NDArray[np.float64]

#: Share of readings sent twice within a few seconds.
DOUBLED_SHARE = 0.02
#: Share of readings lost.
LOST_SHARE = 0.01
#: Outages per day per sensor (each 15 minutes to 4 hours).
OUTAGES_PER_DAY = 0.1
#: Share of readings that are glitches (NaN or an absurd spike).
GLITCH_SHARE = 0.0005


@dataclass(frozen=True)
class LampHabit:
    """A lamp that goes on around a moment and stays on for a while.

    ``anchor`` is ``"clock"`` (``start`` is minutes after local midnight)
    or ``"sunset"`` (``start`` is minutes after sunset, may be negative).
    On weekends the lamp goes on ``weekend_shift`` minutes later. ``light``
    names the light it is (habits of one light share it; empty: a light of
    its own), ``brightness`` is how bright that light is set (0..1).
    """

    anchor: str
    start: float
    start_spread: float
    mean_minutes: float
    weekday_probability: float
    weekend_probability: float
    lux: float
    weekend_shift: float = 0.0
    duration_shape: float = 3.0
    light: str = ""
    brightness: float = 1.0


@dataclass(frozen=True)
class RoomHabits:
    """A simulated room: how much daylight its sensor sees, and its lamps."""

    name: str
    daylight_lux: float
    habits: tuple[LampHabit, ...]
    noise_lux: float = 0.6


DEFAULT_ROOMS: tuple[RoomHabits, ...] = (
    RoomHabits(
        name="living_room",
        daylight_lux=900.0,
        habits=(
            # Evening lamps go on around sunset and stay for hours.
            LampHabit("sunset", -15, 25, 200, 0.9, 0.8, 180.0, 20.0, light="ceiling"),
            # Late television light: the floor lamp, dimmed.
            LampHabit(
                "clock",
                22 * 60 + 15,
                30,
                50,
                0.35,
                0.5,
                45.0,
                30.0,
                light="floor_lamp",
                brightness=0.6,
            ),
        ),
    ),
    RoomHabits(
        name="kitchen",
        daylight_lux=400.0,
        habits=(
            # Dinner.
            LampHabit(
                "clock", 18 * 60 + 30, 20, 80, 0.95, 0.85, 320.0, 45.0, light="ceiling"
            ),
            # Breakfast on workdays, seldom at weekends.
            LampHabit(
                "clock", 6 * 60 + 40, 12, 35, 0.75, 0.2, 320.0, 90.0, light="ceiling"
            ),
        ),
    ),
    RoomHabits(
        name="bedroom",
        daylight_lux=250.0,
        habits=(
            # Reading light before sleep.
            LampHabit(
                "clock",
                22 * 60 + 50,
                30,
                35,
                0.7,
                0.6,
                35.0,
                40.0,
                light="reading_lamp",
                brightness=0.5,
            ),
            # Ceiling light early in the morning now and then.
            LampHabit(
                "clock", 6 * 60 + 25, 10, 15, 0.35, 0.1, 140.0, 60.0, light="ceiling"
            ),
        ),
    ),
)


@dataclass(frozen=True, eq=False)
class SimulatedRoom:
    """Readings and the truth behind them for one simulated room.

    ``lights`` holds each light's brightness per minute (0 off, up to 1),
    what Home Assistant records of a smart light.
    """

    timestamps_s: FloatArray
    lux: FloatArray
    start_minute: int
    lamp_on: npt.NDArray[np.bool_]
    lamp_lux: FloatArray
    lights: dict[str, FloatArray]

    def light_series(self) -> dict[str, MinuteSeries]:
        """Return each light's brightness as a minute series (engine sources)."""
        return {
            name: MinuteSeries(self.start_minute, values)
            for name, values in self.lights.items()
        }


def _day_anchors(
    location: Location, days: list[date]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Return per day: the epoch minute of local noon, of sunset, weekend flag."""
    noon = np.asarray(
        [
            epoch_minute(datetime.combine(d, time(12), tzinfo=location.tzinfo))
            for d in days
        ],
        dtype=np.int64,
    )
    sunset = np.asarray(
        [epoch_minute(day_zones(d, location).sunset) for d in days], dtype=np.int64
    )
    weekend = np.asarray([d.weekday() >= 5 for d in days], dtype=bool)
    return noon, sunset, weekend


def _daylight(
    minutes: npt.NDArray[np.int64],
    elevation: FloatArray,
    room: RoomHabits,
    n_days: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Return the daylight at the sensor for every minute."""
    clear = np.sin(np.deg2rad(np.clip(elevation, 0.0, 90.0))) ** 0.8
    twilight = np.clip((elevation + 6.0) / 6.0, 0.0, 1.0) * 0.01
    day_cloud = rng.uniform(0.35, 1.0, size=n_days + 1)
    per_minute_day = (minutes - minutes[0]) // 1440
    # Passing clouds: noise smoothed over about half an hour.
    wobble = np.convolve(rng.normal(size=minutes.size), np.ones(31) / 31, mode="same")
    cloud = np.clip(day_cloud[per_minute_day] * (1.0 + 1.2 * wobble), 0.1, 1.2)
    light = room.daylight_lux * (np.maximum(clear, twilight) * cloud)
    return np.asarray(light, dtype=np.float64)


def _lamps(
    room: RoomHabits,
    begin: int,
    n: int,
    anchors: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]],
    rng: np.random.Generator,
    home: npt.NDArray[np.bool_],
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Return the lamp light at the sensor and each light's brightness.

    ``home`` says per day whether the household is in (no lamp otherwise).
    """
    noon, sunset, weekend = anchors
    change = np.zeros(n + 1)
    n_days = noon.size
    lights: dict[str, FloatArray] = {}
    for index, habit in enumerate(room.habits):
        odds = np.where(weekend, habit.weekend_probability, habit.weekday_probability)
        happens = (rng.random(n_days) < odds) & home
        base = (
            noon + (habit.start - 720.0)
            if habit.anchor == "clock"
            else sunset + habit.start
        )
        start = base + np.where(weekend, habit.weekend_shift, 0.0)
        start = start + rng.normal(0.0, habit.start_spread, n_days)
        length = rng.gamma(
            habit.duration_shape, habit.mean_minutes / habit.duration_shape, n_days
        )
        first = np.clip(np.round(start).astype(np.int64) - begin, 0, n)
        last = np.clip(first + np.maximum(1, np.round(length)).astype(np.int64), 0, n)
        first, last = first[happens], last[happens]
        np.add.at(change, first, habit.lux)
        np.add.at(change, last, -habit.lux)
        uses = np.zeros(n + 1)
        np.add.at(uses, first, 1.0)
        np.add.at(uses, last, -1.0)
        name = habit.light or f"lamp_{index + 1}"
        brightness = np.where(np.cumsum(uses)[:n] > 0.5, habit.brightness, 0.0)
        lights[name] = np.maximum(lights.get(name, np.zeros(n)), brightness)
    return np.cumsum(change)[:n], lights


def _readings(
    minutes_lux: FloatArray,
    begin: int,
    room: RoomHabits,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Return what the sensor reports: (epoch seconds, lux)."""
    n = minutes_lux.size
    span_s = n * 60.0
    steps = rng.uniform(52.0, 68.0, size=int(span_s / 52.0) + 2)
    t = np.cumsum(steps) - steps[0] * rng.random()
    t = t[(t >= 0) & (t < span_s)]
    light = minutes_lux[(t // 60).astype(np.int64)]
    keep = rng.random(t.size) >= LOST_SHARE
    # Outages: whole stretches without readings.
    n_out = int(rng.poisson(OUTAGES_PER_DAY * n / 1440.0))
    out_start = np.asarray(rng.uniform(0, span_s, n_out), dtype=np.float64)
    out_end = out_start + rng.uniform(15 * 60, 4 * 3600, n_out)
    for i in range(n_out):
        keep &= ~((t >= out_start[i]) & (t < out_end[i]))
    t, light = t[keep], light[keep]
    doubled = rng.random(t.size) < DOUBLED_SHARE
    t = np.concatenate((t, t[doubled] + rng.uniform(0.3, 4.0, int(doubled.sum()))))
    light = np.concatenate((light, light[doubled]))
    order = np.argsort(t, kind="stable")
    t, light = t[order], light[order]
    # Noise grows with the light; in the dark the offset can dip below 0.
    noise = rng.normal(0.0, 1.0, t.size) * (room.noise_lux + 0.02 * light)
    value = light + noise
    glitch = rng.random(t.size) < GLITCH_SHARE
    value[glitch] = np.where(rng.random(int(glitch.sum())) < 0.5, np.nan, 1.0e6)
    return begin * 60.0 + t, value


def simulate_rooms(
    location: Location,
    start: date,
    days: int,
    *,
    rooms: tuple[RoomHabits, ...] = DEFAULT_ROOMS,
    seed: int = 0,
    away: tuple[date, ...] = (),
) -> dict[str, SimulatedRoom]:
    """Simulate the rooms and keep the truth (the lamps) with the readings.

    On the days in ``away`` nobody is home: no lamp goes on.
    """
    if days < 1:
        raise ValueError("simulate at least one day")
    names = [room.name for room in rooms]
    if len(set(names)) != len(names):
        raise ValueError("room names must be unique")
    day_list = [start + timedelta(days=i) for i in range(days)]
    begin = local_midnight(start, location)
    end = local_midnight(start + timedelta(days=days), location)
    minutes = np.arange(begin, end, dtype=np.int64)
    anchors = _day_anchors(location, day_list)
    home = np.asarray([d not in away for d in day_list], dtype=bool)
    elevation = solar_elevation(minutes, location)
    result: dict[str, SimulatedRoom] = {}
    for index, room in enumerate(rooms):
        rng = np.random.default_rng([seed, index])
        daylight = _daylight(minutes, elevation, room, days, rng)
        lamp, lights = _lamps(room, begin, minutes.size, anchors, rng, home)
        timestamps, lux = _readings(daylight + lamp, begin, room, rng)
        result[room.name] = SimulatedRoom(
            timestamps, lux, begin, lamp > 0.0, lamp, lights
        )
    return result


def simulate_household(
    location: Location,
    start: date,
    days: int,
    *,
    rooms: tuple[RoomHabits, ...] = DEFAULT_ROOMS,
    seed: int = 0,
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Simulate the readings of each room: (UTC epoch seconds, lux)."""
    simulated = simulate_rooms(location, start, days, rooms=rooms, seed=seed)
    return {name: (room.timestamps_s, room.lux) for name, room in simulated.items()}
