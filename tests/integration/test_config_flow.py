"""Config flow: the home entry and room subentries, every error recovering."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import (
    CONF_ARCHIVE_DAYS,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_N_LEVELS,
    CONF_ON_LEVEL,
    CONF_ON_LUX,
    CONF_PRESENCE,
    CONF_ROOM_NAME,
    DOMAIN,
    SUBENTRY_TYPE_ROOM,
)

from .conftest import LIGHT_ENTITY, LUX_ENTITY, ROOM_NAME, ROOM_SUBENTRY_ID

KITCHEN_LUX = "sensor.kitchen_lux"
KITCHEN_LIGHT = "light.kitchen_ceiling"
KITCHEN_PLUG = "switch.kitchen_plug"


@pytest.fixture
def kitchen(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> None:
    """A second lux sensor and light, and a sensor that is not illuminance."""
    entity_registry.async_get_or_create(
        "sensor",
        "lux_node",
        "kitchen-lux",
        suggested_object_id="kitchen_lux",
        original_device_class="illuminance",
    )
    hass.states.async_set(
        KITCHEN_LUX, "120", {"device_class": "illuminance", "unit_of_measurement": "lx"}
    )
    entity_registry.async_get_or_create(
        "light", "hue", "kitchen-ceiling", suggested_object_id="kitchen_ceiling"
    )
    hass.states.async_set(KITCHEN_LIGHT, "off")
    entity_registry.async_get_or_create(
        "switch", "plugs", "kitchen-plug", suggested_object_id="kitchen_plug"
    )
    hass.states.async_set(KITCHEN_PLUG, "off")
    hass.states.async_set(
        "sensor.kitchen_temperature",
        "21.5",
        {"device_class": "temperature", "unit_of_measurement": "°C"},
    )


async def test_user_flow(hass: HomeAssistant) -> None:
    """The home is added with its settings; the title is the home's name."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ARCHIVE_DAYS: 200, CONF_N_LEVELS: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == hass.config.location_name
    assert result["data"] == {
        CONF_ARCHIVE_DAYS: 200,
        CONF_N_LEVELS: 5,
        CONF_PRESENCE: None,
    }
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_user_flow_with_presence(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A presence entity is checked, refused when wrong, stored by registry id."""
    entity_registry.async_get_or_create(
        "person", "person", "anna", suggested_object_id="anna"
    )
    hass.states.async_set("person.anna", "home")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    settings = {CONF_ARCHIVE_DAYS: 200, CONF_N_LEVELS: 4}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings | {CONF_PRESENCE: "person.nobody"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PRESENCE: "presence_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings | {CONF_PRESENCE: "person.anna"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PRESENCE] == entity_registry.async_get("person.anna").id
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_single_instance(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The integration is added once."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_reconfigure_home(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The home-wide settings change and the entry reloads with them."""
    entry = init_integration
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ARCHIVE_DAYS: 120, CONF_N_LEVELS: 3}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data == {
        CONF_ARCHIVE_DAYS: 120,
        CONF_N_LEVELS: 3,
        CONF_PRESENCE: None,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.settings.archive_days == 120
    assert entry.runtime_data.settings.n_levels == 3


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_ROOM_NAME: "  "}, {CONF_ROOM_NAME: "name_required"}),
        ({CONF_ROOM_NAME: "living ROOM"}, {CONF_ROOM_NAME: "duplicate_name"}),
        ({CONF_LUX_SENSOR: "sensor.nowhere"}, {CONF_LUX_SENSOR: "sensor_not_found"}),
        (
            {CONF_LUX_SENSOR: "sensor.kitchen_temperature"},
            {CONF_LUX_SENSOR: "not_illuminance"},
        ),
        ({CONF_LUX_SENSOR: LUX_ENTITY}, {CONF_LUX_SENSOR: "duplicate_sensor"}),
        ({CONF_LIGHTS: []}, {CONF_LIGHTS: "no_lights"}),
        ({CONF_LIGHTS: ["light.nowhere"]}, {CONF_LIGHTS: "light_not_found"}),
        ({CONF_ON_LEVEL: 2, CONF_ON_LUX: 40.0}, {"base": "threshold_conflict"}),
        ({CONF_LUX_SENSOR: None}, {CONF_LUX_SENSOR: "sensor_required"}),
        ({CONF_LIGHTS: [LIGHT_ENTITY]}, {CONF_LIGHTS: "duplicate_light"}),
        (
            {CONF_LEARN_FROM: "lights", CONF_ON_LEVEL: 2},
            {"base": "threshold_needs_lux"},
        ),
    ],
)
@pytest.mark.usefixtures("kitchen")
async def test_add_room_errors_recover(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each error is shown on its field, and a corrected form adds the room."""
    entry = init_integration
    good = {
        CONF_ROOM_NAME: "Kitchen",
        CONF_LUX_SENSOR: KITCHEN_LUX,
        CONF_LIGHTS: [KITCHEN_LIGHT],
        CONF_LEARN_FROM: "lux",
    }
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_ROOM), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    # None leaves a field out.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {key: value for key, value in (good | user_input).items() if value is not None},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], good | {CONF_ON_LUX: 40.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Kitchen"
    await hass.async_block_till_done(wait_background_tasks=True)

    subentry = next(
        s for s in entry.subentries.values() if s.subentry_id != ROOM_SUBENTRY_ID
    )
    # Entities are stored by registry id, so renaming them does not matter.
    assert subentry.data == {
        CONF_LUX_SENSOR: entity_registry.async_get(KITCHEN_LUX).id,
        CONF_LIGHTS: [entity_registry.async_get(KITCHEN_LIGHT).id],
        CONF_LEARN_FROM: "lux",
        CONF_ON_LUX: 40.0,
    }
    # The entry reloaded with the new room.
    assert subentry.subentry_id in entry.runtime_data.rooms


@pytest.mark.usefixtures("kitchen")
async def test_add_room_without_a_lux_sensor(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A room of a light and a smart plug learns from their history alone."""
    entry = init_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_ROOM), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_ROOM_NAME: "Kitchen",
            CONF_LIGHTS: [KITCHEN_LIGHT, KITCHEN_PLUG],
            CONF_LEARN_FROM: "lights",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    subentry = next(
        s for s in entry.subentries.values() if s.subentry_id != ROOM_SUBENTRY_ID
    )
    assert subentry.data == {
        CONF_LUX_SENSOR: None,
        CONF_LIGHTS: [
            entity_registry.async_get(KITCHEN_LIGHT).id,
            entity_registry.async_get(KITCHEN_PLUG).id,
        ],
        CONF_LEARN_FROM: "lights",
    }
    room = entry.runtime_data.rooms[subentry.subentry_id].config
    assert room.lux_entity_id(hass) is None
    assert room.light_entity_ids(hass) == [KITCHEN_LIGHT, KITCHEN_PLUG]


@pytest.mark.usefixtures("kitchen")
async def test_reconfigure_room(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A room is changed; a taken name is refused first, then fixed."""
    entry = init_integration
    hass.config_entries.async_add_subentry(
        entry,
        _subentry("Kitchen", entity_registry, KITCHEN_LUX, KITCHEN_LIGHT),
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    # (MockConfigEntry's helper for this changed its arguments between
    # Home Assistant versions; the flow manager's call did not.)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_ROOM),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": ROOM_SUBENTRY_ID},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    # The form shows the current entity ids, not the stored registry ids.
    defaults = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert defaults[CONF_LUX_SENSOR] == LUX_ENTITY
    assert defaults[CONF_LIGHTS] == [LIGHT_ENTITY]
    assert defaults[CONF_ROOM_NAME] == ROOM_NAME
    assert defaults[CONF_LEARN_FROM] == "lux"

    changed = {
        CONF_ROOM_NAME: "Kitchen",
        CONF_LUX_SENSOR: LUX_ENTITY,
        CONF_LIGHTS: [LIGHT_ENTITY, KITCHEN_PLUG],
        CONF_LEARN_FROM: "both",
        CONF_ON_LEVEL: 2,
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], changed
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_ROOM_NAME: "duplicate_name"}

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], changed | {CONF_ROOM_NAME: "Lounge"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done(wait_background_tasks=True)

    subentry = entry.subentries[ROOM_SUBENTRY_ID]
    assert subentry.title == "Lounge"
    assert subentry.data[CONF_ON_LEVEL] == 2
    assert len(subentry.data[CONF_LIGHTS]) == 2
    room = entry.runtime_data.rooms[ROOM_SUBENTRY_ID].config
    assert room.name == "Lounge"
    assert room.learn_from == "both"
    assert room.light_entity_ids(hass) == [LIGHT_ENTITY, KITCHEN_PLUG]


async def test_renamed_sensor_is_followed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The room finds its lux sensor under a new entity id."""
    entity_registry.async_update_entity(
        LUX_ENTITY, new_entity_id="sensor.lounge_illuminance"
    )
    await hass.async_block_till_done()
    room = init_integration.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.config.lux_entity_id(hass) == "sensor.lounge_illuminance"


def _subentry(
    title: str, registry: er.EntityRegistry, sensor: str, light: str
) -> ConfigSubentry:
    """Return a room subentry for a sensor and a light."""
    return ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_LUX_SENSOR: registry.async_get(sensor).id,
                CONF_LIGHTS: [registry.async_get(light).id],
                CONF_LEARN_FROM: "lux",
            }
        ),
        subentry_type=SUBENTRY_TYPE_ROOM,
        title=title,
        unique_id=None,
    )


@pytest.mark.parametrize(
    ("attributes", "registry_unit"),
    [({"unit_of_measurement": "LX"}, None), (None, " Lux ")],
    ids=["state unit in capitals", "registry unit only"],
)
@pytest.mark.usefixtures("kitchen")
async def test_lux_sensor_without_device_class(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    attributes: dict[str, str] | None,
    registry_unit: str | None,
) -> None:
    """A sensor with a lux unit and no device class is offered and accepted."""
    entity_registry.async_get_or_create(
        "sensor",
        "diy",
        "hall-lux",
        suggested_object_id="hall_lux",
        unit_of_measurement=registry_unit,
    )
    if attributes is not None:
        hass.states.async_set("sensor.hall_lux", "80", attributes)
    entry = init_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_ROOM), context={"source": SOURCE_USER}
    )
    # The picker offers every sensor: the server check below decides.
    schema = result["data_schema"].schema
    selector = next(v for k, v in schema.items() if k == CONF_LUX_SENSOR)
    assert "device_class" not in selector.config
    assert "filter" not in selector.config
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_ROOM_NAME: "Hall",
            CONF_LUX_SENSOR: "sensor.hall_lux",
            CONF_LIGHTS: [KITCHEN_LIGHT],
            CONF_LEARN_FROM: "lux",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
