"""How real are generated nights on real houses? The per-night protocol.

The measure is ``engine/night_realism.py``: nights from 16:00 to
05:00 local, dark minutes only; the real "on" from the readings (held at
most 10 minutes, 4 K-Means levels fitted on the training nights, on above
the midpoint of the two darkest centres); components profile, minutes,
periods, bedtime (Kolmogorov-Smirnov distance of the last-on minute) and
variety; ``score`` their mean, averaged over rooms.

Protocol: each room is trained (``train_room``, default options) on the
readings before a split and nights are generated (``sample_day``, as replay
and the calendars do) for the nights after it, ``--draws`` times; they are
scored against the real held-out nights beside two baselines, a timer (dusk
to 23:00) and the same night a week earlier replayed. The copy check: the
share of generated nights nearer to a training night than the nearest 10 %
of the real held-out nights are, against the real nights' own share.

Houses and splits (the recordings live in ``<project root>/../shared/data``;
a house that is absent is skipped, saying so):

- ``opentrv-16ww`` (London, two rooms, January to April 2016, uncalibrated
  light levels): train January-February, test 1 March to 15 April; train
  January-March, test April.
- ``thingflow-lux`` (Sunnyvale, three rooms, nights of 1-3 and 18-24 July
  2016 only): train the nights before 22 July, test 22-24 July; train
  the nights before 21 July, test 21-24 July (earlier splits leave fewer
  than the 3 days a room needs to train). No night a week before a test
  night was recorded: the replay plays the same weekday three weeks earlier
  where there is one (22-24 July from 1-3 July) and leaves the others out.

The bedtime's floor: the Kolmogorov-Smirnov distance a perfect model
would still show, its real nights being as few as the held-out ones. As
many nights as the room has well-seen real ones are drawn from the
generated nights themselves and compared with all of them (``FLOOR_DRAWS``
times, the mean). With 2-3 held-out nights a room (Sunnyvale) it is about
0.4 whatever the model; with 29-46 (London) about 0.13.

The last line is ``RESULT score=... replay_score=... timer_score=...
bedtime_ks=... copy_rate=... real_copy_rate=... copy_check=...
bedtime_ks_floor=...``: the mean over the houses (each the mean of its
splits) of the model's score, the baselines' scores, the model's bedtime
component, the copy check's rates and the bedtime's floor.

Run: ``python benchmarks/realism_real.py [--draws N] [--house NAME]``.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
import os
from pathlib import Path
import time as clock

import numpy as np
import numpy.typing as npt

from lighting_replay_engine.night_realism import (
    COMPONENTS,
    compare_nights,
    copy_check,
    generated_nights,
    night_metrics,
    night_threshold,
    reading_series,
    real_nights,
    replay_nights,
    timer_nights,
)
from lighting_replay_engine.realism import ks_distance
from lighting_replay_engine.training import train_room
from lighting_replay_engine.zones import Location

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: Samples of real-sized nights drawn for the bedtime's floor.
FLOOR_DRAWS = 200


@dataclass(frozen=True)
class House:
    """A recorded house: folder, rooms, where it is and its splits."""

    folder: str
    rooms: tuple[str, ...]
    location: Location
    #: (first test night, last test night); training: the nights before.
    splits: tuple[tuple[date, date], ...]


HOUSES = (
    House(
        "opentrv-16ww",
        ("room-a", "room-b"),
        Location(51.5, -0.12, "Europe/London"),
        (
            (date(2016, 3, 1), date(2016, 4, 15)),
            (date(2016, 4, 1), date(2016, 4, 29)),
        ),
    ),
    House(
        "thingflow-lux",
        ("front-room", "back-room", "dining-room"),
        Location(37.37, -122.04, "America/Los_Angeles"),
        (
            (date(2016, 7, 22), date(2016, 7, 24)),
            (date(2016, 7, 21), date(2016, 7, 24)),
        ),
    ),
)


def read_room(path: Path) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return a room's readings: UTC epoch seconds and values."""
    times: list[float] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            times.append(float(row["timestamp"]))
            values.append(float(row["value"]))
    order = np.argsort(times, kind="stable")
    return np.asarray(times)[order], np.asarray(values)[order]


def _local_noon(day: date, location: Location) -> float:
    return datetime.combine(day, time(12), tzinfo=location.tzinfo).timestamp()


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def bedtime_floor(
    n_real: int, generated: npt.NDArray[np.float64], rng: np.random.Generator
) -> float:
    """Return the bedtime KS of a perfect model with ``n_real`` real nights.

    ``n_real`` bedtimes drawn from the generated ones, against all of them:
    what the distance is when the real nights do come from the model.
    """
    if n_real == 0 or generated.size == 0:
        return float("nan")
    return float(
        np.mean(
            [
                ks_distance(rng.choice(generated, n_real), generated)
                for _ in range(FLOOR_DRAWS)
            ]
        )
    )


def score_room(
    times: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    house: House,
    split: tuple[date, date],
    draws: int,
    seed: int,
) -> dict[str, float]:
    """Train before the split, generate after it; the figures of one room."""
    location = house.location
    first, last = split
    series = reading_series(times, values)
    data_first = datetime.fromtimestamp(float(times[0]), location.tzinfo).date()
    train_dates = _dates(data_first - timedelta(days=1), first - timedelta(days=1))
    test_dates = _dates(first, last)
    threshold = night_threshold(series, location, train_dates)
    train = real_nights(series, location, threshold, train_dates)
    real = real_nights(series, location, threshold, test_dates)
    test_dates = sorted(real)
    before = times < _local_noon(first, location)
    started = clock.perf_counter()
    model = train_room("room", times[before], values[before], location)
    train_s = clock.perf_counter() - started
    rng = np.random.default_rng(seed)
    generated = [
        generated_nights(model, test_dates, location, rng=rng) for _ in range(draws)
    ]
    out = {f"model_{k}": v for k, v in compare_nights(real, generated).items()}
    r = night_metrics(real)
    g = [night_metrics(draw) for draw in generated]
    for name, mr, mg in (
        ("minutes", r.minutes, np.concatenate([m.minutes for m in g])),
        ("periods", r.periods, np.concatenate([m.periods for m in g])),
        ("bedtime_median", r.bedtime, np.concatenate([m.bedtime for m in g])),
    ):
        agg = np.median if name.endswith("median") else np.mean
        out[f"real_{name}"] = float(agg(mr)) if mr.size else float("nan")
        out[f"gen_{name}"] = float(agg(mg)) if mg.size else float("nan")
    out["bedtime_floor"] = bedtime_floor(
        r.bedtime.size, np.concatenate([m.bedtime for m in g]), rng
    )
    out["real_variety"] = r.variety
    out["gen_variety"] = float(np.nanmean([m.variety for m in g]))
    timer = timer_nights(test_dates, location)
    out |= {f"timer_{k}": v for k, v in compare_nights(real, timer).items()}
    replay = replay_nights({**train, **real}, test_dates, location)
    replay_real = {d: real[d] for d in replay}
    out |= {f"replay_{k}": v for k, v in compare_nights(replay_real, replay).items()}
    check = copy_check(train, real, generated)
    out["copy_rate"] = check.copy_rate
    out["real_copy_rate"] = check.real_rate
    out["replay_copy_rate"] = copy_check(train, replay_real, replay).copy_rate
    out["train_s"] = train_s
    out["n_train"] = float(len(train))
    out["n_test"] = float(len(real))
    out["n_replay"] = float(len(replay))
    return out


def _fmt(result: dict[str, float], prefix: str) -> str:
    return " ".join(
        f"{c}={result[f'{prefix}_{c}']:.3f}" for c in (*COMPONENTS, "score")
    )


def main() -> None:
    """Run the protocol on every house found and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--house", action="append", default=None)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    per_house: dict[str, dict[str, float]] = {}
    for house in HOUSES:
        if args.house and house.folder not in args.house:
            continue
        folder = REAL_DATA / house.folder
        if not folder.is_dir():
            print(f"skipped {house.folder}: recordings not found at {folder}")
            continue
        readings = {room: read_room(folder / f"{room}.csv") for room in house.rooms}
        split_results: list[dict[str, float]] = []
        for split in house.splits:
            rooms: list[dict[str, float]] = []
            for i, room in enumerate(house.rooms):
                result = score_room(
                    *readings[room], house, split, args.draws, args.seed + i
                )
                rooms.append(result)
                print(
                    f"{house.folder} {split[0]}..{split[1]} {room}: "
                    f"nights train={result['n_train']:.0f} test={result['n_test']:.0f}"
                    f" replayed={result['n_replay']:.0f}; train {result['train_s']:.1f} s"
                )
                for prefix in ("model", "replay", "timer"):
                    print(f"    {prefix:6} {_fmt(result, prefix)}")
                print(
                    "    real/generated: "
                    + " ".join(
                        f"{k}={result['real_' + k]:.2f}/{result['gen_' + k]:.2f}"
                        for k in ("minutes", "periods", "bedtime_median", "variety")
                    )
                )
                print(f"    bedtime floor {result['bedtime_floor']:.3f}")
                print(
                    f"    copy: generated {result['copy_rate']:.3f} "
                    f"real {result['real_copy_rate']:.3f} "
                    f"replay {result['replay_copy_rate']:.3f}"
                )
            split_results.append(
                {k: float(np.mean([r[k] for r in rooms])) for k in rooms[0]}
            )
        mean = {
            k: float(np.mean([r[k] for r in split_results])) for k in split_results[0]
        }
        per_house[house.folder] = mean
        print(f"{house.folder} (mean of splits and rooms):")
        for prefix in ("model", "replay", "timer"):
            print(f"    {prefix:6} {_fmt(mean, prefix)}")
        print(f"    bedtime floor {mean['bedtime_floor']:.3f}")
    if not per_house:
        print("RESULT skipped=no_recordings")
        return
    total = {
        k: float(np.mean([h[k] for h in per_house.values()]))
        for k in next(iter(per_house.values()))
    }
    holds = all(h["copy_rate"] <= h["real_copy_rate"] for h in per_house.values())
    print(
        f"RESULT score={total['model_score']:.3f} "
        f"replay_score={total['replay_score']:.3f} "
        f"timer_score={total['timer_score']:.3f} "
        f"bedtime_ks={total['model_bedtime']:.3f} "
        f"copy_rate={total['copy_rate']:.3f} "
        f"real_copy_rate={total['real_copy_rate']:.3f} "
        f"copy_check={'holds' if holds else 'fails'} "
        f"bedtime_ks_floor={total['bedtime_floor']:.3f}"
    )


if __name__ == "__main__":
    main()
