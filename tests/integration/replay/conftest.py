"""Fixtures and helpers of the replay tests: real light entities and a room with a model.

The lights are real `LightEntity` objects of a test platform, switched through
Home Assistant's own `light.turn_on`/`light.turn_off` actions; each records
the calls it received and can be made unavailable or failing. The room gets
the session's trained model as a saved model file, so the integration loads
it exactly as after a restart; learning itself does not run (its own tests
cover it), so the model stays put.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from datetime import datetime
import itertools
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.light import ATTR_BRIGHTNESS, ColorMode, LightEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    setup_test_component_platform,
)

from custom_components.lighting_replay.const import (
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    MODEL_SUFFIX,
)
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.engine.schedule import Change
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.learning import Learning, storage_path
from custom_components.lighting_replay.replay import Replay, room_changes
from integration.conftest import (
    ROOM_NAME,
    ROOM_SUBENTRY_ID,
    async_setup_integration,
    write_model_file,
)

LAMP = "light.living_room_lamp"
BULB = "light.living_room_bulb"
SWITCH = "switch.home_vacation_replay"
INCLUDE = "switch.living_room_include_in_replay"
ROOM_CALENDAR = "calendar.living_room_schedule"
HOME_CALENDAR = "calendar.home_replay_schedule"
NEXT_CHANGE = "sensor.living_room_next_change"

# Noon on a summer day in the test home's time zone.
START = datetime(2026, 6, 10, 12, 0, 30, tzinfo=ZoneInfo("US/Pacific"))


class ReplayTestLight(LightEntity):
    """A light that records what it was told and can fail or disappear."""

    _attr_should_poll = False

    def __init__(self, name: str, unique_id: str, modes: set[ColorMode]) -> None:
        """Make an off light with the given colour modes."""
        self._attr_name = name
        self._attr_unique_id = unique_id
        self._attr_supported_color_modes = modes
        self._attr_color_mode = next(iter(modes))
        self._attr_is_on = False
        self._attr_brightness = None
        self.calls: list[tuple[datetime, str, dict[str, Any]]] = []
        self.fail = False
        # Set: every action waits for it (a light that does not answer).
        self.hang: asyncio.Event | None = None
        # Set when the light receives an action.
        self.called = asyncio.Event()

    async def _async_answer(self) -> None:
        self.called.set()
        if self.hang is not None:
            await self.hang.wait()
        if self.fail:
            raise HomeAssistantError("the bridge does not answer")

    def set_available(self, available: bool) -> None:
        """Make the light (un)available, as a bridge losing it would."""
        self._attr_available = available
        self.async_write_ha_state()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on (at a brightness if given)."""
        await self._async_answer()
        self.calls.append((dt_util.now(), "on", kwargs))
        self._attr_is_on = True
        if ColorMode.BRIGHTNESS in self.supported_color_modes:
            self._attr_brightness = kwargs.get(ATTR_BRIGHTNESS, self.brightness or 255)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off."""
        await self._async_answer()
        self.calls.append((dt_util.now(), "off", kwargs))
        self._attr_is_on = False
        self.async_write_ha_state()


@pytest.fixture(autouse=True)
def no_learning() -> Generator[None]:
    """Keep learning from replacing the room's model during a test."""
    with patch.object(Learning, "async_start"):
        yield


@pytest.fixture(autouse=True)
def fixed_seeds() -> Generator[None]:
    """Seeds from a counter instead of the operating system: repeatable days."""
    counter: Iterator[int] = itertools.count(1002)
    with patch(
        "custom_components.lighting_replay.plan.secrets.randbits",
        side_effect=lambda _bits: next(counter),
    ):
        yield


@pytest.fixture
async def replay_lights(hass: HomeAssistant) -> dict[str, ReplayTestLight]:
    """A dimmable lamp and an on/off bulb, real light entities."""
    lights = {
        LAMP: ReplayTestLight("Living room lamp", "lamp", {ColorMode.BRIGHTNESS}),
        BULB: ReplayTestLight("Living room bulb", "bulb", {ColorMode.ONOFF}),
    }
    setup_test_component_platform(hass, "light", list(lights.values()))
    assert await async_setup_component(hass, "light", {"light": {"platform": "test"}})
    await hass.async_block_till_done()
    for entity_id in lights:
        assert hass.states.get(entity_id) is not None
    return lights


@pytest.fixture
def room_data(
    lux_sensor: er.RegistryEntry,
    replay_lights: dict[str, ReplayTestLight],
    entity_registry: er.EntityRegistry,
) -> dict[str, Any]:
    """The living room with the test lights (stored by registry id)."""
    return {
        CONF_LUX_SENSOR: lux_sensor.id,
        CONF_LIGHTS: [entity_registry.async_get(e).id for e in replay_lights],  # type: ignore[union-attr]
    }


@pytest.fixture
def room_model(trained_model_data: dict[str, Any]) -> RoomModel:
    """The room's model (learned once per session)."""
    return RoomModel.from_dict(trained_model_data)


def save_room_model(hass: HomeAssistant, model: RoomModel) -> None:
    """Save the model where the integration loads the room's model from."""
    write_model_file(
        storage_path(hass) / f"{ROOM_SUBENTRY_ID}{MODEL_SUFFIX}",
        Location(hass.config.latitude, hass.config.longitude, hass.config.time_zone),
        {ROOM_NAME: model.to_dict()},
    )


async def async_setup_replay(
    hass: HomeAssistant, entry: MockConfigEntry, model: RoomModel
) -> Replay:
    """Set the integration up with the room's model; return its replay."""
    await hass.async_add_executor_job(save_room_model, hass, model)
    await async_setup_integration(hass, entry)
    replay: Replay = entry.runtime_data.replay
    assert entry.runtime_data.rooms[ROOM_SUBENTRY_ID].model is not None
    return replay


async def async_set_room_lights(
    hass: HomeAssistant, entry: MockConfigEntry, lights: list[str]
) -> None:
    """Give the room these lights (stored ids), as Reconfigure does."""
    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_LIGHTS: lights}
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def changes_after(replay: Replay, moment: datetime) -> list[Change]:
    """Return the room's planned changes after `moment`."""
    return [
        c for c in room_changes(replay.schedules(ROOM_SUBENTRY_ID)) if c.at > moment
    ]


async def async_setup_running_replay(
    hass: HomeAssistant, entry: MockConfigEntry, model: RoomModel
) -> Replay:
    """Set the integration up with the room's model and turn replay on."""
    replay = await async_setup_replay(hass, entry, model)
    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)
    return replay


async def async_move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Let the clock run to `moment` and everything due run."""
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done(wait_background_tasks=True)


async def async_run_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    replay: Replay,
    until: datetime,
    *,
    check: Any = None,
) -> list[datetime]:
    """Step from timer to timer of the replay until `until`; return the steps.

    `check(moment)` is called after each step.
    """
    steps: list[datetime] = []
    while (point := replay._next_point) is not None and point <= until:
        await async_move_to(hass, freezer, point)
        steps.append(point)
        if check is not None:
            check(point)
        assert len(steps) < 500, "the replay timer does not advance"
    return steps


def entity_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    entry: MockConfigEntry,
    keys: set[str] | None = None,
    sampled: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return the entry's entities (registry entries and states) as plain data.

    Only fields both supported Home Assistant versions have are kept, so one
    snapshot holds for both; `keys` limits it to some description keys.
    Attributes in `sampled` (and a state of that name) depend on the sampled
    schedule, which differs between numpy versions: the caller checks them
    against the runner, the snapshot shows only that they are there.
    """
    out: dict[str, Any] = {}
    for reg in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        if keys is not None and not any(reg.unique_id.endswith(f"_{k}") for k in keys):
            continue
        assert reg.disabled_by is None
        state = hass.states.get(reg.entity_id)
        assert state is not None
        out[reg.entity_id] = {
            "unique_id": reg.unique_id,
            "translation_key": reg.translation_key,
            "entity_category": reg.entity_category,
            "original_device_class": reg.original_device_class,
            "has_entity_name": reg.has_entity_name,
            "config_subentry_id": reg.config_subentry_id,
            "state": "<sampled>" if "state" in sampled else state.state,
            "attributes": {
                str(key): "<sampled>" if str(key) in sampled else value
                for key, value in state.attributes.items()
            },
        }
    return dict(sorted(out.items()))
