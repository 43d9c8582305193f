"""Training a room: readings in, ``RoomModel`` out.

The steps follow the original system: a one-minute series, a sliding mean,
K-Means light levels, on/off per minute, the zones of the day, sequences
split at zone changes and gaps (all of these in ``prepare_room``, the only
place they are written), and an HMM per zone (``fit_zone_hmm``, or any
fitter passed to ``train_room``). The on-threshold is found from the
readings after dark unless it is given.

Daylight reaches the sensors, so while the sun is up a bright minute may be
the sun rather than a lamp. ``TrainingOptions.daylight`` says which minutes
teach the models while the sun is above civil dusk (6 degrees below the
horizon):

- ``"after_dark"`` (the default): none; those minutes count as missing. The
  models learn from the minutes whose lamp state the lux can tell, and the
  sequences of a zone all start at dusk rather than some at dusk and some
  as short dark stretches of daylight, which the HMM would read as starts.
- ``"unknown"``: only bright minutes count as missing, dark ones as off.
- ``"off"``: bright minutes count as off.
- ``"keep"``: bright minutes count as on, as the original system did.

``benchmarks/engine_train.py`` measures them against the simulator's true
lamp states: the realism score (``realism.compare``, lower is better) of
generated days, over 4 seasons x 2 households x 3 rooms in Berlin, was 0.22
for "after_dark", 0.26 "unknown", 0.26 "off" and 0.59 "keep" (the fixed
timer: 0.61), with the light levels fitted after dark (``levels_from``;
fitted to all readings, "after_dark" scored 0.28).

A zone without any usable sequence gets ``None``; a schedule keeps the light
off in such a zone (there is nothing to replay).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from .bedtime import evening_spans, evening_spreads
from .hmm import CategoricalHMM, fit_best
from .levels import DEFAULT_LEVELS, LEVELS_FROM, Levels, fit_levels
from .lights import fit_light_levels, light_levels_of, zone_scenes
from .model import RoomModel, ZoneModel
from .sequences import DEFAULT_MIN_LENGTH, Sequences, split_sequences
from .series import DEFAULT_WINDOW, MinuteSeries, smooth, to_minute_series
from .sources import (
    LightsOnGrid,
    RoomSources,
    combine_on_off,
    lights_on_grid,
    mask_excluded,
    on_grid,
    span,
)
from .zones import (
    DARK_ELEVATION_DEG,
    MINUTES_PER_DAY,
    Location,
    Zone,
    solar_elevation,
    zones_of_minutes,
)

#: What a bright minute in daylight counts as (see the module's docstring).
DAYLIGHT_RULES = ("after_dark", "unknown", "off", "keep")
#: The ``daylight`` setting of a model learned from lights: the whole day.
WHOLE_DAY = "whole_day"


class NotEnoughData(Exception):
    """Too little data to learn a room from."""

    def __init__(self, days_available: float, days_needed: float) -> None:
        """Keep the figures for the message and for callers."""
        super().__init__(
            f"{days_available:.1f} days of readings, at least {days_needed:g} needed"
        )
        self.days_available = days_available
        self.days_needed = days_needed


@dataclass(frozen=True)
class TrainingOptions:
    """How a room is trained (defaults as the original system, but two).

    ``n_states`` is the number of hidden states per zone, or a range of
    numbers to choose from by BIC. ``min_days`` is the least data accepted,
    in days of usable minutes; ``min_sequence_minutes`` the shortest
    sequence kept. ``daylight`` (see the module's docstring) and
    ``levels_from`` (see ``levels``) are measured improvements on the
    original; ``daylight="keep"`` and ``levels_from="all"`` give its rules.
    ``on_level`` sets the lux level the lamp counts as on from; ``on_lux``
    the same as a lux threshold (the first level whose centre reaches it);
    without either it is found after dark. A zone's EM stops after
    ``n_iter`` iterations or once one gains less than ``tol`` log-likelihood
    per minute of the zone's data (a room-year: about 0.013 in all, near
    hmmlearn's default of 0.01; measured: the same realism as running all
    100 iterations, in half the time, see benchmarks/README.md).
    """

    window: int = DEFAULT_WINDOW
    n_levels: int = DEFAULT_LEVELS
    n_states: int | tuple[int, ...] = 5
    max_gap_minutes: int = 10
    on_level: int | None = None
    on_lux: float | None = None
    n_restarts: int = 3
    seed: int = 0
    min_days: float = 3.0
    n_iter: int = 100
    tol: float = 1e-7
    min_sequence_minutes: int = DEFAULT_MIN_LENGTH
    daylight: str = "after_dark"
    levels_from: str = "after_dark"

    def __post_init__(self) -> None:
        """Reject settings that cannot work."""
        if self.daylight not in DAYLIGHT_RULES:
            raise ValueError(f"daylight must be one of {DAYLIGHT_RULES}")
        if self.levels_from not in LEVELS_FROM:
            raise ValueError(f"levels_from must be one of {LEVELS_FROM}")
        if self.window < 1 or self.n_levels < 2 or self.max_gap_minutes < 0:
            raise ValueError("window >= 1, n_levels >= 2, max_gap_minutes >= 0")
        if self.n_restarts < 1 or self.min_days < 0 or not self.tol >= 0:
            raise ValueError("n_restarts >= 1, min_days >= 0 and tol >= 0")


def lamp_on_off(
    levels: Levels,
    lux: npt.ArrayLike,
    elevation: npt.ArrayLike,
    daylight: str = "after_dark",
    from_elevation: float = DARK_ELEVATION_DEG,
) -> npt.NDArray[np.int8]:
    """Return 1/0/-1 (on/off/missing) per minute, applying the daylight rule.

    ``elevation`` is the sun's elevation at each minute; minutes with the sun
    at ``from_elevation`` or higher (default: civil dusk) are treated as
    ``daylight`` says (see the module's docstring).
    """
    state = levels.on_off(lux)
    el = np.asarray(elevation, dtype=np.float64)
    bright_day = (state == 1) & (el >= from_elevation)
    if daylight == "off":
        state[bright_day] = 0
    elif daylight == "unknown":
        state[bright_day] = -1
    elif daylight == "after_dark":
        state[(state >= 0) & (el >= from_elevation)] = -1
    return state


@dataclass(frozen=True, eq=False)
class PreparedRoom:
    """A room's history made ready for its zone models (see ``prepare_sources``).

    ``series`` is what the room's levels are of, one value per minute: the
    smoothed lux of a lux room, the lights' summed brightness otherwise;
    ``elevation`` (NaN without a lux sensor), ``level``, ``on_off`` (1/0/-1
    after the daylight rule and the sources' combination) and ``zones`` hold
    one value per minute of it; ``sequences`` are the training sequences per
    zone; ``n_valid`` counts the usable minutes, ``days`` is that in days.
    ``lights`` is the lights on the same grid (None for a lux room).
    ``evenings`` (a lux room's) is ``on_off`` with the minutes where the
    unsmoothed lux is already dark counted off: the trailing mean lags a
    lamp switched off by a few minutes (3 on both real houses), and an
    evening's lit span (``room_evenings``) ends when the lamp did.
    """

    series: MinuteSeries
    elevation: npt.NDArray[np.float64]
    levels: Levels
    level: npt.NDArray[np.int8]
    on_off: npt.NDArray[np.int8]
    zones: npt.NDArray[np.int8]
    sequences: dict[Zone, Sequences]
    n_valid: int
    days: float
    kind: str = "lux"
    lights: LightsOnGrid | None = None
    evenings: npt.NDArray[np.int8] | None = None


#: Fits the HMM of one zone: ``(zone, sequences, options) -> CategoricalHMM``.
type ZoneFitter = Callable[[Zone, Sequences, TrainingOptions], CategoricalHMM]


def lux_sources(
    timestamps_s: npt.ArrayLike,
    lux: npt.ArrayLike,
    options: TrainingOptions | None = None,
) -> RoomSources:
    """Return the sources of a room that learns from lux readings alone."""
    opts = options if options is not None else TrainingOptions()
    try:
        series = to_minute_series(
            timestamps_s, lux, max_gap_minutes=opts.max_gap_minutes
        )
    except ValueError as err:
        if "no valid" in str(err):
            raise NotEnoughData(0.0, opts.min_days) from err
        raise
    return RoomSources(lux=series)


def prepare_room(
    timestamps_s: npt.ArrayLike,
    lux: npt.ArrayLike,
    location: Location,
    options: TrainingOptions | None = None,
    *,
    levels: Levels | None = None,
) -> PreparedRoom:
    """Prepare a room that learns from lux readings alone (``prepare_sources``)."""
    return prepare_sources(
        lux_sources(timestamps_s, lux, options), location, options, levels=levels
    )


def prepare_sources(
    sources: RoomSources,
    location: Location,
    options: TrainingOptions | None = None,
    *,
    levels: Levels | None = None,
) -> PreparedRoom:
    """Run every step of training before the HMMs; the one place they are.

    The excluded minutes are dropped from every source first, so neither
    the levels nor the on-threshold nor the models see them. Then: the
    sliding mean of the lux, the light levels (fitted, unless ``levels`` is
    given, e.g. a trained model's), on/off per minute (the daylight rule for
    lux, combined with the lights as ``sources`` describes), the zones and
    the sequences per zone. Raises ``NotEnoughData`` when there are fewer
    than ``options.min_days`` days of usable minutes.
    """
    opts = options if options is not None else TrainingOptions()
    margin = opts.window
    lux = (
        None
        if sources.lux is None
        else mask_excluded(sources.lux, sources.excluded, margin)
    )
    masked = RoomSources(
        lux,
        {
            key: mask_excluded(series, sources.excluded, margin)
            for key, series in sources.lights.items()
        },
    )
    kind = masked.kind
    smoothed = None if lux is None else smooth(lux, opts.window)
    bounds = span(masked)
    if bounds is None:
        raise NotEnoughData(0.0, opts.min_days)
    if kind == "lux" and smoothed is not None:
        start, n = smoothed.start_minute, len(smoothed)
    else:
        start, n = bounds[0], bounds[1] - bounds[0]
    # A year of minutes is half a million values per array: arrays are
    # shared rather than copied where they line up, and dropped when used.
    minutes = np.arange(start, start + n, dtype=np.int64)
    zones = zones_of_minutes(minutes, location)

    lux_grid = None
    if smoothed is not None:
        aligned = smoothed.start_minute == start and len(smoothed) == n
        lux_grid = smoothed.lux if aligned else on_grid(smoothed, start, n)
    del smoothed
    # Without a lux sensor no minute needs the sun: one NaN stands for all.
    elevation = (
        np.broadcast_to(np.float64(np.nan), (n,))
        if lux_grid is None
        else solar_elevation(minutes, location)
    )
    del minutes
    lux_on_off = None
    lux_levels = None
    if lux_grid is not None:
        if kind == "lux":
            lux_days = np.count_nonzero(np.isfinite(lux_grid)) / MINUTES_PER_DAY
            if lux_days < opts.min_days or lux_days == 0:
                raise NotEnoughData(round(lux_days, 2), opts.min_days)
        lux_levels = levels if kind == "lux" else None
        if lux_levels is None and np.isfinite(lux_grid).any():
            lux_levels = fit_levels(
                lux_grid,
                after_dark=elevation < DARK_ELEVATION_DEG,
                k=opts.n_levels,
                on_level=opts.on_level,
                on_lux=opts.on_lux,
                seed=opts.seed,
                levels_from=opts.levels_from,
            )
        if lux_levels is not None:
            lux_on_off = lamp_on_off(lux_levels, lux_grid, elevation, opts.daylight)
    # Where the unsmoothed lux is already dark: the trailing mean still
    # shows a lamp lit for a few minutes after it went off (see ``evenings``).
    raw_dark = None
    if kind == "lux" and lux is not None and lux_levels is not None:
        raw_aligned = lux.start_minute == start and len(lux) == n
        raw_lux = lux.lux if raw_aligned else on_grid(lux, start, n)
        raw_dark = lux_levels.on_off(raw_lux) == 0
        del raw_lux
    lights = None if kind == "lux" else lights_on_grid(masked, start, n)
    del masked, lux
    on_off = combine_on_off(lights, lux_on_off, lux_grid, settle=opts.window)
    evenings = None
    if raw_dark is not None:
        evenings = np.where(raw_dark & (on_off == 1), 0, on_off).astype(np.int8)
    del raw_dark

    if lights is None:
        if lux_levels is None or lux_grid is None:
            raise NotEnoughData(0.0, opts.min_days)
        room_levels = lux_levels
        level = room_levels.assign(lux_grid)
        values = lux_grid
        n_valid = int(np.count_nonzero(np.isfinite(lux_grid)))
    else:
        values = np.where(on_off >= 0, lights.value, np.nan)
        room_levels = (
            levels
            if levels is not None
            else fit_light_levels(values[on_off == 1], opts.n_levels)
        )
        level = light_levels_of(room_levels, lights.value, on_off)
        n_valid = int(np.count_nonzero(on_off >= 0))
    days = n_valid / MINUTES_PER_DAY
    if days < opts.min_days or n_valid == 0:
        raise NotEnoughData(round(days, 2), opts.min_days)

    return PreparedRoom(
        series=MinuteSeries(start, values),
        elevation=elevation,
        levels=room_levels,
        level=level,
        on_off=on_off,
        zones=zones,
        sequences=split_sequences(on_off, zones, min_length=opts.min_sequence_minutes),
        n_valid=n_valid,
        days=days,
        kind=kind,
        lights=lights,
        evenings=evenings,
    )


def fit_zone_hmm(
    zone: Zone, sequences: Sequences, options: TrainingOptions
) -> CategoricalHMM:
    """Fit a zone's HMM with the engine (``fit_best``): the default fitter."""
    return fit_best(
        sequences.X,
        sequences.lengths,
        n_components=options.n_states,
        n_restarts=options.n_restarts,
        n_iter=options.n_iter,
        tol=options.tol * sequences.n_samples,
        n_features=2,
        random_state=options.seed + int(zone),
    )


def train_room(
    room: str,
    timestamps_s: npt.ArrayLike,
    lux: npt.ArrayLike,
    location: Location,
    options: TrainingOptions | None = None,
    *,
    fit_zone: ZoneFitter | None = None,
) -> RoomModel:
    """Learn a room's lamp habits from its lux readings alone.

    ``timestamps_s`` are UTC epoch seconds. See ``train_sources``.
    """
    return train_sources(
        room,
        lux_sources(timestamps_s, lux, options),
        location,
        options,
        fit_zone=fit_zone,
    )


def train_sources(
    room: str,
    sources: RoomSources,
    location: Location,
    options: TrainingOptions | None = None,
    *,
    fit_zone: ZoneFitter | None = None,
) -> RoomModel:
    """Learn a room's habits from its sources (lux, lights or both).

    Raises ``NotEnoughData`` when there are fewer than ``options.min_days``
    days of usable minutes. ``fit_zone`` fits each zone's HMM (default
    ``fit_zone_hmm``); another fitter (the trainer's hmmlearn backend) gets
    the same sequences.
    """
    opts = options if options is not None else TrainingOptions()
    fitter = fit_zone if fit_zone is not None else fit_zone_hmm
    prepared = prepare_sources(sources, location, opts)
    levels = prepared.levels
    zones = prepared.zones
    on_off = prepared.on_off

    zone_models: dict[Zone, ZoneModel | None] = {}
    for zone in Zone:
        seqs = prepared.sequences.get(zone)
        if seqs is None:
            zone_models[zone] = None
            continue
        hmm = fitter(zone, seqs, opts)
        in_zone_on = (zones == zone) & (on_off == 1)
        counts = np.bincount(prepared.level[in_zone_on], minlength=levels.n_levels)
        present = (zones == zone) & (on_off >= 0)
        zone_models[zone] = ZoneModel(
            hmm=hmm,
            n_sequences=seqs.n_sequences,
            n_samples=seqs.n_samples,
            log_likelihood=float(hmm.score(seqs.X, seqs.lengths)),
            on_level_counts=tuple(int(c) for c in counts),
            on_fraction=float(np.count_nonzero(in_zone_on))
            / max(1, int(np.count_nonzero(present))),
            scenes=()
            if prepared.lights is None
            else zone_scenes(prepared.lights, prepared.level, zones, zone),
        )

    valid = prepared.series.valid
    minutes = prepared.series.minutes
    first = int(minutes[valid][0])
    last = int(minutes[valid][-1])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    settings: dict[str, object] = {
        key: (list(value) if isinstance(value, tuple) else value)
        for key, value in asdict(opts).items()
    }
    settings["sources"] = prepared.kind
    if prepared.kind != "lux":
        # The lights' states were learned over the whole day.
        settings["daylight"] = WHOLE_DAY
    evenings = room_evenings(prepared, location)
    return RoomModel(
        room=room,
        levels=levels,
        zones=zone_models,
        data_start=epoch + timedelta(minutes=first),
        data_end=epoch + timedelta(minutes=last + 1),
        n_samples=prepared.n_valid,
        days_of_data=round(prepared.days, 3),
        trained_at=datetime.now(UTC).replace(microsecond=0),
        settings=settings,
        lights=() if prepared.lights is None else prepared.lights.keys,
        evenings=evenings,
        evening_spreads=evening_spreads(evenings),
    )


def room_evenings(
    prepared: PreparedRoom, location: Location
) -> tuple[tuple[int, int], ...]:
    """Return the lit spans of a lux room's evenings (``bedtime.py``).

    Its evenings are its minutes after dark, where its lamp state is known.
    A room learned from its lights keeps none and samples its evening zones
    one by one: sampled to a span, an evening's "on" more often runs from
    the evening into the late evening as one interval, which keeps the
    evening's scene there (``tests/engine/test_lights.py``).
    """
    if prepared.kind != "lux":
        return ()
    return evening_spans(
        prepared.on_off if prepared.evenings is None else prepared.evenings,
        prepared.zones,
        prepared.series.minutes,
        location,
        counted=prepared.elevation < DARK_ELEVATION_DEG,
    )
