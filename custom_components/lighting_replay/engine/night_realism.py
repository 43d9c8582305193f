"""How real do generated nights look? The per-night measure of real houses.

``realism.py`` compares whole days; this module compares *nights*, the part
of the day a house is watched in:

- A night is keyed by the date of its evening and covers the local wall
  clock from 16:00 to 05:00 the next morning (``NIGHT_MINUTES`` = 780
  slots, slot 0 = 16:00). Only minutes with the sun more than 6 degrees below
  the horizon count (``night_dark``); every other slot is NaN, and so is a
  slot never observed. On the night clocks go forward the skipped hour is
  NaN; on the night they go back the repeated hour keeps its second pass.
- Real "on" comes from the readings (``real_nights``): held at most
  ``MAX_HOLD_MINUTES`` on a minute grid, 4 K-Means levels fitted on the
  training nights' dark minutes (``night_threshold``), "on" above the
  midpoint of the two darkest centres.

Per room, these components (lower is better; ``compare_nights``):

- ``profile``: mean absolute difference of the on-probability per local
  hour (16 h to 4 h; hours seen by both);
- ``minutes``: ``|mean on-minutes per night, generated - real| / real``, the
  real figure floored at ``MIN_REAL_MINUTES``;
- ``periods``: the same for the on-periods per night (floored at 1; an
  unseen stretch inside a lit one does not split it);
- ``bedtime``: the Kolmogorov-Smirnov distance between the last-on slot of
  each night, generated against real (a night without light counts as -1);
- ``variety``: ``|mean difference between nights up to 7 days apart,
  generated - real| / real``, where the difference of two nights is the
  share of the minutes both saw in which one is on and the other off (the
  real figure floored at ``MIN_REAL_VARIETY``).

``score`` is the mean of the five (of those defined: ``variety`` needs two
nights at most a week apart); a house's score is the mean over rooms.
Per-night figures (minutes, periods, bedtime) use nights whose dark slots
were observed for at least ``MIN_COVERAGE``; their on-minutes are scaled up
to the whole night.

Baselines: a timer on from dusk to 23:00 (``timer_nights``) and the same
night a week earlier (``replay_nights``; where that was not recorded, the
same weekday further back, up to ``MAX_WEEKS_BACK`` weeks).

Copy check (``copy_check``, nights seen for ``MIN_COVERAGE`` of their dark
slots): the distance of a night to the training nights is its difference
(as above) to the nearest of them that saw at least half of its slots. A generated night is
"near" when that distance is at most the ``COPY_QUANTILE`` quantile of the
real held-out nights' own distances; the generated nights' share of near
nights (``copy_rate``) must not be higher than the real nights' own share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from .levels import kmeans_1d
from .model import RoomModel
from .realism import generate_days, ks_distance
from .schedule import ScheduleOptions
from .series import MinuteSeries, to_minute_series
from .zones import Location, after_dark, epoch_minute, local_clock, local_midnight

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]
type Nights = Mapping[date, FloatArray]

#: The night's local window: from 16:00 to 05:00 the next day.
NIGHT_START_MINUTE = 16 * 60
NIGHT_END_MINUTE = 5 * 60
NIGHT_MINUTES = 24 * 60 - NIGHT_START_MINUTE + NIGHT_END_MINUTE
#: Readings are held this long at most on the minute grid.
MAX_HOLD_MINUTES = 10
#: Light levels of the real nights.
N_LEVELS = 4
#: A night counts for per-night figures when this share of its dark slots was seen.
MIN_COVERAGE = 0.8
#: Floors of the real figures the relative components divide by.
MIN_REAL_MINUTES = 30.0
MIN_REAL_PERIODS = 1.0
MIN_REAL_VARIETY = 0.01
#: Nights at most this many days apart make the ``variety`` pairs.
VARIETY_DAYS = 7
#: Two nights are compared only where both saw at least this many minutes.
MIN_COMMON_MINUTES = 30
#: How many weeks back the replay looks for a recorded night.
MAX_WEEKS_BACK = 8
#: The real nights' quantile that makes a generated night "near" a training one.
COPY_QUANTILE = 0.1
#: The components of ``score``.
COMPONENTS = ("profile", "minutes", "periods", "bedtime", "variety")
#: The hours of the profile, local: 16 h to 4 h.
HOURS = tuple(range(16, 24)) + tuple(range(5))
#: Slot of the timer's end (23:00).
TIMER_OFF = time(23)


def _slot(clock: time) -> int:
    """Return the slot of a local wall-clock time in the night window."""
    minute = clock.hour * 60 + clock.minute
    return (minute - NIGHT_START_MINUTE) % (24 * 60)


class NightSet(dict[date, FloatArray]):
    """Nights (date -> 780 slots) that also know each night's dark slots."""

    def __init__(
        self, nights: Mapping[date, FloatArray], dark: Mapping[date, BoolArray]
    ) -> None:
        """Keep the nights and their dark masks."""
        super().__init__(nights)
        self.dark: dict[date, BoolArray] = {d: dark[d] for d in nights}


def night_dark(day: date, location: Location) -> BoolArray:
    """Return the slots of the night of ``day`` with the sun below -6 degrees.

    A slot that does not occur (the hour skipped when clocks go forward) is
    not dark; the hour repeated when they go back counts its second pass.
    """
    first = local_midnight(day, location)
    last = local_midnight(day + timedelta(days=2), location)
    minutes = np.arange(first, last, dtype=np.int64)
    index, dates, wall = local_clock(minutes, location)
    slot = np.where(
        np.asarray(dates, dtype=object)[index] == day,
        wall - NIGHT_START_MINUTE,
        wall + 24 * 60 - NIGHT_START_MINUTE,
    )
    inside = (slot >= 0) & (slot < NIGHT_MINUTES)
    dark = np.zeros(NIGHT_MINUTES, dtype=bool)
    dark[slot[inside]] = after_dark(minutes[inside], location)
    return dark


def nights_from_days(
    days: Mapping[date, npt.ArrayLike],
    location: Location,
    nights: Iterable[date] | None = None,
) -> NightSet:
    """Cut days (1440 local wall minutes: 1/0/NaN) into nights of dark slots.

    ``nights`` are the evenings to cut (default: every day given); a night
    whose morning day is missing has NaN after midnight; a night without a
    single dark observed slot is left out.
    """
    out: dict[date, FloatArray] = {}
    darks: dict[date, BoolArray] = {}
    for night in sorted(days) if nights is None else nights:
        evening = days.get(night)
        morning = days.get(night + timedelta(days=1))
        row = np.full(NIGHT_MINUTES, np.nan)
        if evening is not None:
            row[: 24 * 60 - NIGHT_START_MINUTE] = np.asarray(evening, np.float64)[
                NIGHT_START_MINUTE:
            ]
        if morning is not None:
            row[24 * 60 - NIGHT_START_MINUTE :] = np.asarray(morning, np.float64)[
                :NIGHT_END_MINUTE
            ]
        dark = night_dark(night, location)
        row[~dark] = np.nan
        if np.isfinite(row).any():
            out[night], darks[night] = row, dark
    return NightSet(out, darks)


def _night_slots(
    series: MinuteSeries, location: Location, nights: Iterable[date]
) -> FloatArray:
    """Return the series' values at the dark slots of ``nights`` (flattened)."""
    values: list[FloatArray] = []
    for night in nights:
        lo = epoch_minute(datetime.combine(night, time(16), tzinfo=location.tzinfo))
        hi = epoch_minute(
            datetime.combine(night + timedelta(days=1), time(5), tzinfo=location.tzinfo)
        )
        a = max(lo - series.start_minute, 0)
        b = min(hi - series.start_minute, len(series))
        if b <= a:
            continue
        chunk = series.lux[a:b]
        dark = after_dark(np.arange(a, b) + series.start_minute, location)
        values.append(chunk[dark & np.isfinite(chunk)])
    return np.concatenate(values) if values else np.zeros(0)


def reading_series(timestamps_s: npt.ArrayLike, values: npt.ArrayLike) -> MinuteSeries:
    """Return readings on a minute grid, each held at most ``MAX_HOLD_MINUTES``.

    A minute takes the mean of its readings; a minute without one takes the
    last reading's value for up to ``MAX_HOLD_MINUTES`` minutes after it
    (readings 12 minutes apart leave 2 minutes unseen).
    """
    series = to_minute_series(timestamps_s, values, max_gap_minutes=0)
    lux = series.lux.copy()
    seen = np.isfinite(lux)
    n = lux.size
    last = np.maximum.accumulate(np.where(seen, np.arange(n), -1))
    hold = ~seen & (last >= 0) & (np.arange(n) - last <= MAX_HOLD_MINUTES)
    lux[hold] = lux[last[hold]]
    return MinuteSeries(series.start_minute, lux)


def night_threshold(
    series: MinuteSeries, location: Location, train_nights: Iterable[date]
) -> float:
    """Return the "on" threshold: the midpoint of the two darkest K-Means centres.

    The 4 centres are fitted to the series' dark minutes of the training
    nights. With a single centre (all readings alike) nothing is "on".
    """
    values = _night_slots(series, location, train_nights)
    if values.size == 0:
        raise ValueError("no dark readings in the training nights")
    centres = kmeans_1d(values, N_LEVELS)
    if centres.size < 2:
        return float(np.inf)
    return float((centres[0] + centres[1]) / 2.0)


def real_nights(
    series: MinuteSeries,
    location: Location,
    threshold: float,
    nights: Iterable[date] | None = None,
) -> NightSet:
    """Return the real nights of a reading series: on above ``threshold``."""
    state = np.where(np.isfinite(series.lux), series.lux > threshold, np.nan)
    index, dates, wall = local_clock(series.minutes, location)
    grid = np.full((len(dates), 24 * 60), np.nan)
    grid[index, np.clip(wall, 0, 24 * 60 - 1)] = state.astype(np.float64)
    days = {d: grid[i] for i, d in enumerate(dates)}
    return nights_from_days(days, location, nights)


@dataclass(frozen=True, eq=False)
class NightMetrics:
    """The per-night figures of a set of nights (see the module's docstring)."""

    profile: FloatArray  # on-probability per hour of ``HOURS`` (NaN: unseen)
    minutes: FloatArray
    periods: FloatArray
    bedtime: FloatArray
    variety: float
    n_nights: int


def _stack(nights: Nights) -> tuple[list[date], FloatArray]:
    """Return the dates in order and the nights as rows."""
    dates = sorted(nights)
    if not dates:
        return [], np.zeros((0, NIGHT_MINUTES))
    rows = [np.asarray(nights[d], dtype=np.float64).ravel() for d in dates]
    for row in rows:
        if row.size != NIGHT_MINUTES:
            raise ValueError(f"a night has {NIGHT_MINUTES} slots, got {row.size}")
    return dates, np.vstack(rows)


def _hour_of_slot() -> npt.NDArray[np.int64]:
    """Return the index into ``HOURS`` of every slot."""
    return np.arange(NIGHT_MINUTES, dtype=np.int64) // 60


def night_difference(a: FloatArray, b: FloatArray) -> float:
    """Share of the slots both nights saw where one is on and the other off.

    NaN when they share fewer than ``MIN_COMMON_MINUTES`` seen slots.
    """
    seen = np.isfinite(a) & np.isfinite(b)
    n = int(np.count_nonzero(seen))
    if n < MIN_COMMON_MINUTES:
        return float("nan")
    return float(np.count_nonzero((a[seen] > 0.5) != (b[seen] > 0.5)) / n)


def _pair_differences(
    rows_a: FloatArray, rows_b: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return (differing slots, common slots) of every pair of rows."""
    seen_a, seen_b = np.isfinite(rows_a), np.isfinite(rows_b)
    on_a = (np.where(seen_a, rows_a, 0.0) > 0.5).astype(np.float64)
    on_b = (np.where(seen_b, rows_b, 0.0) > 0.5).astype(np.float64)
    off_a = (seen_a & (on_a == 0)).astype(np.float64)
    off_b = (seen_b & (on_b == 0)).astype(np.float64)
    differ = on_a @ off_b.T + off_a @ on_b.T
    common = seen_a.astype(np.float64) @ seen_b.astype(np.float64).T
    return differ, common


def _variety(dates: list[date], rows: FloatArray) -> float:
    """Mean difference of the pairs of nights at most ``VARIETY_DAYS`` apart."""
    if len(dates) < 2:
        return float("nan")
    differ, common = _pair_differences(rows, rows)
    ordinal = np.asarray([d.toordinal() for d in dates])
    apart = np.abs(ordinal[:, None] - ordinal[None, :])
    pairs = np.triu(
        (apart > 0) & (apart <= VARIETY_DAYS) & (common >= MIN_COMMON_MINUTES), k=1
    )
    if not pairs.any():
        return float("nan")
    return float(np.mean(differ[pairs] / common[pairs]))


def _periods(row: FloatArray) -> int:
    """Count the on-periods of a night; unseen slots neither end nor start one.

    Readings minutes apart leave unseen minutes inside a lit stretch; they
    are skipped, so the stretch stays one period.
    """
    seen = row[np.isfinite(row)] > 0.5
    if seen.size == 0:
        return 0
    return int(seen[0]) + int(np.count_nonzero(seen[1:] & ~seen[:-1]))


def night_metrics(nights: Nights) -> NightMetrics:
    """Compute the per-night figures of one set of nights."""
    dates, rows = _stack(nights)
    seen = np.isfinite(rows)
    on = np.where(seen, rows, 0.0) > 0.5
    hour = _hour_of_slot()
    on_h = np.zeros(len(HOURS))
    seen_h = np.zeros(len(HOURS))
    np.add.at(on_h, hour, on.sum(axis=0))
    np.add.at(seen_h, hour, seen.sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(seen_h > 0, on_h / seen_h, np.nan)
    if rows.shape[0]:
        dark = np.asarray([_dark_of(d, nights) for d in dates])
    else:
        dark = np.zeros((0, NIGHT_MINUTES), dtype=bool)
    n_dark = dark.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(n_dark > 0, seen.sum(axis=1) / n_dark, 0.0)
    full = coverage >= MIN_COVERAGE
    on_full = on[full]
    minutes = on_full.sum(axis=1) / coverage[full]
    periods = np.asarray(
        [_periods(row) for row in rows[full]], dtype=np.float64
    ).reshape(-1)
    any_on = on_full.any(axis=1)
    last = NIGHT_MINUTES - 1 - np.argmax(on_full[:, ::-1], axis=1)
    bedtime = np.where(any_on, last, -1).astype(np.float64)
    return NightMetrics(
        profile=np.asarray(profile, dtype=np.float64),
        minutes=np.asarray(minutes, dtype=np.float64),
        periods=periods,
        bedtime=bedtime,
        variety=_variety(dates, rows),
        n_nights=len(dates),
    )


def _dark_of(day: date, nights: Nights) -> BoolArray:
    """Return the dark slots of a night, for its coverage.

    A ``NightSet`` knows them; in a plain mapping they are taken to be the
    slots from the first seen to the last seen one.
    """
    if isinstance(nights, NightSet):
        return nights.dark[day]
    row = np.asarray(nights[day], dtype=np.float64)
    seen = np.flatnonzero(np.isfinite(row))
    mask = np.zeros(NIGHT_MINUTES, dtype=bool)
    if seen.size:
        mask[seen[0] : seen[-1] + 1] = True
    return mask


def with_dark(nights: Mapping[date, FloatArray], location: Location) -> NightSet:
    """Return ``nights`` with their dark slots (for the coverage of each)."""
    return NightSet(nights, {d: night_dark(d, location) for d in nights})


def _relative(generated: float, real: float, floor: float) -> float:
    """Return ``|generated - real| / max(real, floor)`` (NaN stays NaN)."""
    return abs(generated - real) / max(real, floor)


def _mean(values: FloatArray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def compare_nights(
    real: Nights, generated: Nights | Sequence[Nights]
) -> dict[str, float]:
    """Return each component and ``score`` of generated against real nights.

    ``generated`` may be several draws of the same nights: their per-night
    figures are pooled, ``variety`` pairs nights within a draw.
    """
    draws: list[Nights] = (
        [generated] if isinstance(generated, Mapping) else list(generated)
    )
    r = night_metrics(real)
    gs = [night_metrics(draw) for draw in draws]
    profile_g = np.nanmean(np.vstack([g.profile for g in gs]), axis=0)
    both = np.isfinite(profile_g) & np.isfinite(r.profile)
    g_minutes = np.concatenate([g.minutes for g in gs])
    g_periods = np.concatenate([g.periods for g in gs])
    g_bedtime = np.concatenate([g.bedtime for g in gs])
    g_varieties = np.asarray([g.variety for g in gs], dtype=np.float64)
    g_variety = (
        float(np.mean(g_varieties[np.isfinite(g_varieties)]))
        if np.isfinite(g_varieties).any()
        else float("nan")
    )
    result = {
        "profile": float(np.mean(np.abs(profile_g[both] - r.profile[both])))
        if both.any()
        else 0.0,
        "minutes": _relative(_mean(g_minutes), _mean(r.minutes), MIN_REAL_MINUTES),
        "periods": _relative(_mean(g_periods), _mean(r.periods), MIN_REAL_PERIODS),
        "bedtime": ks_distance(r.bedtime, g_bedtime),
        "variety": _relative(g_variety, r.variety, MIN_REAL_VARIETY),
    }
    values = [result[c] for c in COMPONENTS if np.isfinite(result[c])]
    result["score"] = float(np.mean(values)) if values else float("nan")
    return result


def timer_nights(
    nights: Iterable[date], location: Location, off_at: time = TIMER_OFF
) -> NightSet:
    """Return the nights of a timer: on from dusk until ``off_at``."""
    end = _slot(off_at)
    out: dict[date, FloatArray] = {}
    dark: dict[date, BoolArray] = {}
    for night in nights:
        mask = night_dark(night, location)
        row = np.zeros(NIGHT_MINUTES)
        row[:end] = 1.0
        row[~mask] = np.nan
        out[night], dark[night] = row, mask
    return NightSet(out, dark)


def replay_nights(real: Nights, nights: Iterable[date], location: Location) -> NightSet:
    """Replay, for each night, the recorded night a week earlier.

    If that night was not recorded, the same weekday further back (up to
    ``MAX_WEEKS_BACK`` weeks); a night with none is left out. The replayed
    states are seen on the night's own dark slots.
    """
    out: dict[date, FloatArray] = {}
    dark: dict[date, BoolArray] = {}
    for night in nights:
        for weeks in range(1, MAX_WEEKS_BACK + 1):
            source = night - timedelta(weeks=weeks)
            if source in real:
                mask = night_dark(night, location)
                row = np.asarray(real[source], dtype=np.float64).copy()
                row[~mask] = np.nan
                out[night], dark[night] = row, mask
                break
    return NightSet(out, dark)


def generated_nights(
    model: RoomModel,
    nights: Sequence[date],
    location: Location,
    *,
    rng: np.random.Generator,
    options: ScheduleOptions | None = None,
) -> NightSet:
    """Sample the schedules of the days the nights span and cut the nights."""
    if not nights:
        return NightSet({}, {})
    days = sorted({d + timedelta(days=k) for d in nights for k in (0, 1)})
    sampled = generate_days(model, days, location, rng=rng, options=options)
    return nights_from_days(sampled, location, nights)


def _nearest(rows: FloatArray, train: FloatArray) -> FloatArray:
    """Distance of each row to its nearest training row (NaN: none comparable).

    A training night is comparable when it saw at least half of the slots
    the row saw (and ``MIN_COMMON_MINUTES``).
    """
    if rows.shape[0] == 0 or train.shape[0] == 0:
        return np.full(rows.shape[0], np.nan)
    differ, common = _pair_differences(rows, train)
    own = np.isfinite(rows).sum(axis=1)[:, None]
    comparable = (common >= MIN_COMMON_MINUTES) & (2 * common >= own)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(comparable, differ / common, np.inf)
    nearest = share.min(axis=1)
    return np.where(np.isfinite(nearest), nearest, np.nan)


def _well_seen(nights: Nights) -> FloatArray:
    """Return the nights seen for at least ``MIN_COVERAGE`` of their dark slots."""
    dates, rows = _stack(nights)
    if not dates:
        return rows
    dark = np.asarray([_dark_of(d, nights) for d in dates])
    n_dark = dark.sum(axis=1)
    seen = np.isfinite(rows).sum(axis=1)
    keep = (n_dark > 0) & (seen >= MIN_COVERAGE * np.maximum(n_dark, 1))
    return np.asarray(rows[keep], dtype=np.float64)


@dataclass(frozen=True)
class CopyCheck:
    """The copy check of one room (see the module's docstring)."""

    copy_rate: float
    real_rate: float
    threshold: float
    n_generated: int

    @property
    def holds(self) -> bool:
        """Return whether generated nights are not nearer than real ones."""
        return not self.copy_rate > self.real_rate


def copy_check(
    train: Nights, real: Nights, generated: Nights | Sequence[Nights]
) -> CopyCheck:
    """Compare how near generated and real nights are to the training nights."""
    draws: list[Nights] = (
        [generated] if isinstance(generated, Mapping) else list(generated)
    )
    train_rows = _well_seen(train)
    real_d = _nearest(_well_seen(real), train_rows)
    real_d = real_d[np.isfinite(real_d)]
    gen_d = np.concatenate(
        [_nearest(_well_seen(draw), train_rows) for draw in draws] or [np.zeros(0)]
    )
    gen_d = gen_d[np.isfinite(gen_d)]
    if real_d.size == 0 or gen_d.size == 0:
        return CopyCheck(0.0, 0.0, float("nan"), int(gen_d.size))
    threshold = float(np.quantile(real_d, COPY_QUANTILE, method="lower"))
    return CopyCheck(
        copy_rate=float(np.mean(gen_d <= threshold)),
        real_rate=float(np.mean(real_d <= threshold)),
        threshold=threshold,
        n_generated=int(gen_d.size),
    )
