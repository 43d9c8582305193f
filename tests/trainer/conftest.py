"""Fixtures of the workbench tests: simulated capture files and a model of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from workbench_data import (
    LOCATION_ARGS,
    SIMULATED_DAYS,
    SIMULATED_START,
    SUNNYVALE,
    TRAINING_UNTIL,
)

from lighting_replay_engine.simulate import simulate_household
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.demo import write_readings


@pytest.fixture(scope="session")
def simulated_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of capture CSV files of a simulated household (two weeks)."""
    folder = tmp_path_factory.mktemp("simulated")
    readings = simulate_household(SUNNYVALE, SIMULATED_START, SIMULATED_DAYS, seed=3)
    write_readings(folder, readings)
    return folder


@pytest.fixture(scope="session")
def simulated_model(
    simulated_csv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A model trained through the command on the simulated files."""
    path = tmp_path_factory.mktemp("model") / "model.json"
    code = main(
        [
            "train",
            "--csv",
            str(simulated_csv),
            *LOCATION_ARGS,
            "--until",
            TRAINING_UNTIL,
            "--states",
            "3",
            "--restarts",
            "1",
            "-o",
            str(path),
        ]
    )
    assert code == 0
    return path
