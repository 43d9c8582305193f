"""The real days the trainer compares with: lamps only, never daylight."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
from workbench_data import SUNNYVALE

from lighting_replay_engine.levels import Levels
from lighting_replay_engine.model import RoomModel
from lighting_replay_engine.zones import day_zones
from lighting_replay_trainer.evaluation import room_real_days
from lighting_replay_trainer.sources import RoomReadings

DAY = date(2024, 3, 5)


def test_daylight_is_not_a_lamp() -> None:
    """A bright afternoon counts as off; a lamp after dusk counts as on."""
    midnight = datetime.combine(DAY, time(0), SUNNYVALE.tzinfo).timestamp()
    stamps = midnight + 60.0 * np.arange(1440)
    lux = np.full(1440, 2.0)
    lux[12 * 60 : 15 * 60] = 800.0  # the sun
    lux[21 * 60 : 22 * 60] = 300.0  # a lamp
    levels = Levels(np.array([2.0, 300.0, 800.0]), 1)
    model = RoomModel(
        room="room",
        levels=levels,
        zones={},
        data_start=datetime.fromtimestamp(stamps[0]).astimezone(),
        data_end=datetime.fromtimestamp(stamps[-1]).astimezone(),
        n_samples=1440,
        days_of_data=1.0,
        trained_at=datetime.fromtimestamp(stamps[-1]).astimezone(),
    )
    days = room_real_days(
        model,
        RoomReadings("room", stamps, lux),
        SUNNYVALE,
        window=1,
        max_gap_minutes=10,
    )
    day = days[DAY]
    sunset = day_zones(DAY, SUNNYVALE).sunset
    assert sunset.hour < 21  # the lamp is on after dusk
    assert np.all(day[12 * 60 + 5 : 15 * 60 - 5] == 0.0)
    assert np.all(day[21 * 60 + 5 : 22 * 60 - 5] == 1.0)
    assert np.nansum(day) == 60
