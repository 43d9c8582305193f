"""Diagnostics download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.lighting_replay.const import DOMAIN, SERVICE_IMPORT_MODEL
from custom_components.lighting_replay.engine.zones import Location

from .conftest import ROOM_SUBENTRY_ID, room_device, write_model_file


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
    snapshot: SnapshotAssertion,
) -> None:
    """Configuration and model summaries, with the location redacted."""
    await hass.async_add_executor_job(
        write_model_file,
        private_config_dir / "home.json",
        location,
        {"Living room": trained_model_data},
    )
    device = room_device(device_registry, init_integration.entry_id, ROOM_SUBENTRY_ID)
    await hass.services.async_call(
        DOMAIN,
        SERVICE_IMPORT_MODEL,
        {"room": device.id, "path": "home.json"},
        blocking=True,
    )
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )
    assert diagnostics["location"] == {
        "latitude": "**REDACTED**",
        "longitude": "**REDACTED**",
        "time_zone": "**REDACTED**",
    }
    # The archive's extent and the replay's schedules depend on when the
    # test runs.
    assert diagnostics == snapshot(exclude=props("archive", "replay"))
