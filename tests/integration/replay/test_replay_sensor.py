"""The next-change sensor of a room's replay schedule."""

from __future__ import annotations

from datetime import datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.replay import brightness_for_level
from custom_components.lighting_replay.sensor import ReplayNextChangeSensor
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import (
    NEXT_CHANGE,
    START,
    ReplayTestLight,
    async_run_until,
    async_setup_replay,
    changes_after,
    entity_snapshot,
)


async def test_next_change_follows_the_schedule(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The sensor shows the next change and moves on when it happened."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    changes = changes_after(replay, START)
    assert len(changes) >= 3

    def check(moment: datetime) -> None:
        upcoming = next(c for c in changes if c.at > moment)
        state = hass.states.get(NEXT_CHANGE)
        assert state is not None
        assert dt_util.parse_datetime(state.state) == upcoming.at
        assert state.attributes["next_state"] == ("on" if upcoming.on else "off")
        assert state.attributes["level"] == upcoming.level
        assert state.attributes["brightness_pct"] == (
            brightness_for_level(room, upcoming.level) if upcoming.on else None
        )

    check(START)
    state = hass.states.get(NEXT_CHANGE)
    assert len(state.attributes["schedule"]) == len(  # type: ignore[union-attr]
        [iv for s in replay.schedules(ROOM_SUBENTRY_ID) for iv in s.intervals]
    )
    assert "schedule" in ReplayNextChangeSensor._unrecorded_attributes
    # Replay is off: the plan still moves on (the calendar shows it too).
    await async_run_until(hass, freezer, replay, changes[-2].at, check=check)

    assert (
        entity_snapshot(
            hass,
            entity_registry,
            mock_config_entry,
            keys={"next_change"},
            sampled=frozenset({"state", "schedule", "level", "brightness_pct"}),
        )
        == snapshot
    )
