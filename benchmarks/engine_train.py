"""Measure the engine's training: speed, and realism against the true lamps.

The simulator knows when each lamp was really on, so generated days can be
compared with the truth rather than with what the sensor made of it. For
several simulated households (seasons and seeds) every room is trained with
each daylight rule of the training, days are generated for the same dates,
and the realism score (``realism.compare``, lower is better) against the
true lamp days is averaged. The fixed timer and "same weekday last week"
baselines are scored the same way; the replay once from the true lamp days
(the best a replay can do) and once from the days as the sensor saw them.

Run: ``python benchmarks/engine_train.py [--quick]``. The last line is
``RESULT key=value ...``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date
import time

import numpy as np

from lighting_replay_engine.realism import (
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    real_days,
)
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.simulate import simulate_rooms
from lighting_replay_engine.training import TrainingOptions, lamp_on_off, train_room
from lighting_replay_engine.zones import Location, solar_elevation

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
SEASONS = (date(2024, 3, 4), date(2024, 6, 3), date(2024, 9, 2), date(2024, 11, 4))
#: The training's daylight rules; "keep" is what the original system did.
RULES = ("after_dark", "unknown", "off", "keep")


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one season, one seed")
    parser.add_argument("--days", type=int, default=35)
    args = parser.parse_args()
    seasons = SEASONS[2:3] if args.quick else SEASONS
    seeds = (7,) if args.quick else (7, 8)
    options = TrainingOptions(n_restarts=1, n_iter=40)

    start = time.perf_counter()
    simulate_rooms(BERLIN, date(2024, 1, 1), 90, seed=0)
    simulate_s = time.perf_counter() - start
    print(f"simulate 90 days x 3 rooms: {simulate_s:.3f} s")

    scores: dict[str, list[float]] = {rule: [] for rule in RULES}
    scores["timer"] = []
    scores["replay_truth"] = []
    scores["replay_sensor"] = []
    train_seconds: list[float] = []
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
                for rule in RULES:
                    t0 = time.perf_counter()
                    models[rule] = train_room(
                        name,
                        room.timestamps_s,
                        room.lux,
                        BERLIN,
                        replace(options, daylight=rule),
                    )
                    train_seconds.append(time.perf_counter() - t0)
                    rng = np.random.default_rng(seed)
                    generated = generate_days(models[rule], days, BERLIN, rng=rng)
                    scores[rule].append(compare(truth, generated)["score"])
                timer = baseline_fixed_timer(days, BERLIN)
                scores["timer"].append(compare(truth, timer)["score"])
                # Replaying last week, once from the true lamps (the best any
                # replay can do) and once from what the sensor showed.
                replay = baseline_same_weekday_last_week(truth, days)
                scores["replay_truth"].append(compare(truth, replay)["score"])
                smoothed = smooth(to_minute_series(room.timestamps_s, room.lux))
                elevation = solar_elevation(smoothed.minutes, BERLIN)
                seen = lamp_on_off(
                    models["after_dark"].levels, smoothed.lux, elevation, "off"
                ).astype(np.float64)
                seen[seen < 0] = np.nan
                sensor = real_days(MinuteSeries(smoothed.start_minute, seen), BERLIN)
                replay = baseline_same_weekday_last_week(sensor, days)
                scores["replay_sensor"].append(compare(truth, replay)["score"])
            print(f"season {season} seed {seed} done", flush=True)

    print("realism score against the true lamps (mean over rooms, lower is better)")
    for variant, values in scores.items():
        print(f"  {variant:14s} {np.mean(values):.3f}  (n={len(values)})")
    mean_train = float(np.mean(train_seconds))
    print(f"train one room ({args.days} days, 1 restart): {mean_train:.2f} s")
    print(
        "RESULT "
        f"simulate_90d_3rooms_s={simulate_s:.3f} "
        f"train_room_s={mean_train:.2f} "
        + " ".join(f"score_{k}={np.mean(v):.3f}" for k, v in scores.items())
    )


if __name__ == "__main__":
    main()
