"""Shared fixtures of the engine tests: a home, a simulated household, models."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lighting_replay_engine.model import HomeModel, RoomModel
from lighting_replay_engine.simulate import SimulatedRoom, simulate_rooms
from lighting_replay_engine.training import TrainingOptions, train_room
from lighting_replay_engine.zones import Location

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
SIM_START = date(2024, 11, 4)
SIM_DAYS = 35
#: Quick but faithful training for tests: one restart, fewer EM iterations.
QUICK = TrainingOptions(n_restarts=1, n_iter=40)


@pytest.fixture(scope="session")
def berlin() -> Location:
    """A home in Berlin (daylight saving time, long summer evenings)."""
    return BERLIN


@pytest.fixture(scope="session")
def household() -> dict[str, SimulatedRoom]:
    """Five weeks of a simulated household in a Berlin November (dark evenings)."""
    return simulate_rooms(BERLIN, SIM_START, SIM_DAYS, seed=7)


@pytest.fixture(scope="session")
def home_model(household: dict[str, SimulatedRoom]) -> HomeModel:
    """A model of every simulated room."""
    rooms: dict[str, RoomModel] = {
        name: train_room(name, room.timestamps_s, room.lux, BERLIN, QUICK)
        for name, room in household.items()
    }
    return HomeModel(BERLIN, rooms)


@pytest.fixture(scope="session")
def sim_days() -> list[date]:
    """The local days the simulated household covers."""
    return [SIM_START + timedelta(days=i) for i in range(SIM_DAYS)]
