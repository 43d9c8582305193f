"""A model file may come from anywhere: bounded, checked, and never echoed."""

from __future__ import annotations

import copy
from datetime import date
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.lighting_replay.const import (
    DOMAIN,
    SERVICE_IMPORT_MODEL,
    ModelSource,
)
from custom_components.lighting_replay.engine.model import (
    MAX_LEVELS,
    MAX_STATES,
    HomeModel,
    ModelError,
    RoomModel,
)
from custom_components.lighting_replay.engine.schedule import sample_day
from custom_components.lighting_replay.engine.zones import Location
from custom_components.lighting_replay.storage import MAX_MODEL_BYTES

from .conftest import ROOM_SUBENTRY_ID, room_device

LOCATION = Location(32.87336, -117.22743, "US/Pacific")


def _home(room: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "lighting_replay.home_model",
        "version": 2,
        "location": LOCATION.to_dict(),
        "rooms": {"Living room": room},
    }


def _zone(room: dict[str, Any]) -> dict[str, Any]:
    return next(z for z in room["zones"].values() if z is not None)


def _hmm_of_size(k: int) -> dict[str, Any]:
    return {
        "n_components": k,
        "n_features": 2,
        "startprob": [1.0 / k] * k,
        "transmat": [[1.0 / k] * k] * k,
        "emissionprob": [[0.5, 0.5]] * k,
    }


# Each change makes a model that must be refused as a ModelError.
BAD_CHANGES = {
    "huge count": lambda r: _zone(r).update(on_level_counts=[0, 10**400, 1, 1]),
    "count above range": lambda r: _zone(r).update(on_level_counts=[0, 2**63, 1]),
    "infinite count": lambda r: _zone(r).update(on_level_counts=[0, float("inf")]),
    "float count": lambda r: _zone(r).update(on_level_counts=[0, 1.5]),
    "infinite on level": lambda r: r["levels"].update(on_level=float("inf")),
    "huge on level": lambda r: r["levels"].update(on_level=10**400),
    "infinite centre": lambda r: r["levels"].update(centres=[0, 1, 2, float("inf")]),
    "too many levels": lambda r: r["levels"].update(
        centres=list(range(MAX_LEVELS + 1))
    ),
    "too many states": lambda r: _zone(r).update(hmm=_hmm_of_size(MAX_STATES + 1)),
    "three symbols": lambda r: _zone(r)["hmm"].update(
        n_features=3,
        emissionprob=[[0.3, 0.3, 0.4]] * _zone(r)["hmm"]["n_components"],
    ),
    "huge samples": lambda r: _zone(r).update(n_samples=10**30),
    "infinite likelihood": lambda r: _zone(r).update(log_likelihood=float("-inf")),
    "on fraction above 1": lambda r: _zone(r).update(on_fraction=7.0),
    "huge days": lambda r: r.update(days_of_data=10**400),
    "far trained at": lambda r: r.update(trained_at="9999-12-31T00:00:00+00:00"),
    "big settings": lambda r: r.update(settings={"x": "y" * 100_000}),
    "counts beyond levels": lambda r: _zone(r).update(
        on_level_counts=[1] * (len(r["levels"]["centres"]) + 1)
    ),
    "nan centre": lambda r: r["levels"].update(centres=[0, float("nan"), 2, 3]),
}


@pytest.mark.parametrize("change", list(BAD_CHANGES), ids=list(BAD_CHANGES))
def test_bad_numbers_are_model_errors(
    trained_model_data: dict[str, Any], change: str
) -> None:
    """Every number is checked at load: a bad one is a ModelError, never more."""
    room = copy.deepcopy(trained_model_data)
    BAD_CHANGES[change](room)
    text = json.dumps(_home(room))  # Infinity and NaN as Python writes them
    with pytest.raises(ModelError):
        HomeModel.loads(text)


# Each change makes an unusual model that is allowed, and must sample.
ODD_CHANGES = {
    "as trained": lambda r: None,
    "zero counts": lambda r: _zone(r).update(on_level_counts=[0, 0, 0, 0]),
    "large counts": lambda r: _zone(r).update(on_level_counts=[0, 10**9, 10**9, 1]),
    "no counts": lambda r: _zone(r).update(on_level_counts=[]),
    "most states": lambda r: _zone(r).update(hmm=_hmm_of_size(MAX_STATES)),
    "most levels": lambda r: r["levels"].update(
        centres=list(range(MAX_LEVELS)), on_level=MAX_LEVELS - 1
    ),
    "no zones": lambda r: r.update(zones=dict.fromkeys(r["zones"])),
}


@pytest.mark.parametrize("change", list(ODD_CHANGES), ids=list(ODD_CHANGES))
def test_a_model_that_loads_samples(
    trained_model_data: dict[str, Any], change: str
) -> None:
    """A model that passes the checks samples days without error."""
    room = copy.deepcopy(trained_model_data)
    ODD_CHANGES[change](room)
    home = HomeModel.loads(json.dumps(_home(room)))
    model: RoomModel = home.rooms["Living room"]
    rng = np.random.default_rng(0)
    for day in (date(2026, 6, 1), date(2026, 12, 21)):
        sample_day(model, day, LOCATION, rng=rng)


@pytest.fixture
def room_device_id(
    init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> str:
    """The device id of the living room."""
    device = room_device(device_registry, init_integration.entry_id, ROOM_SUBENTRY_ID)
    assert device is not None
    return device.id


def _big_file(path: Path) -> None:
    """A file of valid JSON just over the size limit."""
    with path.open("w") as file:
        file.write('{"format": "lighting_replay.home_model", "pad": "')
        file.write("x" * MAX_MODEL_BYTES)
        file.write('"}')


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("models/missing.json", None),
        ("models", "folder"),
        ("models/secret.json", '{"format": "SECRET-TOKEN-abc123"}'),
        ("models/secret.json", '"SECRET-TOKEN-abc123"'),
        ("models/secret.txt", "SECRET-TOKEN-abc123 not json"),
        ("models/secret.db", b"SQLite format 3\x00SECRET-TOKEN-abc123\x95\xff"),
        ("models/big.json", "big"),
    ],
)
async def test_import_errors_tell_nothing_of_the_file(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    room_device_id: str,
    private_config_dir: Path,
    path: str,
    content: str | bytes | None,
) -> None:
    """Missing, too large or not a model: one message, none of the content."""
    target = private_config_dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if content == "folder":
        target.mkdir(exist_ok=True)
    elif content == "big":
        await hass.async_add_executor_job(_big_file, target)
    elif isinstance(content, bytes):
        await hass.async_add_executor_job(target.write_bytes, content)
    elif content is not None:
        await hass.async_add_executor_job(target.write_text, content)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_IMPORT_MODEL,
            {"room": room_device_id, "path": path},
            blocking=True,
        )
    assert err.value.translation_key == "not_a_model"
    assert err.value.translation_placeholders == {"path": path, "max_mb": "5"}
    for text in (str(err.value), repr(err.value.__cause__)):
        assert "SECRET" not in text
        assert "0x95" not in text
        assert "position" not in text
    room = init_integration.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.FALLBACK


@pytest.mark.parametrize("change", ["huge count", "infinite count", "huge on level"])
async def test_import_refuses_bad_numbers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    room_device_id: str,
    private_config_dir: Path,
    trained_model_data: dict[str, Any],
    change: str,
) -> None:
    """A model whose numbers cannot be replayed is refused, as a bad request."""
    room_data = copy.deepcopy(trained_model_data)
    BAD_CHANGES[change](room_data)
    target = private_config_dir / "models" / "home.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    await hass.async_add_executor_job(target.write_text, json.dumps(_home(room_data)))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            SERVICE_IMPORT_MODEL,
            {"room": room_device_id, "path": "models/home.json"},
            blocking=True,
        )
    assert err.value.translation_key == "invalid_model"
    room = init_integration.runtime_data.rooms[ROOM_SUBENTRY_ID]
    assert room.source is ModelSource.FALLBACK


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every number, text and null in JSON data."""
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in _leaves(value, (*path, key))]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in _leaves(value, (*path, i))]
    return [path]


NASTY_VALUES = [
    10**400,
    2**63,
    -(2**63),
    10**9 + 1,
    -1,
    0,
    1,
    2,
    0.5,
    -0.5,
    1e308,
    -1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    True,
    None,
    "",
    "x" * 300,
    "9999-12-31T23:59:59+00:00",
    [],
    {},
]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_any_changed_value_is_refused_or_samples(
    trained_model_data: dict[str, Any], data: st.DataObject
) -> None:
    """Any one value of a model changed: a ModelError, or a model that samples."""
    room = copy.deepcopy(trained_model_data)
    path = data.draw(st.sampled_from(_leaves(room)))
    value = data.draw(st.sampled_from(NASTY_VALUES))
    target = room
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        home = HomeModel.loads(json.dumps(_home(room)))
    except ModelError:
        return
    model = home.rooms["Living room"]
    rng = np.random.default_rng(0)
    for day in (date(2026, 6, 1), date(2026, 12, 21)):
        sample_day(model, day, LOCATION, rng=rng)
