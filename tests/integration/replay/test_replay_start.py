"""Starting replay: today's plan is kept, a far end is refused before anything changes."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import DOMAIN, MAX_REPLAY_DAYS
from custom_components.lighting_replay.engine.model import RoomModel
from integration.conftest import ROOM_SUBENTRY_ID

from .conftest import (
    LAMP,
    START,
    SWITCH,
    ReplayTestLight,
    async_move_to,
    async_setup_replay,
    changes_after,
)


async def test_turning_on_keeps_todays_plan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """What the calendar shows as running is what happens when replay starts."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    changes = changes_after(replay, START)
    index = next(i for i, c in enumerate(changes) if c.on)
    on, off = changes[index], changes[index + 1]
    # Replay is off while the planned period runs; the user turns it on then.
    await async_move_to(hass, freezer, on.at + (off.at - on.at) / 2)
    planned = {
        day: (plan.seed, plan.schedule)
        for day, plan in replay.plans[ROOM_SUBENTRY_ID].items()
    }
    assert hass.states.get(LAMP).state == STATE_OFF  # type: ignore[union-attr]

    await replay.async_turn_on()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert {
        day: (plan.seed, plan.schedule)
        for day, plan in replay.plans[ROOM_SUBENTRY_ID].items()
    } == planned
    assert replay.desired(ROOM_SUBENTRY_ID, replay.now()).on
    assert hass.states.get(LAMP).state == STATE_ON  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "data",
    [
        {"end": "9999-12-31 23:00:00"},
        {"end": "9999-12-31T23:00:00+00:00"},
        {"end": (START + timedelta(days=MAX_REPLAY_DAYS + 1)).isoformat()},
        {"end_date": (START + timedelta(days=MAX_REPLAY_DAYS + 1)).date().isoformat()},
    ],
)
async def test_far_end_is_refused_before_anything_changes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
    data: dict[str, str],
) -> None:
    """An end more than a year ahead is refused; replay stays off, untouched."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    stored = replay._data_to_store()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "start", data, blocking=True)
    assert err.value.translation_key == "end_too_far"
    assert err.value.translation_placeholders["days"] == str(MAX_REPLAY_DAYS)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not replay.active
    assert replay.end is None
    assert replay._data_to_store() == stored
    assert hass.states.get(SWITCH).state == STATE_OFF  # type: ignore[union-attr]
    assert all(not light.calls for light in replay_lights.values())


async def test_end_within_a_year_is_taken(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """A long vacation (just under the bound) starts as asked."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    end = START + timedelta(days=MAX_REPLAY_DAYS - 1)
    await hass.services.async_call(
        DOMAIN, "start", {"end": end.isoformat()}, blocking=True
    )
    assert replay.active
    assert replay.end == end
    assert hass.states.get(SWITCH).state == STATE_ON  # type: ignore[union-attr]


async def test_last_end_date_is_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    room_model: RoomModel,
    replay_lights: dict[str, ReplayTestLight],
) -> None:
    """`end_date: 9999-12-31` is refused as too far, not a server error."""
    freezer.move_to(START)
    replay = await async_setup_replay(hass, mock_config_entry, room_model)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start", {"end_date": "9999-12-31"}, blocking=True
        )
    assert err.value.translation_key == "end_too_far"
    assert not replay.active
