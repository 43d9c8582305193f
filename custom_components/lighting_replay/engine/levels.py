"""Light levels of a room: 1-D K-Means and the on/off threshold.

The original system clustered the smoothed lux of a room into 4 levels with
K-Means and called a lamp "on" from a level picked by hand. Here the centres
come from an exact-assignment 1-D K-Means (sorted data, boundaries at the
midpoints between centres) that is deterministic for a given seed, and the
threshold is found from the readings taken after dark, where daylight cannot
be mistaken for a lamp.

The centres are fitted to the readings after dark as well (``LEVELS_FROM``:
``"after_dark"``, the default; ``"all"`` is the original's). Clustered with
the day's readings, the levels spread over daylight, and a dim lamp (a
reading light of 35 lx in a room with 250 lx of daylight) falls into the
lowest level with the dark room: it is never "on", and its room is never
lit in replay. After dark the readings are the lamps' alone.
``benchmarks/engine_train.py`` measures both (see its README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]
type Int8Array = npt.NDArray[np.int8]

#: Default number of light levels, as the original system.
DEFAULT_LEVELS = 4
#: Number of random k-means++ starts tried besides the quantile start.
N_RANDOM_STARTS = 8
#: At most this many Lloyd iterations per start (1-D converges in a few).
MAX_ITERATIONS = 300
#: Fewer after-dark readings than this give no automatic threshold.
MIN_AFTER_DARK_SAMPLES = 60
#: Which readings the level centres are fitted to (see the module's docstring).
LEVELS_FROM = ("after_dark", "all")
#: Fewer after-dark readings than this (a day's worth) fit the centres to all.
MIN_AFTER_DARK_FOR_CENTRES = 1440


def _lloyd_sorted(
    x: FloatArray, csum: FloatArray, centres: FloatArray
) -> tuple[FloatArray, float]:
    """Run Lloyd's algorithm on sorted ``x`` from ``centres``.

    Assignment in one dimension is a split of the sorted data at the
    midpoints between neighbouring centres, so each iteration costs only a
    binary search and prefix sums. Returns the centres and the inertia.
    """
    n = x.size
    centres = np.sort(centres)
    csq = np.concatenate(([0.0], np.cumsum(x * x)))

    def split(c: FloatArray) -> npt.NDArray[np.intp]:
        cuts = np.searchsorted(x, (c[:-1] + c[1:]) / 2.0, side="right")
        return np.concatenate(([0], cuts, [n]))

    previous = split(centres)
    for _ in range(MAX_ITERATIONS):
        counts = np.diff(previous)
        sums = csum[previous[1:]] - csum[previous[:-1]]
        filled = counts > 0
        new = centres.copy()
        new[filled] = sums[filled] / counts[filled]
        centres = np.sort(new)
        edges = split(centres)
        if np.array_equal(edges, previous):
            break
        previous = edges
    counts = np.diff(previous)
    sums = csum[previous[1:]] - csum[previous[:-1]]
    squares = csq[previous[1:]] - csq[previous[:-1]]
    filled = counts > 0
    inertia = float(np.sum(squares[filled] - sums[filled] ** 2 / counts[filled]))
    return centres, inertia


def _plus_plus_start(x: FloatArray, k: int, rng: np.random.Generator) -> FloatArray:
    """Pick k starting centres from the data, k-means++ style."""
    centres = [float(x[rng.integers(x.size)])]
    for _ in range(1, k):
        distance = np.min(np.abs(x[:, None] - np.asarray(centres)[None, :]), axis=1)
        weights = distance**2
        total = float(weights.sum())
        if total <= 0.0:
            break
        centres.append(float(x[rng.choice(x.size, p=weights / total)]))
    while len(centres) < k:
        centres.append(centres[-1])
    return np.asarray(centres)


def kmeans_1d(
    values: npt.ArrayLike, k: int = DEFAULT_LEVELS, *, seed: int = 0
) -> FloatArray:
    """Cluster one-dimensional values into ``k`` groups; return sorted centres.

    Missing values (NaN) are ignored. The result depends only on the values
    and the seed: one start from the quantiles plus ``N_RANDOM_STARTS``
    k-means++ starts drawn from ``seed``; the start with the lowest inertia
    wins. With fewer than ``k`` distinct values, those values are the centres
    (so fewer than ``k`` are returned; also when two centres coincide). No value at all raises ``ValueError``.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = np.sort(x[np.isfinite(x)])
    if x.size == 0:
        raise ValueError("no values to cluster")
    distinct = np.unique(x)
    if distinct.size <= k:
        return distinct
    csum = np.concatenate(([0.0], np.cumsum(x)))
    quantiles = np.asarray(np.quantile(x, (np.arange(k) + 0.5) / k), dtype=np.float64)
    best, best_inertia = _lloyd_sorted(x, csum, quantiles)
    rng = np.random.default_rng(seed)
    # k-means++ needs distances to every point; a sorted subsample is plenty
    # for choosing starts.
    pool = x if x.size <= 4000 else x[np.linspace(0, x.size - 1, 4000).astype(int)]
    for _ in range(N_RANDOM_STARTS):
        centres, inertia = _lloyd_sorted(x, csum, _plus_plus_start(pool, k, rng))
        if np.unique(centres).size == k and inertia < best_inertia - 1e-9 * abs(
            best_inertia
        ):
            best, best_inertia = centres, inertia
    # Values far below the prefix sums' precision (1e-100 next to 1) can
    # leave two centres equal; one of them is enough.
    return np.unique(best)


@dataclass(frozen=True, eq=False)
class Levels:
    """Light level centres of a room (dark to bright) and its "on" threshold.

    A reading is at the level of its nearest centre. The lamp counts as on
    when the level is ``on_level`` or brighter.
    """

    centres: FloatArray
    on_level: int

    def __post_init__(self) -> None:
        """Check that the centres are sorted and the threshold is a level."""
        centres = np.asarray(self.centres, dtype=np.float64).ravel()
        if centres.size < 2:
            raise ValueError("at least two light levels are needed")
        if not np.all(np.isfinite(centres)) or np.any(np.diff(centres) <= 0):
            raise ValueError("level centres must be finite and strictly increasing")
        on_level = int(self.on_level)
        if not 1 <= on_level < centres.size:
            raise ValueError(
                f"on_level must be between 1 and {centres.size - 1}, got {on_level}"
            )
        object.__setattr__(self, "centres", centres)
        object.__setattr__(self, "on_level", on_level)

    @property
    def n_levels(self) -> int:
        """Return the number of levels."""
        return int(self.centres.size)

    @property
    def on_lux(self) -> float:
        """Return the lux where "on" starts (midpoint below the on level)."""
        c = self.centres
        return float((c[self.on_level - 1] + c[self.on_level]) / 2.0)

    def assign(self, lux: npt.ArrayLike) -> Int8Array:
        """Return the level of each reading; -1 where the reading is missing."""
        values = np.asarray(lux, dtype=np.float64)
        bounds = (self.centres[:-1] + self.centres[1:]) / 2.0
        level = np.searchsorted(bounds, values, side="left").astype(np.int8)
        level[~np.isfinite(values)] = -1
        return level

    def on_off(self, lux: npt.ArrayLike) -> Int8Array:
        """Return 1 (on) / 0 (off) per reading; -1 where it is missing."""
        level = self.assign(lux)
        out = (level >= self.on_level).astype(np.int8)
        out[level < 0] = -1
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return {"centres": [float(c) for c in self.centres], "on_level": self.on_level}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Levels:
        """Rebuild from ``to_dict`` data (``ValueError``/``KeyError`` if bad)."""
        return cls(np.asarray(data["centres"], dtype=np.float64), int(data["on_level"]))


def on_level_for_lux(centres: npt.ArrayLike, on_lux: float) -> int:
    """Return the on level a lux threshold stands for.

    The first level whose centre reaches ``on_lux`` is "on", kept to the
    levels a threshold can be (1 to ``len(centres) - 1``). A room set up with
    a lux threshold gets this level, in the integration and in the trainer.
    """
    values = np.asarray(centres, dtype=np.float64).ravel()
    level = int(np.searchsorted(values, on_lux, side="left"))
    return min(max(level, 1), values.size - 1)


def threshold_after_dark(centres: FloatArray, lux_after_dark: FloatArray) -> int:
    """Find the on-level from readings taken while the sun is down.

    After dark a room is either lit by its lamp or it is not, so the readings
    fall into two groups. Every candidate threshold ``t`` (levels below ``t``
    off, ``t`` and above on) splits them; the chosen one separates them best,
    i.e. maximises the between-group variance of log lux (Otsu's criterion
    on level boundaries; log because lamp light spans orders of magnitude).
    Levels never seen after dark split nothing; on a tie the higher
    threshold wins, so a level seen only in daylight counts as off.
    """
    levels = Levels(centres, 1)
    values = lux_after_dark[np.isfinite(lux_after_dark)]
    level = levels.assign(values)
    logs = np.log1p(np.maximum(values, 0.0))
    n = logs.size
    best_level, best_score = 1, -1.0
    for t in range(1, centres.size):
        on = level >= t
        n_on = int(np.count_nonzero(on))
        if n_on in (0, n):
            continue
        w_on = n_on / n
        diff = float(logs[on].mean() - logs[~on].mean())
        score = w_on * (1.0 - w_on) * diff * diff
        if score >= best_score * (1.0 - 1e-9):
            best_level, best_score = t, score
    return best_level


def fit_levels(
    lux: npt.ArrayLike,
    *,
    after_dark: npt.ArrayLike | None = None,
    k: int = DEFAULT_LEVELS,
    on_level: int | None = None,
    on_lux: float | None = None,
    seed: int = 0,
    levels_from: str = "after_dark",
) -> Levels:
    """Fit the light levels of a room and its on-threshold.

    ``lux`` are the (smoothed) minute values, NaN where missing; ``after_dark``
    is a bool mask like ``lux``, true for the minutes after dark. The centres
    come from the readings after dark (``levels_from="after_dark"``) when
    there are at least ``MIN_AFTER_DARK_FOR_CENTRES`` of them, otherwise
    (or with ``levels_from="all"``) from all of them. ``on_level`` given by
    hand wins; otherwise the threshold is found from the readings after dark
    with ``threshold_after_dark``; ``on_lux`` instead picks the first level
    whose centre reaches it (``on_level_for_lux``), as a room's lux threshold
    does. Without enough readings after dark (fewer
    than ``MIN_AFTER_DARK_SAMPLES``), all readings are used instead, which
    is what the data allows.
    """
    if levels_from not in LEVELS_FROM:
        raise ValueError(f"levels_from must be one of {LEVELS_FROM}")
    values: FloatArray = np.asarray(lux, dtype=np.float64).ravel()
    dark: FloatArray | None = None
    if after_dark is not None:
        mask = np.asarray(after_dark, dtype=bool).ravel()
        if mask.shape != values.shape:
            raise ValueError("after_dark must have one flag per reading")
        dark = values[mask]
    n_dark = 0 if dark is None else int(np.count_nonzero(np.isfinite(dark)))
    clustered = values
    if (
        dark is not None
        and levels_from == "after_dark"
        and n_dark >= MIN_AFTER_DARK_FOR_CENTRES
    ):
        clustered = dark
    centres = kmeans_1d(clustered, k, seed=seed)
    if centres.size < 2:
        raise ValueError("the readings have a single light level: nothing to learn")
    if on_level is not None:
        return Levels(centres, on_level)
    if on_lux is not None:
        return Levels(centres, on_level_for_lux(centres, on_lux))
    chosen = dark if dark is not None and n_dark >= MIN_AFTER_DARK_SAMPLES else values
    return Levels(centres, threshold_after_dark(centres, chosen))
