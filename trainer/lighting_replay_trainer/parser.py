"""The `lighting-replay` command's arguments: their types and the parser.

The commands themselves are in `cli.py` (and `fleet_cli.py`); a usage
mistake is a `CliError`, shown as one line with exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
import math
from typing import NoReturn

from lighting_replay_engine.levels import LEVELS_FROM
from lighting_replay_engine.training import DAYLIGHT_RULES, TrainingOptions

from . import __version__
from .backends import BACKENDS

PROG = "lighting-replay"
BIC_STATES = tuple(range(2, 9))
"""Numbers of hidden states tried with `--states bic`."""

#: A command: parsed arguments in, exit code out.
type Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A mistake the user can fix; shown as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Report a usage mistake as one line."""
        raise CliError(f"{message} (see {self.prog} --help)")


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


def _whole(minimum: int) -> Callable[[str], int]:
    """Return the argument type of a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}")
        return value

    return parse


_positive = _whole(1)
_non_negative = _whole(0)


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


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date and time YYYY-MM-DDTHH:MM: {text!r}"
        ) from None


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


def build_parser(
    handlers: Mapping[str, Handler] | None = None,
) -> argparse.ArgumentParser:
    """Return the parser of the whole command.

    `handlers` are the commands' functions by name (`cli.COMMANDS`), set as
    each subcommand's `func`; without them the parser only parses.
    """
    run = handlers or {}
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
    p.set_defaults(func=run.get("train"))

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
    p.set_defaults(func=run.get("generate"))

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
    p.set_defaults(func=run.get("evaluate"))

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
    p.set_defaults(func=run.get("plot"))

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
    p.set_defaults(func=run.get("play"))

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
    p.set_defaults(func=run.get("capture"))

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
        func=run.get("demo"),
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
        "--on-lux",
        action="append",
        metavar="[ROOM=]LUX",
        help="the lamp counts as on from the first level whose centre reaches"
        " this many lux, as a room's lux threshold in Home Assistant; per room"
        " with ROOM=LUX (--on-level wins)",
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
