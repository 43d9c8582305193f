"""The actions: train rooms, import a model for a room."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.lighting_replay.const import (
    DOMAIN,
    SERVICE_IMPORT_MODEL,
    SERVICE_REGENERATE,
    SERVICE_START,
    SERVICE_STOP,
    SERVICE_TRAIN,
    ModelSource,
    ModelStatus,
)
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.training_process import TrainingProcess

from .conftest import (
    REAL_TRAIN,
    ROOM_SUBENTRY_ID,
    History,
    async_setup_integration,
    patch_training,
    room_device,
    write_model_file,
)


@pytest.fixture
def room_device_id(
    init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> str:
    """The device id of the living room."""
    device = room_device(device_registry, init_integration.entry_id, ROOM_SUBENTRY_ID)
    assert device is not None
    return device.id


@pytest.mark.parametrize("history_days", [5])
async def test_train_one_room(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The train action trains the room it is given."""
    await async_setup_integration(hass, mock_config_entry)
    device = room_device(device_registry, mock_config_entry.entry_id, ROOM_SUBENTRY_ID)
    calls: list[str] = []

    async def spy(process: TrainingProcess, room: str, *args: Any) -> Any:
        calls.append(room)
        return await REAL_TRAIN(process, room, *args)

    with patch_training(spy):
        await hass.services.async_call(
            DOMAIN, SERVICE_TRAIN, {"room": [device.id]}, blocking=True
        )
    assert calls == ["Living room"]
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.status is ModelStatus.TRAINED


async def test_train_unknown_room(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A device that is not a room is refused with a translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_TRAIN, {"room": ["not-a-device"]}, blocking=True
        )
    assert err.value.translation_key == "room_not_found"


async def test_train_when_not_loaded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The actions say so when the integration is not set up."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, SERVICE_TRAIN, {}, blocking=True)
    assert err.value.translation_key == "not_loaded"


async def test_import_model(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    room_device_id: str,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
) -> None:
    """A room of a trainer's model file replaces the fallback, and stays."""
    entry = init_integration
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.FALLBACK
    kitchen = {**trained_model_data, "room": "Kitchen"}
    await hass.async_add_executor_job(
        write_model_file,
        private_config_dir / "models" / "home.json",
        location,
        {"Kitchen": kitchen, "living room": trained_model_data},
    )
    await hass.services.async_call(
        DOMAIN,
        SERVICE_IMPORT_MODEL,
        {"room": room_device_id, "path": "models/home.json"},
        blocking=True,
    )
    # Chosen by the room's name (case does not matter).
    assert room.source is ModelSource.IMPORTED
    assert room.status is ModelStatus.TRAINED
    assert room.model.to_dict() == trained_model_data
    state = hass.states.get("sensor.living_room_model_status")
    assert state.state == "trained"
    assert state.attributes["source"] == "imported"

    await hass.services.async_call(
        DOMAIN,
        SERVICE_IMPORT_MODEL,
        {
            "room": room_device_id,
            "path": str(private_config_dir / "models" / "home.json"),
            "room_name": "Kitchen",
        },
        blocking=True,
    )
    assert room.model.room == "Kitchen"

    # A restart keeps the imported model and does not train over it.
    with patch_training(AssertionError("trained")) as train:
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    # (Training catches every error: the call itself is what must not happen.)
    train.assert_not_called()
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.IMPORTED
    assert room.model.room == "Kitchen"


@pytest.mark.parametrize("history_days", [5])
async def test_import_during_training_is_kept(
    hass: HomeAssistant,
    lux_history: History,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
) -> None:
    """A model imported while the room trains is not replaced when it ends."""
    await async_setup_integration(hass, mock_config_entry)
    device = room_device(device_registry, mock_config_entry.entry_id, ROOM_SUBENTRY_ID)
    assert device is not None
    await hass.async_add_executor_job(
        write_model_file,
        private_config_dir / "models" / "home.json",
        location,
        {"Living room": trained_model_data},
    )
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_train(process: TrainingProcess, *args: Any) -> Any:
        started.set()
        await release.wait()
        return await REAL_TRAIN(process, *args)

    with patch_training(slow_train):
        training = hass.async_create_task(
            hass.services.async_call(
                DOMAIN, SERVICE_TRAIN, {"room": [device.id]}, blocking=True
            )
        )
        async with asyncio.timeout(30):
            await started.wait()
        await hass.services.async_call(
            DOMAIN,
            SERVICE_IMPORT_MODEL,
            {"room": device.id, "path": "models/home.json"},
            blocking=True,
        )
        release.set()
        await training
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.IMPORTED
    assert room.model is not None
    assert room.model.to_dict() == trained_model_data
    # What a restart reads is the imported model too.
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    room = mock_config_entry.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.IMPORTED
    assert room.model.to_dict() == trained_model_data  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "room_name", "content", "translation_key"),
    [
        ("/etc/hostname", None, None, "path_not_allowed"),
        ("../outside.json", None, None, "path_not_allowed"),
        ("models/missing.json", None, None, "not_a_model"),
        ("models/broken.json", None, '{"format": "something else"}', "not_a_model"),
        ("models/broken.json", None, "not json at all", "not_a_model"),
        (
            "models/broken.json",
            None,
            '{"format": "lighting_replay.home_model"}',
            "invalid_model",
        ),
        ("models/home.json", "Garage", "rooms", "room_not_in_model"),
        ("models/home.json", None, "rooms", "room_not_in_model"),
    ],
)
async def test_import_model_errors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    room_device_id: str,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
    path: str,
    room_name: str | None,
    content: str | None,
    translation_key: str,
) -> None:
    """Each bad import is refused with its translated error; nothing changes."""
    target = private_config_dir / path
    if content == "rooms":
        # Two rooms, neither named like the living room.
        await hass.async_add_executor_job(
            write_model_file,
            target,
            location,
            {"Kitchen": trained_model_data, "Bedroom": trained_model_data},
        )
    elif content is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        await hass.async_add_executor_job(target.write_text, content)
    data = {"room": room_device_id, "path": path}
    if room_name is not None:
        data["room_name"] = room_name
    room = init_integration.runtime_data.rooms[ROOM_SUBENTRY_ID]
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, SERVICE_IMPORT_MODEL, data, blocking=True
        )
    assert err.value.translation_key == translation_key
    assert err.value.translation_domain == DOMAIN
    assert room.source is ModelSource.FALLBACK


@pytest.mark.parametrize(
    ("service", "data"),
    [(SERVICE_TRAIN, {}), (SERVICE_IMPORT_MODEL, "import")],
)
async def test_admin_actions_refuse_users(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    room_device_id: str,
    location: Location,
    trained_model_data: dict[str, Any],
    private_config_dir: Path,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
    service: str,
    data: dict[str, Any] | str,
) -> None:
    """Train and import_model are admin actions: a user is refused."""
    await hass.async_add_executor_job(
        write_model_file,
        private_config_dir / "models" / "home.json",
        location,
        {"Living room": trained_model_data},
    )
    if data == "import":
        data = {"room": room_device_id, "path": "models/home.json"}
    room = init_integration.runtime_data.rooms[ROOM_SUBENTRY_ID]
    with (
        patch_training(AssertionError("trained")) as train,
        pytest.raises(Unauthorized),
    ):
        await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    train.assert_not_called()
    assert room.source is ModelSource.FALLBACK
    # An admin may.
    await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    if service == SERVICE_IMPORT_MODEL:
        assert room.source is ModelSource.IMPORTED


@pytest.mark.parametrize("service", [SERVICE_START, SERVICE_STOP, SERVICE_REGENERATE])
async def test_replay_actions_are_user_actions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_read_only_user: MockUser,
    service: str,
) -> None:
    """Start, stop and regenerate do what the replay switch lets a user do."""
    await hass.services.async_call(
        DOMAIN,
        service,
        {},
        blocking=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    replay = init_integration.runtime_data.replay
    assert replay.active is (service == SERVICE_START)
