"""Weeks of simulated readings, written into the recorder's SQLite database.

For the demo (``write_history``) the database is made before Home Assistant
first starts, with Home Assistant's own recorder schema (``db_schema``): its
tables, and the schema version row the recorder looks for, so it takes the
file as one it made itself and migrates nothing. The rows are what the
recorder would have written had the home run for those weeks: one ``states``
row per changed value of each lux sensor (from ``simulate_household``) and of
each lamp (the simulator's truth of when the lamps were on).

``insert_states`` writes the rows the recorder's way (shared attribute rows,
``last_changed`` left empty); ``write_states`` puts history under an entity
of a running Home Assistant's recorder (the tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import json
import math
from pathlib import Path

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.db_schema import (
    SCHEMA_VERSION,
    Base,
    RecorderRuns,
    SchemaChanges,
    StateAttributes,
    States,
    StatesMeta,
    StatisticsRuns,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine, inspect
from sqlalchemy.orm import Session

from custom_components.lighting_replay.engine.simulate import simulate_rooms

from .home import ROOMS, City, DemoRoom, light_attributes, lux_attributes

DATABASE_FILE = "home-assistant_v2.db"
#: Readings above this are the simulator's sensor glitches; the demo leaves
#: them out so that the history graphs keep a readable scale.
MAX_PLAUSIBLE_LUX = 100_000.0


@dataclass(frozen=True, kw_only=True)
class HistorySummary:
    """What was written: rows per entity and the time span."""

    rows: dict[str, int]
    start: datetime
    end: datetime


def changed_states(
    times_s: npt.NDArray[np.float64], states: list[str]
) -> Iterator[tuple[float, str]]:
    """Yield (time, state) only where the state differs from the one before."""
    previous: str | None = None
    for time_s, state in zip(times_s.tolist(), states, strict=True):
        if state != previous:
            yield float(time_s), state
            previous = state


def _lux_rows(
    times_s: npt.NDArray[np.float64], lux: npt.NDArray[np.float64], end_s: float
) -> list[tuple[float, str]]:
    """Return the lux sensor's recorded states (one decimal, like the sensor)."""
    keep = (times_s < end_s) & np.isfinite(lux) & (np.abs(lux) < MAX_PLAUSIBLE_LUX)
    texts = [f"{value:.1f}" for value in lux[keep].tolist()]
    return list(changed_states(times_s[keep], texts))


def _lamp_rows(
    start_minute: int,
    brightness: npt.NDArray[np.float64],
    end_s: float,
    attributes: Mapping[str, object],
) -> list[tuple[float, str, Mapping[str, object]]]:
    """Return the lamp's recorded states: one row per switch or dimming.

    ``brightness`` is the lamp's per minute (0 off, up to 1); an "on" row
    carries it as the light's ``brightness`` attribute (0-255).
    """
    times_s = (start_minute + np.arange(brightness.size, dtype=np.float64)) * 60.0
    keep = times_s < end_s
    levels = np.rint(np.clip(brightness[keep], 0.0, 1.0) * 255).astype(int)
    texts = [f"on:{level}" if level > 0 else "off" for level in levels.tolist()]
    rows: list[tuple[float, str, Mapping[str, object]]] = []
    for time_s, text in changed_states(times_s[keep], texts):
        state, _, level = text.partition(":")
        extra = {"brightness": int(level), "color_mode": "brightness"} if level else {}
        rows.append((time_s, state, {**attributes, **extra}))
    return rows


def insert_states(
    session: Session,
    metadata_id: int,
    rows: Iterable[tuple[float, str, Mapping[str, object]]],
) -> None:
    """Insert one entity's (time, state, attributes) rows as the recorder does.

    Each distinct set of attributes is stored once and shared by its rows. A
    row with the state of the row before it changed attributes only (a light
    dimmed while on): it keeps the time its state last changed.
    """
    shared: dict[str, int] = {}
    mappings = []
    previous: str | None = None
    changed_s = 0.0
    for time_s, state, attributes in rows:
        if state != previous:
            previous, changed_s = state, time_s
        text = json.dumps(attributes, sort_keys=True, separators=(",", ":"))
        if text not in shared:
            row = StateAttributes(
                hash=StateAttributes.hash_shared_attrs_bytes(text.encode()),
                shared_attrs=text,
            )
            session.add(row)
            session.flush()
            shared[text] = row.attributes_id
        mappings.append(
            {
                "metadata_id": metadata_id,
                "state": state,
                "last_updated_ts": time_s,
                # None means "same as last_updated", as the recorder writes it.
                "last_changed_ts": None if changed_s == time_s else changed_s,
                "last_reported_ts": None,
                "attributes_id": shared[text],
                "origin_idx": 0,
            }
        )
    session.bulk_insert_mappings(inspect(States), mappings)


def write_states(
    hass: HomeAssistant,
    entity_id: str,
    rows: Iterable[tuple[float, str, Mapping[str, object]]],
) -> None:
    """Insert older rows under an entity of a running recorder (blocking).

    The entity must already have a state recorded (so that its metadata row
    exists). Call in the recorder's executor.
    """
    with session_scope(hass=hass) as session:
        metadata_id = (
            session.query(StatesMeta.metadata_id)
            .filter(StatesMeta.entity_id == entity_id)
            .scalar()
        )
        if metadata_id is None:
            raise ValueError(f"{entity_id} has no recorded state yet")
        insert_states(session, metadata_id, rows)
    # The recorder keeps the time of its oldest state in memory (read at
    # startup, moved by purges); history queries rely on it.
    with session_scope(hass=hass, read_only=True) as session:
        get_instance(hass).states_manager.load_from_db(session)


def _add_entity(
    session: Session,
    entity_id: str,
    rows: Iterable[tuple[float, str, Mapping[str, object]]],
) -> None:
    """Insert one entity's states."""
    meta = StatesMeta(entity_id=entity_id)
    session.add(meta)
    session.flush()
    insert_states(session, meta.metadata_id, rows)


def write_history(
    config_dir: Path,
    city: City,
    *,
    days: int,
    now: datetime | None = None,
    seed: int = 0,
    rooms: tuple[DemoRoom, ...] = ROOMS,
) -> HistorySummary:
    """Create the recorder database with `days` of history up to `now`.

    Fails if the database already exists: the demo never overwrites data
    Home Assistant wrote.
    """
    path = config_dir / DATABASE_FILE
    if path.exists():
        raise FileExistsError(f"{path} exists already")
    end = now if now is not None else datetime.now(UTC)
    location = city.location
    local_end = end.astimezone(location.tzinfo)
    first_day: date = local_end.date() - timedelta(days=days)
    simulated = simulate_rooms(
        location,
        first_day,
        days + 1,
        rooms=tuple(room.habits for room in rooms),
        seed=seed,
    )
    # A minute before now: the live sensors take over from there.
    end_s = end.timestamp() - 60.0
    engine = create_engine(f"sqlite:///{path}")
    counts: dict[str, int] = {}
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            # What the recorder writes into a database it has just created.
            session.add(SchemaChanges(schema_version=SCHEMA_VERSION, changed=end))
            session.add(StatisticsRuns(start=end))
            start = datetime.fromtimestamp(
                math.floor(min(s.timestamps_s[0] for s in simulated.values())), UTC
            )
            session.add(
                RecorderRuns(
                    start=start,
                    end=datetime.fromtimestamp(end_s, UTC),
                    closed_incorrect=False,
                    created=start,
                )
            )
            for room in rooms:
                sim = simulated[room.habits.name]
                # The room's lights are one demo lamp, as bright as the
                # brightest of them.
                brightness = np.max(np.stack(list(sim.lights.values())), axis=0)
                lamp_rows = _lamp_rows(
                    sim.start_minute, brightness, end_s, light_attributes(room)
                )
                _add_entity(session, room.light_entity, lamp_rows)
                counts[room.light_entity] = len(lamp_rows)
                if room.has_lux:
                    attributes = dict(lux_attributes(room))
                    lux_rows = _lux_rows(sim.timestamps_s, sim.lux, end_s)
                    _add_entity(
                        session,
                        room.lux_entity,
                        ((t, state, attributes) for t, state in lux_rows),
                    )
                    counts[room.lux_entity] = len(lux_rows)
            session.commit()
    finally:
        engine.dispose()
    return HistorySummary(rows=counts, start=start, end=end)
