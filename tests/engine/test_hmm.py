"""Tests of the categorical hidden Markov model.

hmmlearn's ``CategoricalHMM`` (scaling implementation) is the reference:
started from the same parameters, every EM iteration must reach the same
parameters and the same log-likelihood.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hmmlearn.hmm import CategoricalHMM as ReferenceHMM
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import numpy.typing as npt
import pytest

from lighting_replay_engine import hmm
from lighting_replay_engine.hmm import CategoricalHMM, fit_best
from lighting_replay_engine.sequences import split_sequences
from lighting_replay_engine.simulate import SimulatedRoom
from lighting_replay_engine.zones import Location, zones_of_minutes

RTOL = 1e-6
# Probabilities this small carry no information; compare them absolutely.
ATOL = 1e-12

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


@pytest.fixture(params=["steps", "runs", "blocks"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one of the three exact E-step methods."""
    name: str = request.param
    monkeypatch.setattr(hmm, "_choose_method", lambda data: name)
    return name


def _random_problem(
    seed: int, n_states: int, n_symbols: int, n_sequences: int = 30
) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
    """Symbols from a random sticky HMM, lengths 1..80, and start parameters."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 80, size=n_sequences)
    lengths[:3] = 1  # length-1 sequences carry no transition
    truth = CategoricalHMM.from_dict(
        {
            "n_components": n_states,
            "n_features": n_symbols,
            "startprob": rng.dirichlet(np.ones(n_states)).tolist(),
            "transmat": (
                0.5 * np.eye(n_states)
                + 0.5 * rng.dirichlet(np.ones(n_states), size=n_states)
            ).tolist(),
            "emissionprob": rng.dirichlet(np.ones(n_symbols), size=n_states).tolist(),
        }
    )
    parts = [truth.sample(int(n), random_state=rng)[0] for n in lengths]
    x = np.concatenate(parts)
    # Make sure every symbol occurs so hmmlearn and the model agree on it.
    x[:n_symbols] = np.arange(n_symbols)
    start = {
        "startprob_": rng.dirichlet(np.ones(n_states)),
        "transmat_": rng.dirichlet(np.ones(n_states), size=n_states),
        "emissionprob_": rng.dirichlet(np.ones(n_symbols), size=n_states),
    }
    return x, lengths.astype(np.int64), start


def _pair(
    start: dict[str, FloatArray], n_symbols: int, **kwargs: Any
) -> tuple[CategoricalHMM, ReferenceHMM]:
    n_states = len(start["startprob_"])
    ours = CategoricalHMM(n_states, n_features=n_symbols, init_params="", **kwargs)
    ref = ReferenceHMM(
        n_states,
        n_features=n_symbols,
        init_params="",
        implementation="scaling",
        **kwargs,
    )
    for name, value in start.items():
        setattr(ours, name, value.copy())
        setattr(ref, name, value.copy())
    return ours, ref


def _rel_diff(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def _assert_same_parameters(ours: CategoricalHMM, ref: ReferenceHMM) -> None:
    for name in ("startprob_", "transmat_", "emissionprob_"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(ref, name), rtol=RTOL, atol=ATOL, err_msg=name
        )


PROBLEMS = [
    (seed, n_states, n_symbols)
    for seed, (n_states, n_symbols) in enumerate(
        [(2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (2, 3), (3, 3), (5, 3), (6, 3)]
    )
]


@pytest.mark.parametrize(("seed", "n_states", "n_symbols"), PROBLEMS)
def test_each_em_iteration_matches_hmmlearn(
    seed: int, n_states: int, n_symbols: int, method: str
) -> None:
    """One EM iteration at a time: same parameters and log-likelihood."""
    x, lengths, start = _random_problem(seed, n_states, n_symbols)
    ours, ref = _pair(start, n_symbols, n_iter=1, tol=-math.inf)
    for _ in range(12):
        ours.fit(x, lengths)
        ref.fit(x.reshape(-1, 1), lengths)
        assert _rel_diff(ours.monitor_history_[-1], ref.monitor_.history[-1]) <= RTOL
        _assert_same_parameters(ours, ref)


@pytest.mark.parametrize(("seed", "n_states", "n_symbols"), PROBLEMS[::2])
def test_whole_trajectory_and_convergence_match_hmmlearn(
    seed: int, n_states: int, n_symbols: int, method: str
) -> None:
    """Full fits stop at the same iteration with the same history."""
    x, lengths, start = _random_problem(seed + 100, n_states, n_symbols)
    ours, ref = _pair(start, n_symbols, n_iter=200, tol=1e-3)
    ours.fit(x, lengths)
    ref.fit(x.reshape(-1, 1), lengths)
    history = list(ref.monitor_.history)
    assert len(ours.monitor_history_) == ref.monitor_.iter
    assert ours.monitor_history_[-len(history) :] == pytest.approx(history, rel=RTOL)
    assert ours.converged_ == (ref.monitor_.iter < 200)
    _assert_same_parameters(ours, ref)
    assert (
        _rel_diff(ours.score(x, lengths), ref.score(x.reshape(-1, 1), lengths)) <= RTOL
    )


@pytest.mark.parametrize(("seed", "n_states", "n_symbols"), PROBLEMS)
def test_score_and_bic_match_hmmlearn(
    seed: int, n_states: int, n_symbols: int, method: str
) -> None:
    """Log-likelihood of fixed parameters and BIC agree with hmmlearn."""
    x, lengths, start = _random_problem(seed + 200, n_states, n_symbols)
    ours, ref = _pair(start, n_symbols)
    assert _rel_diff(ours.score(x, lengths), ref.score(x.reshape(-1, 1), lengths)) <= (
        RTOL
    )
    assert _rel_diff(ours.score(x), ref.score(x.reshape(-1, 1))) <= RTOL
    assert _rel_diff(ours.bic(x, lengths), ref.bic(x.reshape(-1, 1), lengths)) <= RTOL
    assert ours.n_parameters() == sum(ref._get_n_fit_scalars_per_param().values())


def test_partial_params_match_hmmlearn(method: str) -> None:
    """Only the parameters named in ``params`` change, as in hmmlearn."""
    x, lengths, start = _random_problem(7, 3, 2)
    for params in ("s", "t", "e", "st", "te"):
        ours, ref = _pair(start, 2, n_iter=5, tol=-math.inf, params=params)
        ours.fit(x, lengths)
        ref.fit(x.reshape(-1, 1), lengths)
        _assert_same_parameters(ours, ref)
        for code, name in (("s", "startprob_"), ("t", "transmat_")):
            if code not in params:
                np.testing.assert_array_equal(getattr(ours, name), start[name])


def test_identical_sequences_count_like_repeats(method: str) -> None:
    """Deduplicated sequences weigh exactly as their copies (hmmlearn)."""
    rng = np.random.default_rng(3)
    base = [rng.integers(0, 2, size=n) for n in (50, 20, 1)]
    seqs = [base[i] for i in (0, 1, 0, 0, 2, 1, 2, 0)]
    x = np.concatenate(seqs)
    lengths = np.array([len(s) for s in seqs])
    start = {
        "startprob_": rng.dirichlet(np.ones(4)),
        "transmat_": rng.dirichlet(np.ones(4), size=4),
        "emissionprob_": rng.dirichlet(np.ones(2), size=4),
    }
    ours, ref = _pair(start, 2, n_iter=10, tol=-math.inf)
    ours.fit(x, lengths)
    ref.fit(x.reshape(-1, 1), lengths)
    _assert_same_parameters(ours, ref)


@pytest.mark.parametrize("run_length", [1, 30, 400])
def test_long_runs_match_hmmlearn(run_length: int, method: str) -> None:
    """On/off data with long runs of one symbol (the real shape of the data)."""
    rng = np.random.default_rng(run_length)
    seqs = []
    for _ in range(25):
        runs = rng.geometric(1 / run_length, size=rng.integers(1, 8))
        symbols = np.arange(len(runs)) % 2 ^ rng.integers(0, 2)
        seqs.append(np.repeat(symbols, runs))
    x = np.concatenate(seqs)
    x[:2] = (0, 1)
    lengths = np.array([len(s) for s in seqs])
    start = {
        "startprob_": rng.dirichlet(np.ones(5)),
        "transmat_": 0.8 * np.eye(5) + 0.2 * rng.dirichlet(np.ones(5), size=5),
        "emissionprob_": rng.dirichlet(np.ones(2), size=5),
    }
    ours, ref = _pair(start, 2, n_iter=1, tol=-math.inf)
    for _ in range(8):
        ours.fit(x, lengths)
        ref.fit(x.reshape(-1, 1), lengths)
        assert _rel_diff(ours.monitor_history_[-1], ref.monitor_.history[-1]) <= RTOL
        _assert_same_parameters(ours, ref)


def test_data_shape_chooses_the_method() -> None:
    """Long runs take the run method, long noisy sequences the block method."""
    rng = np.random.default_rng(0)
    day = np.repeat([0, 1, 0, 1, 0], [400, 30, 200, 150, 60])
    noisy = rng.integers(0, 2, size=840)
    assert hmm._Data([day] * 5, 2).method == "runs"
    assert hmm._Data([noisy] * 5, 2).method == "blocks"
    assert hmm._Data([noisy[:20]] * 5, 2).method == "steps"


@pytest.mark.parametrize("shape", ["day", "noisy", "single"])
def test_run_shape_without_the_run_layout(shape: str) -> None:
    """The method's choice counts runs as the run layout does."""
    if shape == "single":
        x, lengths = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0]), np.array([9])
    else:
        x, lengths = _day_like_data(2) if shape == "day" else _noisy_data(2)
    data = hmm._Data(hmm._split(x, lengths), 2)
    expected = (len(data.runs.active), data.runs.n_levels)
    assert hmm._run_shape(data.unique) == expected


def test_run_method_falls_back_when_it_would_underflow() -> None:
    """A run whose probability vanishes next to the dominant one is exact too."""
    start = {
        "startprob_": np.array([1.0, 0.0]),
        "transmat_": np.array([[1.0, 0.0], [0.5, 0.5]]),
        "emissionprob_": np.array([[1e-3, 1 - 1e-3], [0.9, 0.1]]),
    }
    # 100 zeros: the run method's normaliser falls below its threshold while
    # hmmlearn's scaled backward vectors (up to ~1e260) still fit a float.
    x = np.concatenate([np.zeros(100, dtype=np.int64), np.ones(5, dtype=np.int64)])
    data = hmm._Data([x], 2)
    assert data.method == "runs"
    assert (
        hmm._estep_runs(
            data.runs,
            start["startprob_"][None],
            start["transmat_"][None],
            start["emissionprob_"][None],
        )
        is None
    )
    ours, ref = _pair(start, 2, n_iter=1, tol=-math.inf)
    assert _rel_diff(ours.score(x), ref.score(x.reshape(-1, 1))) <= RTOL
    for _ in range(3):
        ours.fit(x)
        ref.fit(x.reshape(-1, 1))
        assert _rel_diff(ours.monitor_history_[-1], ref.monitor_.history[-1]) <= RTOL
        # State 1 is never visited: hmmlearn zeroes its rows, this model
        # keeps them (see the class docstring); everything else is equal.
        np.testing.assert_array_equal(ref.transmat_[1], [0.0, 0.0])
        np.testing.assert_array_equal(ours.transmat_[1], [0.5, 0.5])
        ref.transmat_[1] = ours.transmat_[1]
        np.testing.assert_array_equal(ref.emissionprob_[1], [0.0, 0.0])
        ref.emissionprob_[1] = ours.emissionprob_[1]
        _assert_same_parameters(ours, ref)
    # Far beyond what scaled backward vectors can hold: still exact, no NaN.
    x = np.concatenate([np.zeros(3000, dtype=np.int64), np.ones(5, dtype=np.int64)])
    model, _ = _pair(start, 2, n_iter=1, tol=-math.inf)
    expected = 3000 * math.log(1e-3) + 5 * math.log(1 - 1e-3)
    assert _rel_diff(model.score(x), expected) <= 1e-12
    model.fit(x)
    assert _rel_diff(model.monitor_history_[0], expected) <= 1e-12
    _assert_valid(model)
    np.testing.assert_allclose(model.emissionprob_[0], [3000 / 3005, 5 / 3005])


def test_block_method_falls_back_when_it_would_underflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A block whose probability underflows as one product is exact too."""
    monkeypatch.setattr(hmm, "_choose_method", lambda data: "blocks")
    start = {
        "startprob_": np.array([1.0, 0.0]),
        "transmat_": np.array([[1.0, 0.0], [0.5, 0.5]]),
        "emissionprob_": np.array([[1e-45, 1 - 1e-45], [0.9, 0.1]]),
    }
    # Each zero has probability 1e-45: hmmlearn scales every minute, while
    # the link over the six zeros (minutes 97-104 of blocks of 8) is 1e-270.
    x = np.repeat(np.array([1, 0, 1]), [97, 6, 6])
    data = hmm._Data([x], 2)
    assert data.blocks.size == 8
    params = [
        start[name][None] for name in ("startprob_", "transmat_", "emissionprob_")
    ]
    assert not hmm._forward_blocks(data.blocks, *params).ok
    assert hmm._estep_blocks(data.blocks, *params) is None
    ours, ref = _pair(start, 2, n_iter=1, tol=-math.inf)
    assert _rel_diff(ours.score(x), ref.score(x.reshape(-1, 1))) <= RTOL
    for _ in range(3):
        ours.fit(x)
        ref.fit(x.reshape(-1, 1))
        assert _rel_diff(ours.monitor_history_[-1], ref.monitor_.history[-1]) <= RTOL
        # State 1 is never visited: hmmlearn zeroes its rows, this model
        # keeps them (see the class docstring); everything else is equal.
        ref.transmat_[1] = ours.transmat_[1]
        ref.emissionprob_[1] = ours.emissionprob_[1]
        _assert_same_parameters(ours, ref)


@pytest.mark.parametrize(("shape", "method"), [("day", "runs"), ("noisy", "blocks")])
@pytest.mark.parametrize("keep_best_after", [None, 1])
def test_restarts_side_by_side_equal_separate_fits(
    shape: str, method: str, keep_best_after: int | None
) -> None:
    """fit_best's restarts give exactly the models of separate fits.

    Long runs take the run method, which runs the restarts side by side;
    symbols changing every minute or two take the block method. With
    ``keep_best_after``, the restart leading after that many iterations is
    the one that goes on: its model is that restart's separate fit.
    """
    x, lengths = _day_like_data(4) if shape == "day" else _noisy_data(4)
    data = hmm._Data(hmm._split(x, lengths), 2)
    assert data.method == method
    best = fit_best(
        x,
        lengths,
        n_components=3,
        n_restarts=3,
        n_iter=30,
        random_state=8,
        keep_best_after=keep_best_after,
    )
    separate = []
    for seed in np.random.SeedSequence(8).spawn(3):
        model = CategoricalHMM(3, n_iter=30, random_state=np.random.default_rng(seed))
        separate.append(model.fit(x, lengths))
    # The restarts end in different places, so a mix-up would show.
    scores = [m.score(x, lengths) for m in separate]
    assert len({round(v, 6) for v in scores}) == 3
    if keep_best_after is None:
        twin = separate[int(np.argmax(scores))]
    else:
        leading = [m.monitor_history_[keep_best_after - 1] for m in separate]
        twin = separate[int(np.argmax(leading))]
        # On the day-like data the leader after one iteration is not the
        # restart that would end best: it is the leader that goes on.
        assert twin is not separate[int(np.argmax(scores))] or shape == "noisy"
    assert best.monitor_history_ == pytest.approx(twin.monitor_history_, rel=1e-9)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        np.testing.assert_allclose(
            getattr(best, name), getattr(twin, name), rtol=1e-9, atol=1e-14
        )


def test_restarts_behind_the_leader_stop() -> None:
    """After ``keep_best_after`` iterations only the leading restart runs on."""
    x, lengths = _day_like_data(4)
    data = hmm._Data(hmm._split(x, lengths), 2)
    models = [
        CategoricalHMM(
            3,
            n_features=2,
            n_iter=30,
            tol=-math.inf,
            random_state=np.random.default_rng(s),
        )
        for s in np.random.SeedSequence(8).spawn(3)
    ]
    for model in models:
        hmm._init_parameters(model, 1)
    hmm._fit_together(models, data, keep_best_after=4)
    lengths_run = sorted(len(m.monitor_history_) for m in models)
    assert lengths_run == [4, 4, 30]
    leader = max(models, key=lambda m: len(m.monitor_history_))
    assert leader.monitor_history_[3] == max(m.monitor_history_[3] for m in models)


def test_block_method_takes_several_models_at_once() -> None:
    """One block E-step for several models gives each model's own counts."""
    x, lengths = _noisy_data(5)
    data = hmm._Data(hmm._split(x, lengths), 2)
    rng = np.random.default_rng(3)
    start = rng.dirichlet(np.ones(4), size=3)
    trans = rng.dirichlet(np.ones(4), size=(3, 4))
    emit = rng.dirichlet(np.ones(2), size=(3, 4))
    together = hmm._estep_blocks(data.blocks, start, trans, emit)
    assert together is not None
    for r in range(3):
        ll, start_c, trans_c, obs_c = hmm._estep_steps(
            data.steps, start[r], trans[r], emit[r]
        )
        assert _rel_diff(float(together.log_likelihood[r]), ll) <= 1e-12
        np.testing.assert_allclose(together.start[r], start_c, rtol=1e-10)
        np.testing.assert_allclose(together.trans[r], trans_c, rtol=1e-10)
        np.testing.assert_allclose(together.obs[r], obs_c, rtol=1e-10)


def _noisy_data(seed: int) -> tuple[IntArray, IntArray]:
    """Symbols that change every minute or two, some sequences cut short."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(30):
        flips = rng.random(int(rng.integers(100, 300))) >= 0.35
        seqs.append((np.cumsum(flips) % 2).astype(np.int64))
    return np.concatenate(seqs), np.array([len(s) for s in seqs])


def _day_like_data(seed: int) -> tuple[IntArray, IntArray]:
    """On/off sequences with long runs, some identical, as a zone produces."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(40):
        if rng.random() < 0.3:
            seqs.append(np.zeros(300, dtype=np.int64))
            continue
        runs = rng.geometric(1 / 60, size=rng.integers(1, 9))
        symbols = (np.arange(len(runs)) + rng.integers(0, 2)) % 2
        seqs.append(np.repeat(symbols, runs).astype(np.int64))
    return np.concatenate(seqs), np.array([len(s) for s in seqs])


def test_simulated_household_matches_hmmlearn(
    household: dict[str, SimulatedRoom], berlin: Location
) -> None:
    """Zone sequences of the project's simulated rooms: same EM as hmmlearn."""
    rng = np.random.default_rng(21)
    checked = 0
    for room in household.values():
        minutes = room.start_minute + np.arange(room.lamp_on.size)
        zones = zones_of_minutes(minutes, berlin)
        for seqs in split_sequences(room.lamp_on.astype(np.int64), zones).values():
            x = seqs.X[:, 0]
            if x.min() == x.max():
                continue  # one symbol only: hmmlearn would see one feature
            start = {
                "startprob_": rng.dirichlet(np.ones(4)),
                "transmat_": rng.dirichlet(np.ones(4), size=4),
                "emissionprob_": rng.dirichlet(np.ones(2), size=4),
            }
            ours, ref = _pair(start, 2, n_iter=6, tol=-math.inf)
            ours.fit(x, seqs.lengths)
            ref.fit(seqs.X, seqs.lengths)
            history = list(ref.monitor_.history)
            assert ours.monitor_history_ == pytest.approx(history, rel=RTOL)
            _assert_same_parameters(ours, ref)
            checked += 1
    assert checked >= 4


def test_sampling_statistics() -> None:
    """Empirical start, transition and emission frequencies match the model."""
    model = CategoricalHMM.from_dict(
        {
            "n_components": 3,
            "n_features": 2,
            "startprob": [0.2, 0.5, 0.3],
            "transmat": [[0.9, 0.08, 0.02], [0.1, 0.7, 0.2], [0.3, 0.0, 0.7]],
            "emissionprob": [[0.95, 0.05], [0.4, 0.6], [0.1, 0.9]],
        }
    )
    rng = np.random.default_rng(11)
    symbols, states = model.sample(100_000, random_state=rng)
    assert symbols.shape == states.shape == (100_000,)
    counts = np.zeros((3, 3))
    np.add.at(counts, (states[:-1], states[1:]), 1)
    np.testing.assert_allclose(
        counts / counts.sum(axis=1, keepdims=True), model.transmat_, atol=0.01
    )
    assert counts[2, 1] == 0  # a forbidden transition never happens
    for state in range(3):
        emitted = symbols[states == state]
        assert np.mean(emitted) == pytest.approx(
            model.emissionprob_[state, 1], abs=0.01
        )
    firsts = [model.sample(1, random_state=rng)[1][0] for _ in range(4000)]
    np.testing.assert_allclose(
        np.bincount(firsts, minlength=3) / 4000, model.startprob_, atol=0.03
    )
    # A start distribution summing to 1 within the loading tolerance is fine.
    _, nearly = model.sample(3, random_state=rng, startprob=[0.2, 0.5, 0.3000005])
    assert nearly.shape == (3,)
    _, forced = model.sample(5, random_state=rng, currstate=2)
    assert forced[0] == 2
    conditioned = [
        model.sample(1, random_state=rng, startprob=[0.0, 1.0, 0.0])[1][0]
        for _ in range(50)
    ]
    assert set(conditioned) == {1}


def test_sampling_is_reproducible() -> None:
    """The same seed gives the same sample."""
    model = CategoricalHMM(3, random_state=5).fit(
        np.array([0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1])
    )
    a = model.sample(500, random_state=9)
    b = model.sample(500, random_state=np.random.default_rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert model.sample(0, random_state=1)[0].shape == (0,)


def test_final_state_distribution_continues_a_sequence() -> None:
    """The filtered state after an observed sequence is a distribution."""
    model = CategoricalHMM.from_dict(
        {
            "n_components": 2,
            "n_features": 2,
            "startprob": [0.5, 0.5],
            "transmat": [[0.99, 0.01], [0.01, 0.99]],
            "emissionprob": [[0.99, 0.01], [0.01, 0.99]],
        }
    )
    p = model.final_state_distribution(np.array([0, 0, 1, 1, 1, 1]))
    assert p.sum() == pytest.approx(1.0)
    assert p[1] > 0.99


# ----------------------------------------------------------------------
# Degenerate and bad input
# ----------------------------------------------------------------------
def _assert_valid(model: CategoricalHMM) -> None:
    for name in ("startprob_", "transmat_", "emissionprob_"):
        value = getattr(model, name)
        assert np.all(np.isfinite(value)), name
        assert np.all(value >= 0), name
        np.testing.assert_allclose(value.sum(axis=-1), 1.0, err_msg=name)


def test_empty_input_raises() -> None:
    """No symbols at all is a clear error."""
    with pytest.raises(ValueError, match="empty"):
        CategoricalHMM(2).fit(np.array([], dtype=int))
    with pytest.raises(ValueError, match="empty"):
        fit_best(np.array([], dtype=int), np.array([], dtype=int))


def test_single_symbol_sequence_gives_valid_model() -> None:
    """One sequence of length one fits without NaN."""
    model = CategoricalHMM(3, n_iter=10).fit(np.array([1]))
    _assert_valid(model)
    assert model.emissionprob_.shape == (3, 2)
    assert all(math.isfinite(v) for v in model.monitor_history_)


def test_all_one_symbol_gives_valid_model() -> None:
    """A zone that was always off still gives a two-symbol model."""
    x = np.zeros(500, dtype=np.int64)
    model = fit_best(x, np.array([200, 300]), n_components=3, random_state=1)
    _assert_valid(model)
    assert model.emissionprob_.shape == (3, 2)
    np.testing.assert_allclose(model.emissionprob_[:, 1], 0.0)
    symbols, _ = model.sample(100, random_state=0)
    assert not symbols.any()
    # The symbol never seen in training is impossible, not NaN.
    assert model.score(np.array([0, 1, 0])) == -math.inf
    assert model.score(np.array([0, 0])) == pytest.approx(0.0)


def test_unseen_symbol_does_not_produce_nan() -> None:
    """A symbol the training data lacks keeps rows stochastic."""
    x = np.array([0, 0, 2, 2, 0, 2, 0, 0])
    model = CategoricalHMM(2, n_features=3, random_state=0).fit(x)
    _assert_valid(model)
    np.testing.assert_allclose(model.emissionprob_[:, 1], 0.0)


def test_unvisited_state_keeps_a_stochastic_row() -> None:
    """A state no sequence can reach keeps its transition row."""
    model = CategoricalHMM(3, n_features=2, init_params="", n_iter=20)
    model.startprob_ = np.array([0.5, 0.5, 0.0])
    model.transmat_ = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    model.emissionprob_ = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    model.fit(np.array([0, 1, 1, 0, 0, 1]), np.array([4, 2]))
    _assert_valid(model)
    np.testing.assert_allclose(model.transmat_[2], [0.2, 0.3, 0.5])


@pytest.mark.parametrize(
    ("x", "lengths", "match"),
    [
        (np.array([0.5, 1.0]), None, "integers"),
        (np.array([0, -1, 1]), None, "non-negative"),
        (np.array([0, 1, 1]), np.array([1, 1]), "sum"),
        (np.array([0, 1, 1]), np.array([4, -1]), "negative"),
        (np.zeros((3, 2), dtype=int), None, "shape"),
        (np.array([0, 1, 5]), None, "symbols"),
    ],
)
def test_bad_input_raises(
    x: npt.NDArray[Any], lengths: IntArray | None, match: str
) -> None:
    """Invalid symbols or lengths raise a clear ValueError."""
    with pytest.raises(ValueError, match=match):
        CategoricalHMM(2, n_features=3).fit(x, lengths)


def test_unfitted_model_raises() -> None:
    """Scoring or sampling before fitting is a clear error."""
    with pytest.raises(ValueError, match="not fitted"):
        CategoricalHMM(2).score(np.array([0, 1]))
    with pytest.raises(ValueError, match="not fitted"):
        CategoricalHMM(2).sample(3)


def test_bad_constructor_arguments_raise() -> None:
    """Nonsense settings fail early."""
    with pytest.raises(ValueError, match="n_components"):
        CategoricalHMM(0)
    with pytest.raises(ValueError, match="params"):
        CategoricalHMM(2, params="sx")
    with pytest.raises(ValueError, match="n_restarts"):
        fit_best(np.array([0, 1]), None, n_restarts=0)


# ----------------------------------------------------------------------
# Serialisation
# ----------------------------------------------------------------------
def _fitted(seed: int = 0) -> CategoricalHMM:
    x, lengths, _ = _random_problem(seed, 3, 2)
    return CategoricalHMM(3, n_iter=5, random_state=seed).fit(x, lengths)


def test_to_dict_is_plain_json() -> None:
    """The description survives JSON and rebuilds the same model."""
    model = _fitted()
    text = json.dumps(model.to_dict())
    again = CategoricalHMM.from_dict(json.loads(text))
    for name in ("startprob_", "transmat_", "emissionprob_"):
        np.testing.assert_array_equal(getattr(again, name), getattr(model, name))
    x, lengths, _ = _random_problem(1, 3, 2)
    assert again.score(x, lengths) == model.score(x, lengths)


def _corrupt(change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    data = _fitted().to_dict()
    data.update(change)
    if drop is not None:
        del data[drop]
    return data


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_corrupt({}, drop="transmat"), "transmat"),
        (_corrupt({"kind": "gaussian"}), "kind"),
        (_corrupt({"n_components": 0}), "n_components"),
        (_corrupt({"n_components": True}), "n_components"),
        (_corrupt({"n_features": "2"}), "n_features"),
        (_corrupt({"startprob": [0.5, 0.5]}), "shape"),
        (_corrupt({"startprob": [0.5, 0.5, 0.5]}), "sum to 1"),
        (_corrupt({"startprob": [1.5, -0.5, 0.0]}), "negative"),
        (_corrupt({"startprob": [float("nan"), 0.5, 0.5]}), "finite"),
        (_corrupt({"transmat": [[1.0, 0.0, 0.0]] * 2}), "shape"),
        (_corrupt({"transmat": "x"}), "transmat"),
        (_corrupt({"emissionprob": [[0.5, 0.6]] * 3}), "sum to 1"),
        (_corrupt({"emissionprob": [[1.0], [1.0], [1.0]]}), "shape"),
        ([1, 2, 3], "mapping"),
    ],
)
def test_corrupted_dict_raises(data: Any, match: str) -> None:
    """A corrupted description raises ValueError naming the problem."""
    with pytest.raises(ValueError, match=match):
        CategoricalHMM.from_dict(data)


# ----------------------------------------------------------------------
# fit_best
# ----------------------------------------------------------------------
def _two_state_data(seed: int) -> tuple[IntArray, IntArray]:
    truth = CategoricalHMM.from_dict(
        {
            "n_components": 2,
            "n_features": 2,
            "startprob": [0.7, 0.3],
            "transmat": [[0.97, 0.03], [0.05, 0.95]],
            "emissionprob": [[0.97, 0.03], [0.05, 0.95]],
        }
    )
    rng = np.random.default_rng(seed)
    seqs = [truth.sample(250, random_state=rng)[0] for _ in range(12)]
    return np.concatenate(seqs), np.full(12, 250)


def test_fit_best_keeps_the_best_restart() -> None:
    """More restarts never give a lower log-likelihood (same first seeds)."""
    x, lengths = _two_state_data(0)
    kwargs: dict[str, Any] = {"n_components": 4, "n_iter": 50, "random_state": 3}
    one = fit_best(x, lengths, n_restarts=1, **kwargs)
    three = fit_best(x, lengths, n_restarts=3, **kwargs)
    assert three.score(x, lengths) >= one.score(x, lengths)
    again = fit_best(x, lengths, n_restarts=3, **kwargs)
    np.testing.assert_array_equal(again.transmat_, three.transmat_)


def test_fit_best_chooses_size_by_bic() -> None:
    """BIC picks the candidate with the lowest criterion; 2 states here."""
    x, lengths = _two_state_data(1)
    chosen = fit_best(x, lengths, n_components=[1, 2, 3, 4], n_iter=50, random_state=0)
    singles = {
        k: fit_best(x, lengths, n_components=k, n_iter=50, random_state=0)
        for k in (1, 2, 3, 4)
    }
    bics = {k: m.bic(x, lengths) for k, m in singles.items()}
    assert chosen.n_components == min(bics, key=lambda k: bics[k])
    assert chosen.n_components == 2
    assert chosen.bic(x, lengths) == pytest.approx(bics[2])


# ----------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------
# Sequences of runs, so that both short and long runs of a symbol occur.
sequences = st.lists(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 30)), min_size=1, max_size=6
    ).map(lambda runs: [symbol for symbol, n in runs for _ in range(n)]),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seqs=sequences, n_states=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_fit_properties(
    seqs: list[list[int]], n_states: int, seed: int, method: str
) -> None:
    """Rows stay stochastic and EM never lowers the log-likelihood."""
    x = np.concatenate([np.array(s, dtype=np.int64) for s in seqs])
    lengths = np.array([len(s) for s in seqs])
    model = CategoricalHMM(n_states, n_iter=15, tol=-math.inf, random_state=seed)
    model.fit(x, lengths)
    _assert_valid(model)
    history = np.array(model.monitor_history_)
    assert np.all(np.isfinite(history))
    assert np.all(np.diff(history) >= -1e-8 * np.maximum(1.0, np.abs(history[1:])))
    assert math.isfinite(model.score(x, lengths))
    assert model.score(x, lengths) >= history[-1] - 1e-8 * max(1.0, abs(history[-1]))


@settings(max_examples=30, deadline=None)
@given(
    n_states=st.integers(1, 6),
    n_symbols=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_dict_round_trip(n_states: int, n_symbols: int, seed: int) -> None:
    """to_dict/from_dict round-trips exactly through JSON."""
    rng = np.random.default_rng(seed)
    model = CategoricalHMM.from_dict(
        {
            "n_components": n_states,
            "n_features": n_symbols,
            "startprob": rng.dirichlet(np.ones(n_states)).tolist(),
            "transmat": rng.dirichlet(np.ones(n_states), size=n_states).tolist(),
            "emissionprob": rng.dirichlet(np.ones(n_symbols), size=n_states).tolist(),
        }
    )
    again = CategoricalHMM.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.to_dict() == model.to_dict()


@settings(max_examples=40, deadline=None)
@given(
    seqs=sequences,
    n_states=st.integers(1, 5),
    concentration=st.sampled_from([0.1, 1.0, 10.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_run_method_equals_step_method(
    seqs: list[list[int]], n_states: int, concentration: float, seed: int
) -> None:
    """Both E-step methods give the same counts, also for sparse parameters."""
    rng = np.random.default_rng(seed)
    arrays = [np.array(s, dtype=np.int64) for s in seqs]
    data = hmm._Data(arrays, 3)
    alpha = np.full(n_states, concentration)
    start = rng.dirichlet(alpha)
    trans = rng.dirichlet(alpha, size=n_states)
    trans[rng.random((n_states, n_states)) < 0.2] = 0.0  # forbidden moves
    trans[np.arange(n_states), np.arange(n_states)] += 1e-3
    trans /= trans.sum(axis=1, keepdims=True)
    emit = rng.dirichlet(np.full(3, concentration), size=n_states) + 1e-9
    emit /= emit.sum(axis=1, keepdims=True)
    ll, start_c, trans_c, obs_c = hmm._estep_steps(data.steps, start, trans, emit)
    runs = hmm._estep_runs(data.runs, start[None], trans[None], emit[None])
    if runs is None:  # the run method declined: the step method is used
        return
    assert _rel_diff(float(runs.log_likelihood[0]), ll) <= 1e-9
    total = float(sum(len(s) for s in seqs))
    for got, want in ((runs.start[0], start_c), (runs.trans[0], trans_c)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-12 * total)
    np.testing.assert_allclose(runs.obs[0], obs_c, rtol=1e-7, atol=1e-12 * total)


@settings(max_examples=40, deadline=None)
@given(
    seqs=sequences,
    n_states=st.integers(1, 5),
    concentration=st.sampled_from([0.1, 1.0, 10.0]),
    size=st.sampled_from([4, 8, 16]),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_method_equals_step_method(
    seqs: list[list[int]], n_states: int, concentration: float, size: int, seed: int
) -> None:
    """Block and step method give the same counts, for two models at once."""
    rng = np.random.default_rng(seed)
    arrays = [np.array(s, dtype=np.int64) for s in seqs]
    data = hmm._Data(arrays, 3)
    blocks = hmm._block_layout(data.steps, 3, size)
    alpha = np.full(n_states, concentration)
    start = rng.dirichlet(alpha, size=2)
    trans = rng.dirichlet(alpha, size=(2, n_states))
    trans[rng.random((2, n_states, n_states)) < 0.2] = 0.0  # forbidden moves
    trans[:, np.arange(n_states), np.arange(n_states)] += 1e-3
    trans /= trans.sum(axis=2, keepdims=True)
    emit = rng.dirichlet(np.full(3, concentration), size=(2, n_states)) + 1e-9
    emit /= emit.sum(axis=2, keepdims=True)
    got = hmm._estep_blocks(blocks, start, trans, emit)
    if got is None:  # the block method declined: the step method is used
        return
    total = float(sum(len(s) for s in seqs))
    for r in range(2):
        ll, start_c, trans_c, obs_c = hmm._estep_steps(
            data.steps, start[r], trans[r], emit[r]
        )
        assert _rel_diff(float(got.log_likelihood[r]), ll) <= 1e-9
        for mine, want in (
            (got.start[r], start_c),
            (got.trans[r], trans_c),
            (got.obs[r], obs_c),
        ):
            np.testing.assert_allclose(mine, want, rtol=1e-7, atol=1e-12 * total)
