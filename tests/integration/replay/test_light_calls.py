"""Light calls: rooms are switched at once; a timeout is logged as a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.light import ColorMode
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    setup_test_component_platform,
)

from custom_components.lighting_replay import lights as lights_module
from custom_components.lighting_replay.const import CONF_LEARN_FROM, CONF_LIGHTS
from custom_components.lighting_replay.engine.model import RoomModel
from integration.conftest import ROOM_NAME, ROOM_SUBENTRY_ID, home_entry

from .conftest import BULB, LAMP, START, ReplayTestLight, async_setup_replay

HALL = "light.hall_lamp"
HALL_SUBENTRY_ID = "01JROOMHALL000000000000000"
# Turns of the event loop a call may take to reach a light (no clock involved).
YIELDS = 500


@pytest.fixture
async def all_lights(hass: HomeAssistant) -> dict[str, ReplayTestLight]:
    """The living room's lamp and bulb, and a hall lamp."""
    lights = {
        HALL: ReplayTestLight("Hall lamp", "hall", {ColorMode.ONOFF}),
        LAMP: ReplayTestLight("Living room lamp", "lamp", {ColorMode.BRIGHTNESS}),
        BULB: ReplayTestLight("Living room bulb", "bulb", {ColorMode.ONOFF}),
    }
    setup_test_component_platform(hass, "light", list(lights.values()))
    assert await async_setup_component(hass, "light", {"light": {"platform": "test"}})
    await hass.async_block_till_done()
    return lights


@pytest.fixture
def replay_lights(all_lights: dict[str, ReplayTestLight]) -> dict[str, ReplayTestLight]:
    """The living room's lights."""
    return {LAMP: all_lights[LAMP], BULB: all_lights[BULB]}


@pytest.fixture
def two_rooms(
    room_data: dict[str, Any],
    all_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
) -> MockConfigEntry:
    """The hall (first, no model yet) and the living room."""
    hall = entity_registry.async_get(HALL)
    assert hall is not None
    return home_entry(
        {
            HALL_SUBENTRY_ID: (
                "Hall",
                {CONF_LIGHTS: [hall.id], CONF_LEARN_FROM: "lights"},
            ),
            ROOM_SUBENTRY_ID: (ROOM_NAME, room_data),
        }
    )


@pytest.fixture
def short_timeout() -> Generator[None]:
    """A light call gives up at once if the light does not answer right away."""
    with patch.object(lights_module, "LIGHT_CALL_TIMEOUT", 0):
        yield


async def test_hanging_light_does_not_hold_up_other_rooms(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    two_rooms: MockConfigEntry,
    room_model: RoomModel,
    all_lights: dict[str, ReplayTestLight],
) -> None:
    """The hall's lamp answers only once the living room's lamp was switched."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, two_rooms, room_model)
    assert list(replay.rooms) == [HALL_SUBENTRY_ID, ROOM_SUBENTRY_ID]
    hall = all_lights[HALL]
    hall.hang = asyncio.Event()
    task = hass.async_create_task(replay.async_turn_on())
    # The living room is switched while the hall's lamp has not answered
    # (rooms one after another would wait here for the hall).
    for _ in range(YIELDS):
        if all_lights[LAMP].called.is_set():
            break
        await asyncio.sleep(0)
    switched_while_hall_hangs = all_lights[LAMP].called.is_set()
    assert hall.called.is_set()
    assert not task.done()
    hall.hang.set()
    await task
    await hass.async_block_till_done(wait_background_tasks=True)
    assert switched_while_hall_hangs
    assert replay.unreachable == {}
    assert [call[1] for call in hall.calls] == ["off"]


async def test_timeout_is_logged_as_a_timeout(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    two_rooms: MockConfigEntry,
    room_model: RoomModel,
    all_lights: dict[str, ReplayTestLight],
    short_timeout: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A light that never answers: switching and restoring say it timed out."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, two_rooms, room_model)
    all_lights[HALL].hang = asyncio.Event()  # never set
    caplog.set_level(logging.WARNING)
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert replay.unreachable == {HALL: "no answer within 0 s (timed out)"}
    assert f"Replay cannot reach {HALL} (no answer within 0 s (timed out))" in (
        caplog.text
    )
    # The living room was switched all the same.
    assert all_lights[LAMP].calls
    assert BULB not in replay.unreachable

    await replay.async_turn_off()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert f"Restoring {HALL} failed: no answer within 0 s (timed out)" in caplog.text
    assert f"Restoring {HALL} failed: \n" not in caplog.text


def test_failure_reasons_are_never_empty() -> None:
    """A timeout says so; an error without text gives its kind."""
    assert lights_module.failure_reason(TimeoutError()) == (
        f"no answer within {lights_module.LIGHT_CALL_TIMEOUT} s (timed out)"
    )
    assert lights_module.failure_reason(RuntimeError()) == "RuntimeError"
    assert lights_module.failure_reason(RuntimeError("gone")) == "gone"
