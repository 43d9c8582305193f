"""What learning takes from the engine, so the trainer can do the same."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.lighting_replay.engine.levels import on_level_for_lux
from custom_components.lighting_replay.engine.quality import Quality, lux_quality
from custom_components.lighting_replay.engine.series import MinuteSeries

CENTRES = [0.5, 40.0, 120.0, 300.0]


@pytest.mark.parametrize(
    ("on_lux", "level"),
    [(0.0, 1), (30.0, 1), (40.0, 1), (41.0, 2), (120.0, 2), (250.0, 3), (1e6, 3)],
)
def test_lux_threshold_to_on_level(on_lux: float, level: int) -> None:
    """The first level whose centre reaches the threshold, kept to 1..n-1."""
    assert on_level_for_lux(CENTRES, on_lux) == level


def test_quality_of_a_good_archive() -> None:
    """Readings that vary, with no gap: nothing to report."""
    rng = np.random.default_rng(0)
    series = MinuteSeries(1000, rng.uniform(0, 200, 3 * 1440))
    assert lux_quality(series, series.end_minute) == Quality()
    assert lux_quality(None, 0) == Quality()


def test_quality_finds_a_stuck_sensor_and_a_long_gap() -> None:
    """A day of one value is stuck; a silence over 6 hours is a long gap."""
    lux = np.concatenate((np.linspace(0, 100, 1440), np.full(1440, 7.0)))
    series = MinuteSeries(1000, lux)
    assert lux_quality(series, series.end_minute) == Quality(stuck=True)
    # Nothing heard for 7 hours since the last reading.
    later = series.end_minute + 7 * 60
    assert lux_quality(series, later) == Quality(stuck=True, long_gaps=True)
    gap = np.linspace(0, 100, 3 * 1440)
    gap[1000:1400] = np.nan
    assert lux_quality(MinuteSeries(1000, gap), 1000 + gap.size).long_gaps
