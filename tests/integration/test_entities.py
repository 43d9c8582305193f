"""Entity snapshots of a room: sensors and data-quality binary sensors."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.lighting_replay.binary_sensor import PROBLEMS
from custom_components.lighting_replay.const import DOMAIN, SERVICE_IMPORT_MODEL
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.sensor import SENSORS

from .conftest import (
    ROOM_SUBENTRY_ID,
    async_setup_integration,
    room_device,
    write_model_file,
)
from .snapshot_helpers import snapshot_entities

# The learning entities; the replay's entities change with the clock.
KEYS = {
    Platform.SENSOR: {description.key for description in SENSORS},
    Platform.BINARY_SENSOR: {description.key for description in PROBLEMS},
}


@pytest.fixture(autouse=True)
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create the entities that are disabled by default too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """A room with an imported model (fixed, so the snapshot holds)."""
    with patch("custom_components.lighting_replay.PLATFORMS", [platform]):
        await async_setup_integration(hass, mock_config_entry)
        await hass.async_add_executor_job(
            write_model_file,
            private_config_dir / "home.json",
            location,
            {"Living room": trained_model_data},
        )
        device = room_device(
            device_registry, mock_config_entry.entry_id, ROOM_SUBENTRY_ID
        )
        await hass.services.async_call(
            DOMAIN,
            SERVICE_IMPORT_MODEL,
            {"room": device.id, "path": "home.json"},
            blocking=True,
        )
        await hass.async_block_till_done()
        snapshot_entities(
            hass,
            entity_registry,
            snapshot,
            mock_config_entry.entry_id,
            platform,
            KEYS[platform],
        )
