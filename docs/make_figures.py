# ruff: noqa: INP001, T201
"""Draw the README's figure: a real day of a room and days generated for it.

    .venv/bin/python docs/make_figures.py            # real recordings if present
    .venv/bin/python docs/make_figures.py --simulated

With the real recordings (``../shared/data/thingflow-lux`` beside the
project; not part of the project, only the figure is kept) the back room of
that house is learned and one of its recorded days is drawn against days
the model generated for the same date. Without them (or with
``--simulated``) the simulated living room of the engine's household
simulator takes its place. Writes ``docs/images/real-and-generated-day.png``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
import numpy as np

from lighting_replay_engine.realism import real_days
from lighting_replay_engine.schedule import sample_day
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.simulate import simulate_household
from lighting_replay_engine.training import lamp_on_off, train_room
from lighting_replay_engine.zones import Location, day_zones, solar_elevation
from lighting_replay_trainer.sources import read_csv

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "thingflow-lux"
OUTPUT = ROOT / "docs" / "images" / "real-and-generated-day.png"
GENERATED = 3
_ON, _OFF, _MISSING = "#f2b134", "#24324f", "#d9d9d9"


@dataclass(frozen=True)
class Room:
    """Readings of the room the figure shows."""

    title: str
    location: Location
    timestamps_s: np.ndarray
    lux: np.ndarray
    day: date


def real_room() -> Room:
    """Return the back room of the recorded house (Sunnyvale, July 2016)."""
    readings = read_csv([REAL_DATA], rooms={"1": "dining-room"})
    room = readings.rooms["back-room"]
    return Room(
        title="Back room of a real house (recorded July 2016)",
        location=Location(37.37, -122.04, "America/Los_Angeles"),
        timestamps_s=room.timestamps_s,
        lux=room.lux,
        day=date(2016, 7, 22),
    )


def simulated_room() -> Room:
    """Return the living room of the engine's simulated household."""
    location = Location(52.37, 4.90, "Europe/Amsterdam")
    timestamps, lux = simulate_household(location, date(2026, 1, 5), 28, seed=1)[
        "living_room"
    ]
    return Room(
        title="Simulated living room",
        location=location,
        timestamps_s=timestamps,
        lux=lux,
        day=date(2026, 1, 27),
    )


def _hours(day: date, location: Location, minutes: np.ndarray) -> np.ndarray:
    """Return epoch minutes as hours after the day's local midnight."""
    midnight = datetime.combine(day, time(0), tzinfo=location.tzinfo)
    return (minutes * 60.0 - midnight.timestamp()) / 3600.0


def _bar(ax: object, y: float, on: np.ndarray) -> None:
    """Draw a day of 1440 minutes (1 on, 0 off, NaN missing) as one bar."""
    colours = np.where(np.isnan(on), 2, on).astype(int)
    edges = np.flatnonzero(np.diff(colours)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [on.size]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        colour = (_OFF, _ON, _MISSING)[colours[start]]
        ax.broken_barh(  # type: ignore[attr-defined]
            [(start / 60.0, (end - start) / 60.0)], (y - 0.35, 0.7), color=colour
        )


def draw(room: Room, output: Path) -> Path:
    """Learn the room, then draw its real day and generated days."""
    model = train_room("room", room.timestamps_s, room.lux, room.location)
    series = smooth(to_minute_series(room.timestamps_s, room.lux))
    # What the model learns from: the lamp state after dark; while the sun
    # is up the lux cannot tell a lamp from daylight.
    state = lamp_on_off(
        model.levels, series.lux, solar_elevation(series.minutes, room.location)
    ).astype(np.float64)
    state[state < 0] = np.nan
    days = real_days(MinuteSeries(series.start_minute, state), room.location)
    real = days[room.day]
    rng = np.random.default_rng(7)
    generated = [
        sample_day(model, room.day, room.location, rng=rng).on_minutes()[:1440]
        for _ in range(GENERATED)
    ]

    fig = Figure(figsize=(9.0, 5.2), dpi=110)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [1.5, 1.2]}
    )
    zones = day_zones(room.day, room.location)
    sunset = _hours(room.day, room.location, np.array([zones.sunset.timestamp() / 60]))
    for ax in (top, bottom):
        ax.axvline(float(sunset[0]), color="#888888", lw=0.8, ls="--")
    lo = int(
        datetime.combine(room.day, time(0), room.location.tzinfo).timestamp() // 60
    )
    part = (series.minutes >= lo) & (series.minutes < lo + 1440)
    hours = _hours(room.day, room.location, series.minutes[part])
    top.plot(hours, series.lux[part], color="#3a6ea5", lw=1.0)
    on_lux = model.levels.on_lux
    top.axhline(on_lux, color=_ON, lw=1.2)
    top.set_yscale("symlog", linthresh=10)
    top.set_ylim(bottom=-1)
    top.set_ylabel("lux (smoothed)")
    top.set_title(f"{room.title}: {room.day:%A %d %B %Y}", loc="left", fontsize=11)
    top.text(0.3, on_lux * 1.15, f"lights-on threshold {on_lux:.0f} lx", fontsize=8)
    top.text(float(sunset[0]) + 0.1, top.get_ylim()[1] * 0.5, "sunset", fontsize=8)

    rows = [("recorded", np.asarray(real, dtype=float))]
    rows += [
        (f"generated {i + 1}", np.asarray(day, dtype=float))
        for i, day in enumerate(generated)
    ]
    for i, (_label, values) in enumerate(rows):
        _bar(bottom, len(rows) - 1 - i, values)
    bottom.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    bottom.set_xlim(0, 24)
    bottom.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    bottom.set_xlabel("local time")
    bottom.legend(
        handles=[
            Patch(color=_ON, label="lights on"),
            Patch(color=_OFF, label="off"),
            Patch(color=_MISSING, label="unknown (daylight or no reading)"),
        ],
        loc="upper left",
        fontsize=8,
        ncols=3,
    )
    bottom.set_ylim(-0.6, len(rows) + 0.4)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    return output


def main() -> int:
    """Draw the figure from the real recordings, or simulated ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulated", action="store_true")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    use_real = REAL_DATA.is_dir() and not args.simulated
    room = real_room() if use_real else simulated_room()
    print(f"wrote {draw(room, args.output)} ({room.title})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
