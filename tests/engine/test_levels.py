"""Tests of the light levels: 1-D K-Means and the on/off threshold."""

from __future__ import annotations

from hypothesis import example, given, settings, strategies as st
import numpy as np
import pytest

from lighting_replay_engine.levels import Levels, fit_levels, kmeans_1d


def _clusters(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.normal(2, 1, 3000),
            rng.normal(60, 5, 500),
            rng.normal(200, 10, 400),
            rng.normal(450, 15, 300),
        ]
    )


def test_kmeans_finds_separated_clusters() -> None:
    """Well separated groups give their means, sorted dark to bright."""
    centres = kmeans_1d(_clusters(), 4)
    np.testing.assert_allclose(centres, [2, 60, 200, 450], rtol=0.05, atol=0.5)


def test_kmeans_ignores_nan_and_handles_few_values() -> None:
    """NaN does not count; fewer distinct values than k are the centres."""
    assert list(kmeans_1d([1.0, np.nan, 5.0, 1.0], 4)) == [1.0, 5.0]
    with pytest.raises(ValueError, match="no values"):
        kmeans_1d([np.nan], 4)


def test_kmeans_is_no_worse_than_random_restarts() -> None:
    """The result's inertia is at most that of plain Lloyd from many starts."""
    values = np.random.default_rng(3).lognormal(2, 1.5, 2000)
    centres = kmeans_1d(values, 4, seed=1)

    def inertia(c: np.ndarray) -> float:
        return float(np.min((values[:, None] - c[None, :]) ** 2, axis=1).sum())

    rng = np.random.default_rng(9)
    for _ in range(20):
        c = np.sort(rng.choice(values, 4, replace=False))
        for _ in range(100):
            label = np.argmin(np.abs(values[:, None] - c[None, :]), axis=1)
            c = np.sort(
                [
                    values[label == j].mean() if (label == j).any() else c[j]
                    for j in range(4)
                ]
            )
        assert inertia(centres) <= inertia(c) * (1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-10, max_value=1e5), min_size=1, max_size=300),
    k=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=1000),
)
# Tiny values vanish in the prefix sums and once gave two equal centres.
@example(
    values=[0.0, 1.0, 2.0, 3.0, 8.08095419328633e-82, 3.599405764840236e-110, -1.0],
    k=6,
    seed=0,
)
def test_kmeans_sorted_and_deterministic(
    values: list[float], k: int, seed: int
) -> None:
    """Centres are sorted, within the data, and the same for the same seed."""
    first = kmeans_1d(values, k, seed=seed)
    again = kmeans_1d(list(values), k, seed=seed)
    np.testing.assert_array_equal(first, again)
    assert 1 <= first.size <= k
    assert np.all(np.diff(first) > 0)
    assert first.min() >= min(values) - 1e-9
    assert first.max() <= max(values) + 1e-9


def test_levels_assign_and_on_off() -> None:
    """Nearest centre, -1 for missing, on from the threshold."""
    levels = Levels(np.array([0.0, 50.0, 200.0, 400.0]), 2)
    lux = np.array([1.0, 24.0, 26.0, 130.0, np.nan, 1000.0])
    np.testing.assert_array_equal(levels.assign(lux), [0, 0, 1, 2, -1, 3])
    np.testing.assert_array_equal(levels.on_off(lux), [0, 0, 0, 1, -1, 1])
    assert levels.on_lux == 125.0
    assert Levels.from_dict(levels.to_dict()).on_level == 2


def test_levels_reject_bad_values() -> None:
    """Unsorted centres or a threshold outside the levels are errors."""
    with pytest.raises(ValueError, match="increasing"):
        Levels(np.array([5.0, 1.0]), 1)
    with pytest.raises(ValueError, match="on_level"):
        Levels(np.array([1.0, 5.0]), 2)
    with pytest.raises(ValueError, match="on_level"):
        Levels(np.array([1.0, 5.0]), 0)


def test_threshold_from_after_dark_ignores_daylight() -> None:
    """Bright daylight levels do not decide the threshold; the lamp does.

    In the day the sensor sees 60-450 lx of daylight; after dark only
    darkness (2 lx) and the lamp (200 lx). A threshold from all readings
    would split the daylight; after dark, it splits lamp from darkness.
    """
    rng = np.random.default_rng(1)
    day = np.concatenate([rng.normal(60, 5, 3000), rng.normal(450, 15, 3000)])
    night = np.concatenate([rng.normal(2, 1, 4000), rng.normal(200, 10, 800)])
    lux = np.concatenate([day, night])
    dark = np.concatenate([np.zeros(day.size, bool), np.ones(night.size, bool)])
    levels = fit_levels(lux, after_dark=dark)
    assert levels.n_levels == 4
    on = levels.on_off(night)
    truth = night > 100
    assert np.mean(on == truth) > 0.99
    # A dim level of 60 lx only seen in daylight is below the lamp here.
    assert levels.centres[levels.on_level] > 100


def test_dim_lamp_gets_a_level_of_its_own_after_dark() -> None:
    """Levels fitted after dark keep a dim lamp apart from the dark room.

    Daylight gives 80, 160 and 240 lx; after dark the room is dark (0.5 lx)
    or lit by a reading lamp (25 lx). Clustered with the daylight (the
    original's way, ``levels_from="all"``), the lamp shares the lowest
    level with the dark room and is never on; after dark it is on.
    """
    rng = np.random.default_rng(2)
    day = np.concatenate(
        [rng.normal(80, 10, 3000), rng.normal(160, 15, 3000), rng.normal(240, 15, 3000)]
    )
    night = np.concatenate([rng.normal(0.5, 0.2, 6000), rng.normal(25, 1.5, 600)])
    lux = np.concatenate([day, night])
    dark = np.concatenate([np.zeros(day.size, bool), np.ones(night.size, bool)])
    lamp = night > 20

    levels = fit_levels(lux, after_dark=dark)
    assert np.mean(levels.on_off(night) == lamp) > 0.99
    original = fit_levels(lux, after_dark=dark, levels_from="all")
    assert not np.any(original.on_off(night[lamp]) == 1)
    with pytest.raises(ValueError, match="levels_from"):
        fit_levels(lux, after_dark=dark, levels_from="daylight")


def test_few_readings_after_dark_fit_levels_to_all() -> None:
    """Less than a day of readings after dark: the centres come from all."""
    lux = _clusters()
    dark = np.zeros(lux.size, bool)
    dark[:100] = True
    np.testing.assert_array_equal(
        fit_levels(lux, after_dark=dark).centres,
        fit_levels(lux, after_dark=dark, levels_from="all").centres,
    )


def test_manual_threshold_wins() -> None:
    """``on_level`` given by hand is kept."""
    levels = fit_levels(_clusters(), on_level=3)
    assert levels.on_level == 3
    assert fit_levels(_clusters(), on_level=3, on_lux=0.0).on_level == 3


def test_lux_threshold_picks_the_first_level_reaching_it() -> None:
    """``on_lux``: the first level whose centre reaches it; the centres stay."""
    found = fit_levels(_clusters())
    centres = found.centres
    for level in range(1, centres.size):
        just_below = float(np.nextafter(centres[level], -np.inf))
        levels = fit_levels(_clusters(), on_lux=just_below)
        np.testing.assert_array_equal(levels.centres, centres)
        assert levels.on_level == level
    # Beyond the brightest centre: the brightest level; below all: level 1.
    assert fit_levels(_clusters(), on_lux=1e9).on_level == centres.size - 1
    assert fit_levels(_clusters(), on_lux=0.0).on_level == 1
    with pytest.raises(ValueError, match="after_dark"):
        fit_levels(_clusters(), after_dark=np.ones(3, bool))
