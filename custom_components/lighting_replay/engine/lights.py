"""Levels and scenes of a room learned from its lights' own states.

A room with several lights is lit in ways: the floor lamp alone late in the
evening, everything at dinner. Its *value* per minute is the sum of the
brightness (0..1) of its lights; its levels are 0 (all off) and the
K-Means centres of the lit minutes' values, so level 1 and above are "on".
Which lights make up a level is a *scene*: the brightness of every light,
in steps of ``SCENE_STEP_PCT`` percent. Each zone keeps the scenes seen at
each level with their minutes, and a replayed interval at a level gets one
of them, drawn by how often it was seen (``schedule.sample_day``), so the
replay switches the lights the household used together, not all of them at
once. ``benchmarks/engine_train.py --sources`` measures how close the
replayed mix of scenes is to the household's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .levels import Levels, kmeans_1d
from .sources import LightsOnGrid
from .zones import Zone

type FloatArray = npt.NDArray[np.float64]
type Int8Array = npt.NDArray[np.int8]

#: Brightness of a scene is kept in steps of this many percent.
SCENE_STEP_PCT = 10
#: At most this many scenes per zone and level (the most frequent).
MAX_SCENES = 6


@dataclass(frozen=True)
class Scene:
    """Which lights are on, and how bright, at a level.

    ``brightness`` is a percentage per light (0: off), in the order of the
    room model's ``lights``; ``minutes`` is how long it was seen.
    """

    level: int
    brightness: tuple[int, ...]
    minutes: int

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {
            "level": self.level,
            "brightness": list(self.brightness),
            "minutes": self.minutes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scene:
        """Rebuild from ``to_dict`` data (``ValueError`` if out of range)."""
        level = _int(data["level"])
        brightness = tuple(_int(b) for b in data["brightness"])
        minutes = _int(data["minutes"])
        if level < 1 or minutes < 0 or any(not 0 <= b <= 100 for b in brightness):
            raise ValueError("a scene has a level >= 1 and brightness 0..100")
        return cls(level, brightness, minutes)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {value!r}")
    return value


def fit_light_levels(value: npt.ArrayLike, k: int) -> Levels:
    """Return the levels of a room's light value: 0 and ``k - 1`` lit centres."""
    values = np.asarray(value, dtype=np.float64)
    lit = values[np.isfinite(values) & (values > 0.0)]
    centres = np.asarray([1.0]) if lit.size == 0 else kmeans_1d(lit, k - 1)
    return Levels(np.concatenate(([0.0], centres)), 1)


def light_levels_of(
    levels: Levels, value: npt.ArrayLike, on_off: Int8Array
) -> Int8Array:
    """Return each minute's level: lit minutes at level 1 or above, -1 unknown.

    A minute lit only by what the lux saw (the lights were off) is at
    level 1, the dimmest way the room is lit.
    """
    level = levels.assign(np.nan_to_num(np.asarray(value, dtype=np.float64)))
    level[on_off == 1] = np.maximum(level[on_off == 1], 1)
    level[on_off == 0] = 0
    level[on_off < 0] = -1
    return level


def zone_scenes(
    lights: LightsOnGrid, level: Int8Array, zones: Int8Array, zone: Zone
) -> tuple[Scene, ...]:
    """Return the scenes seen in a zone, the most frequent first per level."""
    here = (zones == int(zone)) & lights.on & (level >= 1)
    if not here.any() or not lights.keys:
        return ()
    step = SCENE_STEP_PCT / 100.0
    pct = np.rint(np.nan_to_num(lights.brightness[:, here]) / step).astype(np.int64)
    # A light that is on is at least one step bright.
    on = np.nan_to_num(lights.brightness[:, here]) > 0.0
    pct = np.where(on, np.maximum(pct, 1), 0) * SCENE_STEP_PCT
    rows = np.vstack((level[here].astype(np.int64), pct)).T
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    scenes: list[Scene] = []
    for lv in np.unique(unique[:, 0]):
        mine = np.flatnonzero(unique[:, 0] == lv)
        best = mine[np.argsort(-counts[mine], kind="stable")][:MAX_SCENES]
        scenes.extend(
            Scene(int(lv), tuple(int(b) for b in unique[i, 1:]), int(counts[i]))
            for i in best
        )
    return tuple(scenes)
