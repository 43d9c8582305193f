"""The learned model of a home as versioned JSON.

A ``HomeModel`` holds the home's location and one ``RoomModel`` per room:
its light levels and threshold, one ``ZoneModel`` (an HMM over on/off
minutes) per zone of the day, and what it was learned from. The trainer
writes this file and the integration imports it, so the format is plain
JSON with a format name and a version; never pickle. Anything wrong in a
file (not JSON, another format, a newer version, a missing or bad field)
raises ``ModelError`` saying what and where.

A model file may come from anywhere, so everything in it is checked at
load: every number is finite and in its range, and the sizes are bounded
(``MAX_ROOMS``, ``MAX_LEVELS``, ``MAX_STATES``, ``MAX_LIGHTS``,
``MAX_SCENES``, ``MAX_SETTINGS_CHARS``, counts up to ``MAX_COUNT``), so a
model that loads can be kept, shown and sampled. A file that is not a model
at all (not JSON, not this format) raises ``NotAModel``, whose message
repeats nothing of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .hmm import CategoricalHMM
from .levels import Levels
from .lights import Scene
from .zones import Location, Zone

#: Name of the file format, stored in every file.
MODEL_FORMAT = "lighting_replay.home_model"
#: Version of the format this code writes; it reads this one and older.
MODEL_VERSION = 3
#: What changed in each version (older files keep loading):
#: 2: rooms learned from their lights (``RoomModel.lights``, per-zone
#:    ``scenes``); a version 1 file is a lux room without them.
#: 3: the lit span of the evenings (``RoomModel.evenings``,
#:    ``evening_spreads``); a room of an older file has none and samples
#:    its evenings as before.

#: Limits of what a model may hold (far above what training makes).
MAX_ROOMS = 64
MAX_LEVELS = 16
#: Hidden states of a zone's HMM; its symbols are always 0 (off) and 1 (on).
MAX_STATES = 50
N_SYMBOLS = 2
MAX_LIGHTS = 64
#: Evenings a room keeps (ten years of them).
MAX_EVENINGS = 3660
#: How far a drawn evening's first or last lit minute may move (minutes).
MAX_EVENING_SPREAD = 720.0
#: Scenes per zone (training keeps ``lights.MAX_SCENES`` per zone and level).
MAX_SCENES = MAX_LEVELS * 16
#: Characters of a room's ``settings`` as JSON, and of a name.
MAX_SETTINGS_CHARS = 4096
MAX_NAME_CHARS = 255
#: Minutes, sequences and level counts: a century of minutes is 5.3e7.
MAX_COUNT = 10**9
#: Dates in a model lie in these years.
MIN_YEAR, MAX_YEAR = 1970, 2200


class ModelError(ValueError):
    """A model file that is corrupted, of another format or incompatible."""


class NotAModel(ModelError):
    """A file that is not a Lighting Replay model at all (nothing of it said)."""


@dataclass(frozen=True, eq=False)
class ZoneModel:
    """What was learned about one zone of the day.

    ``hmm`` emits 0 (off) and 1 (on) per minute. ``on_level_counts[i]``
    counts the minutes seen at level ``i`` while on in this zone: the levels
    a sampled "on" interval is given. ``log_likelihood`` is the model's
    log-likelihood of its training sequences.
    """

    hmm: CategoricalHMM
    n_sequences: int
    n_samples: int
    log_likelihood: float
    on_level_counts: tuple[int, ...] = ()
    on_fraction: float = 0.0
    scenes: tuple[Scene, ...] = ()

    @property
    def log_likelihood_per_sample(self) -> float:
        """Return the mean log-likelihood per minute (fit quality)."""
        return self.log_likelihood / self.n_samples if self.n_samples else 0.0

    def summary(self) -> dict[str, int]:
        """Return what the zone learned from: states, sequences, minutes."""
        return {
            "states": self.hmm.n_components,
            "sequences": self.n_sequences,
            "minutes": self.n_samples,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {
            "hmm": self.hmm.to_dict(),
            "n_sequences": self.n_sequences,
            "n_samples": self.n_samples,
            "log_likelihood": self.log_likelihood,
            "on_level_counts": list(self.on_level_counts),
            "on_fraction": self.on_fraction,
            "scenes": [scene.to_dict() for scene in self.scenes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ZoneModel:
        """Rebuild from ``to_dict`` data."""
        counts = tuple(_count(c) for c in _list(data.get("on_level_counts", [])))
        if len(counts) > MAX_LEVELS:
            raise ValueError(f"on_level_counts holds more than {MAX_LEVELS} levels")
        hmm_data = data["hmm"]
        if not isinstance(hmm_data, Mapping):
            raise TypeError("hmm must be an object")
        n_states = hmm_data.get("n_components")
        if isinstance(n_states, int) and n_states > MAX_STATES:
            raise ValueError(f"an HMM has at most {MAX_STATES} states")
        if hmm_data.get("n_features") != N_SYMBOLS:
            raise ValueError(f"an HMM emits {N_SYMBOLS} symbols (off, on)")
        for key in ("startprob", "transmat", "emissionprob"):
            if key in hmm_data and not _probabilities(hmm_data[key]):
                raise ValueError(f"HMM {key} holds values that are not probabilities")
        scenes = _list(data.get("scenes", []))
        if len(scenes) > MAX_SCENES:
            raise ValueError(f"a zone has at most {MAX_SCENES} scenes")
        on_fraction = _number(data.get("on_fraction", 0.0))
        if not 0.0 <= on_fraction <= 1.0:
            raise ValueError("on_fraction must be between 0 and 1")
        return cls(
            hmm=CategoricalHMM.from_dict(hmm_data),
            n_sequences=_count(data["n_sequences"]),
            n_samples=_count(data["n_samples"]),
            log_likelihood=_number(data["log_likelihood"]),
            on_level_counts=counts,
            on_fraction=on_fraction,
            scenes=tuple(Scene.from_dict(_mapping(item)) for item in scenes),
        )


@dataclass(frozen=True, eq=False)
class RoomModel:
    """Everything learned about one room.

    ``zones`` has an entry for every zone; ``None`` where there was no data
    (a schedule keeps the light off there). ``data_start``/``data_end``
    (aware, UTC) span the readings, ``n_samples`` counts the usable minutes,
    ``days_of_data`` is that in days. ``evenings`` are the first and last
    lit wall-clock minute of each well-seen training evening (``(0, last)``:
    lit from the start; ``(-1, -1)``: no light), ``evening_spreads`` how far
    a drawn first and last minute move (``bedtime.py``); empty for a room
    learned from its lights or saved before version 3.
    """

    room: str
    levels: Levels
    zones: dict[Zone, ZoneModel | None]
    data_start: datetime
    data_end: datetime
    n_samples: int
    days_of_data: float
    trained_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    lights: tuple[str, ...] = ()
    evenings: tuple[tuple[int, int], ...] = ()
    evening_spreads: tuple[float, float] = (0.0, 0.0)

    @property
    def fit_quality(self) -> dict[Zone, float | None]:
        """Return the log-likelihood per minute of each zone's model."""
        return {
            zone: (None if zm is None else zm.log_likelihood_per_sample)
            for zone, zm in self.zones.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {
            "room": self.room,
            "levels": self.levels.to_dict(),
            "zones": {
                zone.name.lower(): (None if zm is None else zm.to_dict())
                for zone, zm in sorted(self.zones.items())
            },
            "data_start": self.data_start.isoformat(),
            "data_end": self.data_end.isoformat(),
            "n_samples": self.n_samples,
            "days_of_data": self.days_of_data,
            "trained_at": self.trained_at.isoformat(),
            "settings": self.settings,
            "lights": list(self.lights),
            "evenings": [list(span) for span in self.evenings],
            "evening_spreads": list(self.evening_spreads),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoomModel:
        """Rebuild from ``to_dict`` data."""
        zones_data = data["zones"]
        if not isinstance(zones_data, Mapping):
            raise TypeError("zones must be an object")
        zones: dict[Zone, ZoneModel | None] = {}
        for zone in Zone:
            item = zones_data.get(zone.name.lower())
            zones[zone] = None if item is None else ZoneModel.from_dict(_mapping(item))
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise TypeError("settings must be an object")
        if len(json.dumps(settings, allow_nan=False)) > MAX_SETTINGS_CHARS:
            raise ValueError(f"settings hold more than {MAX_SETTINGS_CHARS} characters")
        lights = tuple(_name(key) for key in _list(data.get("lights", [])))
        if len(lights) > MAX_LIGHTS:
            raise ValueError(f"a room has at most {MAX_LIGHTS} lights")
        evenings = tuple(_evening(span) for span in _list(data.get("evenings", [])))
        if len(evenings) > MAX_EVENINGS:
            raise ValueError(f"a room keeps at most {MAX_EVENINGS} evenings")
        spreads = [_number(x) for x in _list(data.get("evening_spreads", [0, 0]))]
        if len(spreads) != 2 or not all(
            0.0 <= x <= MAX_EVENING_SPREAD for x in spreads
        ):
            raise ValueError(
                f"evening_spreads are two spreads of 0 to {MAX_EVENING_SPREAD} minutes"
            )
        levels = _levels(data["levels"])
        for zone_model in zones.values():
            if zone_model is None:
                continue
            if len(zone_model.on_level_counts) > levels.n_levels:
                raise ValueError("on_level_counts has more levels than the room")
            for scene in zone_model.scenes:
                if len(scene.brightness) != len(lights):
                    raise ValueError("a scene needs a brightness for every light")
                if scene.level >= levels.n_levels or scene.minutes > MAX_COUNT:
                    raise ValueError("a scene has a level of the room and a count")
        return cls(
            room=_name(data["room"]),
            levels=levels,
            zones=zones,
            data_start=_moment(data["data_start"]),
            data_end=_moment(data["data_end"]),
            n_samples=_count(data["n_samples"]),
            days_of_data=_number(data["days_of_data"]),
            trained_at=_moment(data["trained_at"]),
            settings=settings,
            lights=lights,
            evenings=evenings,
            evening_spreads=(spreads[0], spreads[1]),
        )


@dataclass(frozen=True, eq=False)
class HomeModel:
    """The location of a home and the models of its rooms."""

    location: Location
    rooms: dict[str, RoomModel] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data, with format name and version."""
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "location": self.location.to_dict(),
            "rooms": {name: room.to_dict() for name, room in self.rooms.items()},
        }

    def dumps(self) -> str:
        """Return the model as JSON text."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False, default=_plain)

    @classmethod
    def from_dict(cls, data: Any) -> HomeModel:
        """Rebuild from ``to_dict`` data; ``ModelError`` if it is not valid."""
        if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
            raise NotAModel("not a lighting replay model")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelError("bad model version")
        if version > MODEL_VERSION:
            raise ModelError(
                f"model version {version} is newer than this version can read "
                f"({MODEL_VERSION}); update Lighting Replay"
            )
        try:
            loc = _mapping(data["location"])
            location = Location(
                _number(loc["latitude"]),
                _number(loc["longitude"]),
                _name(loc["time_zone"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"bad location: {_describe(err)}") from err
        rooms_data = data.get("rooms")
        if not isinstance(rooms_data, Mapping):
            raise ModelError("'rooms' must be an object")
        if len(rooms_data) > MAX_ROOMS:
            raise ModelError(f"a model has at most {MAX_ROOMS} rooms")
        rooms: dict[str, RoomModel] = {}
        for index, (name, room_data) in enumerate(rooms_data.items()):
            if not isinstance(room_data, Mapping):
                raise ModelError(f"room {index + 1}: a room is an object")
            try:
                rooms[_name(name)] = RoomModel.from_dict(room_data)
            except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
                raise ModelError(f"room {index + 1}: {_describe(err)}") from err
        return cls(location, rooms)

    @classmethod
    def loads(cls, text: str | bytes) -> HomeModel:
        """Read a model from JSON text; ``ModelError`` if it is not valid."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:
            # JSONDecodeError and UnicodeDecodeError are ValueErrors; their
            # text quotes the file, so it is not passed on.
            raise NotAModel("not valid JSON text") from err
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        """Write the model to a file (through a temporary file, then rename)."""
        target = Path(path)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(self.dumps(), encoding="utf-8")
        temporary.replace(target)

    @classmethod
    def load(cls, path: str | Path) -> HomeModel:
        """Read a model file; ``ModelError`` if it cannot be read or is bad."""
        try:
            text = Path(path).read_bytes()
        except OSError as err:
            raise ModelError(f"cannot read {path}: {err}") from err
        return cls.loads(text)


def _describe(err: BaseException) -> str:
    """Say what went wrong in a field, for a ``ModelError`` message."""
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}"
    return str(err) or type(err).__name__


def _number(value: Any) -> float:
    """Return a finite float or raise ``ValueError`` (a huge int too)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _count(value: Any) -> int:
    """Return an int in 0..``MAX_COUNT`` or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a count")
    if value < 0:
        raise ValueError("a count must not be negative")
    if value > MAX_COUNT:
        raise ValueError(f"a count is at most {MAX_COUNT}")
    return value


def _evening(value: Any) -> tuple[int, int]:
    """Return an evening's first and last lit minute of the day (-1: no light)."""
    span = _list(value)
    if len(span) != 2 or any(
        isinstance(m, bool) or not isinstance(m, int) for m in span
    ):
        raise TypeError("an evening is two whole minutes of the day")
    first, last = span
    if not -1 <= first < 24 * 60 or not -1 <= last < 24 * 60:
        raise ValueError("an evening's minutes are minutes of the day or -1")
    if (first < 0) != (last < 0) or first > last:
        raise ValueError("an evening's first lit minute is not after its last")
    return first, last


def _probabilities(value: Any, depth: int = 2) -> bool:
    """Return whether JSON data is numbers in 0..1, in arrays at most 2 deep."""
    if isinstance(value, list):
        return depth > 0 and all(_probabilities(v, depth - 1) for v in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0.0 <= value <= 1.0


def _list(value: Any) -> list[Any]:
    """Return a JSON array or raise ``TypeError``."""
    if not isinstance(value, list):
        raise TypeError("expected an array")
    return value


def _mapping(value: Any) -> Mapping[str, Any]:
    """Return a JSON object or raise ``TypeError``."""
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return value


def _name(value: Any) -> str:
    """Return a name (a string of at most ``MAX_NAME_CHARS``) or raise."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME_CHARS:
        raise ValueError(f"a name is text of 1 to {MAX_NAME_CHARS} characters")
    return value


def _levels(value: Any) -> Levels:
    """Return a room's levels: at most ``MAX_LEVELS`` finite centres."""
    data = _mapping(value)
    centres = [_number(c) for c in _list(data["centres"])]
    if len(centres) > MAX_LEVELS:
        raise ValueError(f"a room has at most {MAX_LEVELS} levels")
    on_level = data["on_level"]
    if isinstance(on_level, bool) or not isinstance(on_level, int):
        raise TypeError("on_level must be a whole number")
    if not 1 <= on_level < max(len(centres), 2):
        raise ValueError("on_level must be one of the room's levels above the lowest")
    return Levels(np.asarray(centres, dtype=np.float64), on_level)


def _moment(value: Any) -> datetime:
    """Return an aware datetime from ISO text or raise ``ValueError``."""
    if not isinstance(value, str) or len(value) > 64:
        raise TypeError("expected an ISO date and time")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date and time has no time zone")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"dates lie in the years {MIN_YEAR} to {MAX_YEAR}")
    return moment


def _plain(value: Any) -> Any:
    """Turn numpy scalars and arrays into plain JSON values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
