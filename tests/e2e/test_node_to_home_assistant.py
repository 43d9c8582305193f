"""End to end: lux node (MicroPython unix port) -> Mosquitto -> Home Assistant.

The firmware runs as on a board (fake I2C chip and WiFi only); Home Assistant's
own MQTT integration connects to the same real broker, discovers the sensor
and the recorder stores its states.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.components.mqtt.const import (
    CONFIG_ENTRY_MINOR_VERSION,
    CONFIG_ENTRY_VERSION,
)
from homeassistant.components.recorder import Recorder, get_instance, history
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from lux_node import LuxNode, node_config
from mqtt_broker import Mosquitto
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

UNIQUE_ID = "test_node_lux"


async def wait_for(check: Callable[[], Any], within: float = 30.0) -> Any:
    """Poll ``check()`` on the event loop until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while not (result := check()):
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {within} s waiting for {check.__doc__}")
        await asyncio.sleep(0.1)
    return result


async def test_node_states_reach_home_assistant_and_the_recorder(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_hass_config: None,
    mosquitto: Mosquitto,
    tmp_path: Path,
) -> None:
    """Discovery creates an illuminance sensor; states are recorded; LWT works."""
    start = dt_util.utcnow() - timedelta(seconds=1)
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": mosquitto.host, "port": mosquitto.port, "protocol": "5"},
        version=CONFIG_ENTRY_VERSION,
        minor_version=CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    settings = node_config(
        mosquitto.port, max_cycles=0, interval_s=0.5, samples=2, keepalive_s=2
    )
    node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [250.0]})
    entity_registry = er.async_get(hass)
    try:
        node.start()

        def registered() -> str | None:
            """the sensor in the entity registry"""
            return entity_registry.async_get_entity_id("sensor", "mqtt", UNIQUE_ID)

        entity_id: str = await wait_for(registered)

        def numeric_state() -> bool:
            """a numeric state"""
            state = hass.states.get(entity_id)
            return state is not None and state.state not in (
                STATE_UNAVAILABLE,
                "unknown",
            )

        await wait_for(numeric_state)
        state = hass.states.get(entity_id)
        assert state is not None
        assert float(state.state) == pytest.approx(250.0, rel=0.01)
        assert state.attributes["device_class"] == "illuminance"
        assert state.attributes["unit_of_measurement"] == "lx"
        assert state.attributes["state_class"] == "measurement"
        # The node's status JSON arrives as attributes.
        assert state.attributes["error"] is None

        registry_entry = entity_registry.async_get(entity_id)
        assert registry_entry is not None
        assert registry_entry.original_device_class == "illuminance"
        device = dr.async_get(hass).async_get(registry_entry.device_id or "")
        assert device is not None
        assert ("mqtt", "luxnode_test_node") in device.identifiers
        assert device.model == "TSL2591 lux node"
        assert device.name == "Test lux node"

        # Killed without DISCONNECT: the broker's last will makes it unavailable.
        node.kill()

        def unavailable() -> bool:
            """the sensor to become unavailable"""
            current = hass.states.get(entity_id)
            return current is not None and current.state == STATE_UNAVAILABLE

        await wait_for(unavailable, within=15)
    finally:
        node.kill()

    await async_wait_recording_done(hass)
    recorded = await get_instance(hass).async_add_executor_job(
        history.get_significant_states, hass, start, None, [entity_id]
    )
    values = [s.state for s in recorded[entity_id]]
    numbers = [float(v) for v in values if v not in (STATE_UNAVAILABLE, "unknown")]
    assert numbers, values
    assert all(v == pytest.approx(250.0, rel=0.01) for v in numbers)
    assert values[-1] == STATE_UNAVAILABLE

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
