"""Measure the engine's training: speed, and realism against the true lamps.

The simulator knows when each lamp was really on, so generated days can be
compared with the truth rather than with what the sensor made of it. For
several simulated households (seasons and seeds) every room is trained with
each variant of the training (daylight rules, light levels), days are
generated for the same dates, and the realism score (``realism.compare``, lower is better) against the
true lamp days is averaged. The fixed timer and "same weekday last week"
baselines are scored the same way; the replay once from the true lamp days
(the best a replay can do) and once from the days as the sensor saw them.

Held-out days (``--held-out``): the score of days generated for days the
model did not learn from. Simulated: 28 days learned, the next 14 scored
against the true lamps (4 seasons x 4 households, 5 draws). Real (the July
2016 recordings in ``<project root>/../shared/data``, skipped if absent):
three folds, each learning 7 of the 10 recorded days and scoring the other 3
(20 draws). The real days are the sensor's view (daylight counts as off), so
they are scored twice: as the trainer's ``evaluate`` does, and with the
generated and timer days seen the same way (minutes with the sun above
civil dusk count as off), which compares like with like.

Zone boundaries: of all on/off changes, the share that falls exactly on a
zone boundary minute (e.g. 21:30, where the evening ends), and how many
times more changes that minute sees than each minute within 10 of it
(about 1 when a boundary is like any other minute), for the generated days
(``after_dark`` models) and the true lamps; with the recordings also for
the three real rooms (all 10 days learned, 10 draws) and their real days.

Sources (``--sources``): every simulated room (4 seasons x 2 households)
trained from its lux only, its lights' own states only, and both, scored
over the whole day against the true lamps, beside the fixed timer; in three
cases: every lamp a smart light with a complete history (``complete``),
the lights' history with gaps (each light "unavailable" for a few hours now
and then and for two whole days: ``gaps``), and one lamp of each room with
two not smart (the sensor sees it, the lights do not: ``not_smart``).
Scenes: per zone, the total variation distance between the share of lit
minutes with each set of lights on, generated (scene model) against the
truth, and the same for switching every light at once (``all_on``).

Trip (``--trip``): households (4 seasons x 3 seeds, 8 weeks) once at home
and once away for 5 days; the absent days found (``absence.absent_days``,
all rooms learned from lights, lux or both) against the trip days, and the
days found absent that were not away.

Run: ``python benchmarks/engine_train.py [--quick] [--held-out]``, or with
``--sources`` and/or ``--trip`` for those measurements alone. The last line
is ``RESULT key=value ...``.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
import time

import numpy as np
import numpy.typing as npt

from lighting_replay_engine.absence import absent_days
from lighting_replay_engine.model import RoomModel
from lighting_replay_engine.realism import (
    COMPONENTS,
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    on_off_series,
    real_days,
    sensor_view,
)
from lighting_replay_engine.schedule import sample_day
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.simulate import SimulatedRoom, simulate_rooms
from lighting_replay_engine.sources import SOURCE_KINDS, RoomSources
from lighting_replay_engine.training import (
    TrainingOptions,
    lux_sources,
    prepare_sources,
    train_room,
    train_sources,
)
from lighting_replay_engine.zones import (
    Location,
    Zone,
    day_zones,
    epoch_minute,
    local_midnight,
    zones_of_minutes,
)

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
SEASONS = (date(2024, 3, 4), date(2024, 6, 3), date(2024, 9, 2), date(2024, 11, 4))
#: The training's variants: its daylight rules ("keep" is what the original
#: system did) and, with the default rule, light levels fitted to all
#: readings as the original did ("levels_all") instead of those after dark.
VARIANTS: dict[str, dict[str, str]] = {
    "after_dark": {},
    "unknown": {"daylight": "unknown"},
    "off": {"daylight": "off"},
    "keep": {"daylight": "keep"},
    "levels_all": {"levels_from": "all"},
}
SUNNYVALE = Location(37.37, -122.04, "America/Los_Angeles")
REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
REAL_ROOMS = ("front-room", "back-room", "dining-room")
#: The recorded local days; each fold scores three and learns the others.
REAL_DAYS = tuple(date(2016, 7, d) for d in (1, 2, 3, 18, 19, 20, 21, 22, 23, 24))
REAL_FOLDS = ((22, 23, 24), (18, 19, 20), (1, 2, 3))
KEYS = (*COMPONENTS, "score")
#: Minutes either side of a zone boundary that give its neighbours' rate.
NEAR_BOUNDARY = 10

type Days = dict[date, npt.NDArray[np.float64]]


def _mean(results: list[dict[str, float]]) -> dict[str, float]:
    """Return the mean of each distance."""
    return {key: float(np.mean([r[key] for r in results])) for key in KEYS}


def boundary_changes(days: Days, location: Location) -> npt.NDArray[np.int64]:
    """Count on/off changes: [at a zone boundary, within 10 of one, all].

    A change is at minute ``m`` when the state of ``m`` differs from that of
    ``m - 1`` (both known); the boundaries are the starts of the day's
    ``DAY``, ``EVENING`` and ``LATE_EVENING`` zones (wall clock).
    """
    counts = np.zeros(3, dtype=np.int64)
    for day, row in days.items():
        values = np.asarray(row, dtype=np.float64)
        known = np.isfinite(values[1:]) & np.isfinite(values[:-1])
        changes = np.flatnonzero(known & (values[1:] != values[:-1])) + 1
        counts[2] += changes.size
        for bound in day_zones(day, location).bounds[1:4]:
            minute = bound.hour * 60 + bound.minute
            distance = np.abs(changes - minute)
            counts[0] += int(np.sum(distance == 0))
            counts[1] += int(np.sum((distance > 0) & (distance <= NEAR_BOUNDARY)))
    return counts


def boundary_figures(counts: npt.NDArray[np.int64]) -> tuple[float, float]:
    """Return (share of changes at a boundary, ratio to the minutes near it)."""
    share = float(counts[0] / max(int(counts[2]), 1))
    per_minute = counts[1] / (2 * NEAR_BOUNDARY)
    ratio = float(counts[0] / per_minute) if per_minute else float("nan")
    return share, ratio


def boundaries_real(options: TrainingOptions) -> dict[str, npt.NDArray[np.int64]]:
    """Count boundary changes of the real days and of days generated for them."""
    counts = {"real": np.zeros(3, np.int64), "generated": np.zeros(3, np.int64)}
    if not (REAL_DATA / "thingflow-lux").is_dir():
        return counts
    for room in REAL_ROOMS:
        times, lux = _read_room(room)
        model = train_room(room, times, lux, SUNNYVALE, options)
        smoothed = smooth(to_minute_series(times, lux))
        real = real_days(on_off_series(model.levels, smoothed, SUNNYVALE), SUNNYVALE)
        counts["real"] += boundary_changes(real, SUNNYVALE)
        for draw in range(10):
            rng = np.random.default_rng(draw)
            generated = generate_days(model, sorted(real), SUNNYVALE, rng=rng)
            counts["generated"] += boundary_changes(generated, SUNNYVALE)
    return counts


def _print_boundaries(title: str, counts: npt.NDArray[np.int64]) -> None:
    """Print the boundary figures of one set of days."""
    share, ratio = boundary_figures(counts)
    print(
        f"  {title:26s} {100 * share:5.2f}% of {int(counts[2])} changes"
        f" at a boundary, {ratio:.2f}x the minutes near it"
    )


def _score(
    real: Days,
    model: RoomModel,
    location: Location,
    draws: int,
    *,
    as_sensor: bool = False,
) -> dict[str, float]:
    """Return the mean distances of ``draws`` generated sets of the real days.

    With ``as_sensor`` the generated days are seen as a lux sensor sees them.
    """
    results = []
    for draw in range(draws):
        rng = np.random.default_rng(draw)
        generated = generate_days(model, sorted(real), location, rng=rng)
        if as_sensor:
            generated = sensor_view(generated, location)
        results.append(compare(real, generated))
    return _mean(results)


def held_out_simulated(options: TrainingOptions) -> dict[str, dict[str, float]]:
    """Learn 28 simulated days, score the next 14 against the true lamps.

    Also with the light levels fitted to all readings (``model_levels_all``).
    """
    model_scores, levels_all_scores, timer_scores = [], [], []
    for season in SEASONS:
        for seed in (7, 8, 9, 10):
            house = simulate_rooms(BERLIN, season, 42, seed=seed)
            first_test = season + timedelta(days=28)
            cut_s = local_midnight(first_test, BERLIN) * 60.0
            for name, room in house.items():
                learn = room.timestamps_s < cut_s
                model = train_room(
                    name, room.timestamps_s[learn], room.lux[learn], BERLIN, options
                )
                lamps = MinuteSeries(room.start_minute, room.lamp_on.astype(float))
                truth = {
                    d: v for d, v in real_days(lamps, BERLIN).items() if d >= first_test
                }
                model_scores.append(_score(truth, model, BERLIN, 5))
                levels_all = train_room(
                    name,
                    room.timestamps_s[learn],
                    room.lux[learn],
                    BERLIN,
                    replace(options, levels_from="all"),
                )
                levels_all_scores.append(_score(truth, levels_all, BERLIN, 5))
                timer = baseline_fixed_timer(sorted(truth), BERLIN)
                timer_scores.append(compare(truth, timer))
    return {
        "model": _mean(model_scores),
        "model_levels_all": _mean(levels_all_scores),
        "timer": _mean(timer_scores),
    }


def _read_room(
    room: str,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return (UTC epoch seconds, lux) of a real recording (every row)."""
    times, values = [], []
    path = REAL_DATA / "thingflow-lux" / f"{room}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            times.append(float(row["timestamp"]))
            values.append(float(row["value"]))
    return np.asarray(times), np.asarray(values)


def held_out_real(options: TrainingOptions) -> dict[str, dict[str, float]] | None:
    """Learn 7 recorded days, score the 3 others; three folds, three rooms."""
    if not (REAL_DATA / "thingflow-lux").is_dir():
        return None
    scores: dict[str, list[dict[str, float]]] = {
        "model": [],
        "timer": [],
        "model_sensor_view": [],
        "timer_sensor_view": [],
    }
    tz = SUNNYVALE.tzinfo
    for room in REAL_ROOMS:
        times, lux = _read_room(room)
        local_day = np.array([datetime.fromtimestamp(t, tz).date() for t in times])
        smoothed = smooth(to_minute_series(times, lux))
        for fold in REAL_FOLDS:
            test_days = [date(2016, 7, d) for d in fold]
            learn_days = set(REAL_DAYS) - set(test_days)
            learn = np.array([d in learn_days for d in local_day])
            model = train_room(room, times[learn], lux[learn], SUNNYVALE, options)
            real_all = real_days(
                on_off_series(model.levels, smoothed, SUNNYVALE), SUNNYVALE
            )
            real = {d: real_all[d] for d in test_days if d in real_all}
            timer = baseline_fixed_timer(sorted(real), SUNNYVALE)
            scores["model"].append(_score(real, model, SUNNYVALE, 20))
            scores["timer"].append(compare(real, timer))
            scores["model_sensor_view"].append(
                _score(real, model, SUNNYVALE, 20, as_sensor=True)
            )
            scores["timer_sensor_view"].append(
                compare(real, sensor_view(timer, SUNNYVALE))
            )
    return {name: _mean(values) for name, values in scores.items()}


def _print_held_out(title: str, results: dict[str, dict[str, float]]) -> None:
    """Print the distances of each method, one line each."""
    print(title)
    for method, distances in results.items():
        parts = " ".join(f"{k}={distances[k]:.3f}" for k in KEYS)
        print(f"  {method:18s} {parts}")


#: The cases of the lights' history (see the module's docstring).
SOURCE_CASES = ("complete", "gaps", "not_smart")


def _light_gaps(
    values: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Return a light's history with gaps: hours and two days "unavailable"."""
    out = values.copy()
    n = out.size
    for _ in range(int(rng.poisson(0.15 * n / 1440))):
        first = int(rng.integers(0, n))
        out[first : first + int(rng.integers(120, 720))] = np.nan
    for _ in range(2):
        first = int(rng.integers(0, max(1, n - 1440)))
        out[first : first + 1440] = np.nan
    return out


def _case_sources(
    room: SimulatedRoom, case: str, kind: str, rng: np.random.Generator
) -> RoomSources:
    """Return a room's sources of one kind in one case of its lights' history."""
    lux = lux_sources(room.timestamps_s, room.lux).lux
    keys = sorted(room.lights)
    if case == "not_smart" and len(keys) > 1:
        keys = keys[:1]  # the other lamp is plain: only the sensor sees it
    lights = {}
    for key in keys:
        values = room.lights[key]
        if case == "gaps":
            values = _light_gaps(values, rng)
        lights[key] = MinuteSeries(room.start_minute, values)
    if kind == "lux":
        return RoomSources(lux=lux)
    if kind == "lights":
        return RoomSources(lights=lights)
    return RoomSources(lux=lux, lights=lights)


def _patterns(
    minutes: npt.NDArray[np.int64], lit: npt.NDArray[np.int64]
) -> dict[int, npt.NDArray[np.float64]]:
    """Return per zone the minutes of each set of lights on (bit patterns)."""
    zones = zones_of_minutes(minutes, BERLIN)
    out = {}
    for zone in Zone:
        here = lit[(zones == int(zone)) & (lit > 0)]
        out[int(zone)] = np.bincount(here, minlength=64).astype(np.float64)
    return out


def _total_variation(
    truth: dict[int, npt.NDArray[np.float64]],
    other: dict[int, npt.NDArray[np.float64]],
) -> list[float]:
    """Return the distance per zone the truth has at least an hour lit in."""
    out = []
    for zone, counts in truth.items():
        if counts.sum() < 60 or other[zone].sum() == 0:
            continue
        p, q = counts / counts.sum(), other[zone] / other[zone].sum()
        out.append(0.5 * float(np.abs(p - q).sum()))
    return out


def scene_distances(
    room: SimulatedRoom, model: RoomModel, days: list[date], seed: int
) -> tuple[list[float], list[float]]:
    """Return per zone the scene model's and the all-on baseline's distance."""
    keys = model.lights
    bits = 1 << np.arange(len(keys))
    true_lit = (np.vstack([room.lights[k] for k in keys]).T > 0).astype(np.int64) @ bits
    true_minutes = room.start_minute + np.arange(true_lit.size)
    truth = _patterns(true_minutes, true_lit)
    rng = np.random.default_rng(seed)
    minutes, lit = [], []
    for day in days:
        for iv in sample_day(model, day, BERLIN, rng=rng).intervals:
            first, end = epoch_minute(iv.start), epoch_minute(iv.end)
            scene = np.asarray(iv.scene if iv.scene is not None else [100] * len(keys))
            minutes.append(np.arange(first, end))
            lit.append(np.full(end - first, int((scene > 0).astype(np.int64) @ bits)))
    gen_minutes = np.concatenate(minutes) if minutes else np.zeros(0, np.int64)
    gen_lit = np.concatenate(lit) if lit else np.zeros(0, np.int64)
    all_on = np.full(gen_lit.size, int(bits.sum()))
    return (
        _total_variation(truth, _patterns(gen_minutes, gen_lit)),
        _total_variation(truth, _patterns(gen_minutes, all_on)),
    )


def sources_benchmark(
    seasons: tuple[date, ...], seeds: tuple[int, ...], days_n: int
) -> dict[str, float]:
    """Score rooms learned from lux, lights and both; and the scenes."""
    options = TrainingOptions(n_restarts=1, n_iter=40)
    scores: dict[str, list[float]] = {
        f"{case}_{kind}": [] for case in SOURCE_CASES for kind in SOURCE_KINDS
    }
    per_room: dict[str, list[float]] = {}
    scores["timer"] = []
    scene_tv: list[float] = []
    scene_tv_all_on: list[float] = []
    for season in seasons:
        for seed in seeds:
            house = simulate_rooms(BERLIN, season, days_n, seed=seed)
            for index, (name, room) in enumerate(house.items()):
                lamps = MinuteSeries(room.start_minute, room.lamp_on.astype(float))
                truth = real_days(lamps, BERLIN)
                days = sorted(truth)
                scores["timer"].append(
                    compare(truth, baseline_fixed_timer(days, BERLIN))["score"]
                )
                for case in SOURCE_CASES:
                    for kind in SOURCE_KINDS:
                        if case != "complete" and kind == "lux":
                            scores[f"{case}_{kind}"].append(
                                scores[f"complete_{kind}"][-1]
                            )
                            continue
                        rng = np.random.default_rng([seed, index, 99])
                        sources = _case_sources(room, case, kind, rng)
                        model = train_sources(name, sources, BERLIN, options)
                        generated = generate_days(
                            model, days, BERLIN, rng=np.random.default_rng(seed)
                        )
                        score = compare(truth, generated)["score"]
                        scores[f"{case}_{kind}"].append(score)
                        per_room.setdefault(f"{case}_{kind}_{name}", []).append(score)
                        if case == "complete" and kind == "lights":
                            if len(model.lights) > 1:
                                tv, tv_all = scene_distances(room, model, days, seed)
                                scene_tv.extend(tv)
                                scene_tv_all_on.extend(tv_all)
            print(f"sources: season {season} seed {seed} done", flush=True)
    print("realism over the whole day against the true lamps (lower is better)")
    for case in SOURCE_CASES:
        parts = " ".join(
            f"{kind}={np.mean(scores[f'{case}_{kind}']):.3f}" for kind in SOURCE_KINDS
        )
        print(f"  {case:10s} {parts}")
    print(f"  fixed timer {np.mean(scores['timer']):.3f}")
    print("per room (mean over seasons and households)")
    for key, values in per_room.items():
        print(f"  {key:28s} {np.mean(values):.3f}")
    print(
        "scenes: total variation of the lit lights' mix per zone"
        f" (rooms with 2 lights, {len(scene_tv)} zones):"
        f" scene model {np.mean(scene_tv):.3f}, all lights at once"
        f" {np.mean(scene_tv_all_on):.3f}"
    )
    result = {key: float(np.mean(values)) for key, values in scores.items()}
    result["scene_tv"] = float(np.mean(scene_tv))
    result["scene_tv_all_on"] = float(np.mean(scene_tv_all_on))
    return result


def _room_on_off(room: SimulatedRoom, kind: str) -> MinuteSeries:
    """Return a room's on/off per minute (1/0/NaN) as it learns it."""
    options = TrainingOptions(n_restarts=1, n_iter=40)
    sources = _case_sources(room, "complete", kind, np.random.default_rng(0))
    prepared = prepare_sources(sources, BERLIN, options)
    values = prepared.on_off.astype(np.float64)
    values[values < 0] = np.nan
    return MinuteSeries(prepared.series.start_minute, values)


def trip_benchmark(
    seasons: tuple[date, ...], seeds: tuple[int, ...]
) -> dict[str, tuple[int, int, int]]:
    """Return per kind: (trip days found, trip days, normal days found absent)."""
    out: dict[str, list[int]] = {kind: [0, 0, 0] for kind in SOURCE_KINDS}
    normal_days = 0
    for season in seasons:
        for seed in seeds:
            trip = tuple(season + timedelta(days=24 + i) for i in range(5))
            for away in ((), trip):
                house = simulate_rooms(BERLIN, season, 56, seed=seed, away=away)
                normal_days += 56 - len(away)
                for kind in SOURCE_KINDS:
                    rooms = [_room_on_off(room, kind) for room in house.values()]
                    found = {
                        datetime.fromtimestamp(first * 60 + 43200, BERLIN.tzinfo).date()
                        for first, _ in absent_days(rooms, BERLIN)
                    }
                    out[kind][0] += len(found & set(away))
                    out[kind][1] += len(away)
                    out[kind][2] += len(found - set(away))
    print(f"trip: 5 days away, {normal_days} days at home")
    for kind, (found, total, false) in out.items():
        print(
            f"  from {kind:6s} trip days found {found}/{total},"
            f" normal days found absent {false}"
        )
    return {kind: (v[0], v[1], v[2]) for kind, v in out.items()}


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one season, one seed")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument(
        "--held-out", action="store_true", help="score days not learned from"
    )
    parser.add_argument(
        "--sources", action="store_true", help="lux, lights or both; and scenes"
    )
    parser.add_argument("--trip", action="store_true", help="absent days found")
    args = parser.parse_args()
    seasons = SEASONS[2:3] if args.quick else SEASONS
    seeds = (7,) if args.quick else (7, 8)
    options = TrainingOptions(n_restarts=1, n_iter=40)
    if args.sources or args.trip:
        parts: list[str] = []
        if args.sources:
            r = sources_benchmark(seasons, seeds, args.days)
            parts += [f"{k}={r[f'complete_{k}']:.3f}" for k in SOURCE_KINDS]
            parts.append(f"timer={r['timer']:.3f}")
            parts += [
                f"{case}_{k}={r[f'{case}_{k}']:.3f}"
                for case in SOURCE_CASES[1:]
                for k in ("lights", "both")
            ]
            parts.append(f"scene_tv={r['scene_tv']:.3f}")
            parts.append(f"scene_tv_all_on={r['scene_tv_all_on']:.3f}")
        if args.trip:
            t = trip_benchmark(seasons, (1, 2, 3) if not args.quick else (1,))
            for kind, (found, total, false) in t.items():
                parts.append(f"trip_found_{kind}={found}/{total}")
                parts.append(f"false_absent_{kind}={false}")
        print("RESULT " + " ".join(parts))
        return

    start = time.perf_counter()
    simulate_rooms(BERLIN, date(2024, 1, 1), 90, seed=0)
    simulate_s = time.perf_counter() - start
    print(f"simulate 90 days x 3 rooms: {simulate_s:.3f} s")

    scores: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    scores["timer"] = []
    scores["replay_truth"] = []
    scores["replay_sensor"] = []
    train_seconds: list[float] = []
    boundaries = {"true": np.zeros(3, np.int64), "generated": np.zeros(3, np.int64)}
    for season in seasons:
        for seed in seeds:
            house = simulate_rooms(BERLIN, season, args.days, seed=seed)
            for name, room in house.items():
                truth_series = MinuteSeries(
                    room.start_minute, room.lamp_on.astype(np.float64)
                )
                truth = real_days(truth_series, BERLIN)
                days = sorted(truth)
                models = {}
                for variant, changes in VARIANTS.items():
                    t0 = time.perf_counter()
                    models[variant] = train_room(
                        name,
                        room.timestamps_s,
                        room.lux,
                        BERLIN,
                        replace(options, **changes),
                    )
                    train_seconds.append(time.perf_counter() - t0)
                    rng = np.random.default_rng(seed)
                    generated = generate_days(models[variant], days, BERLIN, rng=rng)
                    scores[variant].append(compare(truth, generated)["score"])
                    if variant == "after_dark":
                        boundaries["generated"] += boundary_changes(generated, BERLIN)
                boundaries["true"] += boundary_changes(truth, BERLIN)
                timer = baseline_fixed_timer(days, BERLIN)
                scores["timer"].append(compare(truth, timer)["score"])
                # Replaying last week, once from the true lamps (the best any
                # replay can do) and once from what the sensor showed.
                replay = baseline_same_weekday_last_week(truth, days)
                scores["replay_truth"].append(compare(truth, replay)["score"])
                smoothed = smooth(to_minute_series(room.timestamps_s, room.lux))
                seen = on_off_series(models["after_dark"].levels, smoothed, BERLIN)
                sensor = real_days(seen, BERLIN)
                replay = baseline_same_weekday_last_week(sensor, days)
                scores["replay_sensor"].append(compare(truth, replay)["score"])
            print(f"season {season} seed {seed} done", flush=True)

    print("realism score against the true lamps (mean over rooms, lower is better)")
    for variant, values in scores.items():
        print(f"  {variant:14s} {np.mean(values):.3f}  (n={len(values)})")
    mean_train = float(np.mean(train_seconds))
    print(f"train one room ({args.days} days, 1 restart): {mean_train:.2f} s")
    real_boundaries = boundaries_real(TrainingOptions(n_restarts=1))
    print("on/off changes exactly at a zone boundary minute")
    _print_boundaries("simulated, true lamps", boundaries["true"])
    _print_boundaries("simulated, generated", boundaries["generated"])
    if real_boundaries["real"][2]:
        _print_boundaries("real rooms, real days", real_boundaries["real"])
        _print_boundaries("real rooms, generated", real_boundaries["generated"])
    boundary_keys = {
        "sim_true": boundaries["true"],
        "sim_generated": boundaries["generated"],
        "real": real_boundaries["real"],
        "real_generated": real_boundaries["generated"],
    }
    held_out: dict[str, float] = {}
    if args.held_out:
        simulated = held_out_simulated(options)
        _print_held_out("held-out simulated days (against the true lamps)", simulated)
        held_out["held_out_sim"] = simulated["model"]["score"]
        held_out["held_out_sim_timer"] = simulated["timer"]["score"]
        held_out["held_out_sim_levels_all"] = simulated["model_levels_all"]["score"]
        real = held_out_real(options)
        if real is None:
            print(f"held-out real days: no recordings at {REAL_DATA}")
        else:
            _print_held_out("held-out real days (3 folds x 3 rooms)", real)
            for method, distances in real.items():
                held_out[f"held_out_real_{method}"] = distances["score"]
    print(
        "RESULT "
        f"simulate_90d_3rooms_s={simulate_s:.3f} "
        f"train_room_s={mean_train:.2f} "
        + " ".join(f"score_{k}={np.mean(v):.3f}" for k, v in scores.items())
        + "".join(f" score_{k}={v:.3f}" for k, v in held_out.items())
        + "".join(
            f" boundary_share_{k}={boundary_figures(v)[0]:.4f}"
            for k, v in boundary_keys.items()
            if v[2]
        )
    )


if __name__ == "__main__":
    main()
