"""Shared values of the workbench tests."""

from __future__ import annotations

from datetime import date

from lighting_replay_engine.zones import Location

SUNNYVALE = Location(37.37, -122.04, "America/Los_Angeles")
LOCATION_ARGS = [
    "--latitude",
    "37.37",
    "--longitude",
    "-122.04",
    "--timezone",
    "America/Los_Angeles",
]
SIMULATED_START = date(2024, 2, 26)
SIMULATED_DAYS = 14
TRAINING_UNTIL = "2024-03-06"
"""The model learns from the first 10 days; the last 4 are left for checks."""
