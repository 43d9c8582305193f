"""Entity snapshots that read the same in every supported Home Assistant.

`snapshot_platform` of the test plugin snapshots whole entity registry
entries, whose fields (and their types) change between Home Assistant
versions; these snapshots keep what this integration decides: ids, names,
classes, categories, subentry, state and attributes, as plain JSON values.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import json_dumps
from syrupy.assertion import SnapshotAssertion


def snapshot_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry_id: str,
    domain: str,
    keys: set[str],
) -> None:
    """Snapshot the entities of `domain` with the description `keys`.

    Unique ids end in ``_<description key>``.
    """
    entries = [
        entry
        for entry in er.async_entries_for_config_entry(entity_registry, config_entry_id)
        if entry.domain == domain
        and any(entry.unique_id.endswith(f"_{key}") for key in keys)
    ]
    assert len(entries) == len(keys)
    assert entries
    for entry in entries:
        assert entry.disabled_by is None, "Please enable all entities."
        state = hass.states.get(entry.entity_id)
        assert state is not None, f"State not found for {entry.entity_id}"
        assert _plain(
            {
                "entity_id": entry.entity_id,
                "unique_id": entry.unique_id,
                "config_subentry_id": entry.config_subentry_id,
                "translation_key": entry.translation_key,
                "original_device_class": entry.original_device_class,
                "entity_category": entry.entity_category,
                "has_entity_name": entry.has_entity_name,
                "original_name": entry.original_name,
                "unit_of_measurement": entry.unit_of_measurement,
                "capabilities": entry.capabilities,
            }
        ) == snapshot(name=f"{entry.entity_id}-entry")
        assert _plain(
            {"state": state.state, "attributes": dict(state.attributes)}
        ) == snapshot(name=f"{entry.entity_id}-state")


def _plain(data: dict[str, Any]) -> Any:
    """Return `data` as plain JSON values (enums as their value, times as text).

    Newer versions keep some registry fields as plain strings where older
    ones keep enums; the snapshot compares what a user sees.
    """
    return json.loads(json_dumps(data))
