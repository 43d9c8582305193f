"""Figures of a room: raw and smoothed lux, levels, on/off days, a predicted week.

Figures are drawn on plain matplotlib `Figure` objects with the Agg canvas,
never through pyplot, so nothing needs a display and nothing global changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
import re

import matplotlib as mpl
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
import numpy as np
import numpy.typing as npt

from lighting_replay_engine.levels import Levels, fit_levels
from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.realism import on_off_series, real_days
from lighting_replay_engine.schedule import DaySchedule
from lighting_replay_engine.series import MinuteSeries, smooth, to_minute_series
from lighting_replay_engine.zones import Location, after_dark, day_zones

from .progress import progress
from .schedules import sample_schedules
from .sources import Readings

DPI = 100
_OFF, _ON, _MISSING = "#1f2a44", "#f2c14e", "#d0d0d0"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class RoomData:
    """What the figures of one room show."""

    room: str
    timestamps_s: npt.NDArray[np.float64]
    lux: npt.NDArray[np.float64]
    smoothed: MinuteSeries
    levels: Levels
    days: Mapping[date, npt.NDArray[np.float64]]
    """Real on/off per local day: 1440 minutes, 1 on, 0 off, NaN missing."""


def file_stem(room: str) -> str:
    """Return a file name part for a room."""
    return _SAFE.sub("_", room).strip("._") or "room"


def _time_axis(ax: Axes, location: Location) -> None:
    """Label a date axis in the home's local time."""
    # matplotlib.dates has no type annotations.
    locator = mdates.AutoDateLocator(tz=location.tzinfo)  # type: ignore[no-untyped-call]
    formatter = mdates.ConciseDateFormatter(locator, tz=location.tzinfo)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)


def _save(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG."""
    FigureCanvasAgg(fig)  # draw with Agg whatever pyplot's backend is
    fig.savefig(path, format="png", dpi=DPI)
    return path


def plot_lux(data: RoomData, location: Location, path: Path) -> Path:
    """Raw readings over time, and the smoothed minute series below."""
    fig = Figure(figsize=(12, 6), layout="constrained")
    raw_ax, smooth_ax = fig.subplots(2, 1, sharex=True)
    raw_x = _x_of_seconds(data.timestamps_s)
    raw_ax.plot(raw_x, data.lux, ".", markersize=1.5, color="#4c72b0")
    raw_ax.set_ylabel("lux (raw)")
    title = f"{data.room}: lux readings"
    finite = data.lux[np.isfinite(data.lux)]
    if finite.size:
        # A few absurd spikes (bus glitches) would flatten everything else.
        top = float(np.percentile(finite, 99.9))
        spikes = int(np.count_nonzero(finite > 1.5 * top))
        if top > 0 and spikes:
            raw_ax.set_ylim(min(0.0, float(finite.min())), 1.2 * top)
            title += f" ({spikes} spikes above {1.2 * top:.0f} lx not shown)"
    raw_ax.set_title(title)
    series = data.smoothed
    smooth_x = _x_of_seconds(series.minutes.astype(np.float64) * 60.0)
    smooth_ax.plot(smooth_x, series.lux, "-", linewidth=0.8, color="#dd8452")
    smooth_ax.set_yscale("symlog", linthresh=10.0)
    smooth_ax.set_ylim(bottom=0.0)
    smooth_ax.set_ylabel("lux (smoothed)")
    _time_axis(smooth_ax, location)
    return _save(fig, path)


def plot_levels(data: RoomData, location: Location, path: Path) -> Path:
    """Smoothed lux coloured by level, with the level centres and the on-threshold."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax = fig.subplots()
    series = data.smoothed
    x = _x_of_seconds(series.minutes.astype(np.float64) * 60.0)
    level = data.levels.assign(series.lux)
    colours = mpl.colormaps["viridis"](np.linspace(0, 1, data.levels.n_levels))
    for k in range(data.levels.n_levels):
        chosen = level == k
        ax.plot(
            x[chosen],
            series.lux[chosen],
            ".",
            markersize=1.5,
            color=colours[k],
            label=f"level {k} ({data.levels.centres[k]:.1f} lx)",
        )
        ax.axhline(data.levels.centres[k], color=colours[k], linewidth=0.6)
    ax.axhline(
        data.levels.on_lux,
        color="red",
        linestyle="--",
        linewidth=1,
        label=f"on from level {data.levels.on_level} ({data.levels.on_lux:.1f} lx)",
    )
    ax.set_yscale("symlog", linthresh=10.0)
    ax.set_ylim(bottom=0.0)
    ax.set_ylabel("lux (smoothed)")
    ax.set_title(f"{data.room}: light levels")
    ax.legend(loc="upper right", fontsize="small", markerscale=6)
    _time_axis(ax, location)
    return _save(fig, path)


def _day_grid(
    ax: Axes,
    days: Sequence[date],
    matrix: npt.NDArray[np.float64] | npt.NDArray[np.int64],
    colours: Sequence[str],
    location: Location,
) -> None:
    """Draw days as rows of minutes (an actogram) with the sun's times."""
    bounds = np.arange(len(colours) + 1) - 0.5
    cmap = ListedColormap(list(colours))
    ax.imshow(
        matrix,
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=BoundaryNorm(bounds, cmap.N),
        extent=(0, 24, len(days) - 0.5, -0.5),
    )
    for row, day in enumerate(days):
        zones = day_zones(day, location)
        midnight = zones.bounds[0]
        for moment, colour in ((zones.sunrise, "#ffffff"), (zones.sunset, "#e0115f")):
            # Wall-clock hours (same tzinfo: no UTC conversion), like the columns.
            hours = (moment - midnight).total_seconds() / 3600.0
            ax.plot([hours, hours], [row - 0.45, row + 0.45], color=colour, lw=1.5)
    ax.set_yticks(range(len(days)))
    ax.set_yticklabels([f"{d:%a %m-%d}" for d in days], fontsize="small")
    ax.set_xticks(range(0, 25, 2))
    ax.set_xlim(0, 24)
    ax.set_xlabel("local time (h); white: sunrise, red: sunset")


def plot_on_off(data: RoomData, location: Location, path: Path) -> Path:
    """Draw the real days as rows: lamp on, off or no data, minute by minute."""
    days = sorted(data.days)
    fig = Figure(figsize=(12, 1.2 + 0.35 * max(len(days), 1)), layout="constrained")
    ax = fig.subplots()
    if days:
        matrix = np.stack([np.asarray(data.days[d], dtype=np.float64) for d in days])
        # 0 missing, 1 off, 2 on
        codes = np.where(np.isnan(matrix), 0, np.where(matrix > 0.5, 2, 1))
        _day_grid(ax, days, codes, [_MISSING, _OFF, _ON], location)
    ax.set_title(f"{data.room}: lamp on (yellow), off (blue), no data (grey)")
    return _save(fig, path)


def plot_week(
    room: str,
    schedules: Sequence[DaySchedule],
    n_levels: int,
    location: Location,
    path: Path,
) -> Path:
    """Predicted days as rows, the on intervals coloured by level."""
    days = [s.day for s in schedules]
    fig = Figure(figsize=(12, 1.2 + 0.35 * max(len(days), 1)), layout="constrained")
    ax = fig.subplots()
    if days:
        matrix = np.zeros((len(days), 1440), dtype=np.int64)
        for row, schedule in enumerate(schedules):
            midnight = datetime.combine(
                schedule.day, datetime.min.time(), location.tzinfo
            )
            for interval in schedule.intervals:
                start = _minute_of_day(interval.start, midnight)
                end = _minute_of_day(interval.end, midnight)
                matrix[row, start:end] = int(interval.level)
        palette = mpl.colormaps["YlOrBr"](np.linspace(0.25, 1.0, max(n_levels - 1, 1)))
        colours = [_OFF] + [mpl.colors.to_hex(c) for c in palette]
        _day_grid(ax, days, matrix, colours, location)
    ax.set_title(f"{room}: predicted days (darker = brighter level)")
    return _save(fig, path)


def _minute_of_day(moment: datetime, midnight: datetime) -> int:
    """Return the wall-clock minute of `moment` counted from the day's midnight."""
    local = moment.astimezone(midnight.tzinfo)
    if local.date() > midnight.date():
        return 1440
    return min(max(local.hour * 60 + local.minute, 0), 1440)


def _x_of_seconds(stamps_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return matplotlib date numbers of epoch seconds."""
    epoch = float(mdates.date2num(datetime(1970, 1, 1, tzinfo=UTC)))  # type: ignore[no-untyped-call]
    return epoch + np.asarray(stamps_s, dtype=np.float64) / 86400.0


def plot_room(
    data: RoomData,
    location: Location,
    folder: Path,
    week: Sequence[DaySchedule] | None = None,
) -> list[Path]:
    """Write every figure of a room into `folder`; return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(data.room)
    written = [
        plot_lux(data, location, folder / f"{stem}-lux.png"),
        plot_levels(data, location, folder / f"{stem}-levels.png"),
        plot_on_off(data, location, folder / f"{stem}-on-off.png"),
    ]
    if week:
        written.append(
            plot_week(
                data.room,
                week,
                data.levels.n_levels,
                location,
                folder / f"{stem}-predicted-week.png",
            )
        )
    return written


def room_figures(
    readings: Readings,
    location: Location,
    folder: Path,
    *,
    model: HomeModel | None = None,
    window: int = 5,
    max_gap_minutes: int = 10,
    n_levels: int = 4,
    on_level: tuple[int | None, Mapping[str, int]] = (None, {}),
    week_start: date | None = None,
    seed: int = 0,
    note: Callable[[str], None] = print,
) -> list[Path]:
    """Write the figures of every room of `readings`; return the files.

    The levels are the model's when it has the room, else fitted here with
    the engine. With a model, a predicted week is drawn from `week_start`
    (default: the day after the room's last reading).
    """

    default_on, per_room_on = on_level
    written: list[Path] = []
    for room in progress(list(readings.rooms), "plotting"):
        room_readings = readings.rooms[room]
        try:
            series = to_minute_series(
                room_readings.timestamps_s,
                room_readings.lux,
                max_gap_minutes=max_gap_minutes,
            )
        except ValueError as err:
            note(f"room {room} not plotted: {err}")
            continue
        smoothed = smooth(series, window)
        room_model = model.rooms.get(room) if model is not None else None
        if room_model is not None:
            levels = room_model.levels
        else:
            try:
                levels = fit_levels(
                    smoothed.lux,
                    after_dark=after_dark(smoothed.minutes, location),
                    k=n_levels,
                    on_level=per_room_on.get(room, default_on),
                    seed=seed,
                )
            except ValueError as err:
                note(f"room {room} not plotted: {err}")
                continue
        # Daylight is not a lamp: bright minutes with the sun up count as off.
        days = real_days(on_off_series(levels, smoothed, location), location)
        data = RoomData(
            room=room,
            timestamps_s=room_readings.timestamps_s,
            lux=room_readings.lux,
            smoothed=smoothed,
            levels=levels,
            days=days,
        )
        week: list[DaySchedule] | None = None
        if model is not None and room_model is not None:
            first = week_start or (max(days) + timedelta(days=1) if days else None)
            if first is not None:
                week = sample_schedules(
                    model,
                    room,
                    [first + timedelta(days=i) for i in range(7)],
                    sample=1,
                    seed=seed,
                )
        written.extend(plot_room(data, location, folder, week))
    return written
