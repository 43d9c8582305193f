"""The four zones of a day, from the sun at the home's location.

As in the original system, a local day is cut into:

- ``NIGHT``: midnight until sunrise;
- ``DAY``: sunrise until 30 minutes before sunset;
- ``EVENING``: until the later of sunset + 60 minutes and 21:30 local time;
- ``LATE_EVENING``: until the next midnight.

All bounds are whole minutes and are computed in UTC, so a day where
daylight saving time starts or ends simply has 1380 or 1500 minutes. Each
bound is clamped between the one before it and the next midnight, so the
zones always cover the day exactly once (a zone may be empty).

Where astral finds no sunrise or sunset (it gives up near the days a polar
night or day begins, even while the sun still touches the horizon), the
sun's elevation minute by minute decides. When the sun really does not rise
or set (polar night or polar day) the fallback is:

- polar night: sunrise and sunset both count as the sun's highest moment
  (solar noon). ``DAY`` is empty, ``NIGHT`` ends and ``EVENING`` starts at
  solar noon: it is dark all day, so the lamp habits of the evening apply.
- polar day: sunrise counts as midnight and sunset as the next midnight.
  ``NIGHT`` is empty, ``DAY`` runs until 23:30, ``EVENING`` is the last 30
  minutes and ``LATE_EVENING`` is empty: it is light all day.

Astral (the 2.2 API, which Home Assistant ships) computes the sun. Its date
argument means a *solar* day; the solar day whose noon falls on the local
date is used, so homes in time zones far from their longitude get the right
day too.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
import functools
import math
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import astral  # type: ignore[import-untyped,unused-ignore]
import astral.sun  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import numpy.typing as npt

#: The day zone ends this long before sunset.
DAY_ENDS_BEFORE_SUNSET = timedelta(minutes=30)
#: The evening lasts at least this long after sunset ...
EVENING_AFTER_SUNSET = timedelta(minutes=60)
#: ... and at least until this local time.
EVENING_ENDS_NOT_BEFORE = time(21, 30)
#: The sun is this far below the horizon when a sensor no longer sees
#: daylight (end of civil twilight).
DARK_ELEVATION_DEG = -6.0
#: Elevation of the sun's centre at sunrise and sunset (radius, refraction).
HORIZON_DEG = -0.833

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Minutes of a normal local day (1380 or 1500 where clocks change).
MINUTES_PER_DAY = 1440


class Zone(IntEnum):
    """A part of the day with its own lamp habits."""

    NIGHT = 0
    DAY = 1
    EVENING = 2
    LATE_EVENING = 3


@dataclass(frozen=True)
class Location:
    """Where the home is: latitude and longitude in degrees, IANA time zone."""

    latitude: float
    longitude: float
    time_zone: str
    tzinfo: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the coordinates and resolve the time zone."""
        lat, lon = float(self.latitude), float(self.longitude)
        if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
            raise ValueError(f"latitude must be between -90 and 90, got {lat}")
        if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
            raise ValueError(f"longitude must be between -180 and 180, got {lon}")
        try:
            tzinfo = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as err:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from err
        object.__setattr__(self, "latitude", lat)
        object.__setattr__(self, "longitude", lon)
        object.__setattr__(self, "tzinfo", tzinfo)

    def to_dict(self) -> dict[str, float | str]:
        """Return plain JSON-ready data."""
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "time_zone": self.time_zone,
        }


def epoch_minute(moment: datetime) -> int:
    """Return the UTC epoch minute of an aware datetime (seconds dropped)."""
    if moment.tzinfo is None:
        raise ValueError("a datetime with a time zone is needed")
    return int((moment - _EPOCH) // timedelta(minutes=1))


def local_datetime(minute: int, location: Location) -> datetime:
    """Return the aware local datetime of a UTC epoch minute."""
    return (_EPOCH + timedelta(minutes=int(minute))).astimezone(location.tzinfo)


def local_midnight(day: date, location: Location) -> int:
    """Return the epoch minute where the local day starts."""
    return epoch_minute(datetime.combine(day, time(0), tzinfo=location.tzinfo))


@dataclass(frozen=True)
class DayZones:
    """The zones of one local day.

    ``bounds`` are 5 aware local datetimes: midnight, the starts of ``DAY``,
    ``EVENING`` and ``LATE_EVENING``, and the next midnight; zone ``z`` runs
    from ``bounds[z]`` (included) to ``bounds[z + 1]`` (excluded).
    ``bounds_minutes`` are the same moments as UTC epoch minutes. ``sunrise``
    and ``sunset`` are the moments the zones were built from, to the minute
    (on a polar day or night, the fallback moments of the module's docstring).
    """

    day: date
    bounds: tuple[datetime, datetime, datetime, datetime, datetime]
    bounds_minutes: tuple[int, int, int, int, int]
    sunrise: datetime
    sunset: datetime

    @property
    def n_minutes(self) -> int:
        """Return the length of the local day in minutes (1380/1440/1500)."""
        return self.bounds_minutes[4] - self.bounds_minutes[0]

    def length(self, zone: Zone) -> int:
        """Return the length of a zone in minutes (0 when it is empty)."""
        return self.bounds_minutes[zone + 1] - self.bounds_minutes[zone]

    def zone_at(self, moment: datetime) -> Zone:
        """Return the zone of a moment of this day (``ValueError`` outside)."""
        minute = epoch_minute(moment)
        b = self.bounds_minutes
        if not b[0] <= minute < b[4]:
            raise ValueError(f"{moment.isoformat()} is not on {self.day.isoformat()}")
        return Zone(bisect.bisect_right(b, minute) - 1)

    def zone_minutes(self) -> npt.NDArray[np.int8]:
        """Return the zone of every minute of the day, in order."""
        return np.repeat(
            np.arange(4, dtype=np.int8), np.diff(np.asarray(self.bounds_minutes))
        )


def _solar_day(day: date, observer: astral.Observer, location: Location) -> date:
    """Return the astral date whose solar noon falls on the local ``day``."""
    noon = astral.sun.noon(observer, day, tzinfo=location.tzinfo)
    local = noon.date()
    if local > day:
        return day - timedelta(days=1)
    if local < day:
        return day + timedelta(days=1)
    return day


def _fallback_sun(start: int, end: int, location: Location) -> tuple[int, int]:
    """Return (sunrise, sunset) minutes of a day astral gives none for.

    Astral gives up close to a polar day or night even where the sun still
    touches the horizon briefly; the minute-by-minute elevation decides then.
    Sun up all day: (midnight, next midnight); never up: both at solar noon.
    """
    minutes = np.arange(start, end, dtype=np.int64)
    up = solar_elevation(minutes, location) > HORIZON_DEG
    if up.all():
        return start, end
    if not up.any():
        noon = int(minutes[np.argmax(solar_elevation(minutes, location))])
        return noon, noon
    rising = np.flatnonzero(~up[:-1] & up[1:])
    setting = np.flatnonzero(up[:-1] & ~up[1:])
    rise = int(minutes[rising[0] + 1]) if rising.size else start
    set_ = int(minutes[setting[-1] + 1]) if setting.size else end
    return rise, max(rise, set_)


@functools.lru_cache(maxsize=4096)
def day_zones(day: date, location: Location) -> DayZones:
    """Return the zones of a local day at the home's location."""
    tz = location.tzinfo
    start = local_midnight(day, location)
    end = local_midnight(day + timedelta(days=1), location)
    observer = astral.Observer(latitude=location.latitude, longitude=location.longitude)
    solar = _solar_day(day, observer, location)
    sunrise: datetime | None
    sunset: datetime | None
    try:
        sunrise = astral.sun.sunrise(observer, solar, tzinfo=tz)
        sunset = astral.sun.sunset(observer, solar, tzinfo=tz)
    except ValueError:
        sunrise = sunset = None
    if sunrise is not None and sunset is not None:
        rise = epoch_minute(sunrise + timedelta(seconds=30))
        set_ = epoch_minute(sunset + timedelta(seconds=30))
    else:
        rise, set_ = _fallback_sun(start, end, location)
    clock = datetime.combine(day, EVENING_ENDS_NOT_BEFORE, tzinfo=tz)
    day_end = set_ - int(DAY_ENDS_BEFORE_SUNSET / timedelta(minutes=1))
    evening_end = max(
        set_ + int(EVENING_AFTER_SUNSET / timedelta(minutes=1)), epoch_minute(clock)
    )
    b1 = min(max(rise, start), end)
    b2 = min(max(day_end, b1), end)
    b3 = min(max(evening_end, b2), end)
    minutes = (start, b1, b2, b3, end)
    local = tuple(local_datetime(m, location) for m in minutes)
    return DayZones(
        day=day,
        bounds=(local[0], local[1], local[2], local[3], local[4]),
        bounds_minutes=minutes,
        sunrise=local_datetime(rise, location),
        sunset=local_datetime(set_, location),
    )


def local_dates(
    minutes: npt.ArrayLike, location: Location
) -> tuple[npt.NDArray[np.int64], list[date]]:
    """Return, per epoch minute, an index into the list of local dates.

    The second value lists every local date from the first to the last
    minute, so ``dates[index[i]]`` is the local date of ``minutes[i]``.
    """
    m = np.asarray(minutes, dtype=np.int64).ravel()
    if m.size == 0:
        return np.zeros(0, dtype=np.int64), []
    first = local_datetime(int(m.min()), location).date()
    last = local_datetime(int(m.max()), location).date()
    dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    starts = np.asarray([local_midnight(d, location) for d in dates], dtype=np.int64)
    index = np.searchsorted(starts, m, side="right") - 1
    return index.astype(np.int64), dates


def zones_of_minutes(
    minutes: npt.ArrayLike, location: Location
) -> npt.NDArray[np.int8]:
    """Return the zone of each UTC epoch minute as an int8 array."""
    m = np.asarray(minutes, dtype=np.int64).ravel()
    if m.size == 0:
        return np.zeros(0, dtype=np.int8)
    _, dates = local_dates(m, location)
    # Consecutive days tile time, so all their bounds form one sorted list
    # of zone starts; an empty zone is skipped by searching to the right.
    starts = np.asarray(
        [day_zones(d, location).bounds_minutes[:4] for d in dates], dtype=np.int64
    ).ravel()
    labels = np.tile(np.arange(4, dtype=np.int8), len(dates))
    return labels[np.searchsorted(starts, m, side="right") - 1]


#: Minutes of elevation computed at a time: the formulas' temporaries stay
#: a few hundred kB however long the series (a year of minutes at once
#: would hold some 60 MB of them).
_ELEVATION_CHUNK = 16 * 1440


def _elevation_of(
    m: npt.NDArray[np.float64], location: Location
) -> npt.NDArray[np.float64]:
    """Return the sun's elevation in degrees at epoch minutes ``m`` (floats)."""
    d = m / 1440.0 - 10957.5  # days since 2000-01-01 12:00 UTC
    mean_long = np.deg2rad(280.460 + 0.9856474 * d)
    anomaly = np.deg2rad(357.528 + 0.9856003 * d)
    ecl_long = (
        mean_long
        + np.deg2rad(1.915) * np.sin(anomaly)
        + np.deg2rad(0.020) * np.sin(2 * anomaly)
    )
    obliquity = np.deg2rad(23.439 - 0.0000004 * d)
    right_asc = np.arctan2(np.cos(obliquity) * np.sin(ecl_long), np.cos(ecl_long))
    declination = np.arcsin(np.sin(obliquity) * np.sin(ecl_long))
    sidereal = np.deg2rad(280.46061837 + 360.98564736629 * d + location.longitude)
    hour_angle = sidereal - right_asc
    lat = np.deg2rad(location.latitude)
    sin_el = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(
        declination
    ) * np.cos(hour_angle)
    return np.asarray(np.rad2deg(np.arcsin(np.clip(sin_el, -1.0, 1.0))))


def solar_elevation(
    minutes: npt.ArrayLike, location: Location
) -> npt.NDArray[np.float64]:
    """Return the sun's elevation in degrees at each UTC epoch minute.

    Low-precision almanac formulas (a few hundredths of a degree), good
    enough to tell daylight from dark, and vectorised unlike astral. Long
    series are computed a few days at a time (the same values, less memory).
    """
    m = np.asarray(minutes, dtype=np.float64)
    if m.size <= _ELEVATION_CHUNK:
        return _elevation_of(m, location)
    flat = m.ravel()
    out = np.empty(flat.size, dtype=np.float64)
    for first in range(0, flat.size, _ELEVATION_CHUNK):
        chunk = slice(first, first + _ELEVATION_CHUNK)
        out[chunk] = _elevation_of(flat[chunk], location)
    return out.reshape(m.shape)


def after_dark(minutes: npt.ArrayLike, location: Location) -> npt.NDArray[np.bool_]:
    """Return True for the epoch minutes when no daylight reaches a sensor.

    That is when the sun is more than 6 degrees below the horizon (after
    civil dusk, before civil dawn). On a polar night every minute is dark,
    on a polar day none is.
    """
    return np.asarray(solar_elevation(minutes, location) < DARK_ELEVATION_DEG)


def _utc_offset_minutes(minute: int, location: Location) -> int:
    """Return the local UTC offset in minutes at an epoch minute."""
    offset = local_datetime(minute, location).utcoffset()
    return 0 if offset is None else int(offset // timedelta(minutes=1))


def local_clock(
    minutes: npt.ArrayLike, location: Location
) -> tuple[npt.NDArray[np.int64], list[date], npt.NDArray[np.int64]]:
    """Return local date index, the dates and the wall-clock minute of day.

    Like ``local_dates``, plus ``hour * 60 + minute`` of local wall time for
    each epoch minute: on a day where clocks go forward an hour of wall
    minutes never occurs; where they go back an hour occurs twice.
    """
    m = np.asarray(minutes, dtype=np.int64).ravel()
    index, dates = local_dates(m, location)
    if m.size == 0:
        return index, dates, np.zeros(0, dtype=np.int64)
    starts = [local_midnight(d, location) for d in dates]
    ends = [local_midnight(d + timedelta(days=1), location) for d in dates]
    # Offset at each day's start and, for the rare days where it changes,
    # the minute it changes (found by bisection: zone rules change seldom).
    start_off = np.empty(len(dates), dtype=np.int64)
    change_at = np.empty(len(dates), dtype=np.int64)
    end_off = np.empty(len(dates), dtype=np.int64)
    for i, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        first, last = (
            _utc_offset_minutes(lo, location),
            _utc_offset_minutes(hi - 1, location),
        )
        start_off[i], end_off[i], change_at[i] = first, last, hi
        if first != last:
            a, b = lo, hi - 1
            while b - a > 1:
                mid = (a + b) // 2
                if _utc_offset_minutes(mid, location) == first:
                    a = mid
                else:
                    b = mid
            change_at[i] = b
    after = m >= change_at[index]
    offset = np.where(after, end_off[index], start_off[index])
    wall = m - np.asarray(starts, dtype=np.int64)[index] + offset - start_off[index]
    return index, dates, wall
