"""A day of replayed lighting for a room, sampled from its model.

Each zone of the day is sampled from its HMM for exactly as many minutes as
the zone lasts that day (days where daylight saving time changes have 1380
or 1500 minutes), so the schedule follows the sun like the habits it was
learned from. A model trained on the minutes after dark only (the
training's default, ``daylight="after_dark"``) is sampled over the dark
part of its zone, from dusk or until dawn, the part it describes. A lamp
that is on at dusk was switched on while it was still light, at a moment
the lux could not tell: it goes on at a random minute between the start of
the zone and dusk (likewise a lamp on at dawn goes off at a random minute
before the zone ends). Against the simulator's true lamps
(``benchmarks/engine_train.py``) this scores as well as sampling the whole
zone (0.280 and 0.275) and follows the lamps after dusk more closely. A
zone that is never dark that day (summer nights far north, a polar day)
stays off like a zone without a model. Each "on" interval gets a level
drawn from the levels seen while on in the zone where it starts.

A zone that starts right where the zone before it was sampled (no unsampled
minutes between) after dark goes on from the lamp's last state: its
first hidden state is drawn given the symbol of the minute before (see
``_start_after``). Zones sampled independently put 12-14% of all changes
exactly on a boundary minute (a timer-like jump at 21:30 that real days do
not show: 0.3% of the simulator's true changes, 1 of 52 real ones); carried
over, about 1%, close to the minutes around it, with the realism score
unchanged (``benchmarks/engine_train.py``). Models trained with
``daylight="unknown"`` are sampled through daylight they did not learn
from, so their zones still start afresh: carried over they scored worse
(0.326 against 0.307).

A model that keeps its evenings' lit spans (``RoomModel.evenings``, lux
rooms) samples the ``EVENING`` and ``LATE_EVENING`` zones together, given
the first and last lit minute of a drawn evening (``bedtime.py``): the
lamp's bedtime and first light follow the household's clock rather than a
geometric dwell. On real held-out nights this brought the per-night score
from 0.17 to 0.13 (London) and from 1.35 to 0.55 (Sunnyvale), and the
simulator's days from 0.227 to 0.154 (``benchmarks/README.md``).

The options are applied here, when the schedule is made, so the schedule
shown (calendar, sensors) is exactly what the runner will do. In order:

1. ``jitter_minutes``: every interval moves by a random whole number of
   minutes in ``[-jitter, +jitter]`` (clipped to the day; overlaps merge).
2. The active window: lights may be on only from ``window_start`` (or from
   sunset + ``sunset_offset_minutes``, which wins when both are set) until
   ``window_end``, local times. A window whose end is not after its start
   wraps over midnight: from the start to the end of the day and from
   midnight to the end. A missing start means midnight, a missing end the
   end of the day.
3. ``all_off_by``: from this local time on nothing is on, until the end of
   the day, or, for a time before noon (a deadline after midnight), until
   noon.
4. ``min_on_minutes``: shorter intervals are dropped.

Sampling "the rest of a day" (``start`` given) samples the day from
midnight and keeps what follows ``start``: the rest of the day is then
distributed as it would be had the whole day been sampled.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from .bedtime import BEDTIME_ZONES, Stretch, draw_span, sample_span
from .hmm import CategoricalHMM
from .model import RoomModel, ZoneModel
from .zones import (
    MINUTES_PER_DAY,
    DayZones,
    Location,
    Zone,
    after_dark,
    day_zones,
    epoch_minute,
    local_datetime,
)


@dataclass(frozen=True, order=True)
class Interval:
    """The light is on from ``start`` (included) to ``end`` (excluded).

    Both are aware local datetimes on whole minutes; ``level`` is the light
    level (index into the room's level centres); ``scene``, for a room
    learned from its lights, the brightness in percent of each of the
    model's ``lights`` (0: off), else ``None`` (all lights at the level).
    """

    start: datetime
    end: datetime
    level: int = field(compare=False)
    scene: tuple[int, ...] | None = field(default=None, compare=False)

    @property
    def minutes(self) -> int:
        """Return the length in minutes."""
        return epoch_minute(self.end) - epoch_minute(self.start)


@dataclass(frozen=True)
class Change:
    """A moment the runner switches the light: on (at a level) or off."""

    at: datetime
    on: bool
    level: int | None = None
    scene: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ScheduleOptions:
    """Limits applied to every generated day (see the module's docstring)."""

    window_start: time | None = None
    window_end: time | None = None
    sunset_offset_minutes: int | None = None
    all_off_by: time | None = None
    min_on_minutes: int = 0
    jitter_minutes: int = 0

    def __post_init__(self) -> None:
        """Reject negative lengths."""
        if self.min_on_minutes < 0 or self.jitter_minutes < 0:
            raise ValueError("min_on_minutes and jitter_minutes must not be negative")


@dataclass(frozen=True)
class DaySchedule:
    """The "on" intervals of one room on one local day, sorted, disjoint."""

    room: str
    day: date
    intervals: tuple[Interval, ...] = ()

    def __post_init__(self) -> None:
        """Store the intervals as a tuple sorted by their instant."""
        # Datetimes of one time zone compare by wall clock and ignore `fold`,
        # which is wrong in the hour repeated when clocks go back: order and
        # compare by the instant (timestamp) instead.
        ordered = sorted(self.intervals, key=lambda iv: iv.start.timestamp())
        object.__setattr__(self, "intervals", tuple(ordered))

    def state_at(self, moment: datetime) -> Interval | None:
        """Return the interval that is on at ``moment``, or ``None`` (off)."""
        if moment.tzinfo is None:
            raise ValueError("a datetime with a time zone is needed")
        instant = moment.timestamp()
        starts = [iv.start.timestamp() for iv in self.intervals]
        i = bisect.bisect_right(starts, instant) - 1
        if i >= 0 and instant < self.intervals[i].end.timestamp():
            return self.intervals[i]
        return None

    def changes(self) -> list[Change]:
        """Return the switch moments in order: on at each start, off at each end."""
        out: list[Change] = []
        for iv in self.intervals:
            if (
                out
                and not out[-1].on
                and out[-1].at.timestamp() == iv.start.timestamp()
            ):
                out.pop()  # back to back: switch the level, not off and on
            out.append(Change(iv.start, True, iv.level, iv.scene))
            out.append(Change(iv.end, False, None))
        return out

    def on_minutes(self) -> npt.NDArray[np.bool_]:
        """Return 1440 flags by local wall-clock minute: is the light on.

        On a 1500-minute day the repeated hour counts as on if it is on
        either time; on a 1380-minute day the skipped hour is off.
        """
        out = np.zeros(MINUTES_PER_DAY, dtype=bool)
        for iv in self.intervals:
            tz = iv.start.tzinfo
            first, last = epoch_minute(iv.start), epoch_minute(iv.end)
            wall = _wall_minutes(first, last - first, tz)
            out[wall] = True
        return out

    @property
    def total_on_minutes(self) -> int:
        """Return the minutes the light is on this day."""
        return sum(iv.minutes for iv in self.intervals)


def _wall_minutes(first: int, n: int, tz: tzinfo | None) -> npt.NDArray[np.int64]:
    """Return the local wall-clock minute of day of ``n`` epoch minutes."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)

    def local(minute: int) -> datetime:
        return datetime.fromtimestamp(minute * 60, tz)

    def offset(minute: int) -> int:
        value = local(minute).utcoffset()
        return 0 if value is None else int(value // timedelta(minutes=1))

    start = local(first)
    start_off, end_off = offset(first), offset(first + n - 1)
    shifts = np.zeros(n, dtype=np.int64)
    if start_off != end_off:
        lo, hi = 0, n - 1  # the offset changes between lo and hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if offset(first + mid) == start_off:
                lo = mid
            else:
                hi = mid
        shifts[hi:] = end_off - start_off
    wall = start.hour * 60 + start.minute + np.arange(n, dtype=np.int64) + shifts
    return np.asarray(wall % MINUTES_PER_DAY)


def _clock_offset(day: date, clock: time, zones: DayZones, location: Location) -> int:
    """Return minutes from the day's midnight to a local clock time."""
    moment = datetime.combine(day, clock, tzinfo=location.tzinfo)
    offset = epoch_minute(moment) - zones.bounds_minutes[0]
    return min(max(offset, 0), zones.n_minutes)


def _runs(
    mask: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return (starts, ends) of the runs of True in a bool array."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.diff(padded)
    return (
        np.flatnonzero(edges == 1).astype(np.int64),
        np.flatnonzero(edges == -1).astype(np.int64),
    )


def _allowed(
    day: date, zones: DayZones, location: Location, options: ScheduleOptions
) -> npt.NDArray[np.bool_]:
    """Return, per minute of the day, whether the options let a light be on."""
    n = zones.n_minutes
    allowed = np.ones(n, dtype=bool)
    if options.sunset_offset_minutes is not None:
        sunset = epoch_minute(zones.sunset) - zones.bounds_minutes[0]
        begin: int | None = min(max(sunset + options.sunset_offset_minutes, 0), n)
    elif options.window_start is not None:
        begin = _clock_offset(day, options.window_start, zones, location)
    else:
        begin = None
    end = (
        None
        if options.window_end is None
        else _clock_offset(day, options.window_end, zones, location)
    )
    if begin is not None and end is not None and end <= begin:
        allowed[end:begin] = False  # wraps over midnight
    else:
        allowed[: begin or 0] = False
        if end is not None:
            allowed[end:] = False
    if options.all_off_by is not None:
        cut = _clock_offset(day, options.all_off_by, zones, location)
        if options.all_off_by >= time(12):
            allowed[cut:] = False
        else:
            allowed[cut : _clock_offset(day, time(12), zones, location)] = False
    return allowed


def _zone_levels(
    model: RoomModel, zone: Zone
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the levels an "on" interval may have in a zone and their odds."""
    on_level = model.levels.on_level
    levels = np.arange(on_level, model.levels.n_levels, dtype=np.int64)
    zone_model = model.zones.get(zone)
    counts: npt.NDArray[np.float64] = np.zeros(levels.size)
    if zone_model is not None and zone_model.on_level_counts:
        raw = np.zeros(max(model.levels.n_levels, len(zone_model.on_level_counts)))
        raw[: len(zone_model.on_level_counts)] = zone_model.on_level_counts
        counts = raw[on_level : model.levels.n_levels]
    if counts.sum() <= 0:
        counts = np.zeros(levels.size)
        counts[0] = 1.0
    return levels, counts / counts.sum()


def _zone_scenes(
    model: RoomModel, zone: Zone, level: int
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.float64]]:
    """Return the scenes a zone saw at a level and their odds (none: empty).

    A level the zone never saw lit by its lights borrows the scenes of that
    level from the other zones.
    """
    for zones in ([model.zones.get(zone)], list(model.zones.values())):
        found = [
            scene
            for zone_model in zones
            if zone_model is not None
            for scene in zone_model.scenes
            if scene.level == level and scene.minutes > 0
        ]
        if found:
            weights = np.asarray([scene.minutes for scene in found], dtype=np.float64)
            return [scene.brightness for scene in found], weights / weights.sum()
    return [], np.zeros(0)


def _start_after(hmm: CategoricalHMM, symbol: int) -> npt.NDArray[np.float64] | None:
    """Return a zone's start distribution given the symbol of the minute before.

    Bayes on the zone's own start distribution: ``startprob_`` weighted by
    how likely each state shows ``symbol``, as if the zone's first minute
    showed what the lamp showed the minute before (a lamp rarely changes
    within a minute). ``None`` (start as usual) when no state can show it.
    The start distribution is not moved on by a step of ``transmat_``: it
    often starts in short-lived states, which that step would skip.
    """
    emission = np.asarray(hmm.emissionprob_, dtype=np.float64)
    if not 0 <= symbol < emission.shape[1]:
        return None
    weights = np.asarray(hmm.startprob_, dtype=np.float64) * emission[:, symbol]
    total = float(weights.sum())
    if not np.isfinite(total) or total <= 0.0:
        return None
    return np.asarray(weights / total, dtype=np.float64)


def sample_day(
    model: RoomModel,
    day: date,
    location: Location,
    *,
    rng: np.random.Generator,
    start: datetime | None = None,
    options: ScheduleOptions | None = None,
) -> DaySchedule:
    """Sample the lighting of ``model``'s room for one local day.

    With ``start`` (an aware datetime on ``day``), only the rest of the day
    from that minute on is sampled; a ``start`` before the day samples the
    whole day, one after it gives an empty schedule.
    """
    opts = options if options is not None else ScheduleOptions()
    zones = day_zones(day, location)
    base = zones.bounds_minutes[0]
    n = zones.n_minutes
    begin = 0 if start is None else min(max(epoch_minute(start) - base, 0), n)

    on: npt.NDArray[np.bool_] = np.zeros(n, dtype=bool)
    zone_of = np.zeros(n, dtype=np.int64)
    # A model of the lights ("whole_day") learned every minute of the day.
    dark_only = model.settings.get("daylight") == "after_dark"
    # A model that learned nothing from daylight ("unknown") but is sampled
    # through it reaches a boundary in a state not learned for that moment:
    # its zones keep starting afresh (carried over, it scored worse).
    may_carry = model.settings.get("daylight") != "unknown"
    dark_minutes = after_dark(np.arange(base, base + n), location)
    dark = dark_minutes if dark_only else None

    def span(zone: Zone) -> tuple[int, int, int, int, ZoneModel] | None:
        """Return (zone start, zone end, first, last sampled minute, model)."""
        lo = zones.bounds_minutes[zone] - base
        hi = zones.bounds_minutes[zone + 1] - base
        zone_model = model.zones.get(zone)
        if hi <= lo or zone_model is None:
            return None
        first, last = lo, hi
        if dark is not None:
            dark_here = np.flatnonzero(dark[lo:hi])
            if dark_here.size == 0:
                return None
            first, last = lo + int(dark_here[0]), lo + int(dark_here[-1]) + 1
        return lo, hi, first, last, zone_model

    def carries(previous: tuple[int, int] | None, first: int) -> bool:
        """Return whether a zone sampled from ``first`` goes on from ``previous``.

        A zone that follows the previous one without a gap goes on from
        where the lamp was: sampling it afresh would switch the lamp right
        at the boundary, a timer-like jump no household shows. Only after
        dark: in daylight the sampled state says little about a lamp.
        """
        return (
            may_carry
            and previous is not None
            and previous[0] == first
            and first > 0
            and bool(dark_minutes[first - 1] and dark_minutes[first])
        )

    def place(
        lo: int, hi: int, first: int, last: int, drawn: npt.NDArray[np.int64]
    ) -> None:
        """Write a zone's sampled symbols into ``on``.

        A lamp on at dusk went on while it was still light, a lamp on at
        dawn stays on a while: when, the lux could not tell, so at random.
        """
        on[first:last] = drawn == 1
        if first > lo and on[first]:
            on[first - int(rng.integers(0, first - lo + 1)) : first] = True
        if last < hi and on[last - 1]:
            on[last : last + int(rng.integers(0, hi - last + 1))] = True

    def sample_zone(
        zone: Zone, previous: tuple[int, int] | None
    ) -> tuple[int, int] | None:
        """Sample a zone on its own; return where it ended and its last symbol."""
        found = span(zone)
        if found is None:
            empty = zones.bounds_minutes[zone + 1] <= zones.bounds_minutes[zone]
            return previous if empty else None
        lo, hi, first, last, zone_model = found
        seed = int(rng.integers(0, 2**32))
        startprob = (
            _start_after(zone_model.hmm, previous[1])
            if carries(previous, first) and previous is not None
            else None
        )
        symbols, _ = zone_model.hmm.sample(
            last - first, random_state=seed, startprob=startprob
        )
        drawn = np.asarray(symbols).ravel()[: last - first]
        place(lo, hi, first, last, drawn)
        return (last, int(drawn[-1])) if drawn.size else None

    def sample_evening(previous: tuple[int, int] | None) -> None:
        """Sample the ``BEDTIME_ZONES`` together, to a drawn evening's lit span."""
        stretches: list[Stretch] = []
        spans: list[tuple[int, int, int, int]] = []
        symbol_before = None
        end = previous
        for zone in BEDTIME_ZONES:
            found = span(zone)
            if found is None:
                empty = zones.bounds_minutes[zone + 1] <= zones.bounds_minutes[zone]
                end = end if empty else None
                continue
            first, last, hmm = found[2], found[3], found[4].hmm
            fresh = np.asarray(hmm.startprob_, dtype=np.float64)
            after = None
            if carries(end, first):
                a0, a1 = _start_after(hmm, 0), _start_after(hmm, 1)
                after = (fresh if a0 is None else a0, fresh if a1 is None else a1)
                if not stretches and end is not None:
                    symbol_before = end[1]
            stretches.append(Stretch(hmm, first, last, fresh, after))
            spans.append(found[:4])
            end = (last, 0)
        if not stretches:
            return
        lo = zones.bounds_minutes[BEDTIME_ZONES[0]] - base
        hi = zones.bounds_minutes[BEDTIME_ZONES[-1] + 1] - base
        wall = _wall_minutes(base + lo, hi - lo, zones.bounds[0].tzinfo)
        wall_first, wall_last = draw_span(model.evenings, model.evening_spreads, rng)
        # The minutes of this evening at those wall-clock times.
        last_on = int(np.searchsorted(wall, wall_last, side="right")) - 1
        first_on = int(np.searchsorted(wall, wall_first, side="left"))
        last_on = lo + last_on if wall_last >= 0 and last_on >= 0 else -1
        first_on = lo + first_on if wall_first > 0 else -1
        drawn = sample_span(stretches, first_on, last_on, rng, symbol_before)
        if drawn is None:  # no path of the HMMs meets it: the zones as usual
            for zone in BEDTIME_ZONES:
                previous = sample_zone(zone, previous)
            return
        for (zone_lo, zone_hi, first, last), symbols in zip(spans, drawn, strict=True):
            place(zone_lo, zone_hi, first, last, symbols)

    for zone in Zone:
        lo = zones.bounds_minutes[zone] - base
        hi = zones.bounds_minutes[zone + 1] - base
        zone_of[lo:hi] = int(zone)
    # The end (minute, last symbol) of the zone sampled just before, if any.
    previous: tuple[int, int] | None = None
    # Zones before ``start`` are sampled too (and cut later): the zone
    # containing it continues them as it would on a whole day.
    for zone in Zone:
        if model.evenings and zone in BEDTIME_ZONES:
            if zone == BEDTIME_ZONES[0]:
                sample_evening(previous)
            continue
        previous = sample_zone(zone, previous)

    starts, ends = _runs(on)
    levels: npt.NDArray[np.int64] = np.empty(starts.size, dtype=np.int64)
    for zone in Zone:
        here = zone_of[starts] == int(zone) if starts.size else np.zeros(0, bool)
        if here.any():
            choices, odds = _zone_levels(model, zone)
            levels[here] = rng.choice(choices, size=int(here.sum()), p=odds)
    # What each interval looks like: its level and, learned from the lights,
    # its scene; ``looks`` indexes them so jitter and merging carry both.
    looks: list[tuple[int, tuple[int, ...] | None]] = []
    for i in range(starts.size):
        scenes, odds = (
            _zone_scenes(model, Zone(int(zone_of[starts[i]])), int(levels[i]))
            if model.lights
            else ([], np.zeros(0))
        )
        scene = scenes[int(rng.choice(len(scenes), p=odds))] if scenes else None
        looks.append((int(levels[i]), scene))
    levels = np.arange(starts.size, dtype=np.int64)

    if opts.jitter_minutes and starts.size:
        shift = rng.integers(
            -opts.jitter_minutes, opts.jitter_minutes + 1, size=starts.size
        )
        starts, ends, levels = _merge(
            np.clip(starts + shift, 0, n), np.clip(ends + shift, 0, n), levels
        )

    allowed = _allowed(day, zones, location, opts)
    allowed[:begin] = False
    pieces: list[tuple[int, int, int]] = []
    for i in range(starts.size):
        s, e, look = int(starts[i]), int(ends[i]), int(levels[i])
        if e <= s:
            continue
        part_starts, part_ends = _runs(allowed[s:e])
        for j in range(part_starts.size):
            ps, pe = int(part_starts[j]), int(part_ends[j])
            if pe - ps >= max(1, opts.min_on_minutes):
                pieces.append((s + ps, s + pe, look))

    intervals = tuple(
        Interval(
            local_datetime(base + s, location),
            local_datetime(base + e, location),
            looks[i][0],
            looks[i][1],
        )
        for s, e, i in pieces
    )
    return DaySchedule(model.room, day, intervals)


def _merge(
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sort intervals and merge overlapping or touching ones (first level wins)."""
    keep = ends > starts
    starts, ends, levels = starts[keep], ends[keep], levels[keep]
    if starts.size == 0:
        return starts, ends, levels
    order = np.argsort(starts, kind="stable")
    starts, ends, levels = starts[order], ends[order], levels[order]
    reach = np.maximum.accumulate(ends)
    new_group = np.concatenate(([True], starts[1:] > reach[:-1]))
    group = np.cumsum(new_group) - 1
    first = np.flatnonzero(new_group)
    group_end = np.zeros(first.size, dtype=np.int64)
    np.maximum.at(group_end, group, ends)
    return starts[first], group_end, levels[first]
