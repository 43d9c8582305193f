"""The archive file format and how archives are merged and trimmed."""

from __future__ import annotations

from pathlib import Path
import struct

import numpy as np
import pytest

from custom_components.lighting_replay import archive
from custom_components.lighting_replay.engine.series import MinuteSeries


def _series(start: int, values: list[float]) -> MinuteSeries:
    return MinuteSeries(start, np.array(values, dtype=np.float64))


def test_round_trip_keeps_values_and_gaps(tmp_path: Path) -> None:
    """Half floats keep about three digits; NaN stays missing; huge is capped."""
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 2000, 5000)
    values[100:160] = np.nan
    values[7] = 120_000.0
    series = MinuteSeries(29_000_000, values)
    path = tmp_path / "room.archive"
    size = archive.save(path, series)
    assert size == path.stat().st_size
    back = archive.load(path)
    assert back is not None
    assert back.start_minute == series.start_minute
    assert len(back) == len(series)
    assert np.array_equal(np.isnan(back.lux), np.isnan(values))
    ok = np.isfinite(values) & (values < 60_000)
    assert np.allclose(back.lux[ok], values[ok], rtol=1e-3)
    assert back.lux[7] == archive.MAX_STORED_LUX


def test_header_is_documented_layout() -> None:
    """The first 24 bytes are magic, version, flags, start, count, CRC."""
    blob = archive.encode(_series(123, [1.0, 2.0, np.nan]))
    magic, version, flags, start, count, _crc = struct.unpack_from("<4sHHqII", blob)
    assert (magic, version, flags, start, count) == (b"LRAR", 1, 0, 123, 3)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:10], "too short"),
        (lambda b: b"XXXX" + b[4:], "bad magic"),
        (lambda b: b[:4] + struct.pack("<H", 9) + b[6:], "unsupported archive version"),
        (lambda b: b[:24] + b"\x00" * (len(b) - 24), "damaged"),
        (lambda b: b[:20] + struct.pack("<I", 0) + b[24:], "checksum"),
    ],
)
def test_damage_is_detected(damage: object, message: str) -> None:
    """Every kind of damage is an `ArchiveError`, never a crash or bad data."""
    blob = archive.encode(_series(5, [1.0, 2.0, 3.0] * 100))
    with pytest.raises(archive.ArchiveError, match=message):
        archive.decode(damage(blob))  # type: ignore[operator]


def test_missing_file_is_none(tmp_path: Path) -> None:
    """No archive yet is not an error."""
    assert archive.load(tmp_path / "none.archive") is None


def test_set_aside_renames(tmp_path: Path) -> None:
    """A bad file is kept under a `.corrupt-<time>` name."""
    path = tmp_path / "room.archive"
    path.write_bytes(b"junk")
    moved = archive.set_aside(path)
    assert not path.exists()
    assert moved.name.startswith("room.archive.corrupt-")
    assert moved.read_bytes() == b"junk"


def test_merge_replaces_overlap_and_keeps_gap() -> None:
    """Newer minutes win; minutes between the two stay missing."""
    old = _series(100, [1.0, 2.0, 3.0, 4.0])
    new = _series(102, [30.0, 40.0, 50.0])
    merged = archive.merge(old, new, keep_days=1)
    assert merged is not None
    assert merged.start_minute == 100
    assert merged.lux.tolist() == [1.0, 2.0, 30.0, 40.0, 50.0]
    later = archive.merge(old, _series(110, [9.0]), keep_days=1)
    assert later is not None
    assert later.lux[:4].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(later.lux[4:10]).all()
    assert later.lux[10] == 9.0


def test_merge_keeps_only_the_last_days() -> None:
    """The archive is bounded to `keep_days` before its newest minute."""
    old = MinuteSeries(0, np.ones(3 * 1440))
    new = MinuteSeries(3 * 1440, np.full(1440, 2.0))
    merged = archive.merge(old, new, keep_days=2)
    assert merged is not None
    assert len(merged) == 2 * 1440
    assert merged.end_minute == 4 * 1440
    assert archive.merge(None, None, keep_days=2) is None


def test_a_room_year_is_small() -> None:
    """A year of noisy minute readings stays far below 2 MB."""
    rng = np.random.default_rng(0)
    minutes = np.arange(365 * 1440)
    daylight = np.clip(np.sin((minutes % 1440) / 1440 * 2 * np.pi - 1.5), 0, None)
    values = daylight * 800 + rng.normal(0, 2, minutes.size).clip(0)
    size = len(archive.encode(MinuteSeries(0, values)))
    assert size < 2_000_000
