"""Config flow of Lighting Replay: the home entry and one subentry per room."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from .const import (
    CONF_ALL_OFF_BY,
    CONF_ARCHIVE_DAYS,
    CONF_JITTER_MINUTES,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_MIN_ON_MINUTES,
    CONF_N_LEVELS,
    CONF_ON_LEVEL,
    CONF_ON_LUX,
    CONF_PRESENCE,
    CONF_RESTORE,
    CONF_ROOM_NAME,
    CONF_SUNSET_OFFSET,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    DEFAULT_ARCHIVE_DAYS,
    DEFAULT_JITTER_MINUTES,
    DEFAULT_MIN_ON_MINUTES,
    DEFAULT_N_LEVELS,
    DEFAULT_RESTORE,
    DOMAIN,
    LIGHT_DOMAINS,
    LUX_UNITS,
    MAX_ARCHIVE_DAYS,
    MAX_JITTER_MINUTES,
    MAX_MIN_ON_MINUTES,
    MAX_N_LEVELS,
    MAX_SUNSET_OFFSET,
    MIN_ARCHIVE_DAYS,
    MIN_N_LEVELS,
    PRESENCE_DOMAINS,
    SUBENTRY_TYPE_ROOM,
    LearnFrom,
)
from .data import HomeSettings, RoomConfig, room_configs

HOME_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ARCHIVE_DAYS, default=DEFAULT_ARCHIVE_DAYS): NumberSelector(
            NumberSelectorConfig(
                min=MIN_ARCHIVE_DAYS,
                max=MAX_ARCHIVE_DAYS,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="d",
            )
        ),
        vol.Required(CONF_N_LEVELS, default=DEFAULT_N_LEVELS): NumberSelector(
            NumberSelectorConfig(
                min=MIN_N_LEVELS, max=MAX_N_LEVELS, step=1, mode=NumberSelectorMode.BOX
            )
        ),
        vol.Optional(CONF_PRESENCE): EntitySelector(
            EntitySelectorConfig(domain=list(PRESENCE_DOMAINS))
        ),
    }
)


@callback
def _validate_home(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the home-wide settings; return (entry data, per-field errors)."""
    data: dict[str, Any] = {
        CONF_ARCHIVE_DAYS: int(user_input[CONF_ARCHIVE_DAYS]),
        CONF_N_LEVELS: int(user_input[CONF_N_LEVELS]),
        CONF_PRESENCE: None,
    }
    if presence := user_input.get(CONF_PRESENCE):
        presence = str(presence)
        if presence.split(".")[0] not in PRESENCE_DOMAINS or not _entity_exists(
            hass, presence
        ):
            return {}, {CONF_PRESENCE: "presence_not_found"}
        data[CONF_PRESENCE] = _stored_id(er.async_get(hass), presence)
    return data, {}


@callback
def _home_form_values(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the stored home settings as form values (current entity_ids)."""
    values = {key: data[key] for key in (CONF_ARCHIVE_DAYS, CONF_N_LEVELS)}
    settings = HomeSettings.from_entry_data(data)
    if (presence := settings.presence_entity_id(hass)) is not None:
        values[CONF_PRESENCE] = presence
    return values


class LightingReplayConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add Lighting Replay once; rooms are added as subentries."""

    # 2: rooms say what they learn from (`learn_from`); the lux sensor is
    # optional; the home may name a presence entity.
    VERSION = 2
    MINOR_VERSION = 1

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry types: rooms."""
        return {SUBENTRY_TYPE_ROOM: RoomSubentryFlowHandler}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the replay options flow."""
        return ReplayOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up the home: location and time zone come from Home Assistant."""
        # The number selectors reject values out of range before this step.
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = _validate_home(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    title=self.hass.config.location_name or "Home", data=data
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(HOME_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the home-wide settings."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = _validate_home(self.hass, user_input)
            if not errors:
                # The entry's update listener reloads it with the new settings.
                self.hass.config_entries.async_update_entry(
                    entry, data=entry.data | data
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                HOME_SCHEMA, user_input or _home_form_values(self.hass, entry.data)
            ),
            errors=errors,
        )


class RoomSubentryFlowHandler(ConfigSubentryFlow):
    """Add or change a room: its lights, what it learns from, its threshold."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a room."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = _validate_room(
                self.hass, self._get_entry(), user_input, current=None
            )
            if not errors:
                return self.async_create_entry(
                    title=user_input[CONF_ROOM_NAME].strip(), data=data
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _room_schema(self._get_entry()), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a room."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = _validate_room(
                self.hass, entry, user_input, current=subentry.subentry_id
            )
            if not errors:
                return self.async_update_and_abort(
                    entry,
                    subentry,
                    title=user_input[CONF_ROOM_NAME].strip(),
                    data=data,
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _room_schema(entry),
                user_input or _room_form_values(self.hass, subentry.subentry_id, entry),
            ),
            errors=errors,
        )


def _room_schema(entry: ConfigEntry) -> vol.Schema:
    """Return the room form; the level choice depends on the home's levels."""
    n_levels = HomeSettings.from_entry_data(entry.data).n_levels
    return vol.Schema(
        {
            vol.Required(CONF_ROOM_NAME): TextSelector(),
            vol.Required(CONF_LIGHTS): EntitySelector(
                EntitySelectorConfig(domain=list(LIGHT_DOMAINS), multiple=True)
            ),
            vol.Required(CONF_LEARN_FROM, default=LearnFrom.LIGHTS): SelectSelector(
                SelectSelectorConfig(
                    options=[choice.value for choice in LearnFrom],
                    translation_key=CONF_LEARN_FROM,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            # Every sensor is offered: an illuminance sensor may have a lux
            # unit and no device class, which a selector cannot filter on;
            # `_is_illuminance` decides, as reading its history does.
            vol.Optional(CONF_LUX_SENSOR): EntitySelector(
                EntitySelectorConfig(domain="sensor")
            ),
            vol.Optional(CONF_ON_LEVEL): NumberSelector(
                NumberSelectorConfig(
                    min=1, max=n_levels - 1, step=1, mode=NumberSelectorMode.BOX
                )
            ),
            vol.Optional(CONF_ON_LUX): NumberSelector(
                NumberSelectorConfig(
                    min=0,
                    max=100000,
                    step="any",
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="lx",
                )
            ),
        }
    )


@callback
def _room_form_values(
    hass: HomeAssistant, subentry_id: str, entry: ConfigEntry
) -> dict[str, Any]:
    """Return the stored room as form values (current entity_ids)."""
    room = RoomConfig.from_subentry(entry.subentries[subentry_id])
    values: dict[str, Any] = {
        CONF_ROOM_NAME: room.name,
        CONF_LIGHTS: room.light_entity_ids(hass),
        CONF_LEARN_FROM: room.learn_from.value,
    }
    if room.lux_sensor is not None:
        values[CONF_LUX_SENSOR] = room.lux_entity_id(hass) or room.lux_sensor
    if room.on_level is not None:
        values[CONF_ON_LEVEL] = room.on_level
    if room.on_lux is not None:
        values[CONF_ON_LUX] = room.on_lux
    return values


@callback
def _entity_exists(hass: HomeAssistant, entity_id: str) -> bool:
    """Return whether an entity is known by its state or its registry entry."""
    return (
        hass.states.get(entity_id) is not None
        or er.async_get(hass).async_get(entity_id) is not None
    )


@callback
def _is_illuminance(hass: HomeAssistant, entity_id: str) -> bool:
    """Return whether an entity looks like an illuminance sensor.

    Its device class is illuminance, or its unit is one the history reader
    turns into lux (any case, as the reader accepts it).
    """
    if (state := hass.states.get(entity_id)) is not None:
        if state.attributes.get(ATTR_DEVICE_CLASS) == "illuminance":
            return True
        if _is_lux_unit(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)):
            return True
    if (reg_entry := er.async_get(hass).async_get(entity_id)) is not None:
        return "illuminance" in (
            reg_entry.device_class,
            reg_entry.original_device_class,
        ) or _is_lux_unit(reg_entry.unit_of_measurement)
    return False


def _is_lux_unit(unit: object) -> bool:
    """Return whether a unit is an illuminance unit the history reader knows."""
    return unit is not None and str(unit).strip().lower() in LUX_UNITS


@callback
def _stored_id(registry: er.EntityRegistry, entity_id: str) -> str:
    """Return what is stored for an entity: its registry id, else its entity_id."""
    if (reg_entry := registry.async_get(entity_id)) is not None:
        return reg_entry.id
    return entity_id


@callback
def _validate_room(
    hass: HomeAssistant,
    entry: ConfigEntry,
    user_input: Mapping[str, Any],
    *,
    current: str | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a room form; return (subentry data, per-field errors)."""
    errors: dict[str, str] = {}
    registry = er.async_get(hass)
    name = str(user_input.get(CONF_ROOM_NAME, "")).strip()
    sensor = str(user_input.get(CONF_LUX_SENSOR) or "")
    try:
        learn_from = LearnFrom(user_input.get(CONF_LEARN_FROM, LearnFrom.LIGHTS))
    except ValueError:
        learn_from = LearnFrom.LIGHTS
        errors[CONF_LEARN_FROM] = "invalid_learn_from"
    lights_input = user_input.get(CONF_LIGHTS) or []
    lights = [lights_input] if isinstance(lights_input, str) else list(lights_input)
    on_level = user_input.get(CONF_ON_LEVEL)
    on_lux = user_input.get(CONF_ON_LUX)
    n_levels = HomeSettings.from_entry_data(entry.data).n_levels

    others = [
        room
        for subentry_id, room in room_configs(entry).items()
        if subentry_id != current
    ]
    if not name:
        errors[CONF_ROOM_NAME] = "name_required"
    elif any(room.name.casefold() == name.casefold() for room in others):
        errors[CONF_ROOM_NAME] = "duplicate_name"

    if not sensor:
        if learn_from.uses_lux:
            errors[CONF_LUX_SENSOR] = "sensor_required"
    elif not _entity_exists(hass, sensor):
        errors[CONF_LUX_SENSOR] = "sensor_not_found"
    elif not sensor.startswith("sensor.") or not _is_illuminance(hass, sensor):
        errors[CONF_LUX_SENSOR] = "not_illuminance"
    elif any(room.lux_entity_id(hass) == sensor for room in others):
        errors[CONF_LUX_SENSOR] = "duplicate_sensor"

    taken = {entity_id for room in others for entity_id in room.light_entity_ids(hass)}
    if not lights:
        errors[CONF_LIGHTS] = "no_lights"
    elif not all(
        light.split(".")[0] in LIGHT_DOMAINS and _entity_exists(hass, light)
        for light in lights
    ):
        errors[CONF_LIGHTS] = "light_not_found"
    elif any(light in taken for light in lights):
        # Two rooms switching one lamp would fight over it.
        errors[CONF_LIGHTS] = "duplicate_light"

    if not learn_from.uses_lux and (on_level is not None or on_lux is not None):
        errors["base"] = "threshold_needs_lux"
    elif on_level is not None and on_lux is not None:
        errors["base"] = "threshold_conflict"
    elif on_level is not None and not 1 <= on_level <= n_levels - 1:
        errors[CONF_ON_LEVEL] = "invalid_on_level"
    elif on_lux is not None and on_lux < 0:
        errors[CONF_ON_LUX] = "invalid_on_lux"

    if errors:
        return {}, errors
    data: dict[str, Any] = {
        CONF_LUX_SENSOR: _stored_id(registry, sensor) if sensor else None,
        CONF_LIGHTS: [_stored_id(registry, light) for light in dict.fromkeys(lights)],
        CONF_LEARN_FROM: learn_from.value,
    }
    if on_level is not None:
        data[CONF_ON_LEVEL] = int(on_level)
    if on_lux is not None:
        data[CONF_ON_LUX] = float(on_lux)
    return data, {}


# Replay
# Replay times are chosen in quarter hours on a 24-hour clock, shown as they
# are set ("18:30"); another time can be typed. (The time selector asks for
# seconds and shows "AM" when empty.)
TIME_CHOICES = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)]
TIME_KEYS = (CONF_WINDOW_START, CONF_WINDOW_END, CONF_ALL_OFF_BY)


def _time_selector() -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=TIME_CHOICES, custom_value=True, mode=SelectSelectorMode.DROPDOWN
        )
    )


REPLAY_OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_WINDOW_START): _time_selector(),
        vol.Optional(CONF_WINDOW_END): _time_selector(),
        vol.Optional(CONF_SUNSET_OFFSET): NumberSelector(
            NumberSelectorConfig(
                min=-MAX_SUNSET_OFFSET,
                max=MAX_SUNSET_OFFSET,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="min",
            )
        ),
        vol.Optional(CONF_ALL_OFF_BY): _time_selector(),
        vol.Required(
            CONF_MIN_ON_MINUTES, default=DEFAULT_MIN_ON_MINUTES
        ): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=MAX_MIN_ON_MINUTES,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="min",
            )
        ),
        vol.Required(
            CONF_JITTER_MINUTES, default=DEFAULT_JITTER_MINUTES
        ): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=MAX_JITTER_MINUTES,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement="min",
            )
        ),
        vol.Required(CONF_RESTORE, default=DEFAULT_RESTORE): BooleanSelector(),
    }
)


def _time_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Return an error for each time field that is not a time of day."""
    errors: dict[str, str] = {}
    for key in TIME_KEYS:
        if value := user_input.get(key):
            try:
                time.fromisoformat(str(value).strip())
            except ValueError:
                errors[key] = "invalid_time"
    return errors


def _shown_times(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options with their times as the form shows them (HH:MM)."""
    shown = dict(options)
    for key in TIME_KEYS:
        if value := options.get(key):
            try:
                shown[key] = time.fromisoformat(str(value)).strftime("%H:%M")
            except ValueError:
                shown.pop(key)
    return shown


def _replay_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the entry options of a validated form (numbers as whole numbers)."""
    options: dict[str, Any] = {
        key: str(user_input[key]).strip() for key in TIME_KEYS if user_input.get(key)
    }
    if user_input.get(CONF_SUNSET_OFFSET) is not None:
        options[CONF_SUNSET_OFFSET] = int(user_input[CONF_SUNSET_OFFSET])
    options[CONF_MIN_ON_MINUTES] = int(user_input[CONF_MIN_ON_MINUTES])
    options[CONF_JITTER_MINUTES] = int(user_input[CONF_JITTER_MINUTES])
    options[CONF_RESTORE] = bool(user_input[CONF_RESTORE])
    return options


class ReplayOptionsFlow(OptionsFlow):
    """Set the limits every replayed day is sampled with."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the replay options (the running replay takes them up)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _time_errors(user_input)
            if not errors:
                return self.async_create_entry(data=_replay_options(user_input))
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                REPLAY_OPTIONS_SCHEMA,
                user_input or _shown_times(self.config_entry.options),
            ),
            errors=errors,
        )
