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
from typing import IO, Any, NoReturn

import numpy as np

from lighting_replay_engine.levels import LEVELS_FROM
from lighting_replay_engine.model import HomeModel, ModelError
from lighting_replay_engine.schedule import ScheduleOptions
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import (
    DAYLIGHT_RULES,
    NotEnoughData,
    TrainingOptions,
    lux_sources,
)
from lighting_replay_engine.zones import Location

from . import __version__
from .backends import BACKENDS, train_sources_with
from .progress import progress
from .sources import (
    LightStates,
    Readings,
    RowProblem,
    SourceError,
    read_csv,
    read_recorder,
)

PROG = "lighting-replay"
MAX_PROBLEMS_SHOWN = 20
BIC_STATES = tuple(range(2, 9))
"""Numbers of hidden states tried with `--states bic`."""


class CliError(Exception):
    """A mistake the user can fix; shown as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Report a usage mistake as one line."""
        raise CliError(f"{message} (see {self.prog} --help)")


def _out(text: str = "") -> None:
    """Print a line of results."""
    print(text, flush=True)


def _note(text: str) -> None:
    """Print a message about the work (not a result) on stderr."""
    print(text, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------
# Argument types
# ----------------------------------------------------------------------
def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _clock_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time HH:MM: {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _states(text: str) -> int | tuple[int, ...]:
    """Parse `--states`: N, MIN-MAX, or bic."""
    if text.strip().lower() == "bic":
        return BIC_STATES
    low, sep, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if sep else first
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N, MIN-MAX or bic: {text!r}"
        ) from None
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(f"expected 1 <= MIN <= MAX: {text!r}")
    return tuple(range(first, last + 1)) if sep else first


def _pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """Parse repeated `KEY=VALUE` options."""
    result: dict[str, str] = {}
    for pair in values or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CliError(f"{option} {pair!r}: expected NAME=VALUE")
        result[key.strip()] = value.strip()
    return result


def _on_levels(values: Sequence[str] | None) -> tuple[int | None, dict[str, int]]:
    """Parse `--on-level [ROOM=]LEVEL`: a default and per-room overrides."""
    default: int | None = None
    per_room: dict[str, int] = {}
    for value in values or ():
        room, sep, level = value.rpartition("=")
        try:
            number = int(level)
        except ValueError:
            raise CliError(f"--on-level {value!r}: expected [ROOM=]LEVEL") from None
        if number < 1:
            raise CliError(f"--on-level {value!r}: the level must be at least 1")
        if sep:
            per_room[room.strip()] = number
        else:
            default = number
    return default, per_room


# ----------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------
def _add_location(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group("location of the home")
    group.add_argument(
        "--latitude", type=_number, required=required, help="degrees north"
    )
    group.add_argument(
        "--longitude", type=_number, required=required, help="degrees east"
    )
    group.add_argument(
        "--timezone",
        required=required,
        metavar="TZ",
        help="IANA time zone, e.g. Europe/Berlin",
    )


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


def _add_rooms(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--room",
        action="append",
        metavar="ID=ROOM",
        help="name the room of a sensor id or entity (repeatable),"
        " e.g. --room 1=dining-room",
    )


def _add_series(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("minute series")
    defaults = TrainingOptions()
    group.add_argument(
        "--window",
        type=_positive,
        default=defaults.window,
        help="minutes of the sliding mean (default %(default)s)",
    )
    group.add_argument(
        "--max-gap",
        type=_non_negative,
        default=defaults.max_gap_minutes,
        metavar="MINUTES",
        help="longest silence bridged by holding the last reading"
        " (default %(default)s)",
    )


def _add_schedule(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("schedule options")
    group.add_argument(
        "--window-start", type=_clock_time, metavar="HH:MM", help="no light before"
    )
    group.add_argument(
        "--window-end", type=_clock_time, metavar="HH:MM", help="no light after"
    )
    group.add_argument(
        "--sunset-offset",
        type=int,
        metavar="MINUTES",
        help="no light earlier than this many minutes after sunset",
    )
    group.add_argument(
        "--all-off-by", type=_clock_time, metavar="HH:MM", help="everything off by"
    )
    group.add_argument(
        "--min-on",
        type=_non_negative,
        default=0,
        metavar="MINUTES",
        help="drop shorter on intervals",
    )
    group.add_argument(
        "--jitter",
        type=_non_negative,
        default=0,
        metavar="MINUTES",
        help="shift each switch by up to this many minutes",
    )


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
) -> tuple[TrainingOptions, dict[str, int]]:
    default_on, per_room_on = _on_levels(args.on_level)
    for level in [default_on, *per_room_on.values()]:
        if level is not None and level >= args.levels:
            raise CliError(f"--on-level {level}: must be below --levels {args.levels}")
    options = TrainingOptions(
        window=args.window,
        n_levels=args.levels,
        n_states=args.states,
        max_gap_minutes=args.max_gap,
        on_level=default_on,
        n_restarts=args.restarts,
        seed=args.seed,
        min_days=args.min_days,
        n_iter=args.iterations,
        daylight=args.daylight,
        levels_from=args.levels_from,
    )
    return options, per_room_on


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
    options, per_room_on = _training_options(args)
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
    unknown = sorted(set(per_room_on) - set(names))
    if unknown:
        raise CliError(
            f"--on-level for unknown rooms: {', '.join(unknown)}"
            f" (rooms: {', '.join(names)})"
        )
    rooms: dict[str, Any] = {}
    for room in progress(names, "training", "room"):
        room_options = options
        if room in per_room_on:
            room_options = replace(options, on_level=per_room_on[room])
        try:
            sources = _room_sources(room, readings, room_options)
            rooms[room] = train_sources_with(
                room, sources, location, room_options, args.backend
            )
        except NotEnoughData as err:
            _note(f"room {room} skipped: {err}")
        except ValueError as err:
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
    readings = _read_csv_source(args)
    rooms = [room for room in _chosen_rooms(model, args.only) if room in readings.rooms]
    if not rooms:
        raise CliError(
            f"no room of the model ({', '.join(model.rooms)}) in the CSV input"
            f" ({', '.join(readings.rooms)}); rename with --room ID=ROOM"
        )
    results = evaluate_home(
        model,
        {room: readings.rooms[room] for room in rooms},
        _days(args.start, args.days),
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


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date and time YYYY-MM-DDTHH:MM: {text!r}"
        ) from None


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


# ----------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the whole command."""
    parser = _Parser(
        prog=PROG,
        description="Learn how a home's lights are used from lux readings, and"
        " replay them while nobody is home.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # train
    p = commands.add_parser(
        "train",
        help="learn a model from capture CSV files or a recorder database",
        description="Learn every room's lamp habits and write the model file the"
        " integration imports.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--csv", nargs="+", metavar="PATH", help="capture CSV files or folders of them"
    )
    source.add_argument(
        "--recorder-db",
        metavar="URL",
        help="Home Assistant recorder database: a SQLite file or an SQLAlchemy URL",
    )
    p.add_argument(
        "--entity",
        action="append",
        metavar="ENTITY",
        help="entity to read from the recorder (repeatable): a lux sensor, or a"
        " light or switch whose on/off and brightness history the room learns"
        " from; --room puts several in one room",
    )
    _add_rooms(p)
    _add_location(p, required=True)
    p.add_argument("-o", "--output", required=True, metavar="MODEL.json")
    _add_training(p)
    p.set_defaults(func=cmd_train)

    # generate
    p = commands.add_parser(
        "generate",
        help="sample day schedules from a model into CSV",
        description="Sample schedules: one CSV row (room,sample,start,end,level)"
        " per on interval, times in local ISO 8601 with offset.",
    )
    p.add_argument("--model", required=True, metavar="MODEL.json")
    p.add_argument("--start", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--days", type=_positive, required=True)
    p.add_argument(
        "--samples", type=_positive, default=1, help="independent draws (default 1)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", action="append", metavar="ROOM", help="only this room")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT.csv", help="- for stdout"
    )
    _add_schedule(p)
    p.set_defaults(func=cmd_generate)

    # evaluate
    p = commands.add_parser(
        "evaluate",
        help="realism of generated days against real ones, beside baselines",
        description="Compare days generated by the model with the real days in"
        " the CSV input, and so the two baselines: the same weekday a week"
        " before, and a fixed timer from sunset to 23:00. Lower is closer.",
    )
    p.add_argument("--model", required=True, metavar="MODEL.json")
    p.add_argument("--csv", nargs="+", required=True, metavar="PATH")
    p.add_argument("--start", type=_day, required=True, metavar="YYYY-MM-DD")
    p.add_argument("--days", type=_positive, required=True)
    p.add_argument(
        "--samples",
        type=_positive,
        default=20,
        help="generated draws averaged (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", action="append", metavar="ROOM", help="only this room")
    p.add_argument("--json", action="store_true", help="print JSON, not a table")
    _add_rooms(p)
    _add_series(p)
    _add_schedule(p)
    p.set_defaults(func=cmd_evaluate)

    # plot
    p = commands.add_parser(
        "plot",
        help="draw figures of the readings (and of a model's predicted week)",
        description="Write PNG figures per room: raw and smoothed lux, levels,"
        " on/off per day, and with --model a predicted week.",
    )
    p.add_argument("--csv", nargs="+", required=True, metavar="PATH")
    p.add_argument("--model", metavar="MODEL.json", help="levels and predictions")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument(
        "--levels",
        type=_positive,
        default=TrainingOptions().n_levels,
        help="levels when no model is given (default %(default)s)",
    )
    p.add_argument(
        "--on-level",
        action="append",
        metavar="[ROOM=]LEVEL",
        help="on-threshold when no model is given",
    )
    p.add_argument(
        "--start",
        type=_day,
        metavar="YYYY-MM-DD",
        help="first predicted day (default: the day after the data)",
    )
    p.add_argument("--seed", type=int, default=0)
    _add_rooms(p)
    _add_location(p, required=False)
    _add_series(p)
    p.set_defaults(func=cmd_plot)

    # play
    p = commands.add_parser(
        "play",
        help="replay a model on Philips Hue lights",
        description="Switch Hue lights along schedules sampled from the model,"
        " one new day at local midnight, until Ctrl-C (then all off).",
    )
    p.add_argument("--model", required=True, metavar="MODEL.json")
    p.add_argument("--bridge", metavar="HOST", help="the bridge's address (ip[:port])")
    p.add_argument("--username", help="bridge user (default: phue's saved one)")
    p.add_argument(
        "--hue-config",
        metavar="FILE",
        help="where phue keeps the bridge user (default ~/.python_hue)",
    )
    p.add_argument(
        "--light",
        action="append",
        metavar="ROOM=LIGHT",
        help="a Hue light of a room (repeatable)",
    )
    p.add_argument(
        "--lights", metavar="FILE", help='JSON {"room": "light" or ["light", ...]}'
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the switches, touch no bridge"
    )
    p.add_argument("--seed", type=int, help="seed of the schedules (default random)")
    p.add_argument(
        "--full-brightness",
        action="store_true",
        help="switch on at full brightness instead of the room's level",
    )
    p.add_argument("--no-light-test", action="store_true", help="skip the light test")
    p.add_argument(
        "--test-seconds",
        type=_number,
        default=1.0,
        help="how long each light is on in the light test (default %(default)s)",
    )
    p.add_argument("--days", type=_positive, help="stop after this many days")
    p.add_argument(
        "--start-at",
        type=_moment,
        metavar="YYYY-MM-DDTHH:MM",
        help="pretend the replay starts at this local time",
    )
    p.add_argument(
        "--speed",
        type=_number,
        default=1.0,
        help="run the clock this many times faster (default %(default)s)",
    )
    p.add_argument(
        "--simulate",
        action="store_true",
        help="jump from switch to switch without waiting (needs --days)",
    )
    _add_schedule(p)
    p.set_defaults(func=cmd_play)

    # capture
    p = commands.add_parser(
        "capture",
        help="record the lux nodes' MQTT readings into CSV",
        description="Subscribe to the nodes' discovery and state topics and"
        " append every reading to <sensor>.csv (timestamp,datetime,sensor_id,value).",
    )
    p.add_argument("--broker", required=True, metavar="HOST")
    p.add_argument("--port", type=_positive, default=1883)
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument(
        "--topic",
        action="append",
        metavar="TOPIC[=SENSOR]",
        help="also record this state topic (repeatable)",
    )
    p.add_argument(
        "--discovery-prefix",
        default="homeassistant",
        help="Home Assistant discovery prefix (default %(default)s)",
    )
    p.add_argument(
        "--no-discovery", action="store_true", help="only the --topic topics"
    )
    p.add_argument("--duration", type=_number, metavar="SECONDS", help="stop after")
    p.add_argument("--count", type=_positive, help="stop after this many readings")
    _add_rooms(p)
    p.set_defaults(func=cmd_capture)

    # demo
    p = commands.add_parser(
        "demo",
        help="train on simulated readings and write every output (offline)",
        description="Simulate a household, train on it, and write the model,"
        " figures and a schedule; print the rooms, their levels and the realism"
        " against the baselines.",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument(
        "--start",
        type=_day,
        default=date(2024, 2, 19),
        metavar="YYYY-MM-DD",
        help="first simulated day (default %(default)s)",
    )
    p.add_argument(
        "--days",
        type=_positive,
        default=28,
        help="simulated days to train on (default %(default)s)",
    )
    p.add_argument(
        "--test-days",
        type=_positive,
        default=7,
        help="further simulated days to evaluate on (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=BACKENDS, default="engine")
    _add_location(p, required=False)
    p.set_defaults(
        func=cmd_demo,
        latitude=37.37,
        longitude=-122.04,
        timezone="America/Los_Angeles",
    )

    # fleet: its module uses this one's helpers, so it is imported here.
    from .fleet_cli import add_fleet_parser  # noqa: PLC0415

    add_fleet_parser(commands)
    return parser


def _add_training(p: argparse.ArgumentParser) -> None:
    """Add the options of the engine's `TrainingOptions` (train, fleet train)."""
    group = p.add_argument_group("training")
    defaults = TrainingOptions()
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        default="engine",
        help="HMM fitting: the built-in one or hmmlearn (default %(default)s)",
    )
    group.add_argument(
        "--levels",
        type=_positive,
        default=defaults.n_levels,
        help="light levels found by K-Means (default %(default)s)",
    )
    group.add_argument(
        "--states",
        type=_states,
        default=defaults.n_states,
        metavar="N|MIN-MAX|bic",
        help="hidden states per zone; a range or bic picks by BIC (default 5)",
    )
    group.add_argument(
        "--on-level",
        action="append",
        metavar="[ROOM=]LEVEL",
        help="the lamp counts as on from this level (default: found after dark);"
        " per room with ROOM=LEVEL",
    )
    group.add_argument(
        "--restarts",
        type=_positive,
        default=defaults.n_restarts,
        help="random restarts per fit (default %(default)s)",
    )
    group.add_argument(
        "--iterations",
        type=_positive,
        default=defaults.n_iter,
        help="most EM iterations per fit (default %(default)s)",
    )
    group.add_argument(
        "--daylight",
        choices=DAYLIGHT_RULES,
        default=defaults.daylight,
        help="what a bright minute while the sun is up counts as: after_dark"
        " ignores daylight minutes, unknown ignores bright ones, off counts them"
        " off, keep counts them on (default %(default)s)",
    )
    group.add_argument(
        "--levels-from",
        choices=LEVELS_FROM,
        default=defaults.levels_from,
        help="readings the light levels are fitted to: after_dark (the lamps"
        " alone) or all, daylight too (default %(default)s)",
    )
    group.add_argument("--seed", type=int, default=defaults.seed)
    group.add_argument(
        "--min-days",
        type=_number,
        default=defaults.min_days,
        help="least days of data for a room (default %(default)s)",
    )
    group.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="first day used"
    )
    group.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="last day used")
    _add_series(p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code."""
    parser = build_parser()
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
