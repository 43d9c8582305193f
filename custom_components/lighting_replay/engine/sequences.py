"""On/off training sequences, split at zone changes and gaps.

Each zone of the day gets its own model, so a sequence of on/off minutes
ends where the zone changes. A missing minute (-1) ends it too: a model must
never learn a jump across a stretch it did not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .zones import Zone

type IntArray = npt.NDArray[np.int64]

#: Shorter runs than this are too short to tell a model anything.
DEFAULT_MIN_LENGTH = 2


@dataclass(frozen=True, eq=False)
class Sequences:
    """Several symbol sequences in hmmlearn's concatenated form.

    ``X`` is an ``(n_samples, 1)`` int array of all sequences one after the
    other, ``lengths`` the length of each.
    """

    X: IntArray
    lengths: IntArray

    def __post_init__(self) -> None:
        """Normalise the arrays and check that the lengths add up."""
        x = np.asarray(self.X, dtype=np.int64).reshape(-1, 1)
        lengths = np.asarray(self.lengths, dtype=np.int64).ravel()
        if int(lengths.sum()) != x.shape[0] or np.any(lengths <= 0):
            raise ValueError("sequence lengths must be positive and add up to X")
        object.__setattr__(self, "X", x)
        object.__setattr__(self, "lengths", lengths)

    @property
    def n_sequences(self) -> int:
        """Return the number of sequences."""
        return int(self.lengths.size)

    @property
    def n_samples(self) -> int:
        """Return the number of samples in all sequences."""
        return int(self.X.shape[0])

    def split(self) -> list[IntArray]:
        """Return the sequences as separate one-dimensional arrays."""
        return np.split(self.X[:, 0], np.cumsum(self.lengths)[:-1])


def split_sequences(
    on_off: npt.ArrayLike,
    zones: npt.ArrayLike,
    *,
    min_length: int = DEFAULT_MIN_LENGTH,
) -> dict[Zone, Sequences]:
    """Cut an on/off minute series into sequences per zone.

    ``on_off`` holds 1 (on), 0 (off) or -1 (missing) per minute, ``zones``
    the zone of each minute. A sequence is a run of present minutes within
    one zone; runs shorter than ``min_length`` are dropped. Zones without any
    sequence are absent from the result.
    """
    # Integer arrays keep their (small) type: the engine's on/off and zones
    # are int8, and int64 copies of a year of minutes would be the largest
    # arrays of training. Anything else is read as int64, as before.
    state = _integers(on_off)
    zone = _integers(zones)
    if state.shape != zone.shape:
        raise ValueError("on_off and zones must have the same length")
    if np.any((state < -1) | (state > 1)):
        raise ValueError("on_off holds only 1, 0 and -1")
    present = state >= 0
    if not present.any():
        return {}
    # A run starts where a present minute follows a missing one or a minute
    # of another zone.
    starts_run = zone[1:] != zone[:-1]
    starts_run |= ~present[:-1]
    starts_run &= present[1:]
    # Run numbers of the present minutes only (int32: a series spans at most
    # MAX_SPAN_MINUTES).
    run_of = np.cumsum(
        np.concatenate(([present[0]], starts_run))[present], dtype=np.int32
    )
    del starts_run
    run_of -= 1
    state = state[present]
    zone = zone[present]
    del present
    run_lengths = np.bincount(run_of).astype(np.int64)
    run_zone = zone[np.searchsorted(run_of, np.arange(run_lengths.size))]
    del zone
    keep_run = run_lengths >= min_length
    result: dict[Zone, Sequences] = {}
    for z in Zone:
        chosen = keep_run & (run_zone == int(z))
        if not chosen.any():
            continue
        take = chosen[run_of]
        result[z] = Sequences(state[take], run_lengths[chosen])
    return result


def _integers(values: npt.ArrayLike) -> npt.NDArray[np.integer[Any]]:
    """Return values as a flat integer array (int64 unless already integers)."""
    array = np.asarray(values).ravel()
    if np.issubdtype(array.dtype, np.integer):
        return array
    return array.astype(np.int64)
