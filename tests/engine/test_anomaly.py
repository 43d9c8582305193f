"""The online lux watch: activity, sensor faults and confirmations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lighting_replay_engine.anomaly import (
    CONFIRM_WINDOW_S,
    STUCK_S,
    Confirmations,
    Kind,
    LuxWatch,
)


def feed(
    watch: LuxWatch, values: list[float], *, start: float = 0.0, dark: bool = True
) -> list[tuple[float, Kind]]:
    """Feed one reading a minute; return (time, kind) of every finding."""
    found = []
    for index, value in enumerate(values):
        t = start + 60.0 * index
        found += [(f.time_s, f.kind) for f in watch.update(t, value, dark=dark)]
    return found


def dark_noise(n: int, seed: int = 0, level: float = 0.3) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(level + rng.normal(0.0, 0.6, n))


def test_quiet_dark_room_finds_nothing() -> None:
    watch = LuxWatch()
    assert feed(watch, dark_noise(600)) == []


def test_lamp_on_after_dark_is_activity_within_two_readings() -> None:
    watch = LuxWatch()
    values = dark_noise(60) + [v + 120.0 for v in dark_noise(30, seed=1)]
    found = feed(watch, values)
    assert [kind for _, kind in found] == [Kind.ACTIVITY]
    assert found[0][0] == 61 * 60.0
    # Back off is a consistent fall: activity again.
    found = feed(watch, dark_noise(10, seed=2), start=90 * 60.0)
    assert [kind for _, kind in found] == [Kind.ACTIVITY]


def test_activity_reports_score_and_direction() -> None:
    watch = LuxWatch()
    feed(watch, dark_noise(60))
    watch.update(3600.0, 80.0, dark=True)
    (finding,) = watch.update(3660.0, 81.0, dark=True)
    assert finding.direction == 1
    assert finding.score > 8.0
    assert finding.lux == 81.0


def test_daylight_is_never_activity() -> None:
    watch = LuxWatch()
    rise = [10.0 * i for i in range(120)] + [900.0] * 5 + [300.0] * 5
    assert feed(watch, rise, dark=False) == []


def test_single_spike_is_not_activity() -> None:
    watch = LuxWatch()
    values = dark_noise(60)
    values[30] = 150.0
    assert feed(watch, values) == []


def test_stuck_sensor_is_a_fault_not_activity() -> None:
    watch = LuxWatch()
    n = int(STUCK_S / 60) + 5
    found = feed(watch, [42.0] * n)
    assert [kind for _, kind in found] == [Kind.STUCK]
    assert watch.faults == {Kind.STUCK}
    feed(watch, [43.0], start=n * 60.0)
    assert watch.faults == frozenset()


def test_dark_zero_is_not_stuck_overnight() -> None:
    watch = LuxWatch()
    assert feed(watch, [0.0] * (12 * 60)) == []


def test_flapping_sensor_is_a_fault_not_activity() -> None:
    watch = LuxWatch()
    values = dark_noise(30) + [0.0 if i % 2 else 200.0 for i in range(40)]
    found = feed(watch, values)
    kinds = [kind for _, kind in found]
    assert Kind.FLAPPING in kinds
    assert Kind.ACTIVITY not in kinds


def test_flapping_between_pairs_is_not_activity() -> None:
    watch = LuxWatch()
    pattern = [200.0, 200.0, 0.0, 0.0]
    values = dark_noise(30) + pattern * 15
    kinds = [kind for _, kind in feed(watch, values)]
    assert Kind.FLAPPING in kinds
    # At most the very first jump can pass for a lamp.
    assert kinds.count(Kind.ACTIVITY) <= 1


def test_implausible_readings_are_a_fault() -> None:
    watch = LuxWatch()
    values = [*dark_noise(30), math.nan, -50.0, 1000000.0, 1000000.0, *dark_noise(5)]
    kinds = [kind for _, kind in feed(watch, values)]
    assert kinds == [Kind.IMPLAUSIBLE]


def test_one_glitch_is_ignored() -> None:
    watch = LuxWatch()
    values = [*dark_noise(30), 1000000.0, *dark_noise(30, seed=3)]
    assert feed(watch, values) == []


def test_replayed_change_confirmed_by_a_consistent_rise() -> None:
    watch = LuxWatch()
    feed(watch, dark_noise(60))
    watch.expect(3600.0, 1, 100.0, dark=True)
    found = feed(watch, [95.0, 96.0, 97.0], start=3630.0)
    assert [kind for _, kind in found] == [Kind.CONFIRMED]
    assert not watch.expecting


def test_replayed_change_missed_without_a_rise() -> None:
    watch = LuxWatch()
    feed(watch, dark_noise(60))
    watch.expect(3600.0, 1, 100.0, dark=True)
    found = feed(watch, dark_noise(8, seed=4), start=3630.0)
    assert [kind for _, kind in found] == [Kind.MISSED]
    assert found[0][0] >= 3600.0 + CONFIRM_WINDOW_S


def test_rise_too_small_for_the_learned_level_is_a_miss() -> None:
    watch = LuxWatch()
    feed(watch, dark_noise(60))
    watch.expect(3600.0, 1, 300.0, dark=True)
    found = feed(watch, [30.0] * 8, start=3630.0)
    assert [kind for _, kind in found] == [Kind.MISSED]


def test_replayed_fall_confirmed() -> None:
    watch = LuxWatch()
    feed(watch, [100.0 + v for v in dark_noise(60)])
    watch.expect(3600.0, -1, 100.0, dark=True)
    found = feed(watch, dark_noise(3, seed=5), start=3630.0)
    assert [kind for _, kind in found] == [Kind.CONFIRMED]


def test_no_verdict_without_readings_or_in_daylight() -> None:
    watch = LuxWatch()
    feed(watch, dark_noise(60))
    watch.expect(3600.0, 1, 100.0, dark=True)
    assert watch.check(3600.0 + CONFIRM_WINDOW_S + 1) is None
    watch.expect(4000.0, 1, 100.0, dark=False)
    assert not watch.expecting
    assert watch.check(5000.0) is None


@pytest.mark.parametrize("direction", [1, -1])
def test_unknown_level_needs_only_the_direction(direction: int) -> None:
    watch = LuxWatch()
    level = 0.0 if direction > 0 else 60.0
    feed(watch, [level + v for v in dark_noise(60)])
    watch.expect(3600.0, direction, dark=True)
    found = feed(watch, [60.0 - level] * 3, start=3630.0)
    assert [kind for _, kind in found] == [Kind.CONFIRMED]


def test_confirmations_raise_after_misses_in_a_row_and_clear() -> None:
    confirmations = Confirmations(misses=3)
    confirmations.record("lamp", False, 10.0)
    confirmations.record("lamp", False, 20.0)
    confirmations.record("other", True, 25.0)
    assert confirmations.not_responding() == {}
    confirmations.record("lamp", False, 30.0)
    assert confirmations.not_responding() == {"lamp": 10.0}
    confirmations.record("lamp", True, 40.0)
    assert confirmations.not_responding() == {}
    assert confirmations.misses("lamp") == 0
