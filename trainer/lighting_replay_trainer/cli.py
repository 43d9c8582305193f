"""The `lighting-replay` command: train, generate, evaluate, plot, play, capture, demo.

`fleet` (many homes on Apache Spark) lives in `fleet_cli.py`. Every
subcommand works offline on files except `play` (a Hue bridge) and
`capture` (an MQTT broker). Errors the user can fix (a missing file, a bad
option, a corrupted model) end the command with one line on stderr and exit
code 2; Ctrl-C ends it with code 130.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
import csv
from dataclasses import replace
from datetime import date, datetime, time, timedelta
import json
import math
from pathlib import Path
import signal
import sys
from typing import IO, Any

import numpy as np

from lighting_replay_engine.model import HomeModel, ModelError
from lighting_replay_engine.schedule import ScheduleOptions
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import NotEnoughData, TrainingOptions, lux_sources
from lighting_replay_engine.zones import Location

from .backends import train_sources_with
from .parser import PROG, CliError, build_parser
from .progress import progress
from .sources import (
    LightStates,
    Readings,
    RowProblem,
    SourceError,
    read_csv,
    read_recorder,
)

MAX_PROBLEMS_SHOWN = 20


def _out(text: str = "") -> None:
    """Print a line of results."""
    print(text, flush=True)


def _note(text: str) -> None:
    """Print a message about the work (not a result) on stderr."""
    print(text, file=sys.stderr, flush=True)


def _pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """Parse repeated `KEY=VALUE` options."""
    result: dict[str, str] = {}
    for pair in values or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CliError(f"{option} {pair!r}: expected NAME=VALUE")
        result[key.strip()] = value.strip()
    return result


def _per_room[T](
    values: Sequence[str] | None,
    option: str,
    what: str,
    parse: Callable[[str], T],
) -> tuple[T | None, dict[str, T]]:
    """Parse `OPTION [ROOM=]VALUE` (repeatable): a default and per-room values.

    `parse` turns the text into the value or raises `ValueError` (its
    message, if any, says what is wrong).
    """
    default: T | None = None
    per_room: dict[str, T] = {}
    for value in values or ():
        room, sep, text = value.rpartition("=")
        try:
            parsed = parse(text.strip())
        except ValueError as err:
            reason = str(err) or f"expected [ROOM=]{what}"
            raise CliError(f"{option} {value!r}: {reason}") from None
        if sep:
            per_room[room.strip()] = parsed
        else:
            default = parsed
    return default, per_room


def _level(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError from None  # (no message: "expected ...")
    if number < 1:
        raise ValueError("the level must be at least 1")
    return number


def _lux(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError from None  # (no message: "expected ...")
    if not math.isfinite(number) or number < 0:
        raise ValueError("the lux threshold must be a number of at least 0")
    return number


def _on_levels(values: Sequence[str] | None) -> tuple[int | None, dict[str, int]]:
    """Parse `--on-level [ROOM=]LEVEL`: a default and per-room overrides."""
    return _per_room(values, "--on-level", "LEVEL", _level)


# ----------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------
def _location(args: argparse.Namespace, model: HomeModel | None = None) -> Location:
    """Return the location from the options, else from the model."""
    given = [args.latitude, args.longitude, args.timezone]
    if all(value is None for value in given) and model is not None:
        return model.location
    if any(value is None for value in given):
        raise CliError("give --latitude, --longitude and --timezone together")
    try:
        return Location(args.latitude, args.longitude, args.timezone)
    except ValueError as err:
        raise CliError(str(err)) from err


def _schedule_options(args: argparse.Namespace) -> ScheduleOptions:
    try:
        return ScheduleOptions(
            window_start=args.window_start,
            window_end=args.window_end,
            sunset_offset_minutes=args.sunset_offset,
            all_off_by=args.all_off_by,
            min_on_minutes=args.min_on,
            jitter_minutes=args.jitter,
        )
    except (TypeError, ValueError) as err:
        raise CliError(f"schedule options: {err}") from err


def _load_model(path: str) -> HomeModel:
    if not Path(path).is_file():
        raise CliError(f"{path}: no such model file")
    try:
        model = HomeModel.load(path)
    except ModelError as err:
        raise CliError(f"{path}: {err}") from err
    if not model.rooms:
        raise CliError(f"{path}: the model has no room")
    return model


def _report_problems(problems: Sequence[RowProblem]) -> None:
    """Show skipped rows with their line numbers (the first ones, then a count)."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        _note(f"skipped {problem}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        _note(f"skipped {len(problems) - MAX_PROBLEMS_SHOWN} more rows")


def _read_csv_source(args: argparse.Namespace, *, lights: bool = False) -> Readings:
    """Read the CSV input; without `lights` the commands use lux rooms only."""
    readings = read_csv(args.csv, rooms=_pairs(args.room, "--room"))
    _report_problems(readings.problems)
    if not lights and readings.lights:
        _note(
            f"{args.command} uses lux readings only; the light rows of"
            f" {', '.join(readings.lights)} are left out"
        )
    if not (readings.rooms or (lights and readings.lights)):
        raise CliError("no usable readings in the CSV input")
    return readings


def _write_csv(path: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write rows to a CSV file, or stdout for `-`."""
    if path == "-":
        _write_rows(sys.stdout, header, rows)
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise CliError(f"{path}: folder {target.parent} does not exist")
    with target.open("w", newline="", encoding="utf-8") as handle:
        _write_rows(handle, header, rows)


def _write_rows(
    handle: IO[str], header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def _check_output_file(path: str) -> Path:
    target = Path(path)
    if not target.parent.is_dir():
        raise CliError(f"{path}: folder {target.parent} does not exist")
    if target.is_dir():
        raise CliError(f"{path}: is a folder, expected a file name")
    return target


def _output_folder(path: str) -> Path:
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{path}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"{path}: cannot create folder ({err.strerror})") from err
    return folder


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


# ----------------------------------------------------------------------
# train
# ----------------------------------------------------------------------
def _training_options(
    args: argparse.Namespace,
) -> tuple[TrainingOptions, dict[str, dict[str, Any]]]:
    """Return the training options and each room's own thresholds."""
    default_on, per_room_on = _on_levels(args.on_level)
    for level in [default_on, *per_room_on.values()]:
        if level is not None and level >= args.levels:
            raise CliError(f"--on-level {level}: must be below --levels {args.levels}")
    default_lux, per_room_lux = _per_room(args.on_lux, "--on-lux", "LUX", _lux)
    per_room: dict[str, dict[str, Any]] = {}
    for key, values in (("on_level", per_room_on), ("on_lux", per_room_lux)):
        for room, value in values.items():
            per_room.setdefault(room, {})[key] = value
    options = TrainingOptions(
        window=args.window,
        n_levels=args.levels,
        n_states=args.states,
        max_gap_minutes=args.max_gap,
        on_level=default_on,
        on_lux=default_lux,
        n_restarts=args.restarts,
        seed=args.seed,
        min_days=args.min_days,
        n_iter=args.iterations,
        daylight=args.daylight,
        levels_from=args.levels_from,
    )
    return options, per_room


def _limit_days(
    readings: Readings,
    location: Location,
    since: date | None,
    until: date | None,
) -> Readings:
    """Keep readings of local days from `since` to `until` (both included)."""
    if since is None and until is None:
        return readings
    tz = location.tzinfo
    low = -math.inf
    high = math.inf
    if since is not None:
        low = datetime.combine(since, time(0), tz).timestamp()
    if until is not None:
        high = datetime.combine(until + timedelta(days=1), time(0), tz).timestamp()
    kept = Readings(problems=readings.problems)
    for room, lights in readings.lights.items():
        kept_lights = {
            key: part
            for key, states in lights.items()
            if (part := states.between(low, high)) is not None
        }
        if kept_lights:
            kept.lights[room] = kept_lights
    for room, room_readings in readings.rooms.items():
        inside = (room_readings.timestamps_s >= low) & (
            room_readings.timestamps_s < high
        )
        if inside.any():
            kept.rooms[room] = replace(
                room_readings,
                timestamps_s=room_readings.timestamps_s[inside],
                lux=room_readings.lux[inside],
            )
    return kept


def _room_sources(
    room: str,
    readings: Readings,
    options: TrainingOptions,
) -> RoomSources:
    """Return what a room learns from: its lux readings and its lights."""
    lights: dict[str, LightStates] = readings.lights.get(room, {})
    lux = None
    if room in readings.rooms:
        room_readings = readings.rooms[room]
        try:
            lux = lux_sources(
                room_readings.timestamps_s, room_readings.lux, options
            ).lux
        except NotEnoughData:
            if not lights:
                raise
            _note(f"room {room}: no valid lux reading, learning from its lights")
    return RoomSources(lux, {key: states.series() for key, states in lights.items()})


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model of every room and save it."""
    if args.recorder_db and not args.entity:
        raise CliError("--recorder-db needs at least one --entity")
    if args.entity and not args.recorder_db:
        raise CliError("--entity only goes with --recorder-db")
    location = _location(args)
    output = _check_output_file(args.output)
    options, per_room = _training_options(args)
    if args.csv:
        readings = _read_csv_source(args, lights=True)
    else:
        readings = read_recorder(
            args.recorder_db, args.entity, rooms=_pairs(args.room, "--room")
        )
        _report_problems(readings.problems)
    readings = _limit_days(readings, location, args.since, args.until)
    names = readings.room_names
    if not names:
        raise CliError("no readings in the chosen days")
    unknown = sorted(set(per_room) - set(names))
    if unknown:
        raise CliError(
            f"--on-level or --on-lux for unknown rooms: {', '.join(unknown)}"
            f" (rooms: {', '.join(names)})"
        )
    rooms: dict[str, Any] = {}
    for room in progress(names, "training", "room"):
        room_options = replace(options, **per_room.get(room, {}))
        try:
            sources = _room_sources(room, readings, room_options)
            rooms[room] = train_sources_with(
                room, sources, location, room_options, args.backend
            )
        except (NotEnoughData, ValueError) as err:
            _note(f"room {room} skipped: {err}")
    if not rooms:
        raise CliError("no room could be trained (see the messages above)")
    model = HomeModel(location, rooms)
    try:
        model.save(output)
    except OSError as err:
        raise CliError(f"{output}: cannot write ({err.strerror})") from err
    for room, room_model in rooms.items():
        kind = room_model.settings.get("sources", "lux")
        unit = "lx" if kind == "lux" else "brightness"
        learned = "lux" if kind == "lux" else ", ".join(room_model.lights)
        if kind == "both":
            learned = f"lux and {learned}"
        digits = 1 if kind == "lux" else 2
        centres = ", ".join(f"{c:.{digits}f}" for c in room_model.levels.centres)
        zones = sum(1 for z in room_model.zones.values() if z is not None)
        _out(
            f"{room}: {room_model.days_of_data:.1f} days of {learned}, levels"
            f" [{centres}] {unit}, on from level {room_model.levels.on_level},"
            f" {zones} zones learned"
        )
    _out(f"model of {len(rooms)} rooms written to {output}")
    return 0


# ----------------------------------------------------------------------
# generate
# ----------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    """Write sampled schedules as CSV."""
    from .schedules import CSV_HEADER, schedule_rows  # noqa: PLC0415

    model = _load_model(args.model)
    rooms = _chosen_rooms(model, args.only)
    if args.output != "-":
        _check_output_file(args.output)
    rows = schedule_rows(
        model,
        rooms,
        _days(args.start, args.days),
        samples=args.samples,
        seed=args.seed,
        options=_schedule_options(args),
    )
    _write_csv(args.output, CSV_HEADER, rows)
    if args.output != "-":
        _out(f"{len(rows)} on intervals written to {args.output}")
    return 0


def _chosen_rooms(model: HomeModel, only: Sequence[str] | None) -> list[str]:
    if not only:
        return list(model.rooms)
    unknown = sorted(set(only) - set(model.rooms))
    if unknown:
        raise CliError(
            f"rooms not in the model: {', '.join(unknown)}"
            f" (model has {', '.join(model.rooms)})"
        )
    return list(dict.fromkeys(only))


# ----------------------------------------------------------------------
# evaluate
# ----------------------------------------------------------------------
def cmd_evaluate(args: argparse.Namespace) -> int:
    """Compare generated days with real ones, beside the two baselines."""
    from .evaluation import METHODS, evaluate_home, format_table  # noqa: PLC0415

    model = _load_model(args.model)
    readings = _read_csv_source(args, lights=True)
    present = readings.room_names
    rooms = [room for room in _chosen_rooms(model, args.only) if room in present]
    if not rooms:
        raise CliError(
            f"no room of the model ({', '.join(model.rooms)}) in the CSV input"
            f" ({', '.join(present)}); rename with --room ID=ROOM"
        )
    results = evaluate_home(
        model,
        {room: readings.rooms[room] for room in rooms if room in readings.rooms},
        _days(args.start, args.days),
        lights={
            room: readings.lights[room] for room in rooms if room in readings.lights
        },
        samples=args.samples,
        seed=args.seed,
        window=args.window,
        max_gap_minutes=args.max_gap,
        options=_schedule_options(args),
    )
    if args.json:
        _out(json.dumps(results, indent=2, allow_nan=False, default=str))
    else:
        _out(format_table(results, METHODS))
    return 0


# ----------------------------------------------------------------------
# plot
# ----------------------------------------------------------------------
def cmd_plot(args: argparse.Namespace) -> int:
    """Draw the figures of every room."""
    from .plots import room_figures  # noqa: PLC0415

    model = _load_model(args.model) if args.model else None
    location = _location(args, model)
    folder = _output_folder(args.output)
    readings = _read_csv_source(args)
    written = room_figures(
        readings,
        location,
        folder,
        model=model,
        window=args.window,
        max_gap_minutes=args.max_gap,
        n_levels=args.levels,
        on_level=_on_levels(args.on_level),
        week_start=args.start,
        seed=args.seed,
        note=_note,
    )
    for path in written:
        _out(str(path))
    return 0


# ----------------------------------------------------------------------
# play
# ----------------------------------------------------------------------
def _stop_on_sigterm() -> Callable[[], None]:
    """Turn SIGTERM into KeyboardInterrupt so the lights go off; return undo."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: nothing to install
        return lambda: None

    def undo() -> None:
        signal.signal(signal.SIGTERM, previous)

    return undo


def cmd_play(args: argparse.Namespace) -> int:
    """Replay the model on Hue lights until stopped."""
    from .hue import (  # noqa: PLC0415
        Clock,
        HueLights,
        Lights,
        Player,
        PlayerError,
        PrintedLights,
        ScaledClock,
        SteppedClock,
        SystemClock,
        parse_light_mapping,
    )

    model = _load_model(args.model)
    try:
        mapping = parse_light_mapping(
            args.light or [], Path(args.lights) if args.lights else None
        )
    except PlayerError as err:
        raise CliError(str(err)) from err
    if not mapping and args.dry_run:
        mapping = {room: [room] for room in model.rooms}
    clock: Clock
    start = args.start_at
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=model.location.tzinfo)
    if args.simulate:
        clock = SteppedClock(start or datetime.now(model.location.tzinfo))
    elif args.speed != 1.0 or start is not None:
        clock = ScaledClock(start or datetime.now(model.location.tzinfo), args.speed)
    else:
        clock = SystemClock()
    until = None
    if args.days is not None:
        until = clock.now() + timedelta(days=args.days)
    elif args.simulate:
        raise CliError("--simulate needs --days")
    lights: Lights
    if args.dry_run:
        lights = PrintedLights(
            sorted({name for names in mapping.values() for name in names}),
            clock,
            _out,
            model.location.tzinfo,
        )
    else:
        if not args.bridge:
            raise CliError("give --bridge HOST, or --dry-run")
        try:
            lights = HueLights(
                args.bridge,
                username=args.username,
                config_file=Path(args.hue_config) if args.hue_config else None,
            )
        except PlayerError as err:
            raise CliError(str(err)) from err
    try:
        player = Player(
            model,
            lights,
            mapping,
            clock,
            rng=np.random.default_rng(args.seed),
            options=_schedule_options(args),
            dim=not args.full_brightness,
            log=_note,
        )
    except PlayerError as err:
        raise CliError(str(err)) from err
    undo = _stop_on_sigterm()
    try:
        if not args.no_light_test:
            player.light_test(args.test_seconds)
        player.run(until)
    except KeyboardInterrupt:
        _note("stopped: all lights off")
        return 130
    finally:
        undo()
    return 0


# ----------------------------------------------------------------------
# capture
# ----------------------------------------------------------------------
def cmd_capture(args: argparse.Namespace) -> int:
    """Record MQTT readings into capture CSV files."""
    from .capture import Capture, CaptureError, CaptureWriter, parse_topics, run_capture  # noqa: PLC0415

    folder = _output_folder(args.output)
    try:
        topics = parse_topics(args.topic or [])
    except CaptureError as err:
        raise CliError(str(err)) from err
    if args.no_discovery and not topics:
        raise CliError("--no-discovery needs at least one --topic")
    try:
        capture = Capture(
            CaptureWriter(folder),
            topics=topics,
            rooms=_pairs(args.room, "--room"),
            discovery_prefix=args.discovery_prefix,
            discover=not args.no_discovery,
            log=_note,
        )
        count = run_capture(
            capture,
            args.broker,
            args.port,
            username=args.username,
            password=args.password,
            duration=args.duration,
            count=args.count,
        )
    except CaptureError as err:
        raise CliError(str(err)) from err
    except KeyboardInterrupt:
        _note("capture stopped")
        return 130
    _out(f"{count} readings written to {folder}")
    return 0


# ----------------------------------------------------------------------
# demo
# ----------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    """Train on simulated readings and write every output."""
    from .demo import run_demo  # noqa: PLC0415

    location = _location(args)
    folder = _output_folder(args.output)
    summary = run_demo(
        folder,
        location,
        start=args.start,
        days=args.days,
        test_days=args.test_days,
        seed=args.seed,
        backend=args.backend,
        note=_note,
    )
    _out(summary)
    return 0


#: The commands' functions by name, for the parser.
COMMANDS = {
    "train": cmd_train,
    "generate": cmd_generate,
    "evaluate": cmd_evaluate,
    "plot": cmd_plot,
    "play": cmd_play,
    "capture": cmd_capture,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code."""
    parser = build_parser(COMMANDS)
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else 0
    except (CliError, SourceError) as err:
        _note(f"{PROG}: error: {err}")
        return 2
    except KeyboardInterrupt:
        _note("interrupted")
        return 130
