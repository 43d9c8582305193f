"""The demo home: its rooms, where it is, and its ``configuration.yaml``.

Three rooms follow the engine's household simulator (``DEFAULT_ROOMS``):
their lux sensors have weeks of simulated history in the recorder, and
each has a dimmable lamp to replay. A fourth, the study, has no lux sensor:
it learns from its smart lamp's own recorded history (on, off and
brightness), as most homes would. The lamps are template lights backed by
an ``input_boolean`` (on/off) and an ``input_number`` (brightness); the lux
sensors are template sensors that show daylight from the sun's elevation
plus the lamp's light while it is on, so they react when replay switches.

Where the home is, is a demo choice made when the folder is prepared: of a
list of cities around the globe, the one where it is now early evening
(after sunset, close to 19:00 local time). Replay follows the evening
habits of the rooms, so turning it on drives lights within minutes instead
of after hours of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from custom_components.lighting_replay.engine.simulate import (
    DEFAULT_ROOMS,
    LampHabit,
    RoomHabits,
)
from custom_components.lighting_replay.engine.zones import Location, day_zones

#: The local time it should ideally be at the demo home when it is made.
EVENING_TARGET = time(19, 0)
#: It should be at least this long after sunset there.
AFTER_SUNSET = timedelta(minutes=20)
#: Share of full daylight the sensors see (a fixed, slightly cloudy sky).
DAYLIGHT_SHARE = 0.6
#: Brightness the lamps start with (0-255).
DEFAULT_BRIGHTNESS = 180


@dataclass(frozen=True, kw_only=True)
class City:
    """A place the demo home can be."""

    name: str
    latitude: float
    longitude: float
    time_zone: str
    country: str

    @property
    def location(self) -> Location:
        """Return the engine's location of the city."""
        return Location(self.latitude, self.longitude, self.time_zone)


# At least one city for every whole-hour UTC offset, so that one of them is
# always close to the evening target.
CITIES: tuple[City, ...] = (
    City(
        name="Pago Pago",
        latitude=-14.28,
        longitude=-170.70,
        time_zone="Pacific/Pago_Pago",
        country="AS",
    ),
    City(
        name="Honolulu",
        latitude=21.31,
        longitude=-157.86,
        time_zone="Pacific/Honolulu",
        country="US",
    ),
    City(
        name="Papeete",
        latitude=-17.54,
        longitude=-149.57,
        time_zone="Pacific/Tahiti",
        country="PF",
    ),
    City(
        name="Anchorage",
        latitude=61.22,
        longitude=-149.90,
        time_zone="America/Anchorage",
        country="US",
    ),
    City(
        name="Vancouver",
        latitude=49.28,
        longitude=-123.12,
        time_zone="America/Vancouver",
        country="CA",
    ),
    City(
        name="Denver",
        latitude=39.74,
        longitude=-104.99,
        time_zone="America/Denver",
        country="US",
    ),
    City(
        name="Mexico City",
        latitude=19.43,
        longitude=-99.13,
        time_zone="America/Mexico_City",
        country="MX",
    ),
    City(
        name="Chicago",
        latitude=41.88,
        longitude=-87.63,
        time_zone="America/Chicago",
        country="US",
    ),
    City(
        name="New York",
        latitude=40.71,
        longitude=-74.01,
        time_zone="America/New_York",
        country="US",
    ),
    City(
        name="Halifax",
        latitude=44.65,
        longitude=-63.58,
        time_zone="America/Halifax",
        country="CA",
    ),
    City(
        name="Santiago",
        latitude=-33.45,
        longitude=-70.67,
        time_zone="America/Santiago",
        country="CL",
    ),
    City(
        name="Buenos Aires",
        latitude=-34.60,
        longitude=-58.38,
        time_zone="America/Argentina/Buenos_Aires",
        country="AR",
    ),
    City(
        name="São Paulo",
        latitude=-23.55,
        longitude=-46.63,
        time_zone="America/Sao_Paulo",
        country="BR",
    ),
    City(
        name="Fernando de Noronha",
        latitude=-3.85,
        longitude=-32.42,
        time_zone="America/Noronha",
        country="BR",
    ),
    City(
        name="Praia",
        latitude=14.93,
        longitude=-23.51,
        time_zone="Atlantic/Cape_Verde",
        country="CV",
    ),
    City(
        name="Ponta Delgada",
        latitude=37.74,
        longitude=-25.67,
        time_zone="Atlantic/Azores",
        country="PT",
    ),
    City(
        name="Dakar",
        latitude=14.69,
        longitude=-17.45,
        time_zone="Africa/Dakar",
        country="SN",
    ),
    City(
        name="Lisbon",
        latitude=38.72,
        longitude=-9.14,
        time_zone="Europe/Lisbon",
        country="PT",
    ),
    City(
        name="Lagos",
        latitude=6.52,
        longitude=3.38,
        time_zone="Africa/Lagos",
        country="NG",
    ),
    City(
        name="Amsterdam",
        latitude=52.37,
        longitude=4.90,
        time_zone="Europe/Amsterdam",
        country="NL",
    ),
    City(
        name="Cape Town",
        latitude=-33.92,
        longitude=18.42,
        time_zone="Africa/Johannesburg",
        country="ZA",
    ),
    City(
        name="Athens",
        latitude=37.98,
        longitude=23.73,
        time_zone="Europe/Athens",
        country="GR",
    ),
    City(
        name="Nairobi",
        latitude=-1.29,
        longitude=36.82,
        time_zone="Africa/Nairobi",
        country="KE",
    ),
    City(
        name="Istanbul",
        latitude=41.01,
        longitude=28.98,
        time_zone="Europe/Istanbul",
        country="TR",
    ),
    City(
        name="Dubai",
        latitude=25.20,
        longitude=55.27,
        time_zone="Asia/Dubai",
        country="AE",
    ),
    City(
        name="Karachi",
        latitude=24.86,
        longitude=67.01,
        time_zone="Asia/Karachi",
        country="PK",
    ),
    City(
        name="Kolkata",
        latitude=22.57,
        longitude=88.36,
        time_zone="Asia/Kolkata",
        country="IN",
    ),
    City(
        name="Dhaka",
        latitude=23.81,
        longitude=90.41,
        time_zone="Asia/Dhaka",
        country="BD",
    ),
    City(
        name="Bangkok",
        latitude=13.76,
        longitude=100.50,
        time_zone="Asia/Bangkok",
        country="TH",
    ),
    City(
        name="Perth",
        latitude=-31.95,
        longitude=115.86,
        time_zone="Australia/Perth",
        country="AU",
    ),
    City(
        name="Singapore",
        latitude=1.35,
        longitude=103.82,
        time_zone="Asia/Singapore",
        country="SG",
    ),
    City(
        name="Tokyo",
        latitude=35.68,
        longitude=139.69,
        time_zone="Asia/Tokyo",
        country="JP",
    ),
    City(
        name="Brisbane",
        latitude=-27.47,
        longitude=153.03,
        time_zone="Australia/Brisbane",
        country="AU",
    ),
    City(
        name="Sydney",
        latitude=-33.87,
        longitude=151.21,
        time_zone="Australia/Sydney",
        country="AU",
    ),
    City(
        name="Nouméa",
        latitude=-22.28,
        longitude=166.46,
        time_zone="Pacific/Noumea",
        country="NC",
    ),
    City(
        name="Suva",
        latitude=-18.14,
        longitude=178.44,
        time_zone="Pacific/Fiji",
        country="FJ",
    ),
    City(
        name="Auckland",
        latitude=-36.85,
        longitude=174.76,
        time_zone="Pacific/Auckland",
        country="NZ",
    ),
    City(
        name="Nuku'alofa",
        latitude=-21.14,
        longitude=-175.20,
        time_zone="Pacific/Tongatapu",
        country="TO",
    ),
    City(
        name="Kiritimati",
        latitude=1.87,
        longitude=-157.43,
        time_zone="Pacific/Kiritimati",
        country="KI",
    ),
)


def evening_score(city: City, now: datetime) -> tuple[int, int]:
    """Rank a city for `now` (lower is better): (before sunset?, distance).

    The distance is in minutes between the local time and `EVENING_TARGET`.
    """
    location = city.location
    local = now.astimezone(location.tzinfo)
    sunset = day_zones(local.date(), location).sunset
    too_early = int(local < sunset + AFTER_SUNSET)
    minutes = local.hour * 60 + local.minute
    target = EVENING_TARGET.hour * 60 + EVENING_TARGET.minute
    return too_early, abs(minutes - target)


def choose_city(now: datetime | None = None) -> City:
    """Return the city where it is early evening now (after sunset, ~19:00)."""
    moment = now if now is not None else datetime.now(UTC)
    return min(CITIES, key=lambda city: evening_score(city, moment))


@dataclass(frozen=True, kw_only=True)
class DemoRoom:
    """A room of the demo home and its entities."""

    key: str
    name: str
    habits: RoomHabits
    # A room without a lux sensor learns from its lamp's own history.
    has_lux: bool = True

    @property
    def lux_entity(self) -> str:
        """Return the entity_id of the room's lux sensor."""
        return f"sensor.{self.key}_lux"

    @property
    def learn_from(self) -> str:
        """Return what the room learns from (the room form's choice)."""
        return "lux" if self.has_lux else "lights"

    @property
    def light_entity(self) -> str:
        """Return the entity_id of the room's lamp."""
        return f"light.{self.key}_lamp"

    @property
    def lamp_lux(self) -> float:
        """Return what the lamp adds at the sensor at full brightness."""
        return max(habit.lux for habit in self.habits.habits)


#: The study: a dimmed desk lamp in the afternoon and the evening, one smart
#: lamp and no lux sensor (its daylight hours are learned too).
STUDY = RoomHabits(
    name="study",
    daylight_lux=300.0,
    habits=(
        LampHabit(
            "clock",
            15 * 60,
            45,
            120,
            0.6,
            0.3,
            150.0,
            60.0,
            light="desk_lamp",
            brightness=0.5,
        ),
        LampHabit(
            "clock",
            20 * 60 + 30,
            40,
            90,
            0.7,
            0.5,
            150.0,
            30.0,
            light="desk_lamp",
            brightness=0.9,
        ),
    ),
)

ROOMS: tuple[DemoRoom, ...] = (
    *(
        DemoRoom(
            key=habits.name,
            name=habits.name.replace("_", " ").capitalize(),
            habits=habits,
        )
        for habits in DEFAULT_ROOMS
    ),
    DemoRoom(key=STUDY.name, name="Study", habits=STUDY, has_lux=False),
)
#: The rooms that have a lux sensor.
LUX_ROOMS: tuple[DemoRoom, ...] = tuple(room for room in ROOMS if room.has_lux)


def lux_attributes(room: DemoRoom) -> dict[str, str]:
    """Return the state attributes of a room's lux sensor, as recorded."""
    return {
        "device_class": "illuminance",
        "friendly_name": f"{room.name} lux",
        "state_class": "measurement",
        "unit_of_measurement": "lx",
    }


def light_attributes(room: DemoRoom) -> dict[str, object]:
    """Return the state attributes of a room's lamp, as recorded."""
    return {
        "friendly_name": f"{room.name} lamp",
        "supported_color_modes": ["brightness"],
        "supported_features": 0,
    }


def _lux_template(room: DemoRoom) -> str:
    """Return the template of a room's lux: daylight plus the lamp."""
    daylight = room.habits.daylight_lux * DAYLIGHT_SHARE
    return (
        "{% set e = state_attr('sun.sun', 'elevation') | float(-90) %}"
        "{% set clear = (([e, 0] | max) * pi / 180) | sin %}"
        "{% set sky = [clear ** 0.8, ([[(e + 6) / 6, 0] | max, 1] | min) * 0.01]"
        " | max %}"
        f"{{% set lamp = {room.lamp_lux} * (state_attr('{room.light_entity}',"
        " 'brightness') | float(0)) / 255"
        f" if is_state('{room.light_entity}', 'on') else 0 %}}"
        f"{{{{ ({daylight} * sky + lamp) | round(1) }}}}"
    )


def configuration_yaml(city: City, country: str | None) -> str:
    """Return the demo home's ``configuration.yaml``."""
    lines = [
        "# The Lighting Replay demo home, made by scripts/develop.",
        "# Rebuilt by `scripts/develop --fresh`; edits here are kept otherwise.",
        "homeassistant:",
        "  name: Lighting Replay demo",
        f"  # A demo choice: a place where it was evening when this was made ({city.name}).",
        f"  latitude: {city.latitude}",
        f"  longitude: {city.longitude}",
        "  elevation: 0",
        f"  time_zone: {city.time_zone}",
        "  unit_system: metric",
        "  language: en",
    ]
    if country is not None:
        lines.append(f"  country: {country}")
    lines += [
        "  # scripts/develop writes the web server settings (--port, --lan) into",
        "  # packages/ at every start where Home Assistant reads them from YAML",
        "  # (newer versions keep them in .storage/http, written the same way).",
        "  packages: !include_dir_named packages",
        "",
        "# What the demo uses (not default_config: no discovery, no cloud).",
        "frontend:",
        "config:",
        "history:",
        "logbook:",
        "sun:",
        "",
        "recorder:",
        "  # The simulated history goes back four weeks; keep all of it.",
        "  purge_keep_days: 35",
        "logger:",
        "  default: warning",
        "  logs:",
        "    custom_components.lighting_replay: info",
        "    # Home Assistant's camera, voice and compression parts look for ffmpeg,",
        "    # libturbojpeg and zlib-ng, which the demo does not use.",
        "    haffmpeg: critical",
        "    homeassistant.components.camera.img_util: critical",
        "    aiohttp_fast_zlib: error",
        "",
        "input_boolean:",
    ]
    for room in ROOMS:
        lines += [
            f"  {room.key}_lamp:",
            f"    name: {room.name} lamp power",
            "    icon: mdi:power",
        ]
    lines += ["", "input_number:"]
    for room in ROOMS:
        lines += [
            f"  {room.key}_lamp_brightness:",
            f"    name: {room.name} lamp brightness",
            "    min: 1",
            "    max: 255",
            "    step: 1",
            f"    initial: {DEFAULT_BRIGHTNESS}",
        ]
    lines += [
        "",
        "# Lamps to replay (dimmable), and lux sensors that see daylight and the",
        "# lamp, like the simulated sensors whose history is in the recorder.",
        "template:",
        "  - light:",
    ]
    for room in ROOMS:
        power = f"input_boolean.{room.key}_lamp"
        level = f"input_number.{room.key}_lamp_brightness"
        lines += [
            f"      - name: {room.name} lamp",
            f"        unique_id: demo_{room.key}_lamp",
            f"        state: \"{{{{ is_state('{power}', 'on') }}}}\"",
            f"        level: \"{{{{ states('{level}') | int(0) }}}}\"",
            "        turn_on:",
            "          - action: input_boolean.turn_on",
            f"            target: {{entity_id: {power}}}",
            "        turn_off:",
            "          - action: input_boolean.turn_off",
            f"            target: {{entity_id: {power}}}",
            "        set_level:",
            "          - action: input_number.set_value",
            f"            target: {{entity_id: {level}}}",
            '            data: {value: "{{ [brightness | int(1), 1] | max }}"}',
            "          - action: input_boolean.turn_on",
            f"            target: {{entity_id: {power}}}",
        ]
    lines.append("  - sensor:")
    for room in LUX_ROOMS:
        lines += [
            f"      - name: {room.name} lux",
            f"        unique_id: demo_{room.key}_lux",
            "        unit_of_measurement: lx",
            "        device_class: illuminance",
            "        state_class: measurement",
            f'        state: "{_lux_template(room)}"',
        ]
    return "\n".join(lines) + "\n"


def http_package_yaml(port: int, *, lan: bool) -> str:
    """Return the ``http:`` settings as a package (for versions that read YAML)."""
    return (
        "# Written by scripts/develop at every start (--port, --lan).\n"
        "http:\n"
        f"  server_port: {port}\n"
        f"  server_host: [{server_host(lan=lan)}]\n"
    )


def server_host(*, lan: bool) -> str:
    """Return the address the web server listens on."""
    return "0.0.0.0" if lan else "127.0.0.1"  # noqa: S104 (asked for with --lan)
