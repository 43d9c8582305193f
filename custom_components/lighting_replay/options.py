"""The replay options of the config entry, read once and ready for the engine.

Bad values (a time that is not a time, a number that is not a number) are
logged and fall back to the defaults, so a damaged option never stops replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
import logging
from typing import Any

from .const import (
    CONF_ALL_OFF_BY,
    CONF_JITTER_MINUTES,
    CONF_MIN_ON_MINUTES,
    CONF_RESTORE,
    CONF_SUNSET_OFFSET,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DEFAULT_JITTER_MINUTES,
    DEFAULT_MIN_ON_MINUTES,
    DEFAULT_RESTORE,
)
from .engine.schedule import ScheduleOptions

_LOGGER = logging.getLogger(__name__)


def _parse_time(value: object, key: str) -> time | None:
    """Return a local time from an option ("HH:MM[:SS]"), None if unset or bad."""
    if value in (None, ""):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        _LOGGER.warning("The replay option %s=%r is not a time; ignored", key, value)
        return None


def _parse_int(value: object, key: str, default: int | None) -> int | None:
    """Return a whole number from an option, the default if unset or bad."""
    if value in (None, ""):
        return default
    try:
        return int(str(value)) if not isinstance(value, int | float) else int(value)
    except (TypeError, ValueError):
        _LOGGER.warning("The replay option %s=%r is not a number; ignored", key, value)
        return default


def _time_text(value: time | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, kw_only=True)
class ReplayOptions:
    """The replay options of the config entry, ready for the engine."""

    schedule: ScheduleOptions
    restore: bool = DEFAULT_RESTORE

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ReplayOptions:
        """Read the entry's options; bad values fall back to the defaults."""
        min_on = _parse_int(
            options.get(CONF_MIN_ON_MINUTES),
            CONF_MIN_ON_MINUTES,
            DEFAULT_MIN_ON_MINUTES,
        )
        jitter = _parse_int(
            options.get(CONF_JITTER_MINUTES),
            CONF_JITTER_MINUTES,
            DEFAULT_JITTER_MINUTES,
        )
        schedule = ScheduleOptions(
            window_start=_parse_time(options.get(CONF_WINDOW_START), CONF_WINDOW_START),
            window_end=_parse_time(options.get(CONF_WINDOW_END), CONF_WINDOW_END),
            sunset_offset_minutes=_parse_int(
                options.get(CONF_SUNSET_OFFSET), CONF_SUNSET_OFFSET, None
            ),
            all_off_by=_parse_time(options.get(CONF_ALL_OFF_BY), CONF_ALL_OFF_BY),
            min_on_minutes=max(0, min_on or 0),
            jitter_minutes=max(0, jitter or 0),
        )
        return cls(
            schedule=schedule, restore=bool(options.get(CONF_RESTORE, DEFAULT_RESTORE))
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the schedule options as plain data (stored to notice a change)."""
        opts = self.schedule
        return {
            CONF_WINDOW_START: _time_text(opts.window_start),
            CONF_WINDOW_END: _time_text(opts.window_end),
            CONF_SUNSET_OFFSET: opts.sunset_offset_minutes,
            CONF_ALL_OFF_BY: _time_text(opts.all_off_by),
            CONF_MIN_ON_MINUTES: opts.min_on_minutes,
            CONF_JITTER_MINUTES: opts.jitter_minutes,
        }
