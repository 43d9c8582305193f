"""Categorical hidden Markov model: the statistical core of a zone's habits.

A zone's minute-by-minute on/off sequence is modelled as a hidden Markov
model with a few hidden states and categorical emissions (symbol 0 = off,
1 = on; any number of symbols works). :class:`CategoricalHMM` learns it with
Baum-Welch (expectation-maximisation), scores sequences and samples new ones;
:func:`fit_best` adds seeded restarts and the choice of the number of states
by the Bayesian information criterion.

The estimator follows hmmlearn's ``CategoricalHMM`` with
``implementation="scaling"`` on purpose, so that it can be checked against it:
started from the same parameters it reaches the same parameters after every
EM iteration and the same log-likelihood. Several sequences are passed as one
array of symbols plus ``lengths``, as in hmmlearn.

How the expectation step is computed (all of it exact, none of it a
per-sequence Python loop):

* Identical sequences (whole days off are common) are processed once and
  weighted by their count.
* Sequences are stacked time-major, sorted by length, so that one numpy
  operation advances every sequence by one step (the *step* method).
* Light data consists of long runs of one symbol. Over a run of ``r``
  copies of symbol ``s`` the forward recursion multiplies by ``M_s^(r-1)``
  with ``M_s = transmat * emission[:, s]``; the expected transitions inside
  the run are the upper-right block of ``[[M_s, Y], [0, M_s]]^(r-1)``, where
  ``Y`` gathers the forward and backward vectors of every run with the same
  symbol and length. Both come from repeated squaring, so a run costs
  ``log2(r)`` small matrix products instead of ``r`` steps (the *run*
  method, used when it is cheaper). Powers are scaled by an estimate of the
  spectral radius so they neither overflow nor underflow; should a
  normaliser still come close to underflow, that E-step is recomputed with
  the step method.
* Symbols that change every minute or two (a flickering sensor, a busy
  motion light) make runs short. Then the sequences are cut into blocks of
  ``b`` minutes (``b`` about ``sqrt(T / 2)`` for sequences of ``T``
  minutes; the *block* method). The product of the ``M_s`` of a block's
  minutes carries the forward vector from one block's first minute to the
  next block's, and back for the backward vector; equal blocks share one
  product, built as a tree of products of pairs. With the vectors at every
  block's first minute known, the minutes inside the blocks are stepped
  for all blocks of all sequences at once: ``T / b + b`` steps instead of
  ``T``. Products are scaled by the sum of their entries; should a normaliser
  come close to underflow, that E-step is recomputed with the step method.
* :func:`fit_best` runs its restarts side by side in the run method: one
  set of numpy operations serves all of them. The block method's work is
  in large arrays, where that saves nothing, so it fits them one by one.
  After a few iterations only the leading restart goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
import math
from typing import Any, Self

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]
type BoolArray = npt.NDArray[np.bool_]

#: Tolerance on the sum of a probability row when a model is loaded.
STOCHASTIC_TOLERANCE = 1e-6
#: Name written into :meth:`CategoricalHMM.to_dict` to recognise the format.
DICT_KIND = "categorical_hmm"

_PARAM_CODES = frozenset("ste")
# A run-method normaliser below this may have lost digits to underflow.
_TINY = 1e-250
# Cap of the step method's backward vectors (see _estep_steps).
_HUGE = 1e300


def _as_rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Return a Generator; ``None`` means seed 0 so results are reproducible."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(0 if random_state is None else random_state)


def _check_codes(name: str, value: str) -> str:
    """Validate an ``init_params``/``params`` string."""
    if not isinstance(value, str) or not set(value) <= _PARAM_CODES:
        raise ValueError(
            f"{name} must be a string of the letters 's', 't' and 'e', got {value!r}"
        )
    return value


def _normalize_rows(counts: FloatArray, previous: FloatArray) -> FloatArray:
    """Normalise rows to sum 1; a row without any counts keeps ``previous``.

    hmmlearn leaves such a row all zero (not a distribution); keeping the
    previous row is what makes an unvisited state or an unseen symbol harmless.
    """
    sums = counts.sum(axis=-1, keepdims=True)
    empty = sums == 0
    out = counts / np.where(empty, 1.0, sums)
    if np.any(empty):
        out = np.where(empty, previous, out)
    return np.asarray(out, dtype=np.float64)


def _split(x: npt.ArrayLike, lengths: npt.ArrayLike | None) -> list[IntArray]:
    """Validate hmmlearn-style input and split it into non-empty sequences."""
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"X must be a 1-D array of symbols or of shape (n, 1), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError("X is empty: at least one symbol is needed")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"symbols must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < 0:
        raise ValueError("symbols must be non-negative integers")
    if lengths is None:
        return [arr]
    lens = np.asarray(lengths)
    if lens.ndim != 1 or lens.size == 0:
        raise ValueError("lengths must be a non-empty 1-D array of integers")
    if not np.issubdtype(lens.dtype, np.integer):
        raise ValueError(f"lengths must be integers, got dtype {lens.dtype}")
    if lens.min() < 0:
        raise ValueError("lengths must not be negative")
    if int(lens.sum()) != arr.size:
        raise ValueError(
            f"lengths sum to {int(lens.sum())} but X holds {arr.size} symbols"
        )
    bounds = np.cumsum(lens)[:-1]
    return [s for s in np.split(arr, bounds) if s.size > 0]


# ----------------------------------------------------------------------
# Data layouts
# ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _StepLayout:
    """Unique sequences time-major and padded, longest first.

    At time ``t`` the sequences still running are the first ``active[t]``.
    """

    symbols: IntArray  # (T, N), padding is symbol 0
    lengths: IntArray  # (N,), decreasing
    weights: FloatArray  # (N,)
    active: list[int]  # (T,)


@dataclass(frozen=True, slots=True)
class _RunLayout:
    """Unique sequences as runs of one symbol, run-major, most runs first.

    At run index ``j`` the sequences that still have a run are the first
    ``active[j]``. Runs with the same symbol and length form a *group*;
    groups are sorted by decreasing exponent (length - 1).
    """

    sym: IntArray  # (J, N) symbol of each run, padding 0
    grp: IntArray  # (J, N) group of each run, padding 0
    valid: BoolArray  # (J, N)
    active: list[int]  # (J,)
    weights: FloatArray  # (N,)
    g_sym: IntArray  # (G,)
    g_exp: IntArray  # (G,) run length - 1, decreasing
    n_levels: int  # 2**n_levels > max(g_exp)
    level_count: list[int]  # groups with exponent >= 2**b
    level_bit: list[BoolArray]  # (level_count[b], 1, 1): bit b of the exponent
    exp_per_symbol: FloatArray  # (S, N) sum of exponents of runs of symbol s
    sym_onehot: FloatArray  # (J*N, S), zero on padding
    g_onehot: FloatArray  # (G1, S) for groups with exponent >= 1
    n_inner: int  # G1: groups with exponent >= 1 (a prefix)
    inner_order: IntArray  # flat run indices of inner groups, by group
    inner_starts: IntArray  # reduceat offsets of each inner group
    boundary_index: list[IntArray]  # per symbol: flat (j-1, n) of run starts j>=1


class _Data:
    """Validated training sequences, deduplicated, with lazily built layouts."""

    def __init__(self, seqs: Sequence[IntArray], n_symbols: int) -> None:
        counts: dict[bytes, int] = {}
        first: dict[bytes, IntArray] = {}
        for seq in seqs:
            key = seq.tobytes()
            if key in counts:
                counts[key] += 1
            else:
                counts[key] = 1
                first[key] = seq
        self.unique = list(first.values())
        self.weights = np.array([counts[k] for k in first], dtype=np.float64)
        self.n_samples = int(sum(len(s) for s in seqs))
        self.n_symbols = n_symbols

    @cached_property
    def steps(self) -> _StepLayout:
        """Time-major layout for the step method."""
        lengths = np.array([len(s) for s in self.unique], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        t_max = int(lengths[0])
        symbols = np.zeros((t_max, len(order)), dtype=np.int64)
        for col, idx in enumerate(order):
            symbols[: lengths[col], col] = self.unique[idx]
        active = (lengths[None, :] > np.arange(t_max)[:, None]).sum(axis=1)
        return _StepLayout(
            symbols=symbols,
            lengths=lengths,
            weights=self.weights[order],
            active=[int(a) for a in active],
        )

    @cached_property
    def runs(self) -> _RunLayout:
        """Run-major layout for the run method."""
        n_seq = len(self.unique)
        n_sym = self.n_symbols
        lens = np.array([len(s) for s in self.unique], dtype=np.int64)
        x = np.concatenate(self.unique)
        seq_id = np.repeat(np.arange(n_seq), lens)
        starts_mask = np.ones(x.size, dtype=bool)
        starts_mask[1:] = (x[1:] != x[:-1]) | (seq_id[1:] != seq_id[:-1])
        starts = np.flatnonzero(starts_mask)
        run_len = np.diff(np.append(starts, x.size))
        run_sym = x[starts]
        run_seq = seq_id[starts]
        n_runs = np.bincount(run_seq, minlength=n_seq)
        order = np.argsort(-n_runs, kind="stable")
        column = np.empty_like(order)
        column[order] = np.arange(n_seq)
        first_run = np.concatenate(([0], np.cumsum(n_runs)[:-1]))
        run_j = np.arange(starts.size) - first_run[run_seq]
        run_col = column[run_seq]
        n_j = int(n_runs.max())
        # Groups: same symbol and length; sorted by decreasing exponent.
        key = (run_len - 1) * n_sym + run_sym
        keys, inverse = np.unique(key, return_inverse=True)
        g_exp_sorted_keys = np.argsort(-(keys // n_sym), kind="stable")
        rank = np.empty_like(g_exp_sorted_keys)
        rank[g_exp_sorted_keys] = np.arange(keys.size)
        keys = keys[g_exp_sorted_keys]
        run_grp = rank[inverse]
        g_exp = keys // n_sym
        g_sym = keys % n_sym

        sym = np.zeros((n_j, n_seq), dtype=np.int64)
        grp = np.zeros((n_j, n_seq), dtype=np.int64)
        valid = np.zeros((n_j, n_seq), dtype=bool)
        sym[run_j, run_col] = run_sym
        grp[run_j, run_col] = run_grp
        valid[run_j, run_col] = True
        sorted_runs = n_runs[order]
        active = (sorted_runs[None, :] > np.arange(n_j)[:, None]).sum(axis=1)

        max_exp = int(g_exp[0])
        n_levels = max_exp.bit_length()
        level_count = [int(np.sum(g_exp >= 1 << b)) for b in range(n_levels)]
        level_bit = [
            ((g_exp[:c] >> b) & 1).astype(bool)[:, None, None]
            for b, c in enumerate(level_count)
        ]
        exp_per_symbol = np.zeros((n_sym, n_seq))
        np.add.at(exp_per_symbol, (run_sym, run_col), run_len - 1)
        flat = run_j * n_seq + run_col
        sym_onehot = np.zeros((n_j * n_seq, n_sym))
        sym_onehot[flat, run_sym] = 1.0
        n_inner = int(np.sum(g_exp >= 1))
        inner = np.flatnonzero(run_len >= 2)
        inner = inner[np.argsort(run_grp[inner], kind="stable")]
        inner_grp = run_grp[inner]
        inner_starts = np.flatnonzero(
            np.concatenate(([True], inner_grp[1:] != inner_grp[:-1]))
        )
        g_onehot = np.zeros((n_inner, n_sym))
        g_onehot[np.arange(n_inner), g_sym[:n_inner]] = 1.0
        later = run_j >= 1
        boundary_index = [
            ((run_j - 1) * n_seq + run_col)[later & (run_sym == s)]
            for s in range(n_sym)
        ]
        return _RunLayout(
            sym=sym,
            grp=grp,
            valid=valid,
            active=[int(a) for a in active],
            weights=self.weights[order],
            g_sym=g_sym,
            g_exp=g_exp,
            n_levels=n_levels,
            level_count=level_count,
            level_bit=level_bit,
            exp_per_symbol=exp_per_symbol,
            sym_onehot=sym_onehot,
            g_onehot=g_onehot,
            n_inner=n_inner,
            inner_order=flat[inner],
            inner_starts=inner_starts,
            boundary_index=boundary_index,
        )

    @cached_property
    def blocks(self) -> _BlockLayout:
        """Layout for the block method."""
        steps = self.steps
        return _block_layout(
            steps, self.n_symbols, _block_size(int(steps.symbols.shape[0]))
        )

    @cached_property
    def method(self) -> str:
        """The E-step method expected to be fastest: runs, blocks or steps."""
        return _choose_method(self)


def _choose_method(data: _Data) -> str:
    # Rough costs in numpy calls: a time step of the step method takes ~6;
    # a run step ~14 and a squaring level ~12; a block ~10 (its link
    # forward and back) and a minute of a block ~24 (forward and back, on
    # all blocks at once, so on larger arrays); plus a fixed part.
    most_runs, n_levels = _run_shape(data.unique)
    t_max = max(len(s) for s in data.unique)
    size = _block_size(t_max)
    costs = {
        "runs": 14 * most_runs + 12 * n_levels + 40,
        "blocks": 10 * -(-t_max // size) + 24 * size + 30,
        "steps": 6 * t_max,
    }
    return min(costs, key=lambda method: costs[method])


def _run_shape(seqs: Sequence[IntArray]) -> tuple[int, int]:
    """Most runs in one sequence and the run method's squaring levels.

    The same numbers as the run layout's ``len(active)`` and ``n_levels``,
    without building it (it is large where runs are short).
    """
    ends = np.cumsum([len(s) for s in seqs])
    x = np.concatenate(seqs)
    new_run = np.ones(x.size, dtype=bool)
    new_run[1:] = x[1:] != x[:-1]
    new_run[ends[:-1]] = True
    starts = np.flatnonzero(new_run)
    longest = int(np.diff(np.append(starts, x.size)).max())
    runs_per_seq = np.bincount(np.searchsorted(ends, starts, side="right"))
    return int(runs_per_seq.max()), (longest - 1).bit_length()


@dataclass(slots=True)
class _Stats:
    """Expected sufficient statistics of one E-step for R models."""

    log_likelihood: FloatArray  # (R,)
    start: FloatArray  # (R, K)
    trans: FloatArray  # (R, K, K)
    obs: FloatArray  # (R, K, S)


# ----------------------------------------------------------------------
# Step method (one model)
# ----------------------------------------------------------------------
def _forward_steps(
    lay: _StepLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Scaled forward pass (hmmlearn's ``forward_scaling``) for all sequences.

    Returns the normalised forward lattice (T, N, K), the scaling sums (T, N)
    (1 in the padding) and the log-likelihood of each sequence (``-inf`` for
    a sequence impossible under the model).
    """
    x = lay.symbols
    t_max, n_seq = x.shape
    k = trans.shape[0]
    # Each step is a handful of numpy calls on (sequences, states) arrays;
    # with short runs (symbols that change every minute or two) there is a
    # step per minute, so the per-step work is kept to the fewest and
    # cheapest calls: emissions gathered for all steps at once, matrix
    # products for the sums, results written in place.
    emit_x = _emissions_of(x, emit)  # (T, N, K)
    ones = np.ones(k)
    alpha = np.zeros((t_max, n_seq, k))
    sums = np.ones((t_max, n_seq))
    a = start * emit_x[0]
    for t in range(t_max):
        n = lay.active[t]
        if t > 0:
            a = alpha[t - 1, :n].dot(trans)
            a *= emit_x[t, :n]
        s = a.dot(ones)
        sums[t, :n] = s
        # An impossible sequence keeps a zero lattice instead of NaN.
        np.divide(a, np.where(s > 0, s, 1.0)[:, None], out=alpha[t, :n])
    with np.errstate(divide="ignore"):
        loglik = np.log(sums).sum(axis=0)
    return alpha, sums, loglik


def _emissions_of(x: IntArray, emit: FloatArray) -> FloatArray:
    """Return ``emit[:, x]`` moved last: the emission of each state per symbol."""
    return np.ascontiguousarray(emit.T)[x]


def _estep_steps(
    lay: _StepLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """Compute the expected counts by the step method (hmmlearn's scaling).

    Backward vectors are scaled by the forward sums exactly as hmmlearn's
    ``backward_scaling``, but capped at ``_HUGE``: an entry can only grow that
    large for a state the forward pass cannot reach (forward probability
    below 1/_HUGE relative), where hmmlearn would overflow to inf and NaN.
    """
    alpha, sums, loglik = _forward_steps(lay, start, trans, emit)
    x = lay.symbols
    t_max, n_seq = x.shape
    k = trans.shape[0]
    trans_t = np.ascontiguousarray(trans.T)
    safe = np.where(sums > 0, sums, np.inf)
    # Annotated: numpy 2.2 and 2.3 type np.minimum's result differently.
    beta: FloatArray = np.zeros((t_max, n_seq, k))
    cols = np.arange(n_seq)
    beta[lay.lengths - 1, cols] = (1.0 / safe[lay.lengths - 1, cols])[:, None]
    emit_x = _emissions_of(x, emit)
    with np.errstate(over="ignore"):
        for t in range(t_max - 2, -1, -1):
            n = lay.active[t + 1]
            b = emit_x[t + 1, :n] * beta[t + 1, :n]
            b = b.dot(trans_t)
            b /= safe[t, :n, None]
            np.minimum(b, _HUGE, out=beta[t, :n])
        beta = np.minimum(beta, _HUGE)
    w = lay.weights
    gamma = alpha * beta
    norm = gamma.sum(axis=2, keepdims=True)
    gamma /= np.where(norm > 0, norm, 1.0)
    gamma *= w[None, :, None]
    start_counts = gamma[0].sum(axis=0)
    if t_max > 1:
        bb = emit_x[1:] * beta[1:]
        aw = alpha[:-1] * w[None, :, None]
        trans_counts = trans * (aw.reshape(-1, k).T @ bb.reshape(-1, k))
    else:
        trans_counts = np.zeros((k, k))
    n_sym = emit.shape[1]
    flat_x = x.ravel()
    flat_g = gamma.reshape(-1, k)
    obs = np.empty((k, n_sym))
    for i in range(k):
        obs[i] = np.bincount(flat_x, weights=flat_g[:, i], minlength=n_sym)
    return float(np.dot(loglik, w)), start_counts, trans_counts, obs


# ----------------------------------------------------------------------
# Block method (R models side by side)
# ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _BlockLayout:
    """Unique sequences cut into blocks of ``size`` minutes (block method).

    An *item* is one block of one sequence: minutes ``b*size`` to
    ``b*size + size - 1`` of it. Items are ordered by block, then by
    sequence (longest first), so block ``b``'s items are the ``active[b]``
    items from ``offset[b]``. Minutes after a sequence's end carry the
    padding symbol ``S`` (one past the last symbol). An item's *link* is
    the product of the matrices ``M_s`` of the ``size`` minutes after its
    first one, the identity for padding; links with the same symbols share
    a product, built as a tree of pairs (level ``l`` holds the left and
    right halves of each distinct product of ``2**(l+1)`` minutes).
    """

    size: int
    active: list[int]  # per block b: its number of items
    offset: list[int]  # per block b: its first item
    link: IntArray  # (M,) product id of each item's link
    tree: list[tuple[IntArray, IntArray]]
    first: IntArray  # (N,) first symbol of each sequence
    # Per minute i of a block, (S+1, M): one-hot symbols (row S: padding);
    # the last entry is the minute after the block.
    hot: list[FloatArray]
    next_item: IntArray  # (M,) the sequence's next item, or M if none
    weights: FloatArray  # (M,) weight of each item's sequence
    seq_weights: FloatArray  # (N,)
    real: BoolArray  # (size, M) a sequence's minutes, not padding


def _block_size(t_max: int) -> int:
    """Block length for sequences of up to ``t_max`` minutes (a power of 2).

    A fit costs about ``t_max / size`` link steps plus ``size`` steps over
    all blocks at once, each a handful of numpy calls.
    """
    return 1 << max(2, round(math.log2(max(t_max, 1) / 2) / 2))


def _block_layout(lay: _StepLayout, n_sym: int, size: int) -> _BlockLayout:
    """Cut the step layout's sequences into blocks of ``size`` minutes."""
    t_max, n_seq = lay.symbols.shape
    n_blocks = -(-t_max // size)
    padded = np.full(((n_blocks + 1) * size + 1, n_seq), n_sym, dtype=np.int64)
    padded[:t_max] = np.where(
        np.arange(t_max)[:, None] < lay.lengths[None, :], lay.symbols, n_sym
    )
    active = [int(np.sum(lay.lengths > b * size)) for b in range(n_blocks)]
    offset = [0, *(int(v) for v in np.cumsum(active)[:-1])]
    block = np.concatenate([np.full(a, b) for b, a in enumerate(active)])
    seq = np.concatenate([np.arange(a) for a in active])
    n_items = block.size
    minute = block[None, :] * size + np.arange(size)[:, None]  # (size, M)
    symbols = padded[minute, seq[None, :]]
    next_symbols = padded[minute + 1, seq[None, :]]
    has_next = block + 1 < n_blocks
    has_next[has_next] = seq[has_next] < np.array(active)[block[has_next] + 1]
    next_item = np.full(n_items, n_items)
    next_item[has_next] = np.array(offset)[block[has_next] + 1] + seq[has_next]
    # Links as a tree of pairs of distinct products.
    ids = next_symbols
    tree: list[tuple[IntArray, IntArray]] = []
    n_ids = n_sym + 1
    while ids.shape[0] > 1:
        code = ids[0::2] * n_ids + ids[1::2]
        keys, inverse = np.unique(code, return_inverse=True)
        tree.append((keys // n_ids, keys % n_ids))
        ids = inverse.reshape(code.shape)
        n_ids = keys.size
    hot = []
    for row in (*symbols, next_symbols[-1]):
        one = np.zeros((n_sym + 1, n_items))
        one[row, np.arange(n_items)] = 1.0
        hot.append(one)
    return _BlockLayout(
        size=size,
        active=active,
        offset=offset,
        link=ids[0],
        tree=tree,
        first=lay.symbols[0],
        hot=hot,
        next_item=next_item,
        weights=lay.weights[seq],
        seq_weights=lay.weights,
        real=symbols < n_sym,
    )


def _link_products(
    lay: _BlockLayout, trans: FloatArray, emit: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Products of the links for R models, scaled, and the log of the scale.

    Returns (U, R, K, K) and (U, R), product first so that gathering the
    products of some items is cheap. Each product is divided by the sum of
    its entries so that it neither underflows nor loses digits.
    """
    n_models, k = trans.shape[:2]
    n_sym = emit.shape[2]
    prods: FloatArray = np.empty((n_sym + 1, n_models, k, k))
    prods[:n_sym] = trans[None, :, :, :] * np.moveaxis(emit, 2, 0)[:, :, None, :]
    prods[n_sym] = np.eye(k)
    log_scale = np.zeros((n_sym + 1, n_models))
    ones = np.ones(k * k)
    for left, right in lay.tree:
        prods = prods[left] @ prods[right]
        total = prods.reshape(-1, n_models, k * k) @ ones
        total = np.where(total > 0, total, 1.0)
        prods /= total[..., None, None]
        log_scale = log_scale[left] + log_scale[right] + np.log(total)
    return prods, log_scale


@dataclass(slots=True)
class _BlockForward:
    """Forward quantities of the block method."""

    prods: FloatArray  # (U, R, K, K) scaled link products
    heads: FloatArray  # (M, R, K) normalised forward vector at each item's start
    loglik: FloatArray  # (R,) total, weighted
    ok: bool


def _forward_blocks(
    lay: _BlockLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> _BlockForward:
    """Forward vectors at every item's first minute and the log-likelihood.

    One link product per item carries every sequence from one block to the
    next; the last item's link covers the rest of its sequence, so its sum
    completes the likelihood.
    """
    n_models, k = start.shape
    n_items = lay.link.size
    prods, log_scale = _link_products(lay, trans, emit)
    heads = np.empty((n_items, n_models, k))
    sums = np.empty((n_items, n_models))
    ones = np.ones(k)
    a = start * np.moveaxis(emit, 2, 0)[lay.first]
    first = a @ ones
    heads[: lay.first.size] = a / first[..., None]
    n_blocks = len(lay.active)
    with np.errstate(all="ignore"):
        for b in range(n_blocks):
            lo, n = lay.offset[b], lay.active[b]
            a = np.einsum(
                "nri,nrij->nrj", heads[lo : lo + n], prods[lay.link[lo : lo + n]]
            )
            c = a @ ones
            sums[lo : lo + n] = c
            if b + 1 < n_blocks:
                nxt, n1 = lay.offset[b + 1], lay.active[b + 1]
                np.divide(a[:n1], c[:n1, :, None], out=heads[nxt : nxt + n1])
        loglik = lay.seq_weights @ np.log(first) + lay.weights @ (
            np.log(sums) + log_scale[lay.link]
        )
    ok = bool(
        np.all(first > _TINY) and np.all(sums > _TINY) and np.all(np.isfinite(loglik))
    )
    return _BlockForward(prods=prods, heads=heads, loglik=loglik, ok=ok)


def _estep_blocks(
    lay: _BlockLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> _Stats | None:
    """Compute the expected counts by the block method; ``None`` if imprecise.

    The forward and backward vectors at every item's first minute come from
    the link products, one block after another; then the minutes inside the
    blocks are stepped for all items at once, the backward steps gathering
    the counts as they go. Vectors of all items are held states-major,
    (R, K, M), so that each numpy call runs along the items.
    """
    fwd = _forward_blocks(lay, start, trans, emit)
    if not fwd.ok:
        return None
    n_models, k = start.shape
    n_sym = emit.shape[2]
    size = lay.size
    n_items = lay.link.size
    n_seq = lay.seq_weights.size
    ones = np.ones(k)
    # Emission of each state per symbol, padding emitting 1: (R, K, S+1).
    emit_pad = np.concatenate((emit, np.ones((n_models, k, 1))), axis=2)
    trans_t = np.swapaxes(trans, 1, 2)
    with np.errstate(all="ignore"):
        # Backward vectors at every item's first minute, block after block
        # from the end; row M stands for the end of a sequence.
        tails = np.empty((n_items + 1, n_models, k))
        tails[n_items] = 1.0
        low = math.inf
        for b in range(len(lay.active) - 1, -1, -1):
            lo, n = lay.offset[b], lay.active[b]
            v = np.einsum(
                "nrij,nrj->nri",
                fwd.prods[lay.link[lo : lo + n]],
                tails[lay.next_item[lo : lo + n]],
            )
            s = v @ ones
            low = min(low, float(s.min()))
            np.divide(v, s[..., None], out=tails[lo : lo + n])
        # Forward vectors of every minute.
        alpha = np.empty((n_models, size, k, n_items))
        alpha[:, 0] = fwd.heads.transpose(1, 2, 0)
        norms = np.ones((n_models, size, n_items))
        for i in range(1, size):
            a = trans_t @ alpha[:, i - 1]
            a *= emit_pad @ lay.hot[i]
            c = ones @ a
            norms[:, i] = c
            np.divide(a, c[:, None], out=alpha[:, i])
        # Backward steps gathering the counts. At minute i, with beta' the
        # backward vector of the minute after, h = trans @ (e * beta') is
        # the backward vector of minute i, alpha * h / (alpha . h) the
        # posterior of the state and alpha_i trans_ij e_j beta'_j /
        # (alpha . h) that of the transition.
        w = lay.weights
        beta = tails[lay.next_item].transpose(1, 2, 0)
        trans_acc = np.zeros((n_models, k, k))
        obs = np.zeros((n_models, k, n_sym))
        start_counts = np.zeros((n_models, k))
        dots = np.ones((n_models, size, n_items))
        for i in range(size - 1, -1, -1):
            g = emit_pad @ lay.hot[i + 1]
            g *= beta
            h = trans @ g
            a = alpha[:, i]
            u = a * h
            d = ones @ u
            dots[:, i] = d  # positive but where the vectors underflow
            coef = w / d
            u *= coef[:, None, :]
            obs += u @ lay.hot[i][:n_sym].T
            if i == 0:
                start_counts = u[:, :, :n_seq].sum(axis=2)
            # No transition from a sequence's last minute.
            coef *= 1.0 - lay.hot[i + 1][n_sym]
            trans_acc += (a * coef[:, None, :]) @ np.swapaxes(g, 1, 2)
            if i > 0:
                beta = np.divide(h, (ones @ h)[:, None, :], out=h)
    if (
        low <= _TINY
        or np.any(norms <= _TINY)
        or np.any(np.where(lay.real, dots, 1.0) <= _TINY)
    ):
        return None
    stats = _Stats(
        log_likelihood=fwd.loglik,
        start=start_counts,
        trans=trans * trans_acc,
        obs=obs,
    )
    if not all(np.all(np.isfinite(v)) for v in (stats.start, stats.trans, stats.obs)):
        return None
    return stats


# ----------------------------------------------------------------------
# Run method (R models side by side)
# ----------------------------------------------------------------------
@dataclass(slots=True)
class _RunForward:
    """Forward quantities of the run method."""

    emit_mats: FloatArray  # (R, S, K, K) M_s = transmat * emission[:, s]
    level_pows: list[FloatArray]  # (R, S, K, K) scaled M_s^(2^b)
    group_pows: FloatArray  # (R, G, K, K) scaled M_s^(r-1) of each group
    accs: list[FloatArray]  # partial products before level b (Q phase)
    a_start: FloatArray  # (R, J, N, K) forward vector at each run's first step
    a_end: FloatArray  # (R, J, N, K) forward vector at each run's last step
    c_start: FloatArray  # (R, J, N) normaliser of a_start
    loglik: FloatArray  # (R, N)
    ok: bool


def _forward_runs(
    lay: _RunLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> _RunForward:
    """Forward pass over runs for R parameter sets (leading axis R)."""
    n_models, k = start.shape
    n_sym = emit.shape[2]
    n_j, n_seq = lay.sym.shape
    # M[r, s, i, j] = transmat[r, i, j] * emission[r, j, s]
    mats = trans[:, None, :, :] * np.swapaxes(emit, 1, 2)[:, :, None, :]
    # Powers M^(2^b) by squaring, each kept as (normalised matrix, log scale).
    n_levels = lay.n_levels
    peak = mats.max(axis=(2, 3))
    peak = np.where(peak > 0, peak, 1.0)
    q = mats / peak[..., None, None]
    log_scale = np.log(peak)
    qs = [q]
    log_scales = [log_scale]
    for _ in range(n_levels):
        q = q @ q
        peak = q.max(axis=(2, 3))
        peak = np.where(peak > 0, peak, 1.0)
        q = q / peak[..., None, None]
        log_scale = 2.0 * log_scale + np.log(peak)
        qs.append(q)
        log_scales.append(log_scale)
    # ||M^n||^(1/n) with n > every exponent bounds the growth of all powers
    # used, so M/lam has powers that neither overflow nor vanish.
    log_lam = log_scales[n_levels] / float(1 << n_levels)
    level_pows = [
        qs[b] * np.exp(log_scales[b] - float(1 << b) * log_lam)[..., None, None]
        for b in range(n_levels)
    ]
    n_groups = lay.g_sym.size
    group_pows = np.empty((n_models, n_groups, k, k))
    group_pows[...] = np.eye(k)
    accs: list[FloatArray] = []
    for b in range(n_levels):
        c = lay.level_count[b]
        acc = group_pows[:, :c].copy()
        accs.append(acc)
        group_pows[:, :c] = np.where(
            lay.level_bit[b], acc @ level_pows[b][:, lay.g_sym[:c]], acc
        )

    a_start = np.zeros((n_models, n_j, n_seq, k))
    a_end = np.zeros((n_models, n_j, n_seq, k))
    c_start = np.ones((n_models, n_j, n_seq))
    c_end = np.ones((n_models, n_j, n_seq))
    cat = mats.transpose(0, 2, 1, 3).reshape(n_models, k, n_sym * k)
    cols = np.arange(n_seq)
    with np.errstate(all="ignore"):
        a = start[:, None, :] * np.swapaxes(emit[:, :, lay.sym[0]], 1, 2)
        for j in range(n_j):
            n = lay.active[j]
            if j > 0:
                a = (a_end[:, j - 1, :n] @ cat).reshape(n_models, n, n_sym, k)[
                    :, cols[:n], lay.sym[j, :n]
                ]
            c = a.sum(axis=2)
            c_start[:, j, :n] = c
            a = a / c[..., None]
            a_start[:, j, :n] = a
            a = (a[:, :, None, :] @ group_pows[:, lay.grp[j, :n]])[:, :, 0]
            c = a.sum(axis=2)
            c_end[:, j, :n] = c
            a = a / c[..., None]
            a_end[:, j, :n] = a
        loglik = (
            np.log(c_start).sum(axis=1)
            + np.log(c_end).sum(axis=1)
            + log_lam @ lay.exp_per_symbol
        )
    ok = bool(
        np.all(c_start > _TINY)
        and np.all(c_end > _TINY)
        and np.all(np.isfinite(loglik))
    )
    return _RunForward(
        emit_mats=mats,
        level_pows=level_pows,
        group_pows=group_pows,
        accs=accs,
        a_start=a_start,
        a_end=a_end,
        c_start=c_start,
        loglik=loglik,
        ok=ok,
    )


def _estep_runs(
    lay: _RunLayout, start: FloatArray, trans: FloatArray, emit: FloatArray
) -> _Stats | None:
    """Compute the expected counts by the run method; ``None`` if imprecise."""
    fwd = _forward_runs(lay, start, trans, emit)
    if not fwd.ok:
        return None
    n_models, k = start.shape
    n_sym = emit.shape[2]
    n_j, n_seq = lay.sym.shape
    mats = fwd.emit_mats
    group_pows = fwd.group_pows
    b_start = np.zeros((n_models, n_j, n_seq, k))
    b_end = np.zeros((n_models, n_j, n_seq, k))
    nb = np.ones((n_models, n_j, n_seq))
    # cat_t[r, j, s*K + i] = M[r, s, i, j]: right-multiplying applies M_s.
    cat_t = mats.transpose(0, 3, 1, 2).reshape(n_models, k, n_sym * k)
    cols = np.arange(n_seq)
    w = lay.weights
    valid = lay.valid
    with np.errstate(all="ignore"):
        for j in range(n_j - 1, -1, -1):
            n = lay.active[j]
            n1 = lay.active[j + 1] if j + 1 < n_j else 0
            if n1:
                bb = (b_start[:, j + 1, :n1] @ cat_t).reshape(n_models, n1, n_sym, k)[
                    :, cols[:n1], lay.sym[j + 1, :n1]
                ]
                b_end[:, j, :n1] = bb / bb.sum(axis=2)[..., None]
            b_end[:, j, n1:n] = 1.0
            bs = (group_pows[:, lay.grp[j, :n]] @ b_end[:, j, :n, :, None])[..., 0]
            s = bs.sum(axis=2)
            nb[:, j, :n] = s
            b_start[:, j, :n] = bs / s[..., None]

        a_start, a_end = fwd.a_start, fwd.a_end
        # Start: posterior of the first step.
        g0 = a_start[:, 0] * b_start[:, 0]
        g0 /= g0.sum(axis=2)[..., None]
        start_counts = (g0 * w[None, :, None]).sum(axis=1)
        # Posterior of the last step of every run.
        ge = a_end * b_end
        den = np.where(valid, ge.sum(axis=3), 1.0)
        ge *= (w / den)[..., None]
        obs = np.swapaxes(ge.reshape(n_models, -1, k), 1, 2) @ lay.sym_onehot
        # Transitions into each run from the run before.
        trans_counts = np.zeros((n_models, k, k))
        if n_j > 1:
            dot = (a_start[:, 1:] * b_start[:, 1:]).sum(axis=3) * fwd.c_start[:, 1:]
            scale = np.where(valid[1:], w / np.where(valid[1:], dot, 1.0), 0.0)
            ae = (a_end[:, :-1] * scale[..., None]).reshape(n_models, -1, k)
            bs_flat = b_start[:, 1:].reshape(n_models, -1, k)
            for s_idx, idx in enumerate(lay.boundary_index):
                if idx.size:
                    xi = np.swapaxes(ae[:, idx], 1, 2) @ bs_flat[:, idx]
                    trans_counts += mats[:, s_idx] * xi
        # Transitions inside runs: the sandwich sums of each group.
        z = (a_start * b_start).sum(axis=3) * nb
        bad = bool(np.any(np.where(valid, z, 1.0) <= _TINY))
        if lay.n_inner:
            scale = np.where(valid, w / np.where(valid, z, 1.0), 0.0)
            be = (b_end * scale[..., None]).reshape(n_models, -1, k)
            af = a_start.reshape(n_models, -1, k)
            idx = lay.inner_order
            outer = be[:, idx, :, None] * af[:, idx, None, :]
            sand = np.add.reduceat(outer, lay.inner_starts, axis=1)  # Y, then Q_b
            total = np.zeros_like(sand)  # upper-right block of the product
            for b in range(lay.n_levels):
                c = lay.level_count[b]
                pb = fwd.level_pows[b][:, lay.g_sym[:c]]
                qb = sand[:, :c]
                total[:, :c] = np.where(
                    lay.level_bit[b], fwd.accs[b] @ qb + total[:, :c] @ pb, total[:, :c]
                )
                if b + 1 < lay.n_levels:
                    c1 = lay.level_count[b + 1]
                    sand[:, :c1] = pb[:, :c1] @ qb[:, :c1] + qb[:, :c1] @ pb[:, :c1]
            m_scaled = fwd.level_pows[0][:, lay.g_sym[: lay.n_inner]]
            xi_in = m_scaled * np.swapaxes(total, 2, 3)
            trans_counts += xi_in.sum(axis=1)
            obs += np.swapaxes(xi_in.sum(axis=3), 1, 2) @ lay.g_onehot
        loglik = fwd.loglik @ w
    stats = _Stats(
        log_likelihood=loglik, start=start_counts, trans=trans_counts, obs=obs
    )
    if bad or not all(
        np.all(np.isfinite(v)) for v in (stats.start, stats.trans, stats.obs)
    ):
        return None
    return stats


# ----------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------
class CategoricalHMM:
    """Hidden Markov model with categorical emissions, learned by Baum-Welch.

    Parameters follow hmmlearn's ``CategoricalHMM`` (``implementation=
    "scaling"``): ``n_components`` hidden states, ``n_features`` symbols
    (inferred as ``max(X) + 1`` on the first fit, at least 2), at most
    ``n_iter`` EM iterations, ``tol`` the convergence threshold on the gain in
    log-likelihood, ``init_params``/``params`` the letters of the parameters
    initialised before / updated during fitting ('s' start probabilities,
    't' transitions, 'e' emissions). Random initialisation draws from
    ``random_state`` (an int seed or a ``numpy.random.Generator``; ``None``
    means seed 0, so fitting is always reproducible).

    :meth:`fit` follows hmmlearn's conventions exactly: the Dirichlet priors
    are all 1 (no pseudo-counts, the update is the plain maximum-likelihood
    re-estimate), probabilities that are exactly zero stay zero, each EM
    iteration records the log-likelihood of the parameters it starts from in
    :attr:`monitor_history_`, then updates the parameters, and fitting stops
    after ``n_iter`` iterations or as soon as the gain between two recorded
    log-likelihoods is below ``tol`` (the parameters of that last iteration
    are still updated). The one deliberate difference: a state that is never
    visited (or a state never left) gets no counts, and where hmmlearn would
    leave an all-zero row this model keeps the row it had, so every row stays
    a probability distribution.

    Fitted attributes: ``startprob_`` (n_components,), ``transmat_``
    (n_components, n_components), ``emissionprob_`` (n_components,
    n_features), ``monitor_history_`` and ``converged_`` (True if fitting
    stopped on ``tol`` before ``n_iter``).
    """

    startprob_: FloatArray
    transmat_: FloatArray
    emissionprob_: FloatArray

    def __init__(
        self,
        n_components: int = 5,
        *,
        n_features: int | None = None,
        n_iter: int = 100,
        tol: float = 1e-4,
        random_state: int | np.random.Generator | None = None,
        init_params: str = "ste",
        params: str = "ste",
    ) -> None:
        """Set up an unfitted model (see the class docstring)."""
        if int(n_components) != n_components or n_components < 1:
            raise ValueError(f"n_components must be a positive integer: {n_components}")
        if n_features is not None and (int(n_features) != n_features or n_features < 1):
            raise ValueError(f"n_features must be a positive integer: {n_features}")
        if int(n_iter) != n_iter or n_iter < 0:
            raise ValueError(f"n_iter must be a non-negative integer: {n_iter}")
        self.n_components = int(n_components)
        self.n_features = None if n_features is None else int(n_features)
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.random_state = random_state
        self.init_params = _check_codes("init_params", init_params)
        self.params = _check_codes("params", params)
        self.monitor_history_: list[float] = []
        self.converged_ = False

    # ------------------------------------------------------------------
    # Parameters
    # ------------------------------------------------------------------
    def _is_set(self, name: str) -> bool:
        return hasattr(self, name)

    def n_parameters(self) -> int:
        """Return the number of free scalar parameters estimated by :meth:`fit`."""
        k = self.n_components
        nf = self.n_features if self.n_features is not None else 2
        free = {"s": k - 1, "t": k * (k - 1), "e": k * (nf - 1)}
        return sum(free[c] for c in set(self.params))

    def _data(self, X: npt.ArrayLike, lengths: npt.ArrayLike | None) -> _Data:
        """Validate ``X``/``lengths`` against the model's symbols."""
        seqs = _split(X, lengths)
        max_symbol = max(int(s.max()) for s in seqs)
        nf = int(self.emissionprob_.shape[1])
        if max_symbol >= nf:
            raise ValueError(
                f"largest symbol is {max_symbol} but the model only has {nf} symbols"
            )
        return _Data(seqs, nf)

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    def fit(self, X: npt.ArrayLike, lengths: npt.ArrayLike | None = None) -> Self:
        """Learn the parameters from sequences with Baum-Welch.

        ``X`` holds the symbols of all sequences one after another (1-D, or
        (n, 1) as hmmlearn), ``lengths`` the length of each sequence (``None``
        means one sequence). See the class docstring for the conventions.
        Raises ``ValueError`` on empty or invalid input, or if a sequence is
        impossible under parameters given with ``init_params``.
        """
        seqs = _split(X, lengths)
        _init_parameters(self, max(int(s.max()) for s in seqs))
        _fit_together([self], _Data(seqs, int(self.emissionprob_.shape[1])))
        return self

    def _check_fitted(self) -> None:
        if not (
            self._is_set("startprob_")
            and self._is_set("transmat_")
            and self._is_set("emissionprob_")
        ):
            raise ValueError("the model is not fitted yet: call fit() or from_dict()")
        _validate_parameters(self)

    def score(self, X: npt.ArrayLike, lengths: npt.ArrayLike | None = None) -> float:
        """Total log-likelihood of the sequences (``-inf`` if impossible)."""
        self._check_fitted()
        return _score(self, self._data(X, lengths))

    def bic(self, X: npt.ArrayLike, lengths: npt.ArrayLike | None = None) -> float:
        """Bayesian information criterion on ``X`` (lower is better).

        ``-2 * log-likelihood + n_parameters * log(number of samples)``, as
        hmmlearn computes it.
        """
        self._check_fitted()
        data = self._data(X, lengths)
        return -2.0 * _score(self, data) + self.n_parameters() * math.log(
            data.n_samples
        )

    def sample(
        self,
        n: int,
        *,
        random_state: int | np.random.Generator | None = None,
        startprob: npt.ArrayLike | None = None,
        currstate: int | None = None,
    ) -> tuple[IntArray, IntArray]:
        """Draw ``n`` symbols and the hidden states that produced them.

        The first state is ``currstate`` if given, else drawn from
        ``startprob`` if given (e.g. the state distribution at the end of an
        observed sequence, see :meth:`final_state_distribution`), else from
        ``startprob_``. ``random_state`` is a seed or a Generator (``None``:
        the model's ``random_state``). Returns two 1-D int arrays of length n.
        """
        self._check_fitted()
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer: {n}")
        n = int(n)
        rng = _as_rng(self.random_state if random_state is None else random_state)
        k = self.n_components
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if currstate is not None:
            if not 0 <= currstate < k:
                raise ValueError(f"currstate must be in 0..{k - 1}: {currstate}")
            state = int(currstate)
        else:
            p0 = (
                self.startprob_
                if startprob is None
                else _checked_distribution("startprob", startprob, (k,))
            )
            # Inverse CDF: tolerant of rows that sum to 1 only within 1e-6.
            cdf = np.cumsum(p0)
            u = rng.random() * cdf[-1]
            state = int(min(np.searchsorted(cdf, u, side="right"), k - 1))
        states = np.empty(n, dtype=np.int64)
        # Sample whole stays in a state (geometric) rather than single steps.
        stay = np.diag(self.transmat_)
        leave_cdf = np.cumsum(
            np.where(np.eye(k, dtype=bool), 0.0, self.transmat_), axis=1
        )
        pos = 0
        while pos < n:
            p_leave = 1.0 - stay[state]
            run = n - pos if p_leave <= 0 else int(rng.geometric(min(1.0, p_leave)))
            end = min(n, pos + run)
            states[pos:end] = state
            pos = end
            if pos < n:
                row = leave_cdf[state]
                u = rng.random() * row[-1]
                state = int(min(np.searchsorted(row, u, side="right"), k - 1))
        emit_cdf = np.cumsum(self.emissionprob_, axis=1)
        u = rng.random(n) * emit_cdf[states, -1]
        symbols = (emit_cdf[states] <= u[:, None]).sum(axis=1)
        symbols = np.minimum(symbols, self.emissionprob_.shape[1] - 1)
        return symbols.astype(np.int64), states

    def final_state_distribution(self, X: npt.ArrayLike) -> FloatArray:
        """Distribution of the hidden state after the last symbol of ``X``.

        ``p @ transmat_`` is the distribution of the next state: pass it to
        :meth:`sample` as ``startprob`` to continue an observed sequence.
        """
        self._check_fitted()
        data = self._data(X, None)
        alpha, _, loglik = _forward_steps(
            data.steps, self.startprob_, self.transmat_, self.emissionprob_
        )
        if not np.isfinite(loglik[0]):
            raise ValueError("the sequence has probability zero under the model")
        return np.asarray(alpha[-1, 0], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able description of the fitted parameters."""
        self._check_fitted()
        return {
            "kind": DICT_KIND,
            "n_components": self.n_components,
            "n_features": int(self.emissionprob_.shape[1]),
            "startprob": [float(v) for v in self.startprob_],
            "transmat": [[float(v) for v in row] for row in self.transmat_],
            "emissionprob": [[float(v) for v in row] for row in self.emissionprob_],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalHMM:
        """Rebuild a fitted model from :meth:`to_dict`'s output.

        Raises ``ValueError`` with a clear message if a key is missing, a
        shape is wrong or a row is not a probability distribution.
        """
        if not isinstance(data, Mapping):
            # ValueError, not TypeError: callers treat any bad model file alike.
            raise ValueError("an HMM must be described by a mapping")  # noqa: TRY004
        kind = data.get("kind", DICT_KIND)
        if kind != DICT_KIND:
            raise ValueError(f"not a categorical HMM description: kind={kind!r}")
        for key in (
            "n_components",
            "n_features",
            "startprob",
            "transmat",
            "emissionprob",
        ):
            if key not in data:
                raise ValueError(f"HMM description lacks {key!r}")
        k = data["n_components"]
        nf = data["n_features"]
        for key, value in (("n_components", k), ("n_features", nf)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"HMM {key} must be a positive integer, got {value!r}")
        model = cls(n_components=k, n_features=nf, init_params="")
        model.startprob_ = _checked_distribution("startprob", data["startprob"], (k,))
        model.transmat_ = _checked_distribution("transmat", data["transmat"], (k, k))
        model.emissionprob_ = _checked_distribution(
            "emissionprob", data["emissionprob"], (k, nf)
        )
        return model


def _init_parameters(model: CategoricalHMM, max_symbol: int) -> None:
    """Draw the parameters named in ``init_params`` (or not set yet)."""
    if model.n_features is None:
        if hasattr(model, "emissionprob_") and "e" not in model.init_params:
            model.n_features = int(np.shape(model.emissionprob_)[-1])
        else:
            model.n_features = max(2, max_symbol + 1)
    if max_symbol >= model.n_features:
        raise ValueError(
            f"largest symbol is {max_symbol} but the model only has "
            f"{model.n_features} symbols (0..{model.n_features - 1})"
        )
    rng = _as_rng(model.random_state)
    k = model.n_components
    if "s" in model.init_params or not hasattr(model, "startprob_"):
        model.startprob_ = rng.dirichlet(np.ones(k))
    if "t" in model.init_params or not hasattr(model, "transmat_"):
        model.transmat_ = rng.dirichlet(np.ones(k), size=k)
    if "e" in model.init_params or not hasattr(model, "emissionprob_"):
        model.emissionprob_ = rng.dirichlet(np.ones(model.n_features), size=k)
    _validate_parameters(model)


def _validate_parameters(model: CategoricalHMM) -> None:
    """Validate shapes and stochasticity of a model's parameters."""
    k = model.n_components
    model.startprob_ = _checked_distribution("startprob_", model.startprob_, (k,))
    model.transmat_ = _checked_distribution("transmat_", model.transmat_, (k, k))
    emission = np.asarray(model.emissionprob_, dtype=np.float64)
    n_features = model.n_features
    if n_features is None:
        n_features = int(emission.shape[-1]) if emission.ndim == 2 else 0
    model.emissionprob_ = _checked_distribution(
        "emissionprob_", emission, (k, n_features)
    )
    model.n_features = n_features


def _checked_distribution(name: str, value: Any, shape: tuple[int, ...]) -> FloatArray:
    """Convert to float64 and check the shape and that rows are distributions."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers: {err}") from None
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains values that are not finite numbers")
    if np.any(arr < 0):
        raise ValueError(f"{name} contains negative probabilities")
    sums = arr.sum(axis=-1)
    if not np.all(np.abs(sums - 1.0) <= STOCHASTIC_TOLERANCE):
        raise ValueError(f"{name} rows must sum to 1, got sums {np.round(sums, 8)}")
    return arr


# ----------------------------------------------------------------------
# EM driver
# ----------------------------------------------------------------------
def _e_steps(models: Sequence[CategoricalHMM], data: _Data) -> list[_Stats]:
    """Compute expected counts for models of one size.

    The run method takes the models side by side, so that each of its many
    small numpy calls serves them all. The block method's work is in large
    arrays: side by side it saves no time (measured slower) and holds every
    model's forward vectors at once, so it takes one model at a time. Where
    either declines, the step method computes that E-step.
    """
    if data.method == "runs":
        stats = _estep_runs(
            data.runs,
            np.stack([m.startprob_ for m in models]),
            np.stack([m.transmat_ for m in models]),
            np.stack([m.emissionprob_ for m in models]),
        )
        if stats is not None:
            return [
                _Stats(
                    log_likelihood=stats.log_likelihood[i : i + 1],
                    start=stats.start[i : i + 1],
                    trans=stats.trans[i : i + 1],
                    obs=stats.obs[i : i + 1],
                )
                for i in range(len(models))
            ]
    out = []
    for m in models:
        if data.method == "blocks":
            blocks = _estep_blocks(
                data.blocks,
                m.startprob_[None],
                m.transmat_[None],
                m.emissionprob_[None],
            )
            if blocks is not None:
                out.append(blocks)
                continue
        ll, start, trans, obs = _estep_steps(
            data.steps, m.startprob_, m.transmat_, m.emissionprob_
        )
        out.append(
            _Stats(
                log_likelihood=np.array([ll]),
                start=start[None],
                trans=trans[None],
                obs=obs[None],
            )
        )
    return out


def _fit_together(
    models: Sequence[CategoricalHMM], data: _Data, keep_best_after: int | None = None
) -> None:
    """Run EM for models of one size on the same data, each to its own end.

    With ``keep_best_after``, after that many iterations only the model with
    the highest log-likelihood so far goes on; the others stop there.
    """
    for m in models:
        m.monitor_history_ = []
        m.converged_ = False
    running = [m for m in models if m.n_iter > 0]
    iterations = 0
    while running:
        still = []
        for m, stats in zip(running, _e_steps(running, data), strict=True):
            ll = float(stats.log_likelihood[0])
            if not math.isfinite(ll):
                raise ValueError(
                    "a training sequence has probability zero under the current "
                    "parameters (a symbol or transition it needs has probability 0)"
                )
            _m_step(m, stats.start[0], stats.trans[0], stats.obs[0])
            hist = m.monitor_history_
            hist.append(ll)
            if len(hist) >= 2 and hist[-1] - hist[-2] < m.tol:
                m.converged_ = True
            elif len(hist) < m.n_iter:
                still.append(m)
        iterations += 1
        if iterations == keep_best_after and len(models) > 1:
            leader = max(
                (m for m in models if m.monitor_history_),
                key=lambda m: m.monitor_history_[-1],
            )
            still = [m for m in still if m is leader]
        running = still


def _m_step(
    model: CategoricalHMM, start: FloatArray, trans: FloatArray, obs: FloatArray
) -> None:
    """Maximum-likelihood update (hmmlearn's with priors of 1)."""
    if "s" in model.params:
        start = np.where(model.startprob_ == 0, 0.0, start)
        model.startprob_ = _normalize_rows(start, model.startprob_)
    if "t" in model.params:
        trans = np.where(model.transmat_ == 0, 0.0, trans)
        model.transmat_ = _normalize_rows(trans, model.transmat_)
    if "e" in model.params:
        model.emissionprob_ = _normalize_rows(obs, model.emissionprob_)


def _score(model: CategoricalHMM, data: _Data) -> float:
    """Total log-likelihood, by the faster method for the data."""
    params = (model.startprob_[None], model.transmat_[None], model.emissionprob_[None])
    if data.method == "runs":
        fwd = _forward_runs(data.runs, *params)
        if fwd.ok:
            return float(fwd.loglik[0] @ data.runs.weights)
    elif data.method == "blocks":
        blk = _forward_blocks(data.blocks, *params)
        if blk.ok:
            return float(blk.loglik[0])
    lay = data.steps
    _, _, loglik = _forward_steps(
        lay, model.startprob_, model.transmat_, model.emissionprob_
    )
    return float(np.dot(loglik, lay.weights))


#: EM iterations after which `fit_best` goes on with its leading restart only.
#: On the recorded houses the restart leading after ten iterations is the
#: one that ends best in 22 of 30 fits; in the others it ends a few units of
#: log-likelihood lower (at most 3.6), and the models are as realistic. A
#: room trains in 40 % less time (see benchmarks/README.md).
KEEP_BEST_AFTER = 10


def _candidate_sizes(n_components: int | Iterable[int]) -> list[int]:
    if isinstance(n_components, int):
        sizes = [n_components]
    else:
        sizes = [int(c) for c in n_components]
    if not sizes or any(c < 1 for c in sizes):
        raise ValueError(f"n_components must be positive integers: {n_components}")
    return sizes


def fit_best(
    X: npt.ArrayLike,
    lengths: npt.ArrayLike | None = None,
    *,
    n_components: int | Iterable[int] = 5,
    n_restarts: int = 3,
    n_iter: int = 100,
    tol: float = 1e-4,
    n_features: int | None = None,
    random_state: int | np.random.Generator | None = None,
    keep_best_after: int | None = KEEP_BEST_AFTER,
) -> CategoricalHMM:
    """Fit with several seeded restarts; choose the number of states by BIC.

    For each candidate number of states, ``n_restarts`` models start from
    independent random parameters and run side by side for
    ``keep_best_after`` EM iterations; then only the one with the highest
    log-likelihood so far goes on to the end (``None``: all of them do).
    Of them, the one with the highest final log-likelihood is kept; across
    candidates the lowest BIC wins (ties: the earlier candidate). Restart
    ``i`` gets the same seed (derived from ``random_state``) whatever the
    candidates and ``n_restarts`` are.
    """
    if n_restarts < 1:
        raise ValueError(f"n_restarts must be at least 1: {n_restarts}")
    sizes = _candidate_sizes(n_components)
    seqs = _split(X, lengths)
    max_symbol = max(int(s.max()) for s in seqs)
    if n_features is None:
        n_features = max(2, max_symbol + 1)
    if max_symbol >= n_features:
        raise ValueError(
            f"largest symbol is {max_symbol} but n_features is {n_features}"
        )
    data = _Data(seqs, n_features)
    if isinstance(random_state, np.random.Generator):
        entropy = int(random_state.integers(0, 2**63 - 1))
    else:
        entropy = 0 if random_state is None else int(random_state)
    seeds = np.random.SeedSequence(entropy).spawn(n_restarts)
    best: CategoricalHMM | None = None
    best_bic = math.inf
    for size in sizes:
        models = []
        for seed in seeds:
            model = CategoricalHMM(
                size,
                n_features=n_features,
                n_iter=n_iter,
                tol=tol,
                random_state=np.random.default_rng(seed),
            )
            _init_parameters(model, max_symbol)
            models.append(model)
        _fit_together(models, data, keep_best_after)
        scores = [_score(m, data) for m in models]
        pick = int(np.argmax(scores))
        bic = -2.0 * scores[pick] + models[pick].n_parameters() * math.log(
            data.n_samples
        )
        if best is None or bic < best_bic:
            best, best_bic = models[pick], bic
    if best is None:  # unreachable: there is at least one candidate
        raise ValueError("no candidate number of states")
    return best
