"""Tests of the home model file: JSON round trip and clear errors."""

from __future__ import annotations

from dataclasses import replace
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
from lighting_replay_engine.zones import Location, Zone

BERLIN = Location(52.52, 13.40, "Europe/Berlin")


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
        assert other.bedtimes == room.bedtimes
        assert other.evening_minutes == room.evening_minutes
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
        (lambda d: _room(d).update(bedtimes=[1440]), "bedtime"),
        (lambda d: _room(d).update(bedtimes=["21:00"]), "minute of the day"),
        (lambda d: _room(d).update(evening_minutes=[5]), "one count per bedtime"),
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


@pytest.mark.parametrize("version", [1, 2])
def test_older_versions_load_and_replay_without_bedtimes(
    home_model: HomeModel, version: int
) -> None:
    """Files of versions 1 and 2 have no bedtimes: evenings sampled as before.

    Without bedtimes each evening zone is sampled once, so the same seed
    gives the same day as the model with its bedtimes removed.
    """
    data = json.loads(home_model.dumps())
    data["version"] = version
    for room in data["rooms"].values():
        room.pop("bedtimes")
        room.pop("evening_minutes")
        if version == 1:
            room.pop("lights")
    loaded = HomeModel.loads(json.dumps(data))
    for name, room in loaded.rooms.items():
        assert room.bedtimes == ()
        stripped = replace(home_model.rooms[name], bedtimes=(), evening_minutes=())
        for i in range(5):
            day = date(2024, 11, 10) + timedelta(days=i)
            a = sample_day(room, day, loaded.location, rng=np.random.default_rng(i))
            b = sample_day(stripped, day, loaded.location, rng=np.random.default_rng(i))
            assert a == b


def test_trained_model_has_bedtimes(home_model: HomeModel) -> None:
    """Version 3: a trained room keeps the last-on minute of its evenings."""
    for room in home_model.rooms.values():
        assert len(room.bedtimes) >= 20  # 35 days, most evenings well seen
        assert len(room.evening_minutes) == len(room.bedtimes)
        assert all(-1 <= b < 1440 for b in room.bedtimes)
        lit = [b for b in room.bedtimes if b >= 0]
        assert all(b >= 15 * 60 for b in lit)  # evenings only


def _last_on(schedule_minutes: np.ndarray) -> int:
    lit = np.flatnonzero(schedule_minutes[15 * 60 :])
    return int(lit[-1]) + 15 * 60 if lit.size else -1


def test_evenings_follow_the_bedtimes(home_model: HomeModel) -> None:
    """Evenings end near the bedtime drawn; a bedtime before dusk stays dark."""
    room = home_model.rooms["living_room"]
    days = [date(2024, 11, 4) + timedelta(days=i) for i in range(20)]
    rng = np.random.default_rng(5)

    def last_on(bedtime: int) -> list[int]:
        model = replace(room, bedtimes=(bedtime,), evening_minutes=())
        return [
            _last_on(sample_day(model, d, BERLIN, rng=rng).on_minutes()) for d in days
        ]

    late = last_on(23 * 60)
    early = last_on(20 * 60)
    assert np.median(late) > np.median(early) + 90
    assert abs(np.median(late) - 23 * 60) <= 30
    assert abs(np.median(early) - 20 * 60) <= 30
    dark = last_on(-1)
    assert sum(b < 0 for b in dark) >= 15  # most evenings without light
