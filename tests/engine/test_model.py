"""Tests of the home model file: JSON round trip and clear errors."""

from __future__ import annotations

from datetime import date, timedelta
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lighting_replay_engine.model import (
    MODEL_FORMAT,
    MODEL_VERSION,
    HomeModel,
    ModelError,
)
from lighting_replay_engine.schedule import sample_day
from lighting_replay_engine.zones import Zone


def test_round_trip_keeps_everything(home_model: HomeModel, tmp_path: Path) -> None:
    """Saving and loading gives the same model, field by field."""
    path = tmp_path / "home.json"
    home_model.save(path)
    loaded = HomeModel.load(path)
    assert loaded.location == home_model.location
    assert loaded.rooms.keys() == home_model.rooms.keys()
    for name, room in home_model.rooms.items():
        other = loaded.rooms[name]
        assert other.room == room.room
        np.testing.assert_array_equal(other.levels.centres, room.levels.centres)
        assert other.levels.on_level == room.levels.on_level
        assert other.data_start == room.data_start
        assert other.data_end == room.data_end
        assert other.trained_at == room.trained_at
        assert other.n_samples == room.n_samples
        assert other.days_of_data == room.days_of_data
        assert other.settings == room.settings
        assert other.evenings == room.evenings
        assert other.evening_spreads == room.evening_spreads
        for zone in Zone:
            a, b = room.zones[zone], other.zones[zone]
            assert (a is None) == (b is None)
            if a is None or b is None:
                continue
            np.testing.assert_array_equal(a.hmm.transmat_, b.hmm.transmat_)
            np.testing.assert_array_equal(a.hmm.emissionprob_, b.hmm.emissionprob_)
            np.testing.assert_array_equal(a.hmm.startprob_, b.hmm.startprob_)
            assert a.on_level_counts == b.on_level_counts
            assert a.log_likelihood == b.log_likelihood
    # And the text is stable: dumping the loaded model gives the same text.
    assert loaded.dumps() == home_model.dumps()


def test_file_is_plain_versioned_json(home_model: HomeModel) -> None:
    """Format name and version are in the file; no pickle anywhere."""
    data = json.loads(home_model.dumps())
    assert data["format"] == MODEL_FORMAT
    assert data["version"] == MODEL_VERSION
    room = next(iter(data["rooms"].values()))
    assert set(room["zones"]) == {"night", "day", "evening", "late_evening"}


def _mutated(home_model: HomeModel, change: Any) -> str:
    data = json.loads(home_model.dumps())
    change(data)
    return json.dumps(data)


def _room(data: dict[str, Any]) -> dict[str, Any]:
    room: dict[str, Any] = next(iter(data["rooms"].values()))
    return room


def _first_zone(data: dict[str, Any]) -> dict[str, Any]:
    zones = _room(data)["zones"]
    zone: dict[str, Any] = next(z for z in zones.values() if z is not None)
    return zone


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something else"), "not a lighting replay model"),
        (lambda d: d.update(version=MODEL_VERSION + 1), "newer"),
        (lambda d: d.update(version="1"), "version"),
        (lambda d: d.pop("location"), "location"),
        (lambda d: d["location"].update(time_zone="Nowhere/Land"), "time zone"),
        (lambda d: d.update(rooms=[]), "rooms"),
        (lambda d: _room(d).pop("levels"), "levels"),
        (lambda d: _room(d)["levels"].update(centres=[3, 2, 1]), "increasing"),
        (lambda d: _room(d)["levels"].update(on_level=9), "on_level"),
        (lambda d: _room(d).update(data_start="yesterday"), "Invalid isoformat"),
        (lambda d: _room(d).update(n_samples=-4), "count"),
        (lambda d: _first_zone(d)["hmm"].update(transmat=[[1.0]]), "transmat"),
        (lambda d: _first_zone(d)["hmm"].pop("emissionprob"), "emissionprob"),
        (lambda d: _first_zone(d).update(on_level_counts=[-1, 2]), "negative"),
        (lambda d: _first_zone(d).update(log_likelihood="x"), "number"),
        (lambda d: _room(d).update(evenings=[[1300]]), "two whole minutes"),
        (lambda d: _room(d).update(evenings=[[1300, 1200]]), "not after"),
        (lambda d: _room(d).update(evenings=[[-1, 1300]]), "not after"),
        (lambda d: _room(d).update(evenings=[[0, 1440]]), "minutes of the day"),
        (lambda d: _room(d).update(evening_spreads=[5]), "evening_spreads"),
        (lambda d: _room(d).update(evening_spreads=[5, -1]), "evening_spreads"),
    ],
)
def test_corrupted_file_gives_model_error(
    home_model: HomeModel, change: Any, message: str
) -> None:
    """Each kind of damage is a ModelError that says what is wrong."""
    with pytest.raises(ModelError, match=message):
        HomeModel.loads(_mutated(home_model, change))


@pytest.mark.parametrize(
    "text", ["", "{", "[1, 2]", "null", '{"format": 3}', b"\xff\xfe\x00"]
)
def test_not_a_model_gives_model_error(text: str | bytes) -> None:
    """Text that is not a model at all is a ModelError too."""
    with pytest.raises(ModelError):
        HomeModel.loads(text)


def test_truncated_file_gives_model_error(
    home_model: HomeModel, tmp_path: Path
) -> None:
    """A file cut short (a crash while copying) is a ModelError."""
    path = tmp_path / "home.json"
    text = home_model.dumps()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ModelError, match="JSON"):
        HomeModel.load(path)
    with pytest.raises(ModelError, match="cannot read"):
        HomeModel.load(tmp_path / "missing.json")


VERSION_2_FILE = Path(__file__).parent / "data" / "model_version_2.json"


def test_saved_version_2_file_loads_and_replays(tmp_path: Path) -> None:
    """A model saved by version 2 (no evenings) loads, replays, and saves anew.

    The file was written by version 2 of this code from a simulated living
    room (two weeks of November in Berlin).
    """
    assert json.loads(VERSION_2_FILE.read_text())["version"] == 2
    home = HomeModel.load(VERSION_2_FILE)
    room = home.rooms["living_room"]
    assert room.evenings == ()
    assert room.evening_spreads == (0.0, 0.0)
    days = [date(2024, 12, 2) + timedelta(days=i) for i in range(7)]
    rng = np.random.default_rng(3)
    schedules = [sample_day(room, day, home.location, rng=rng) for day in days]
    assert sum(bool(s.intervals) for s in schedules) >= 5
    assert len({s.intervals for s in schedules}) == len(days)  # different every day
    # Saved again it is a current file, with the same habits.
    path = tmp_path / "home.json"
    home.save(path)
    again = HomeModel.load(path)
    assert json.loads(path.read_text())["version"] == MODEL_VERSION
    day = days[0]
    a = sample_day(room, day, home.location, rng=np.random.default_rng(9))
    b = sample_day(
        again.rooms["living_room"], day, home.location, rng=np.random.default_rng(9)
    )
    assert a == b


def test_trained_room_keeps_its_evenings(home_model: HomeModel) -> None:
    """Version 3: a lux room keeps the lit span of its well-seen evenings."""
    for room in home_model.rooms.values():
        assert len(room.evenings) >= 25  # 35 days, most evenings well seen
        for first, last in room.evenings:
            assert first <= last
            assert last == -1 or last >= 16 * 60  # the evening zones only
        assert all(spread >= 0 for spread in room.evening_spreads)
