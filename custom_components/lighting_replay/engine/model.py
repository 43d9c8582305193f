"""The learned model of a home as versioned JSON.

A ``HomeModel`` holds the home's location and one ``RoomModel`` per room:
its light levels and threshold, one ``ZoneModel`` (an HMM over on/off
minutes) per zone of the day, and what it was learned from. The trainer
writes this file and the integration imports it, so the format is plain
JSON with a format name and a version; never pickle. Anything wrong in a
file (not JSON, another format, a newer version, a missing or bad field)
raises ``ModelError`` saying what and where.
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
MODEL_VERSION = 2
#: What changed in each version (older files keep loading):
#: 2: rooms learned from their lights (``RoomModel.lights``, per-zone
#:    ``scenes``); a version 1 file is a lux room without them.


class ModelError(ValueError):
    """A model file that is corrupted, of another format or incompatible."""


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
        counts = tuple(int(c) for c in data.get("on_level_counts", []))
        if any(c < 0 for c in counts):
            raise ValueError("on_level_counts must not be negative")
        return cls(
            hmm=CategoricalHMM.from_dict(data["hmm"]),
            n_sequences=_count(data["n_sequences"]),
            n_samples=_count(data["n_samples"]),
            log_likelihood=_number(data["log_likelihood"]),
            on_level_counts=counts,
            on_fraction=_number(data.get("on_fraction", 0.0)),
            scenes=tuple(Scene.from_dict(item) for item in data.get("scenes", [])),
        )


@dataclass(frozen=True, eq=False)
class RoomModel:
    """Everything learned about one room.

    ``zones`` has an entry for every zone; ``None`` where there was no data
    (a schedule keeps the light off there). ``data_start``/``data_end``
    (aware, UTC) span the readings, ``n_samples`` counts the usable minutes,
    ``days_of_data`` is that in days.
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
            zones[zone] = None if item is None else ZoneModel.from_dict(item)
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise TypeError("settings must be an object")
        lights = tuple(str(key) for key in data.get("lights", []))
        for zone_model in zones.values():
            for scene in () if zone_model is None else zone_model.scenes:
                if len(scene.brightness) != len(lights):
                    raise ValueError("a scene needs a brightness for every light")
        return cls(
            room=str(data["room"]),
            levels=Levels.from_dict(data["levels"]),
            zones=zones,
            data_start=_moment(data["data_start"]),
            data_end=_moment(data["data_end"]),
            n_samples=_count(data["n_samples"]),
            days_of_data=_number(data["days_of_data"]),
            trained_at=_moment(data["trained_at"]),
            settings=settings,
            lights=lights,
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
        if not isinstance(data, Mapping):
            raise ModelError("a home model is a JSON object")
        if data.get("format") != MODEL_FORMAT:
            raise ModelError(
                f"not a lighting replay model (format {data.get('format')!r}, "
                f"expected {MODEL_FORMAT!r})"
            )
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelError(f"bad model version {version!r}")
        if version > MODEL_VERSION:
            raise ModelError(
                f"model version {version} is newer than this version can read "
                f"({MODEL_VERSION}); update Lighting Replay"
            )
        try:
            loc = data["location"]
            location = Location(
                float(loc["latitude"]), float(loc["longitude"]), str(loc["time_zone"])
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"bad location: {_describe(err)}") from err
        rooms_data = data.get("rooms")
        if not isinstance(rooms_data, Mapping):
            raise ModelError("'rooms' must be an object")
        rooms: dict[str, RoomModel] = {}
        for name, room_data in rooms_data.items():
            if not isinstance(room_data, Mapping):
                raise ModelError(f"room {name!r}: a room is an object")
            try:
                rooms[str(name)] = RoomModel.from_dict(room_data)
            except (KeyError, TypeError, ValueError, IndexError) as err:
                raise ModelError(f"room {name!r}: {_describe(err)}") from err
        return cls(location, rooms)

    @classmethod
    def loads(cls, text: str | bytes) -> HomeModel:
        """Read a model from JSON text; ``ModelError`` if it is not valid."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelError(f"not valid JSON: {err}") from err
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
    """Return a finite float or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _count(value: Any) -> int:
    """Return a non-negative int or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a count, got {value!r}")
    return value


def _moment(value: Any) -> datetime:
    """Return an aware datetime from ISO text or raise ``ValueError``."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO date and time, got {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _plain(value: Any) -> Any:
    """Turn numpy scalars and arrays into plain JSON values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
