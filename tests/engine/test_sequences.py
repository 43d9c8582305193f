"""Tests of the on/off training sequences."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine.sequences import Sequences, split_sequences
from lighting_replay_engine.zones import Zone


def test_split_at_zone_changes_and_gaps() -> None:
    """A gap or a zone change ends a sequence; short runs are dropped."""
    on_off = np.array([0, 0, 1, 1, -1, 1, 0, 0, 1, 1, 1, 0])
    zones = np.array([0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 3])
    result = split_sequences(on_off, zones, min_length=2)
    assert set(result) == {Zone.NIGHT, Zone.EVENING}
    night = result[Zone.NIGHT]
    assert night.lengths.tolist() == [4, 2]
    assert night.X[:, 0].tolist() == [0, 0, 1, 1, 1, 0]
    assert result[Zone.EVENING].X[:, 0].tolist() == [0, 1, 1, 1]
    assert [s.tolist() for s in night.split()] == [[0, 0, 1, 1], [1, 0]]


def test_nothing_present_gives_nothing() -> None:
    """All missing: no sequences at all."""
    assert split_sequences(np.full(5, -1), np.zeros(5)) == {}


def test_bad_input_is_an_error() -> None:
    """Mismatched lengths or symbols other than 1/0/-1 are errors."""
    with pytest.raises(ValueError, match="same length"):
        split_sequences(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="1, 0 and -1"):
        split_sequences(np.array([2, 0]), np.zeros(2))
    with pytest.raises(ValueError, match="add up"):
        Sequences(np.zeros(3, dtype=np.int64), np.array([2]))


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(-1, 1), st.integers(0, 3)), min_size=0, max_size=120
    ),
    min_length=st.integers(1, 4),
    dtype=st.sampled_from([np.int64, np.int8, np.float64]),
)
def test_sequences_are_the_runs(
    data: list[tuple[int, int]], min_length: int, dtype: type[np.generic]
) -> None:
    """Each sequence is a maximal run of present minutes in one zone.

    Whatever the arrays' type (the engine's on/off and zones are int8).
    """
    on_off = np.array([d[0] for d in data], dtype=dtype)
    zones = np.array([d[1] for d in data], dtype=dtype)
    result = split_sequences(on_off, zones, min_length=min_length)
    expected: dict[int, list[list[int]]] = {}
    run: list[int] = []
    run_zone = -1
    for state, zone in [*data, (-1, -1)]:
        if state >= 0 and zone == run_zone:
            run.append(state)
            continue
        if len(run) >= min_length:
            expected.setdefault(run_zone, []).append(run)
        run, run_zone = ([state], zone) if state >= 0 else ([], -1)
    assert {int(z) for z in result} == set(expected)
    for zone, seqs in result.items():
        assert [s.tolist() for s in seqs.split()] == expected[int(zone)]
        assert seqs.n_samples == sum(len(s) for s in expected[int(zone)])
        assert seqs.X.dtype == np.int64
        assert seqs.lengths.dtype == np.int64
