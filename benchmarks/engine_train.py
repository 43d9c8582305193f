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

Run: ``python benchmarks/engine_train.py [--quick] [--held-out]``. The last
line is ``RESULT key=value ...``.
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

from lighting_replay_engine.model import RoomModel
from lighting_replay_engine.realism import (
    COMPONENTS,
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    on_off_series,
    real_days,
)
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.simulate import simulate_rooms
from lighting_replay_engine.training import TrainingOptions, train_room
from lighting_replay_engine.zones import (
    DARK_ELEVATION_DEG,
    Location,
    day_zones,
    local_clock,
    local_midnight,
    solar_elevation,
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


def _daylight_off(days: Days, location: Location) -> Days:
    """Return the days as the sensor sees them: sun above dusk counts as off."""
    out = {}
    for day, row in days.items():
        minutes = np.arange(
            local_midnight(day, location),
            local_midnight(day + timedelta(days=1), location),
        )
        wall = np.clip(local_clock(minutes, location)[2], 0, 1439)
        seen = np.asarray(row, dtype=np.float64).copy()
        seen[wall[solar_elevation(minutes, location) >= DARK_ELEVATION_DEG]] = 0.0
        out[day] = seen
    return out


def _score(
    real: Days,
    model: RoomModel,
    location: Location,
    draws: int,
    *,
    sensor_view: bool = False,
) -> dict[str, float]:
    """Return the mean distances of ``draws`` generated sets of the real days."""
    results = []
    for draw in range(draws):
        rng = np.random.default_rng(draw)
        generated = generate_days(model, sorted(real), location, rng=rng)
        if sensor_view:
            generated = _daylight_off(generated, location)
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
                _score(real, model, SUNNYVALE, 20, sensor_view=True)
            )
            scores["timer_sensor_view"].append(
                compare(real, _daylight_off(timer, SUNNYVALE))
            )
    return {name: _mean(values) for name, values in scores.items()}


def _print_held_out(title: str, results: dict[str, dict[str, float]]) -> None:
    """Print the distances of each method, one line each."""
    print(title)
    for method, distances in results.items():
        parts = " ".join(f"{k}={distances[k]:.3f}" for k in KEYS)
        print(f"  {method:18s} {parts}")


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one season, one seed")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument(
        "--held-out", action="store_true", help="score days not learned from"
    )
    args = parser.parse_args()
    seasons = SEASONS[2:3] if args.quick else SEASONS
    seeds = (7,) if args.quick else (7, 8)
    options = TrainingOptions(n_restarts=1, n_iter=40)

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
