"""The learning engine of Lighting Replay: from lux readings to day schedules.

Pure Python with numpy and astral; nothing here imports Home Assistant, so
the trainer uses the same code (as ``lighting_replay_engine``).
"""

from .hmm import CategoricalHMM, fit_best
from .levels import Levels, fit_levels, kmeans_1d
from .model import (
    MODEL_FORMAT,
    MODEL_VERSION,
    HomeModel,
    ModelError,
    RoomModel,
    ZoneModel,
)
from .realism import (
    COMPONENTS,
    Metrics,
    baseline_fixed_timer,
    baseline_same_weekday_last_week,
    compare,
    generate_days,
    ks_distance,
    measure,
    on_off_series,
    real_days,
)
from .schedule import Change, DaySchedule, Interval, ScheduleOptions, sample_day
from .sequences import Sequences, split_sequences
from .series import MinuteSeries, smooth, to_minute_series
from .simulate import (
    DEFAULT_ROOMS,
    LampHabit,
    RoomHabits,
    SimulatedRoom,
    simulate_household,
    simulate_rooms,
)
from .training import (
    NotEnoughData,
    PreparedRoom,
    TrainingOptions,
    fit_zone_hmm,
    lamp_on_off,
    prepare_room,
    train_room,
)
from .zones import (
    DayZones,
    Location,
    Zone,
    after_dark,
    day_zones,
    local_clock,
    solar_elevation,
    zones_of_minutes,
)

__all__ = [
    "COMPONENTS",
    "DEFAULT_ROOMS",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "CategoricalHMM",
    "Change",
    "DaySchedule",
    "DayZones",
    "HomeModel",
    "Interval",
    "LampHabit",
    "Levels",
    "Location",
    "Metrics",
    "MinuteSeries",
    "ModelError",
    "NotEnoughData",
    "PreparedRoom",
    "RoomHabits",
    "RoomModel",
    "ScheduleOptions",
    "Sequences",
    "SimulatedRoom",
    "TrainingOptions",
    "Zone",
    "ZoneModel",
    "after_dark",
    "baseline_fixed_timer",
    "baseline_same_weekday_last_week",
    "compare",
    "day_zones",
    "fit_best",
    "fit_levels",
    "fit_zone_hmm",
    "generate_days",
    "kmeans_1d",
    "ks_distance",
    "lamp_on_off",
    "local_clock",
    "measure",
    "on_off_series",
    "prepare_room",
    "real_days",
    "sample_day",
    "simulate_household",
    "simulate_rooms",
    "smooth",
    "solar_elevation",
    "split_sequences",
    "to_minute_series",
    "train_room",
    "zones_of_minutes",
]
