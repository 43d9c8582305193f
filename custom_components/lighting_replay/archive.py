"""The per-room minute archive, kept in Home Assistant's storage directory.

The recorder keeps about ten days of history; the archive keeps months of it
(``archive_days``, 400 by default) so that learning survives recorder purges
and restarts. One file per room, named after the room's subentry id, below
``<config>/.storage/lighting_replay/``.

File format (version 1), little-endian, no pickle::

    offset  size  field
    0       4     magic b"LRAR"
    4       2     format version (uint16) = 1
    6       2     flags (uint16) = 0 (reserved)
    8       8     start minute (int64): UTC epoch minute of the first value
    16      4     number of minutes N (uint32)
    20      4     CRC-32 of the N * 2 value bytes before compression (uint32)
    24      ...   zlib stream of the values, byte-shuffled

The values are N IEEE half floats (float16): lux of each minute, NaN where the
minute has no reading. Half floats keep about three significant digits, plenty
for lux; values above 65504 lx (direct sunlight) are stored as 65504. The
bytes are shuffled (all low bytes, then all high bytes) before compression,
which lets zlib find the long runs of equal high bytes. A room-year of minutes
is 1.05 MB before compression, less after it.

All functions here do blocking file I/O: call them in an executor.
"""

from __future__ import annotations

from datetime import UTC, datetime
import os
from pathlib import Path
import struct
import zlib

import numpy as np
import numpy.typing as npt

from .engine.series import MinuteSeries
from .engine.zones import MINUTES_PER_DAY

MAGIC = b"LRAR"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHHqII")
MAX_STORED_LUX = float(np.finfo(np.float16).max)


class ArchiveError(Exception):
    """The archive file cannot be read: corrupted or of an unknown version."""


def _stored_values(series: MinuteSeries) -> npt.NDArray[np.float16]:
    """Return a series' values as the file keeps them (capped half floats)."""
    return np.minimum(series.lux, MAX_STORED_LUX).astype("<f2")


def as_stored(series: MinuteSeries) -> MinuteSeries:
    """Return a series as it reads back from its file (`load` after `save`)."""
    return MinuteSeries(series.start_minute, _stored_values(series).astype(np.float64))


def encode(series: MinuteSeries) -> bytes:
    """Return the file contents for a minute series."""
    values = _stored_values(series)
    raw = values.tobytes()
    shuffled = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2).T.tobytes()
    header = _HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        0,
        series.start_minute,
        len(series),
        zlib.crc32(raw),
    )
    # Level 1: a third of level 6's time for 7 % more bytes (a room-year's
    # file is rewritten every hour).
    return header + zlib.compress(shuffled, 1)


def decode(blob: bytes) -> MinuteSeries:
    """Read file contents back into a minute series; `ArchiveError` if bad."""
    if len(blob) < _HEADER.size:
        raise ArchiveError("file too short for the archive header")
    magic, version, _flags, start, count, crc = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ArchiveError("not a Lighting Replay archive (bad magic)")
    if version != FORMAT_VERSION:
        raise ArchiveError(f"unsupported archive version {version}")
    try:
        shuffled = zlib.decompress(blob[_HEADER.size :])
    except zlib.error as err:
        raise ArchiveError(f"compressed data is damaged: {err}") from err
    if len(shuffled) != 2 * count:
        raise ArchiveError(f"expected {count} minutes, found {len(shuffled) // 2}")
    raw = np.frombuffer(shuffled, dtype=np.uint8).reshape(2, -1).T.tobytes()
    if zlib.crc32(raw) != crc:
        raise ArchiveError("checksum mismatch")
    values = np.frombuffer(raw, dtype="<f2").astype(np.float64)
    return MinuteSeries(start, values)


def load(path: Path) -> MinuteSeries | None:
    """Load an archive; None if there is none, `ArchiveError` if it is bad."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    return decode(blob)


def save(path: Path, series: MinuteSeries) -> int:
    """Write an archive atomically (a crash never leaves half a file).

    Returns the size of the file in bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = encode(series)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        file.write(blob)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    return len(blob)


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a bad file to ``<name>.corrupt-<UTC time>`` and return the new path.

    The file is kept for inspection; a fresh one is then built in its place.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    return target


def merge(
    old: MinuteSeries | None, new: MinuteSeries | None, *, keep_days: int
) -> MinuteSeries | None:
    """Combine the archive with newer minutes and drop the oldest days.

    Minutes of `new` replace those of `old` where they overlap; a stretch
    between the two stays missing (NaN). Only the last `keep_days` days up to
    the end of the result are kept.
    """
    if old is None or len(old) == 0:
        combined = new
    elif new is None or len(new) == 0:
        combined = old
    else:
        start = min(old.start_minute, new.start_minute)
        end = max(old.end_minute, new.end_minute)
        values = np.full(end - start, np.nan)
        values[old.start_minute - start : old.end_minute - start] = old.lux
        values[new.start_minute - start : new.end_minute - start] = new.lux
        combined = MinuteSeries(start, values)
    if combined is None:
        return None
    first_kept = combined.end_minute - keep_days * MINUTES_PER_DAY
    if combined.start_minute < first_kept:
        combined = MinuteSeries(
            first_kept, combined.lux[first_kept - combined.start_minute :]
        )
    # Leading missing minutes carry nothing: start at the first value.
    valid = np.flatnonzero(np.isfinite(combined.lux))
    if valid.size == 0:
        return None
    if valid[0] > 0:
        combined = MinuteSeries(
            combined.start_minute + int(valid[0]), combined.lux[valid[0] :]
        )
    return combined
