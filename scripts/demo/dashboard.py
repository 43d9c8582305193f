"""The demo's dashboard: the replay switch, the watch, the rooms, calendar, lux.

Entity ids are those Home Assistant gives the integration's entities: the
home's device is named after the config entry ("Demo home"), each room's
device after its subentry.
"""

from __future__ import annotations

from typing import Any

from .home import LUX_ROOMS, ROOMS, DemoRoom

HOME_PREFIX = "demo_home"
REPLAY_SWITCH = f"switch.{HOME_PREFIX}_vacation_replay"
HOME_CALENDAR = f"calendar.{HOME_PREFIX}_replay_schedule"
#: On for a while after the watch finds activity anywhere during replay.
HOME_ACTIVITY = f"binary_sensor.{HOME_PREFIX}_unexpected_activity"


def room_activity(room: DemoRoom) -> str:
    """Return the entity_id of a room's "Unexpected activity" sensor."""
    return f"binary_sensor.{room.key}_unexpected_activity"


def room_not_responding(room: DemoRoom) -> str:
    """Return the entity_id of a room's "Lights not responding" problem."""
    return f"binary_sensor.{room.key}_lights_not_responding"


def room_calendar(room: DemoRoom) -> str:
    """Return the entity_id of a room's replay calendar."""
    return f"calendar.{room.key}_schedule"


def room_card(room: DemoRoom) -> dict[str, Any]:
    """Return a room's card: its lamp, its lux, the watch and what replay plans."""
    lux = [{"entity": room.lux_entity, "name": "Lux"}] if room.has_lux else []
    return {
        "type": "entities",
        "title": room.name,
        "entities": [
            {"entity": room.light_entity, "name": "Lamp"},
            *lux,
            {"entity": room_activity(room), "name": "Unexpected activity"},
            {"entity": room_not_responding(room), "name": "Lights not responding"},
            {"entity": f"sensor.{room.key}_next_change", "name": "Next change"},
            {"entity": f"sensor.{room.key}_model_status", "name": "Model"},
            {"entity": f"switch.{room.key}_include_in_replay", "name": "In replay"},
        ],
    }


def dashboard() -> dict[str, Any]:
    """Return the dashboard configuration (what the raw editor would show)."""
    return {
        "title": "Lighting Replay demo",
        "views": [
            {
                "title": "Home",
                "path": "home",
                "cards": [
                    {
                        "type": "entities",
                        "title": "While you are away",
                        "show_header_toggle": False,
                        "entities": [
                            {"entity": REPLAY_SWITCH, "name": "Vacation replay"},
                            # Switch a lamp by hand while replay is on: this
                            # turns on (about 40 s later, for 30 minutes).
                            {"entity": HOME_ACTIVITY, "name": "Unexpected activity"},
                            *(
                                {"entity": room.light_entity, "name": room.name}
                                for room in ROOMS
                            ),
                        ],
                    },
                    {
                        "type": "calendar",
                        "title": "Planned lights",
                        "initial_view": "listWeek",
                        "entities": [room_calendar(room) for room in ROOMS],
                    },
                    *(room_card(room) for room in ROOMS),
                    {
                        "type": "history-graph",
                        "title": "Lux, last 24 hours",
                        "hours_to_show": 24,
                        "entities": [room.lux_entity for room in LUX_ROOMS],
                    },
                ],
            }
        ],
    }
