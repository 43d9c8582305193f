"""Fitting backends: the engine's own HMM, or hmmlearn's.

Both produce the same `RoomModel` (the engine's `CategoricalHMM` per zone),
so a model fitted with hmmlearn is saved, imported and replayed exactly like
one fitted by the engine. hmmlearn is only imported when chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from lighting_replay_engine.hmm import CategoricalHMM
from lighting_replay_engine.model import RoomModel
from lighting_replay_engine.sequences import Sequences
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import (
    TrainingOptions,
    ZoneFitter,
    lux_sources,
    train_sources,
)
from lighting_replay_engine.zones import Location, Zone

BACKENDS: Final = ("engine", "hmmlearn")
"""Names accepted by `--backend`."""

N_SYMBOLS: Final = 2
"""The HMMs emit off (0) and on (1)."""


def train(
    room: str,
    timestamps_s: npt.NDArray[np.float64],
    lux: npt.NDArray[np.float64],
    location: Location,
    options: TrainingOptions,
    backend: str = "engine",
) -> RoomModel:
    """Train one room from its lux readings alone (see `train_sources_with`)."""
    return train_sources_with(
        room, lux_sources(timestamps_s, lux, options), location, options, backend
    )


def train_sources_with(
    room: str,
    sources: RoomSources,
    location: Location,
    options: TrainingOptions,
    backend: str = "engine",
) -> RoomModel:
    """Train one room from its sources (lux, lights or both) with a backend.

    Both backends go through the engine's `train_sources` (series, levels,
    zones, sequences, statistics); hmmlearn only replaces the zone fitter.
    Raises the engine's `NotEnoughData` when the room has too little data.
    """
    fitters: dict[str, ZoneFitter | None] = {
        "engine": None,
        "hmmlearn": _fit_zone_hmmlearn,
    }
    if backend not in fitters:
        raise ValueError(f"unknown backend {backend!r} (choose from {BACKENDS})")
    model = train_sources(room, sources, location, options, fit_zone=fitters[backend])
    return replace(model, settings={**model.settings, "backend": backend})


def _fit_zone_hmmlearn(
    zone: Zone, sequences: Sequences, options: TrainingOptions
) -> CategoricalHMM:
    """Fit a zone for the engine's `train_sources`, with hmmlearn."""
    return fit_hmmlearn(
        sequences,
        n_states=options.n_states,
        n_restarts=options.n_restarts,
        n_iter=options.n_iter,
        tol=options.tol * sequences.n_samples,
        seed=options.seed + int(zone),
    )


def fit_hmmlearn(
    sequences: Sequences,
    *,
    n_states: int | Iterable[int],
    n_restarts: int,
    n_iter: int,
    tol: float,
    seed: int,
) -> CategoricalHMM:
    """Fit with hmmlearn's `CategoricalHMM`; return it as the engine's model.

    Several seeded restarts per number of states keep the most likely fit;
    across numbers of states the lowest BIC wins, as the engine does.
    """
    from hmmlearn.hmm import CategoricalHMM as HmmlearnHMM  # noqa: PLC0415

    sizes = [n_states] if isinstance(n_states, int) else list(n_states)
    rng = np.random.default_rng(seed)
    n_samples = sequences.n_samples
    best: dict[str, Any] | None = None
    best_bic = math.inf
    for size in sizes:
        best_fit: Any = None
        best_ll = -math.inf
        for restart_seed in rng.integers(0, 2**31 - 1, size=max(n_restarts, 1)):
            fit = HmmlearnHMM(
                n_components=int(size),
                n_features=N_SYMBOLS,
                n_iter=n_iter,
                tol=tol,
                random_state=int(restart_seed),
                implementation="scaling",
            )
            fit.fit(sequences.X, sequences.lengths)
            ll = float(fit.score(sequences.X, sequences.lengths))
            if ll > best_ll:
                best_fit, best_ll = fit, ll
        # Free parameters: start (k-1), transitions k(k-1), emissions k(m-1).
        k = int(size)
        n_parameters = (k - 1) + k * (k - 1) + k * (N_SYMBOLS - 1)
        bic = -2.0 * best_ll + n_parameters * math.log(n_samples)
        if bic < best_bic:
            best_bic = bic
            best = {
                "n_components": k,
                "n_features": N_SYMBOLS,
                "startprob": _rows(best_fit.startprob_),
                "transmat": _rows(best_fit.transmat_),
                "emissionprob": _rows(best_fit.emissionprob_),
            }
    if best is None:
        raise ValueError("no number of states to fit")
    return CategoricalHMM.from_dict(best)


def _rows(values: npt.NDArray[np.float64]) -> Any:
    """Return probabilities renormalised to sum to exactly one per row.

    hmmlearn's float sums can be off by a few ulps; rows that never got any
    counts can be all zero, and these become uniform so the model stays valid.
    """
    array = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    sums = array.sum(axis=-1, keepdims=True)
    uniform = np.full_like(array, 1.0 / array.shape[-1])
    array = np.where(sums > 0, array / np.where(sums > 0, sums, 1.0), uniform)
    return array.tolist()
