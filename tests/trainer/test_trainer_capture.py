"""capture: lux readings from a real Mosquitto into capture CSV files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
import importlib.util
from pathlib import Path
import threading
import time
from types import ModuleType, SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from lighting_replay_trainer.capture import (
    Capture,
    CaptureWriter,
    reading_of,
    run_capture,
    sources_from_discovery,
)
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.sources import read_csv

pytestmark = pytest.mark.usefixtures("socket_enabled")

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def firmware_discovery() -> ModuleType:
    """The node's own discovery module (plain Python, runs on CPython too)."""
    spec = importlib.util.spec_from_file_location(
        "firmware_discovery", FIRMWARE / "discovery.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def announce(discovery: ModuleType, node_id: str) -> tuple[str, str, str]:
    """The firmware's discovery topic, payload and state topic of a node.

    The topics are laid out as firmware/node.py does (default prefixes); the
    payload is built by the firmware's own discovery module.
    """
    base = f"luxnode/{node_id}"
    node = SimpleNamespace(
        node_id=node_id,
        name=node_id,
        state_topic=f"{base}/lux",
        availability_topic=f"{base}/availability",
        status_topic=f"{base}/status",
    )
    payload = discovery.config_payload(node, "TSL2591 lux node", "1.0")
    return f"homeassistant/sensor/{node_id}/lux/config", payload, node.state_topic


@pytest.fixture
def publisher(mosquitto: Any) -> Iterator[Callable[..., None]]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()

    def publish(topic: str, payload: str, retain: bool = False) -> None:
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=5)
        assert info.is_published()

    try:
        yield publish
    finally:
        client.loop_stop()
        client.disconnect()


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_firmware_discovery_is_understood() -> None:
    discovery = firmware_discovery()
    topic, payload, state = announce(discovery, "front-room")
    sources = sources_from_discovery(topic, payload.encode())
    assert len(sources) == 1
    assert sources[0].topic == state
    assert sources[0].sensor_id == "front-room"
    assert reading_of(b"12.50", sources[0].json_key) == 12.5
    assert reading_of(b"unavailable", None) is None
    assert reading_of(b'{"lux": 3.25}', None) == 3.25
    # Non-light sensors and removals are ignored.
    assert sources_from_discovery(topic, b"") == []
    other = payload.replace('"illuminance"', '"temperature"').replace('"lx"', '"C"')
    assert sources_from_discovery(topic, other.encode()) == []


def test_capture_records_discovered_nodes(
    mosquitto: Any, publisher: Callable[..., None], tmp_path: Path
) -> None:
    discovery = firmware_discovery()
    front_config, front_payload, front_state = announce(discovery, "front-room")
    back_config, back_payload, back_state = announce(discovery, "back-room")
    # Announced before the capture starts: retained, as the node does.
    publisher(front_config, front_payload, retain=True)

    capture = Capture(CaptureWriter(tmp_path), log=lambda _: None)
    result: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: result.update(
            count=run_capture(
                capture, mosquitto.host, mosquitto.port, count=5, duration=30
            )
        )
    )
    start = time.time()
    thread.start()
    try:
        wait_until(lambda: front_state in capture.sources)
        # A node that comes up while capturing.
        publisher(back_config, back_payload)
        wait_until(lambda: back_state in capture.sources)
        time.sleep(0.2)  # let the subscription to the new state topic settle
        for value in (0.5, 120.25):
            publisher(front_state, f"{value:.2f}")
        publisher(front_state, "garbage")
        for value in (3.0, 4.75, 60.0):
            publisher(back_state, f"{value:.2f}")
    finally:
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert result["count"] == 5
    assert capture.skipped == 1
    end = time.time()

    front = (tmp_path / "front-room.csv").read_text().splitlines()
    assert front[0] == "timestamp,datetime,sensor_id,value"
    assert len(front) == 3
    stamp, text, sensor, value = front[1].split(",")
    assert start <= float(stamp) <= end
    assert sensor == "front-room"
    assert float(value) == 0.5
    assert datetime.fromisoformat(text).tzinfo is None
    assert datetime.fromisoformat(text).replace(
        tzinfo=UTC
    ).timestamp() == pytest.approx(float(stamp), abs=1e-3)
    readings = read_csv([tmp_path])
    assert readings.problems == []
    assert sorted(readings.rooms) == ["back-room", "front-room"]
    assert list(readings.rooms["front-room"].lux) == [0.5, 120.25]
    assert list(readings.rooms["back-room"].lux) == [3.0, 4.75, 60.0]


def test_the_command_appends_to_named_topics(
    mosquitto: Any,
    publisher: Callable[..., None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(values: list[float]) -> None:
        argv = ["capture", "--broker", mosquitto.host, "--port", str(mosquitto.port),
                "-o", str(tmp_path), "--topic", "attic/lux=attic", "--no-discovery",
                "--count", str(len(values)), "--duration", "30"]  # fmt: skip
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(main(argv)))
        thread.start()
        try:
            wait_until(lambda: "capturing from" in capsys.readouterr().err)
            time.sleep(0.2)
            for value in values:
                publisher("attic/lux", str(value))
        finally:
            thread.join(timeout=30)
        assert codes == [0]

    run([1.5, 2.5])
    run([3.5])
    lines = (tmp_path / "attic.csv").read_text().splitlines()
    assert lines[0] == "timestamp,datetime,sensor_id,value"
    assert [line.split(",")[3] for line in lines[1:]] == ["1.5", "2.5", "3.5"]
    assert sum(line.startswith("timestamp") for line in lines) == 1


def test_an_unreachable_broker_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mqtt_broker import free_port

    code = main(["capture", "--broker", "127.0.0.1", "--port", str(free_port()),
                 "-o", str(tmp_path), "--duration", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert "cannot connect" in err[0]
