"""Light calls of the replay: what a room's lights should be, snapshot, restore.

Every call to a light or switch goes through `async_call_lights`: it calls
them all at once (one hanging light never holds up the others, whichever
room they belong to), owns the timeout, and turns each failure into one
readable reason ("no answer within 30 s" for a timeout, never an empty
text). The runner decides what a failure means (an unreachable light, a
restore that did not happen) and logs it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_BRIGHTNESS_PCT,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_RGB_COLOR,
    ATTR_RGBW_COLOR,
    ATTR_RGBWW_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_XY_COLOR,
    brightness_supported,
)
from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN, ColorMode
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import Context, HomeAssistant, State

# A light that does not answer within this time counts as unreachable.
LIGHT_CALL_TIMEOUT = 30

# What is kept of a light's state to restore it, by colour mode.
COLOR_ATTRIBUTE: dict[str, str] = {
    ColorMode.COLOR_TEMP: ATTR_COLOR_TEMP_KELVIN,
    ColorMode.HS: ATTR_HS_COLOR,
    ColorMode.XY: ATTR_XY_COLOR,
    ColorMode.RGB: ATTR_RGB_COLOR,
    ColorMode.RGBW: ATTR_RGBW_COLOR,
    ColorMode.RGBWW: ATTR_RGBWW_COLOR,
}


@dataclass(frozen=True, kw_only=True)
class RoomAction:
    """What a room's lights should be: on at a level and brightness, or off.

    `scene` (learned from the lights) gives some lights their own
    brightness, 0 for off: entity_id -> percent; the others follow
    `brightness_pct`.
    """

    on: bool
    level: int | None = None
    brightness_pct: int | None = None
    scene: tuple[tuple[str, int], ...] = ()

    def brightness_of(self, entity_id: str) -> int | None:
        """Return the brightness a light gets, 0 if it stays off (None: off)."""
        if not self.on:
            return None
        return dict(self.scene).get(entity_id, self.brightness_pct)


@dataclass(frozen=True)
class LightCall:
    """One action of one light or switch, in the entity's own domain."""

    entity_id: str
    service: str
    data: Mapping[str, Any] = field(default_factory=dict)
    # Whether the call changes what the light is (else not worth a logbook line).
    changes: bool = True

    @property
    def on(self) -> bool:
        """Return whether the call turns the light on."""
        return self.service == SERVICE_TURN_ON


def brightness_words(pct: int | None) -> str:
    """Return a brightness in words with its percentage ("dim, 30 %")."""
    if pct is None:
        return "on"
    word = "full" if pct >= 95 else "bright" if pct >= 50 else "dim"
    return f"{word}, {pct} %"


def describe_action(action: RoomAction, name_of: Callable[[str], str]) -> str:
    """Return what an action does to a room's lights, in words.

    A scene names each light with its brightness; otherwise the room's
    brightness is said in words.
    """
    if not action.on:
        return "off"
    if not action.scene:
        return brightness_words(action.brightness_pct)
    return ", ".join(
        f"{name_of(entity_id)} {f'{pct} %' if pct else 'off'}"
        for entity_id, pct in action.scene
    )


def snapshot_of(state: State | None) -> dict[str, Any] | None:
    """Return what is kept of a light's state to restore it (None: unknown)."""
    if state is None or state.state not in (STATE_ON, STATE_OFF):
        return None
    saved: dict[str, Any] = {"state": state.state}
    if state.state == STATE_ON:
        if (brightness := state.attributes.get(ATTR_BRIGHTNESS)) is not None:
            saved[ATTR_BRIGHTNESS] = brightness
        mode = state.attributes.get(ATTR_COLOR_MODE)
        if (attribute := COLOR_ATTRIBUTE.get(str(mode))) is not None and (
            value := state.attributes.get(attribute)
        ) is not None:
            saved[attribute] = list(value) if isinstance(value, tuple | list) else value
    return saved


def _changes(state: State | None, on: bool, brightness: int | None) -> bool:
    """Return whether a light in `state` changes when set to on/off, brightness."""
    if state is None or state.state not in (STATE_ON, STATE_OFF):
        return True
    if (state.state == STATE_ON) != on:
        return True
    if not on or brightness is None:
        return False
    return state.attributes.get(ATTR_BRIGHTNESS) != brightness


def switch_call(hass: HomeAssistant, entity_id: str, action: RoomAction) -> LightCall:
    """Return the call that switches one light or switch as `action` says."""
    state = hass.states.get(entity_id)
    pct = action.brightness_of(entity_id)
    if not pct:
        return LightCall(
            entity_id, SERVICE_TURN_OFF, changes=_changes(state, False, None)
        )
    data: dict[str, Any] = {}
    brightness: int | None = None
    modes = None if state is None else state.attributes.get(ATTR_SUPPORTED_COLOR_MODES)
    if entity_id.startswith(f"{LIGHT_DOMAIN}.") and brightness_supported(modes):
        data[ATTR_BRIGHTNESS_PCT] = pct
        brightness = round(pct * 255 / 100)
    return LightCall(
        entity_id, SERVICE_TURN_ON, data, changes=_changes(state, True, brightness)
    )


def restore_call(
    hass: HomeAssistant, entity_id: str, saved: Mapping[str, Any]
) -> LightCall:
    """Return the call that puts a light back as its snapshot says."""
    on = saved.get("state") == STATE_ON
    state = hass.states.get(entity_id)
    if not on:
        return LightCall(
            entity_id, SERVICE_TURN_OFF, changes=_changes(state, False, None)
        )
    data = {key: value for key, value in saved.items() if key != "state"}
    return LightCall(
        entity_id,
        SERVICE_TURN_ON,
        data,
        changes=_changes(state, True, data.get(ATTR_BRIGHTNESS)),
    )


def failure_reason(err: BaseException) -> str:
    """Return why a light call failed, in words (never empty)."""
    if isinstance(err, TimeoutError):
        return f"no answer within {LIGHT_CALL_TIMEOUT} s (timed out)"
    return str(err) or type(err).__name__


async def _async_call(hass: HomeAssistant, call: LightCall, context: Context) -> None:
    async with asyncio.timeout(LIGHT_CALL_TIMEOUT):
        await hass.services.async_call(
            call.entity_id.split(".", maxsplit=1)[0],
            call.service,
            {**call.data, ATTR_ENTITY_ID: call.entity_id},
            blocking=True,
            context=context,
        )


async def async_call_lights(
    hass: HomeAssistant, calls: Iterable[LightCall], context: Context
) -> dict[str, str | None]:
    """Make the calls at once; return each light's failure (None: reached).

    A cancelled caller cancels every call under way.
    """
    todo = list(calls)
    results = await asyncio.gather(
        *(_async_call(hass, call, context) for call in todo), return_exceptions=True
    )
    out: dict[str, str | None] = {}
    for call, result in zip(todo, results, strict=True):
        if isinstance(result, asyncio.CancelledError):
            raise result
        out[call.entity_id] = (
            failure_reason(result) if isinstance(result, BaseException) else None
        )
    return out
