"""What a recorded state is worth: only real numbers are readings."""

from __future__ import annotations

import math

import pytest

from custom_components.lighting_replay.history import HistoryReport, lux_value


@pytest.mark.parametrize("state", ["12", "12.5", "-0.4", ".5", "3.", "1e3", "2.5E-2"])
def test_sensor_numbers_are_readings(state: str) -> None:
    """Digits with a sign, a point or an exponent are readings."""
    report = HistoryReport()
    assert lux_value(state, 1.0, report) == float(state)
    assert report.not_numeric == 0


@pytest.mark.parametrize(
    "state", ["1_000", "١٢٣", "nan", "inf", "12 lx", "", " 12", "0x10", "unavailable"]
)
def test_what_no_sensor_reports_is_no_reading(state: str) -> None:
    """Python's float() takes "1_000" and other scripts' digits; a sensor never."""
    report = HistoryReport()
    assert math.isnan(lux_value(state, 1.0, report))
    assert report.not_numeric == 1
