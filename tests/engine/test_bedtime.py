"""The lit span of an evening: learned, drawn, and the HMMs sampled to it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from lighting_replay_engine.bedtime import (
    NO_LIGHT,
    SPREADS,
    Stretch,
    draw_span,
    evening_spans,
    sample_span,
    spread,
)
from lighting_replay_engine.hmm import CategoricalHMM
from lighting_replay_engine.zones import Location, Zone, epoch_minute, zones_of_minutes

BERLIN = Location(52.52, 13.40, "Europe/Berlin")


def _hmm(stay_off: float, stay_on: float, noise: float = 0.0) -> CategoricalHMM:
    """Two states, one showing off and one on (``noise`` the other symbol)."""
    hmm = CategoricalHMM(2, n_features=2)
    hmm.startprob_ = np.asarray([0.5, 0.5])
    hmm.transmat_ = np.asarray([[stay_off, 1 - stay_off], [1 - stay_on, stay_on]])
    hmm.emissionprob_ = np.asarray([[1 - noise, noise], [noise, 1 - noise]])
    return hmm


def _minute(day: date, clock: time) -> int:
    return epoch_minute(datetime.combine(day, clock, tzinfo=BERLIN.tzinfo))


def test_evening_spans_of_hand_made_evenings() -> None:
    """First and last lit minute per evening; dark, unseen and lit-from-start ones."""
    first_day = date(2024, 11, 4)
    start = _minute(first_day, time(0))
    minutes = np.arange(start, start + 4 * 1440)
    on_off = np.zeros(minutes.size, dtype=np.int8)

    def mark(day: int, a: time, b: time, value: int) -> None:
        d = first_day + timedelta(days=day)
        on_off[_minute(d, a) - start : _minute(d, b) - start] = value

    mark(0, time(19), time(20, 30), 1)  # lit 19:00-20:29
    mark(0, time(22), time(22, 10), 1)  # and again 22:00-22:09
    # day 1: no light at all
    mark(2, time(18), time(23), -1)  # mostly unseen: left out
    mark(3, time(20), time(23, 45), 1)
    zones = zones_of_minutes(minutes, BERLIN)
    counted = minutes >= _minute(first_day + timedelta(days=3), time(20))
    counted |= minutes < _minute(first_day + timedelta(days=3), time(0))
    spans = evening_spans(on_off, zones, minutes, BERLIN, counted=counted)
    assert spans == (
        (19 * 60, 22 * 60 + 9),
        (NO_LIGHT, NO_LIGHT),
        (0, 23 * 60 + 44),  # lit at its first counted minute: "from the start"
    )
    assert evening_spans(on_off, zones == int(Zone.DAY), minutes, BERLIN) == ()


def test_spread_is_chosen_by_held_out_fit() -> None:
    """A timer's bedtimes stay put; spread ones get a wider kernel."""
    timer = [1382, 1383, 1382, 1383, 1383, 1382, NO_LIGHT]
    assert spread(timer) == SPREADS[0]
    rng = np.random.default_rng(0)
    wide = [int(x) for x in rng.normal(22 * 60, 60, size=60)]
    assert spread(wide) >= 15.0
    assert spread([1300, 1320]) == 0.0  # too few to tell
    assert spread([0, 0, 0, NO_LIGHT]) == 0.0  # "from the start" is not a time


def test_draw_span_keeps_its_order() -> None:
    rng = np.random.default_rng(1)
    spans = ((0, 1300), (1200, 1210), (NO_LIGHT, NO_LIGHT))
    drawn = [draw_span(spans, (60.0, 60.0), rng) for _ in range(300)]
    assert (NO_LIGHT, NO_LIGHT) in drawn
    lit = [d for d in drawn if d[1] != NO_LIGHT]
    assert all(0 <= a <= b < 1440 for a, b in lit)
    assert any(a == 0 for a, _ in lit)
    assert any(a > 0 for a, _ in lit)
    still = [draw_span(spans[1:2], (0.0, 0.0), rng) for _ in range(5)]
    assert still == [(1200, 1210)] * 5


def test_drawn_evening_never_shrinks_to_a_minute() -> None:
    """Ends that would meet keep the learned span: no lamp lit for a minute."""
    rng = np.random.default_rng(2)
    short = ((1200, 1210),)
    drawn = [draw_span(short, (60.0, 60.0), rng) for _ in range(500)]
    assert all(a < b for a, b in drawn)
    assert (1200, 1210) in drawn  # where the moves crossed
    assert len(set(drawn)) > 100  # and moved otherwise
    # An evening lit from the start keeps its start.
    assert {
        a for a, _ in (draw_span(((0, 30),), (60.0, 60.0), rng) for _ in range(200))
    } == {0}


def _last_on(symbols: np.ndarray) -> int:
    lit = np.flatnonzero(symbols == 1)
    return int(lit[-1]) if lit.size else NO_LIGHT


def test_sample_span_meets_the_span() -> None:
    """On at both ends, off outside them, across two stretches."""
    hmm = _hmm(0.9, 0.95, noise=0.05)
    stretches = [
        Stretch(hmm, 10, 40, hmm.startprob_),
        Stretch(hmm, 40, 70, hmm.startprob_, after=(hmm.startprob_, hmm.startprob_)),
    ]
    rng = np.random.default_rng(2)
    for first_on, last_on in ((15, 55), (-1, 30), (20, 20)):
        drawn = sample_span(stretches, first_on, last_on, rng)
        assert drawn is not None
        day = np.zeros(80, dtype=np.int64)
        day[10:40], day[40:70] = drawn
        lit = np.flatnonzero(day)
        assert lit[-1] == last_on
        if first_on >= 10:
            assert lit[0] == first_on
    dark = sample_span(stretches, NO_LIGHT, NO_LIGHT, rng)
    assert dark is not None
    assert not any(part.any() for part in dark)
    # A span no path can meet (a lamp that is never on): None.
    never = _hmm(1.0, 0.0)
    never.startprob_ = np.asarray([1.0, 0.0])
    assert sample_span([Stretch(never, 0, 10, never.startprob_)], -1, 5, rng) is None


def test_sample_span_is_the_hmm_given_its_span() -> None:
    """The same as sampling the HMM and keeping the paths with that bedtime."""
    hmm = _hmm(0.8, 0.85, noise=0.1)
    size, bedtime, n = 14, 9, 2000
    rng = np.random.default_rng(3)
    kept: list[np.ndarray] = []
    while len(kept) < n:
        symbols, _ = hmm.sample(size, random_state=rng)
        if _last_on(symbols) == bedtime:
            kept.append(symbols)
    stretch = [Stretch(hmm, 0, size, hmm.startprob_)]
    drawn = []
    for _ in range(n):
        parts = sample_span(stretch, -1, bedtime, rng)
        assert parts is not None
        drawn.append(parts[0])
    rejected = np.mean(kept, axis=0)
    exact = np.mean(drawn, axis=0)
    # Per minute on-probability within sampling noise (sd about 0.016).
    assert np.abs(rejected - exact).max() < 0.07
    assert exact[bedtime] == 1.0
    assert not exact[bedtime + 1 :].any()
    assert 0.3 < exact[0] < 0.9  # before the bedtime the lamp is free


def test_sample_span_carries_the_symbol_before() -> None:
    """A carried first stretch starts from the symbol shown before it."""
    hmm = _hmm(0.99, 0.99)
    after = (np.asarray([1.0, 0.0]), np.asarray([0.0, 1.0]))
    stretch = [Stretch(hmm, 0, 5, hmm.startprob_, after=after)]
    rng = np.random.default_rng(4)
    for symbol in (0, 1):
        drawn = sample_span(stretch, -1, 30, rng, symbol_before=symbol)
        assert drawn is not None
        assert drawn[0][0] == symbol


@pytest.mark.parametrize("bedtime", [NO_LIGHT, 3])
def test_sample_span_of_an_empty_stretch(bedtime: int) -> None:
    hmm = _hmm(0.9, 0.9)
    drawn = sample_span(
        [Stretch(hmm, 5, 5, hmm.startprob_)], -1, bedtime, np.random.default_rng(5)
    )
    assert drawn is not None
    assert drawn[0].size == 0
