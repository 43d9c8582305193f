"""The watch while replay is on: confirmations, activity, sensor faults.

Replay's decisions are what its runner says (`Replay.desired`), set here by
the test; its calls are played as they happen: the light's state changes in
replay's context (or not, for a dead bulb), then replay's light-action event.
The lux sensor reports once a minute on a frozen clock; the recorder is real.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
import math
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.lighting_replay.const import (
    DOMAIN,
    EVENT_LIGHT_ACTION,
    ModelSource,
)
from custom_components.lighting_replay.data import RoomConfig, RoomState
from custom_components.lighting_replay.engine.model import RoomModel
from custom_components.lighting_replay.engine.zones import Location, solar_elevation
from custom_components.lighting_replay.lights import RoomAction
from custom_components.lighting_replay.logbook import describe_watch_event
from custom_components.lighting_replay.repairs import lights_not_responding_id
from custom_components.lighting_replay.watch import (
    EVENT_CHANGE_CHECKED,
    EVENT_LIGHTS_NOT_RESPONDING,
    EVENT_UNEXPECTED_ACTIVITY,
    REPAIR_MISSES,
    level_lux,
)
from integration.conftest import (
    LIGHT_ENTITY,
    LUX_ATTRIBUTES,
    LUX_ENTITY,
    ROOM_NAME,
    ROOM_SUBENTRY_ID,
    async_setup_integration,
)

PACIFIC = ZoneInfo("US/Pacific")
NIGHT = datetime(2026, 6, 10, 2, 0, tzinfo=PACIFIC)
NOT_RESPONDING = "binary_sensor.living_room_lights_not_responding"
ROOM_ACTIVITY = "binary_sensor.living_room_unexpected_activity"
HOME_ACTIVITY = "binary_sensor.home_unexpected_activity"
STUCK = "binary_sensor.living_room_lux_sensor_stuck"
UNRELIABLE = "binary_sensor.living_room_lux_sensor_unreliable"
LAMP_ATTRIBUTES = {"friendly_name": "Living room lamp"}


class Wanted:
    """What replay wants of the room's lights, as the test says."""

    on = False

    def action(self) -> RoomAction:
        """Return replay's action for the room now."""
        return RoomAction(on=self.on, level=1 if self.on else 0, brightness_pct=100)


class Home:
    """The test home: replay on, its decisions, time and readings."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MockConfigEntry,
        freezer: FrozenDateTimeFactory,
        wanted: Wanted,
    ) -> None:
        """Keep what the steps need."""
        self.hass = hass
        self.entry = entry
        self.freezer = freezer
        self.wanted = wanted

    async def tick(self, seconds: float) -> None:
        """Let time pass."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done()

    async def replay_switches(self, on: bool, light_state: str | None) -> None:
        """Replay switches the room; the light reports `light_state` (None: no)."""
        context = Context()
        if light_state is not None:
            self.hass.states.async_set(
                LIGHT_ENTITY, light_state, LAMP_ATTRIBUTES, context=context
            )
        self.wanted.on = on
        current = self.hass.states.get(LIGHT_ENTITY)
        if current is not None and current.state != "unavailable":
            self.hass.bus.async_fire(
                EVENT_LIGHT_ACTION,
                {"room_id": ROOM_SUBENTRY_ID, "entity_ids": [LIGHT_ENTITY]},
            )
        self.entry.runtime_data.replay.async_update_listeners()
        await self.hass.async_block_till_done()

    async def readings(self, values: list[float]) -> None:
        """The lux sensor reports one value a minute."""
        for value in values:
            await self.tick(60)
            text = "unavailable" if not math.isfinite(value) else f"{value:.1f}"
            self.hass.states.async_set(LUX_ENTITY, text, LUX_ATTRIBUTES)
            await self.hass.async_block_till_done()

    def state(self, entity_id: str) -> str:
        """Return an entity's state."""
        state = self.hass.states.get(entity_id)
        assert state is not None
        return state.state


def noise(n: int, level: float = 0.5, seed: int = 0) -> list[float]:
    """Return `n` noisy dark readings."""
    rng = np.random.default_rng(seed)
    return [max(0.0, v) for v in level + rng.normal(0.0, 0.3, n)]


async def start_home(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    moment: datetime,
) -> AsyncGenerator[Home]:
    """Set up the home at `moment` with replay on and deciding as the test says."""
    freezer.move_to(moment)
    await async_setup_integration(hass, entry)
    replay = entry.runtime_data.replay
    wanted = Wanted()

    def desired(_sid: str, _moment: datetime) -> RoomAction:
        return wanted.action()

    with patch.object(replay, "desired", desired):
        replay.active = True
        home = Home(hass, entry, freezer, wanted)
        replay.async_update_listeners()
        await hass.async_block_till_done()
        yield home
        replay.active = False
        replay.async_update_listeners()
        await hass.async_block_till_done()


@pytest.fixture
async def home(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> AsyncGenerator[Home]:
    """The home at 02:00 with replay on."""
    async for started in start_home(hass, mock_config_entry, freezer, NIGHT):
        yield started


def diagnostics(home: Home) -> dict[str, Any]:
    watch = home.entry.runtime_data.watch
    assert watch is not None
    room: dict[str, Any] = watch.diagnostics()["rooms"][ROOM_SUBENTRY_ID]
    return room


async def test_bulb_that_never_turns_on(home: Home, hass: HomeAssistant) -> None:
    """Three misses in a row raise the problem; a success clears it."""
    raised = async_capture_events(hass, EVENT_LIGHTS_NOT_RESPONDING)
    checked = async_capture_events(hass, EVENT_CHANGE_CHECKED)
    for miss in range(1, REPAIR_MISSES + 1):
        await home.replay_switches(True, "off")
        await home.tick(61)
        assert diagnostics(home)["missed"] == miss
        assert home.state(NOT_RESPONDING) == ("on" if miss >= 3 else "off")
        # Off again: the bulb was off all along, which tells nothing.
        await home.replay_switches(False, "off")
        await home.tick(61)
        if miss == 3:
            state = hass.states.get(NOT_RESPONDING)
            assert state is not None
            assert state.attributes["lights"] == [LIGHT_ENTITY]
            assert state.attributes["since"] is not None
    assert [event.data["room"] for event in raised] == [ROOM_NAME]
    assert describe_watch_event(hass, raised[0])["message"] == (
        "Living room lamp is not responding (stayed off)"
    )
    assert describe_watch_event(hass, checked[0])["message"] == (
        "replay's change of Living room lamp not confirmed: stayed off"
    )
    assert raised[0].data["reason"] == "stayed off"
    issues = ir.async_get(hass)
    assert (
        issues.async_get_issue(DOMAIN, lights_not_responding_id(ROOM_SUBENTRY_ID))
        is not None
    )
    # A new bulb: it turns on (no lux readings after it: its state confirms).
    await home.replay_switches(True, "on")
    await home.tick(302)
    assert home.state(NOT_RESPONDING) == "off"
    assert diagnostics(home)["confirmed"] == 1
    assert (
        issues.async_get_issue(DOMAIN, lights_not_responding_id(ROOM_SUBENTRY_ID))
        is None
    )


async def test_unavailable_light(home: Home, hass: HomeAssistant) -> None:
    """A light that stays unavailable misses every change."""
    hass.states.async_set(LIGHT_ENTITY, "unavailable", LAMP_ATTRIBUTES)
    for on in (True, False, True):
        await home.replay_switches(on, None)
        await home.tick(61)
    room = diagnostics(home)
    assert room["missed"] == 3
    assert [item["how"] for item in room["recent"]] == ["unavailable"] * 3
    assert home.state(NOT_RESPONDING) == "on"


async def test_person_switching_a_light(home: Home, hass: HomeAssistant) -> None:
    """A light turned on in another context is activity in its room."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    hass.states.async_set(
        LIGHT_ENTITY, "on", LAMP_ATTRIBUTES, context=Context(user_id="someone")
    )
    await hass.async_block_till_done()
    await home.tick(41)
    assert len(found) == 1
    assert found[0].data["room"] == ROOM_NAME
    assert found[0].data["what"] == "Living room lamp turned on"
    assert found[0].data["score"] == 1.0
    logbook = describe_watch_event(hass, found[0])
    assert logbook["name"] == ROOM_NAME
    assert logbook["message"] == (
        "unexpected activity: Living room lamp turned on (score 1.0)"
    )
    assert home.state(ROOM_ACTIVITY) == "on"
    assert home.state(HOME_ACTIVITY) == "on"
    await home.tick(31 * 60)
    assert home.state(ROOM_ACTIVITY) == "off"
    assert home.state(HOME_ACTIVITY) == "off"


async def test_replays_own_switching_is_no_alert(
    home: Home, hass: HomeAssistant
) -> None:
    """Replay's own change, and the lux it brings, confirm instead of alerting."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await home.readings(noise(20))
    await home.replay_switches(True, "on")
    await home.readings([150.0, 151.0, 150.5])
    await home.tick(60)
    await home.replay_switches(False, "off")
    await home.readings(noise(5, seed=1))
    await home.tick(400)
    assert found == []
    room = diagnostics(home)
    assert room["confirmed"] == 2
    assert [item["how"] for item in room["recent"]] == ["lux", "lux"]
    assert home.state(HOME_ACTIVITY) == "off"


async def test_lux_rise_at_night_is_activity(home: Home, hass: HomeAssistant) -> None:
    """Lux rises at 02:00 while replay keeps the lights off: activity."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await home.readings(noise(30))
    assert found == []
    await home.readings([120.0, 121.0, 119.5])
    assert len(found) == 1
    assert found[0].data["room"] == ROOM_NAME
    assert found[0].data["what"] == "lux rose to 121 lx"
    assert found[0].data["score"] > 8
    assert home.state(ROOM_ACTIVITY) == "on"


async def test_stuck_sensor_is_a_data_problem(home: Home, hass: HomeAssistant) -> None:
    """The same value for hours: the stuck problem, no activity."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await home.readings([42.0] * (3 * 60 + 2))
    assert home.state(STUCK) == "on"
    assert found == []
    await home.readings([43.5])
    assert home.state(STUCK) == "off"


async def test_flapping_sensor_is_a_data_problem(
    home: Home, hass: HomeAssistant
) -> None:
    """A sensor jumping up and down: unreliable, no activity."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await home.readings(noise(20))
    await home.readings([200.0 if i % 2 == 0 else 0.0 for i in range(30)])
    assert home.state(UNRELIABLE) == "on"
    assert found == []


def daylight(moment: datetime, location: Location) -> float:
    """Lux of daylight at a sensor by a window (none before civil dawn)."""
    elevation = float(solar_elevation([moment.timestamp() / 60.0], location)[0])
    twilight = 8.0 * min(max((elevation + 6.0) / 6.0, 0.0), 1.0)
    return float(600.0 * max(math.sin(math.radians(elevation)), 0.0) ** 0.8 + twilight)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 6, 10, 4, 30, tzinfo=PACIFIC),
        datetime(2026, 6, 10, 19, 30, tzinfo=PACIFIC),
    ],
)
async def test_dawn_and_dusk_daylight_is_no_alert(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    start: datetime,
) -> None:
    """Daylight rising at dawn or fading at dusk is never activity."""
    async for home in start_home(hass, mock_config_entry, freezer, start):
        found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
        location = mock_config_entry.runtime_data.location
        rng = np.random.default_rng(2)
        for minute in range(150):
            moment = start + timedelta(minutes=minute + 1)
            value = (
                daylight(moment, location) * (1 + 0.02 * rng.normal())
                + 0.3 * rng.normal()
            )
            await home.readings([max(value, 0.0)])
        assert found == []
        assert home.state(HOME_ACTIVITY) == "off"


async def test_lux_too_small_for_the_learned_level_is_a_miss(
    home: Home, hass: HomeAssistant
) -> None:
    """After dark the lux must follow by a share of the level's learned lux."""
    found = async_capture_events(hass, EVENT_UNEXPECTED_ACTIVITY)
    await home.readings(noise(20))
    with patch("custom_components.lighting_replay.watch.level_lux", return_value=300.0):
        await home.replay_switches(True, "on")
    await home.readings([40.0, 41.0, 40.5, 40.0, 41.0, 40.5])
    room = diagnostics(home)
    assert room["missed"] == 1
    assert room["recent"][-1]["how"] == "lux did not follow"
    assert found == []


def test_level_lux_from_a_learned_lux_model(trained_model_data: dict[str, Any]) -> None:
    """A lux model gives each level's lux over the dark level; others 0."""
    model = RoomModel.from_dict(trained_model_data)
    config = RoomConfig(
        subentry_id=ROOM_SUBENTRY_ID, name=ROOM_NAME, lux_sensor=None, lights=()
    )
    centres = model.levels.centres
    learned = RoomState(config=config, model=model, source=ModelSource.LEARNED)
    assert level_lux(learned, 1) == pytest.approx(centres[1] - centres[0])
    assert level_lux(learned, None) == 0.0
    fallback = RoomState(config=config, model=model, source=ModelSource.FALLBACK)
    assert level_lux(fallback, 1) == 0.0
