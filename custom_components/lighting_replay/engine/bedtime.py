"""A night's bedtime, and the evening's first light: the lit span of an evening.

A zone's HMM forgets the evening as it goes: its stays in a state are
geometric and it knows neither the clock nor how long the lamp has been
on, so the moment it leaves the lamp off for good is spread far wider than
a household's bedtime is (on real held-out nights the distribution of the
last-on minute was the measure's largest gap, ``night_realism.py``), and
a lamp switched on at a set time (dinner at 18:30) comes out spread over
the zone.

So a trained lux room keeps the lit span of each well-seen training
evening (``evening_spans``): the local wall-clock minutes it was first and
last lit (the ``EVENING`` and ``LATE_EVENING`` zones, after dark), or -1
for an evening without light. Sampling a day draws one, moves each end by
a Gaussian whose width is chosen by held-out fit (``spread``), and samples
the evening's zones from their HMMs *given* that span (``sample_span``):
the lamp is on at both ends and off outside them; everything in between
follows the HMMs exactly as they would given the same ends (a backward
pass over the constraints, then states and symbols drawn forward). A
bedtime before dusk leaves the evening dark, which is how a household that
goes to bed at the same clock time keeps its lamps off on a spring evening
that is still light. Only the two ends come from a learned evening, each
moved, and the lamp between them is sampled afresh: no evening is copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .hmm import CategoricalHMM
from .zones import MINUTES_PER_DAY, Location, Zone, local_clock

type IntArray = npt.NDArray[np.int64]
type FloatArray = npt.NDArray[np.float64]

#: The zones of the evening, sampled together to a lit span.
BEDTIME_ZONES = (Zone.EVENING, Zone.LATE_EVENING)
#: An evening's span is learned when this share of its minutes was seen.
BEDTIME_MIN_COVERAGE = 0.5
#: The first and last lit minute of an evening without light.
NO_LIGHT = -1


def evening_spans(
    on_off: npt.ArrayLike,
    zones: npt.ArrayLike,
    minutes: npt.ArrayLike,
    location: Location,
    counted: npt.ArrayLike | None = None,
) -> tuple[tuple[int, int], ...]:
    """Return the first and the last lit wall-clock minute of each evening.

    ``on_off`` (1/0/-1 missing), ``zones`` and ``minutes`` (UTC epoch) hold
    one value per minute; ``counted`` (default: all) marks the minutes an
    evening is made of (after dark, for a lux room). An evening is the
    ``BEDTIME_ZONES`` minutes of one local date; it counts when at least
    ``BEDTIME_MIN_COVERAGE`` of its counted minutes have a known state.
    Without light it is ``(NO_LIGHT, NO_LIGHT)``; lit at its first counted
    minute (switched on before anyone could tell, e.g. before dusk) its
    first lit minute is 0, "from the start". Ordered by date.
    """
    flags = np.asarray(on_off, dtype=np.int8).ravel()
    zone = np.asarray(zones).ravel()
    evening = np.isin(zone, np.asarray([int(z) for z in BEDTIME_ZONES]))
    if counted is not None:
        evening &= np.asarray(counted, dtype=bool).ravel()
    if not evening.any():
        return ()
    index, dates, wall = local_clock(np.asarray(minutes)[evening], location)
    state = flags[evening]
    n_days = len(dates)
    total = np.bincount(index, minlength=n_days)
    seen = np.bincount(index, weights=state >= 0, minlength=n_days)
    lit = state == 1
    last = np.full(n_days, NO_LIGHT, dtype=np.int64)
    np.maximum.at(last, index[lit], wall[lit])
    first = np.full(n_days, MINUTES_PER_DAY, dtype=np.int64)
    np.minimum.at(first, index[lit], wall[lit])
    start = np.full(n_days, MINUTES_PER_DAY, dtype=np.int64)
    np.minimum.at(start, index, wall)
    # Lit at its first minute: on "from the start" (0), whenever that was.
    opened = np.where(last == NO_LIGHT, NO_LIGHT, np.where(first == start, 0, first))
    keep = (total > 0) & (seen >= BEDTIME_MIN_COVERAGE * total)
    return tuple(
        (int(a), int(b)) for a, b in zip(opened[keep], last[keep], strict=True)
    )


#: The widths ``spread`` chooses from, minutes.
SPREADS = (1.0, 2.0, 4.0, 7.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
#: Fewer minutes than this are not spread at all.
MIN_SPREAD_MINUTES = 3


def spread(minutes: Sequence[int]) -> float:
    """Return how far a drawn minute moves: a kernel width chosen by held-out fit.

    Each of ``SPREADS`` is the width of a Gaussian around every minute
    given (``NO_LIGHT`` and 0, "from the start", left out); the one under
    which each minute is the likeliest given all the others (leave-one-out
    log-likelihood) wins. A household whose lamp goes off at 23:03 every
    night (a timer) keeps it there, one whose bedtimes spread over hours
    gets new ones between them. 0 with fewer than ``MIN_SPREAD_MINUTES``.
    """
    values = np.asarray([m for m in minutes if m > 0], dtype=np.float64)
    if values.size < MIN_SPREAD_MINUTES:
        return 0.0
    apart = values[:, None] - values[None, :]
    others = ~np.eye(values.size, dtype=bool)
    best, best_fit = 0.0, -np.inf
    for width in SPREADS:
        kernel = np.exp(-0.5 * (apart / width) ** 2) / width
        density = (kernel * others).sum(axis=1) / (values.size - 1)
        fit = float(np.mean(np.log(np.maximum(density, 1e-12))))
        if fit > best_fit:
            best, best_fit = width, fit
    return best


def evening_spreads(spans: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """Return the ``spread`` of the evenings' first and of their last lit minutes."""
    return spread([a for a, _ in spans]), spread([b for _, b in spans])


def draw_span(
    spans: Sequence[tuple[int, int]],
    spreads: tuple[float, float],
    rng: np.random.Generator,
) -> tuple[int, int]:
    """Draw an evening's first and last lit minute: a learned pair, moved.

    Each end moves by a Gaussian of its own spread; a first minute of 0
    ("from the start") stays. Ends that would meet or pass each other keep
    the learned pair as it was (measured against drawing the moves again:
    the same on the real houses, better on the simulator): a short evening
    stays short, it never shrinks to a lamp lit for a minute.
    """
    first, last = spans[int(rng.integers(0, len(spans)))]
    if last == NO_LIGHT:
        return NO_LIGHT, NO_LIGHT
    moves = rng.standard_normal(2)
    moved_last = min(
        max(last + round(spreads[1] * float(moves[1])), 0), MINUTES_PER_DAY - 1
    )
    moved_first = (
        first if first == 0 else max(first + round(spreads[0] * float(moves[0])), 1)
    )
    if moved_first >= moved_last:
        return first, last
    return moved_first, moved_last


@dataclass(frozen=True, eq=False)
class Stretch:
    """Minutes ``first`` to ``last`` (excluded) of a day, sampled from ``hmm``.

    The first state is drawn from ``startprob``, or, for a stretch that goes
    on from the symbol the stretch before it ended with, from ``after[s]``
    given that symbol ``s`` (0 off, 1 on).
    """

    hmm: CategoricalHMM
    first: int
    last: int
    startprob: FloatArray
    after: tuple[FloatArray, FloatArray] | None = None


def _start(stretch: Stretch, symbol: int | None) -> FloatArray:
    """Return the first state's distribution of a stretch."""
    if stretch.after is not None and symbol is not None:
        return stretch.after[symbol]
    return stretch.startprob


def _allowed(stretch: Stretch, first_on: int, last_on: int) -> FloatArray:
    """Return, per minute of a stretch, which symbols (off, on) it may show."""
    minute = np.arange(stretch.first, stretch.last)
    allowed = np.ones((minute.size, 2))
    allowed[(minute > last_on) | (minute < first_on), 1] = 0.0
    allowed[minute == last_on, 0] = 0.0
    if first_on >= 0:
        allowed[minute == first_on, 0] = 0.0
    return allowed


def sample_span(
    stretches: Sequence[Stretch],
    first_on: int,
    last_on: int,
    rng: np.random.Generator,
    symbol_before: int | None = None,
) -> list[IntArray] | None:
    """Sample the stretches' symbols given the lamp's first and last lit minute.

    ``first_on`` and ``last_on`` are minutes of the day (the stretches' own
    numbering): on at both, off before the first and after the last; a
    minute outside every stretch only keeps the minutes beyond it off
    (``last_on`` -1: a dark evening; ``first_on`` -1: free from the start).
    ``symbol_before`` is the symbol shown just before the first stretch,
    for a first stretch that carries it. Exact: each stretch's states are
    drawn forward from the probabilities of the constraints ahead (a
    backward pass through every stretch after it, across carried
    boundaries). ``None`` when no path of the HMMs meets the span.
    """
    n = len(stretches)
    allowed = [_allowed(s, first_on, last_on) for s in stretches]
    betas: list[FloatArray] = [np.zeros((0, 0))] * n
    # ends[j][symbol]: how likely the stretches after j meet their
    # constraints given stretch j ends with that symbol (scaled).
    ends: list[FloatArray] = [np.ones(2)] * n
    following: FloatArray = np.ones(2)
    for j in range(n - 1, -1, -1):
        stretch = stretches[j]
        ends[j] = following
        emission = np.asarray(stretch.hmm.emissionprob_, dtype=np.float64)
        transmat = np.asarray(stretch.hmm.transmat_, dtype=np.float64)
        weight = allowed[j].copy()
        if weight.shape[0]:
            weight[-1] *= following
        likely = weight @ emission.T  # (minutes, states)
        beta = np.empty_like(likely)
        if beta.shape[0]:
            beta[-1] = likely[-1] / max(float(likely[-1].sum()), 1e-300)
            for t in range(beta.shape[0] - 2, -1, -1):
                row = likely[t] * (transmat @ beta[t + 1])
                beta[t] = row / max(float(row.sum()), 1e-300)
        betas[j] = beta
        if beta.shape[0] == 0:
            continue
        if stretch.after is not None:
            meets = np.asarray([float(_start(stretch, s) @ beta[0]) for s in (0, 1)])
            top = float(meets.max())
            following = np.asarray(meets / top if top > 0 else meets, dtype=np.float64)
        else:
            feasible = float(_start(stretch, None) @ beta[0] > 0)
            following = np.full(2, feasible, dtype=np.float64)
    out: list[IntArray] = []
    symbol = symbol_before
    for j, stretch in enumerate(stretches):
        beta = betas[j]
        size = beta.shape[0]
        if size == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        emission = np.asarray(stretch.hmm.emissionprob_, dtype=np.float64)
        transmat = np.asarray(stretch.hmm.transmat_, dtype=np.float64)
        weight = allowed[j].copy()
        weight[-1] *= ends[j]
        first = _start(stretch, symbol) * beta[0]
        # Each minute's next state given this one, for all of them at once:
        # the transition row weighted by the constraints ahead.
        ahead = transmat[None, :, :] * beta[1:, None, :]
        cumulative = np.cumsum(ahead, axis=2)
        uniform = rng.random((size, 2))
        states = np.empty(size, dtype=np.int64)
        total = float(first.sum())
        if not total > 0.0:
            return None
        state = min(
            int(np.searchsorted(np.cumsum(first), uniform[0, 0] * total, "right")),
            first.size - 1,
        )
        states[0] = state
        for t in range(size - 1):
            row = cumulative[t, state]
            state = min(int((row < uniform[t + 1, 0] * row[-1]).sum()), row.size - 1)
            states[t + 1] = state
        if not (cumulative[np.arange(size - 1), states[:-1], -1] > 0.0).all():
            return None
        shown = emission[states] * weight
        shown_total = shown.sum(axis=1)
        if not (shown_total > 0.0).all():
            return None
        symbols = (uniform[:, 1] * shown_total >= shown[:, 0]).astype(np.int64)
        out.append(symbols)
        symbol = int(symbols[-1])
    return out
