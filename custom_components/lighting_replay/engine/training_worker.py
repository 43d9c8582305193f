"""Training in a process of its own: the worker's loop and its messages.

Learning a home reads the recorder (in Home Assistant's process) and trains
models (numpy, a second or two of CPU per room-year). In one process both
share the interpreter lock with the event loop; in a worker process the
training runs on another core, beside the reading of the next room, and
the event loop keeps its core. The worker imports the engine alone (numpy
and astral, no Home Assistant): it is started as ``python -m
engine.training_worker`` with the integration's folder on its path.

Messages, both ways: an 8-byte little-endian length, then that many bytes.

- The worker first says it is ready: ``{"ready": PROTOCOL}`` (JSON).
- A request is an ``.npz`` archive (read with ``allow_pickle=False``): the
  arrays ``lux`` (when the room has a lux sensor) and ``light0``,
  ``light1``... (the lights' brightness), and ``meta``, UTF-8 JSON as bytes:
  the room's name, the series' start minutes, the lights' keys, the
  excluded ranges, the location and the training options.
- A result is JSON: ``{"model": <RoomModel.to_dict()>, "cpu_seconds": s}``,
  or ``{"not_enough_data": [available, needed]}``, or ``{"error": [type,
  message, traceback]}`` when training raised.

End of input ends the worker. It lowers its own priority: Home Assistant's
threads come first.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
import io
import json
import os
import struct
import sys
import time
import traceback
from typing import IO, Any

import numpy as np

from .model import RoomModel
from .series import MinuteSeries
from .sources import RoomSources
from .training import NotEnoughData, TrainingOptions, train_sources
from .zones import Location

#: Changes when the messages change; the worker and its caller must agree.
PROTOCOL = 1
#: How much lower the worker's priority is than Home Assistant's (nice).
NICENESS = 5
_LENGTH = struct.Struct("<Q")
# A request holds a room's archives (a few MB a year); more is no request.
MAX_MESSAGE_BYTES = 1 << 30


class WorkerError(Exception):
    """The worker cannot be used: it could not start, answer or keep running."""


class TrainingError(Exception):
    """Training raised in the worker: its type's name, message and traceback."""

    def __init__(self, kind: str, message: str, details: str) -> None:
        """Keep what the worker said; ``str()`` is its message."""
        super().__init__(message)
        self.kind = kind
        self.details = details


def write_message(stream: IO[bytes], payload: bytes) -> None:
    """Write one message (length, then payload) and flush it."""
    stream.write(length_prefix(payload))
    stream.write(payload)
    stream.flush()


def read_message(stream: IO[bytes]) -> bytes | None:
    """Read one message; None at the end of the input."""
    head = stream.read(_LENGTH.size)
    if not head:
        return None
    if len(head) < _LENGTH.size:
        raise WorkerError("a message ended inside its length")
    size = message_length(head)
    payload = stream.read(size)
    if len(payload) < size:
        raise WorkerError("a message ended early")
    return bytes(payload)


def message_length(head: bytes) -> int:
    """Return the payload length a message's first 8 bytes announce."""
    (size,) = _LENGTH.unpack(head)
    if size > MAX_MESSAGE_BYTES:
        raise WorkerError(f"a message of {size} bytes is too large")
    return int(size)


def length_prefix(payload: bytes) -> bytes:
    """Return the 8 bytes that announce `payload`."""
    return _LENGTH.pack(len(payload))


def encode_request(
    room: str, sources: RoomSources, location: Location, options: TrainingOptions
) -> bytes:
    """Return the request to train `room` from `sources`."""
    keys = sources.light_keys
    arrays: dict[str, np.ndarray[Any, Any]] = {
        f"light{i}": sources.lights[key].lux for i, key in enumerate(keys)
    }
    if sources.lux is not None:
        arrays["lux"] = sources.lux.lux
    meta = {
        "room": room,
        "lux_start": None if sources.lux is None else sources.lux.start_minute,
        "lights": [[key, sources.lights[key].start_minute] for key in keys],
        "excluded": [list(span) for span in sources.excluded],
        "location": [location.latitude, location.longitude, location.time_zone],
        "options": asdict(options),
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def decode_request(
    payload: bytes,
) -> tuple[str, RoomSources, Location, TrainingOptions]:
    """Return what `encode_request` was given."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as files:
        meta = json.loads(files["meta"].tobytes().decode())
        lux_start = meta["lux_start"]
        lux = None if lux_start is None else MinuteSeries(lux_start, files["lux"])
        lights = {
            key: MinuteSeries(start, files[f"light{i}"])
            for i, (key, start) in enumerate(meta["lights"])
        }
    options = meta["options"]
    if isinstance(options["n_states"], list):
        options["n_states"] = tuple(options["n_states"])
    sources = RoomSources(
        lux=lux,
        lights=lights,
        excluded=tuple((int(a), int(b)) for a, b in meta["excluded"]),
    )
    return (
        str(meta["room"]),
        sources,
        Location(*meta["location"]),
        TrainingOptions(**options),
    )


def train_request(payload: bytes) -> bytes:
    """Train what a request asks for; return the result message."""
    began = time.process_time()
    try:
        room, sources, location, options = decode_request(payload)
        del payload
        model = train_sources(room, sources, location, options)
    except NotEnoughData as err:
        result: dict[str, Any] = {
            "not_enough_data": [err.days_available, err.days_needed]
        }
    except Exception as err:  # noqa: BLE001 - the caller gets every failure
        result = {
            "error": [type(err).__name__, str(err), traceback.format_exc()],
        }
    else:
        result = {
            "model": model.to_dict(),
            "cpu_seconds": time.process_time() - began,
        }
    return json.dumps(result).encode()


def decode_result(payload: bytes) -> tuple[RoomModel, float]:
    """Return the model and the worker's CPU seconds; raise what it raised.

    `NotEnoughData` as the worker raised it, `TrainingError` for any other
    failure of training, `WorkerError` for an answer that cannot be read.
    """
    try:
        result = json.loads(payload)
        if "not_enough_data" in result:
            available, needed = result["not_enough_data"]
            raise NotEnoughData(float(available), float(needed))
        if "error" in result:
            kind, message, details = result["error"]
            raise TrainingError(str(kind), str(message), str(details))
        return RoomModel.from_dict(result["model"]), float(result["cpu_seconds"])
    except (ValueError, TypeError, KeyError) as err:
        raise WorkerError(f"the worker's answer is unreadable: {err}") from err


def main() -> None:
    """Answer requests from standard input until it ends."""
    # Where lowering it is not allowed, the worker runs at the same priority.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write to the answers' stream.
    sys.stdout = sys.stderr
    write_message(stdout, json.dumps({"ready": PROTOCOL}).encode())
    while (payload := read_message(stdin)) is not None:
        write_message(stdout, train_request(payload))


if __name__ == "__main__":
    main()
