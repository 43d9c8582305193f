"""The demo's dashboard: replay switch, rooms, lux history, calendar."""

from __future__ import annotations

from typing import Any

from .home import ROOMS, DemoRoom


def room_card(room: DemoRoom) -> dict[str, Any]:
    """Return a room's card: its lamp, its lux and what replay knows."""
    return {
        "type": "entities",
        "title": room.name,
        "entities": [
            {"entity": room.light_entity, "name": "Lamp"},
            {"entity": room.lux_entity, "name": "Lux"},
            {"entity": f"sensor.{room.key}_model_status", "name": "Model"},
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
                    *(room_card(room) for room in ROOMS),
                    {
                        "type": "history-graph",
                        "title": "Lux, last 24 hours",
                        "hours_to_show": 24,
                        "entities": [room.lux_entity for room in ROOMS],
                    },
                ],
            }
        ],
    }
