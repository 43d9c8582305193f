"""The training worker: its messages, and a real worker process answering them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
import io
import json
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest

import lighting_replay_engine
from lighting_replay_engine.series import MinuteSeries
from lighting_replay_engine.simulate import SimulatedRoom
from lighting_replay_engine.sources import RoomSources
from lighting_replay_engine.training import (
    NotEnoughData,
    TrainingOptions,
    lux_sources,
    train_sources,
)
from lighting_replay_engine.training_worker import (
    PROTOCOL,
    TrainingError,
    WorkerError,
    decode_request,
    decode_result,
    encode_request,
    read_message,
    train_request,
    write_message,
)
from lighting_replay_engine.zones import Location

#: Quick but faithful training for tests: one restart, fewer EM iterations.
QUICK = TrainingOptions(n_restarts=1, n_iter=40)
# The folder the integration ships, which holds the engine as `engine`.
INTEGRATION_FOLDER = Path(lighting_replay_engine.__file__).resolve().parent.parent


def both_sources(room: SimulatedRoom) -> RoomSources:
    """Return the room's lux and lights, with a range excluded."""
    lux = lux_sources(room.timestamps_s, room.lux).lux
    assert lux is not None
    start = lux.start_minute + 3 * 1440
    return RoomSources(
        lux=lux, lights=room.light_series(), excluded=((start, start + 1440),)
    )


def without_time(data: dict[str, object]) -> dict[str, object]:
    """Return a model's data without the time it was trained."""
    return {key: value for key, value in data.items() if key != "trained_at"}


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process, as the integration starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.training_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=INTEGRATION_FOLDER,
        env=os.environ | {"PYTHONPATH": str(INTEGRATION_FOLDER)},
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        assert json.loads(read_message(process.stdout) or b"") == {"ready": PROTOCOL}
        yield process
    finally:
        process.stdin.close()
        code = process.wait(timeout=30)
        process.stdout.close()
        assert code == 0


def ask(process: subprocess.Popen[bytes], request: bytes) -> bytes:
    """Send a request to the worker; return its answer."""
    assert process.stdin is not None
    assert process.stdout is not None
    write_message(process.stdin, request)
    answer = read_message(process.stdout)
    assert answer is not None
    return answer


def test_a_request_reads_back_as_it_was_made(
    household: dict[str, SimulatedRoom], berlin: Location
) -> None:
    """Sources, location and options survive the request unchanged."""
    sources = both_sources(household["living_room"])
    options = replace(QUICK, n_states=(3, 5), on_lux=12.5)
    room, read, location, read_options = decode_request(
        encode_request("Living room", sources, berlin, options)
    )
    assert room == "Living room"
    assert location == berlin
    assert read_options == options
    assert read.excluded == sources.excluded
    assert read.lux is not None
    assert sources.lux is not None
    assert read.lux.start_minute == sources.lux.start_minute
    np.testing.assert_array_equal(read.lux.lux, sources.lux.lux)
    assert read.light_keys == sources.light_keys
    for key, series in sources.lights.items():
        assert read.lights[key].start_minute == series.start_minute
        np.testing.assert_array_equal(read.lights[key].lux, series.lux)


def test_a_room_without_a_sensor_reads_back_without_one(berlin: Location) -> None:
    """Lights only: no lux in the request, none read back."""
    light = MinuteSeries(1000, np.array([0.0, 0.5, np.nan, 1.0]))
    _, read, _, _ = decode_request(
        encode_request("Hall", RoomSources(lights={"light.hall": light}), berlin, QUICK)
    )
    assert read.lux is None
    np.testing.assert_array_equal(read.lights["light.hall"].lux, light.lux)


def test_the_worker_trains_the_model_of_this_process(
    worker: subprocess.Popen[bytes],
    household: dict[str, SimulatedRoom],
    berlin: Location,
) -> None:
    """A real worker process returns the model training here returns."""
    sources = both_sources(household["living_room"])
    options = replace(QUICK, n_states=(3, 4))
    model, cpu_seconds = decode_result(
        ask(worker, encode_request("Living room", sources, berlin, options))
    )
    here = train_sources("Living room", sources, berlin, options)
    assert without_time(model.to_dict()) == without_time(here.to_dict())
    assert cpu_seconds > 0.0
    # And the next request too (one worker serves many rooms).
    kitchen = lux_sources(household["kitchen"].timestamps_s, household["kitchen"].lux)
    model, _ = decode_result(
        ask(worker, encode_request("Kitchen", kitchen, berlin, QUICK))
    )
    assert without_time(model.to_dict()) == without_time(
        train_sources("Kitchen", kitchen, berlin, QUICK).to_dict()
    )


def test_too_little_data_comes_back_as_not_enough_data(
    worker: subprocess.Popen[bytes],
    household: dict[str, SimulatedRoom],
    berlin: Location,
) -> None:
    """The worker's `NotEnoughData` is raised here with its figures."""
    sources = both_sources(household["living_room"])
    options = replace(QUICK, min_days=400.0)
    with pytest.raises(NotEnoughData) as err:
        decode_result(
            ask(worker, encode_request("Living room", sources, berlin, options))
        )
    assert err.value.days_needed == 400.0
    assert 30.0 < err.value.days_available < 40.0


def test_a_failure_in_the_worker_says_what_and_where(
    worker: subprocess.Popen[bytes],
    household: dict[str, SimulatedRoom],
    berlin: Location,
) -> None:
    """Training that raises comes back as its type, message and traceback.

    The worker answers the next request as before.
    """
    sources = both_sources(household["living_room"])
    request = encode_request("Living room", sources, berlin, QUICK)
    # A request whose options this worker refuses (as a newer caller's may).
    with np.load(io.BytesIO(request), allow_pickle=False) as files:
        arrays = {name: files[name] for name in files.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta["options"]["daylight"] = "sometimes"
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    with pytest.raises(TrainingError) as err:
        decode_result(ask(worker, buffer.getvalue()))
    assert err.value.kind == "ValueError"
    assert "daylight must be one of" in str(err.value)
    assert "Traceback" in err.value.details
    assert "TrainingOptions" in err.value.details

    model, _ = decode_result(ask(worker, request))
    assert model.room == "Living room"


def test_a_request_that_is_no_archive_is_a_training_error() -> None:
    """Bytes that are no request come back as an error, not a crash."""
    with pytest.raises(TrainingError) as err:
        decode_result(train_request(b"not an npz archive"))
    assert err.value.details


def test_an_unreadable_answer_is_a_worker_error() -> None:
    """An answer that is not the worker's is refused."""
    with pytest.raises(WorkerError, match="unreadable"):
        decode_result(b"{not json")
    with pytest.raises(WorkerError, match="unreadable"):
        decode_result(json.dumps({"model": {"room": "x"}}).encode())


def test_messages_end_cleanly_or_say_they_are_cut() -> None:
    """The end of input is None; a message cut short is a `WorkerError`."""
    stream = io.BytesIO()
    write_message(stream, b"hello")
    whole = stream.getvalue()
    assert read_message(io.BytesIO(whole)) == b"hello"
    assert read_message(io.BytesIO(b"")) is None
    with pytest.raises(WorkerError, match="inside its length"):
        read_message(io.BytesIO(whole[:3]))
    with pytest.raises(WorkerError, match="ended early"):
        read_message(io.BytesIO(whole[:-1]))
    with pytest.raises(WorkerError, match="too large"):
        read_message(io.BytesIO((1 << 40).to_bytes(8, "little")))


def test_the_worker_ends_with_its_input(worker: subprocess.Popen[bytes]) -> None:
    """Closing the worker's input ends it (exit code 0, checked by the fixture)."""
    assert worker.poll() is None


def test_options_with_a_range_of_states_survive(berlin: Location) -> None:
    """A tuple of state counts comes back as a tuple (JSON has lists)."""
    options = TrainingOptions(n_states=(2, 3, 4))
    light = MinuteSeries(0, np.zeros(3))
    _, _, _, read = decode_request(
        encode_request("r", RoomSources(lights={"l": light}), berlin, options)
    )
    assert read.n_states == (2, 3, 4)
    assert hash(read) == hash(options)
