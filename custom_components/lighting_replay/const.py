"""Constants of the Lighting Replay integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

DOMAIN: Final = "lighting_replay"

# One config subentry of this type per room.
SUBENTRY_TYPE_ROOM: Final = "room"

# Home-wide settings (config entry data).
CONF_ARCHIVE_DAYS: Final = "archive_days"
CONF_N_LEVELS: Final = "n_levels"
# Optional entity that says whether anybody is home (`PRESENCE_DOMAINS`).
CONF_PRESENCE: Final = "presence"
PRESENCE_DOMAINS: Final = ("zone", "person", "group", "binary_sensor")
DEFAULT_ARCHIVE_DAYS: Final = 400
MIN_ARCHIVE_DAYS: Final = 30
MAX_ARCHIVE_DAYS: Final = 1000
DEFAULT_N_LEVELS: Final = 4
MIN_N_LEVELS: Final = 2
MAX_N_LEVELS: Final = 8

# Room settings (config subentry data).
CONF_ROOM_NAME: Final = "name"
# Stored as the entity registry id (follows renames); a plain entity_id is kept
# only for entities without a registry entry.
CONF_LUX_SENSOR: Final = "lux_sensor"
# Stored as entity registry ids where possible, like the lux sensor.
CONF_LIGHTS: Final = "lights"
# What a room learns from (`LearnFrom`); rooms made before version 2 of the
# entry learned from their lux sensor alone.
CONF_LEARN_FROM: Final = "learn_from"
# Entity domains a room's lights may be of (a smart plug is a switch).
LIGHT_DOMAINS: Final = ("light", "switch")
# Optional on/off threshold override: a level index (1 = the lowest level
# that counts as "on") or a lux value; at most one of the two.
CONF_ON_LEVEL: Final = "on_level"
CONF_ON_LUX: Final = "on_lux"

# Storage: everything lives below <config>/.storage/lighting_replay/.
STORAGE_DIR: Final = DOMAIN
STORAGE_VERSION: Final = 1
ARCHIVE_SUFFIX: Final = ".archive"
# A light's archive: "<room subentry id>.light-<key hash>.archive".
LIGHT_ARCHIVE_INFIX: Final = ".light-"
# The presence entity's archive (1 someone home, 0 nobody, per minute).
PRESENCE_ARCHIVE_FILE: Final = "presence.archive"
MODEL_SUFFIX: Final = ".model.json"
FALLBACK_MODEL_FILE: Final = "fallback.model.json"

# Nightly retraining time (local time of Home Assistant).
TRAIN_HOUR: Final = 3
TRAIN_MINUTE: Final = 17

# Illuminance units the history reader accepts, with their factor to lux.
LUX_UNITS: Final[dict[str, float]] = {"lx": 1.0, "lux": 1.0, "fc": 10.7639}

# A reading held unchanged longer than this is not trusted as a minute value
# (Home Assistant records changes only, so a value is held until the next one).
MAX_HOLD: Final = timedelta(hours=48)

# Data quality thresholds.
STUCK_AFTER: Final = timedelta(hours=24)
LONG_GAP: Final = timedelta(hours=6)
QUALITY_WINDOW: Final = timedelta(days=7)

# Simulated history (days) that trains the labelled fallback model.
FALLBACK_DAYS: Final = 28

# Services.
SERVICE_TRAIN: Final = "train"
SERVICE_IMPORT_MODEL: Final = "import_model"
ATTR_ROOM: Final = "room"
ATTR_PATH: Final = "path"
ATTR_ROOM_NAME: Final = "room_name"

# Replay
# Options (config entry options) of the replay; they shape every sampled day.
CONF_WINDOW_START: Final = "window_start"
CONF_WINDOW_END: Final = "window_end"
CONF_SUNSET_OFFSET: Final = "sunset_offset_minutes"
CONF_ALL_OFF_BY: Final = "all_off_by"
CONF_MIN_ON_MINUTES: Final = "min_on_minutes"
CONF_JITTER_MINUTES: Final = "jitter_minutes"
CONF_RESTORE: Final = "restore_on_stop"
DEFAULT_MIN_ON_MINUTES: Final = 5
DEFAULT_JITTER_MINUTES: Final = 5
DEFAULT_RESTORE: Final = True
MAX_MIN_ON_MINUTES: Final = 240
MAX_JITTER_MINUTES: Final = 60
MAX_SUNSET_OFFSET: Final = 240
REPLAY_STORAGE_KEY: Final = f"{DOMAIN}.replay"
# Days planned after today: with today, the week the calendars show.
PLAN_DAYS_AHEAD: Final = 6
EVENT_LIGHT_ACTION: Final = "lighting_replay_light_action"
SERVICE_START: Final = "start"
SERVICE_STOP: Final = "stop"
SERVICE_REGENERATE: Final = "regenerate"
ATTR_END: Final = "end"
ATTR_END_DATE: Final = "end_date"


class LearnFrom(StrEnum):
    """What a room learns from (the engine's source kinds)."""

    LIGHTS = "lights"
    LUX = "lux"
    BOTH = "both"

    @property
    def uses_lux(self) -> bool:
        """Return whether the lux sensor is a source."""
        return self is not LearnFrom.LIGHTS

    @property
    def uses_lights(self) -> bool:
        """Return whether the lights' own history is a source."""
        return self is not LearnFrom.LUX


class ModelStatus(StrEnum):
    """State of a room's model, shown by the model status sensor."""

    LEARNING = "learning"
    TRAINED = "trained"
    NOT_ENOUGH_DATA = "not_enough_data"
    ERROR = "error"


class ModelSource(StrEnum):
    """Where the model a room replays comes from."""

    LEARNED = "learned"
    IMPORTED = "imported"
    FALLBACK = "fallback"


class DataProblem(StrEnum):
    """Data-quality problems of a room's lux sensor."""

    SENSOR_MISSING = "sensor_missing"
    SENSOR_STUCK = "sensor_stuck"
    LONG_GAPS = "long_gaps"


# Replay ends at most this many days ahead (a vacation, not a millennium).
MAX_REPLAY_DAYS: Final = 366
