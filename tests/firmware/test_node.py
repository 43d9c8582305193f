"""The node on MicroPython's unix port against a real Mosquitto broker."""

from __future__ import annotations

import json
import math
from pathlib import Path
import time

from lux_node import LuxNode, build_firmware, compile_fakes, node_config, run_script
from mqtt_broker import Mosquitto, recording
import pytest

CONFIG = "homeassistant/sensor/test_node/lux/config"
AVAILABILITY = "luxnode/test_node/availability"
STATE = "luxnode/test_node/lux"
STATUS = "luxnode/test_node/status"


def test_discovery_and_states_as_home_assistant_expects(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Retained discovery with the illuminance fields, then online and states."""
    settings = node_config(mosquitto.port, max_cycles=3)
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [250.0]})
        with node:
            assert node.wait(30) == 0, node.output()
        config_msgs = rec.wait_for(CONFIG)
        states = rec.wait_for(STATE, count=3)
        rec.wait_for(AVAILABILITY, "offline", count=1)
    # A client arriving later (Home Assistant starting) gets them retained.
    with recording(mosquitto.host, mosquitto.port, CONFIG, AVAILABILITY) as late:
        assert late.wait_for(CONFIG)[0].retain
        assert late.wait_for(AVAILABILITY)[0].retain
    discovery = json.loads(config_msgs[0].payload)
    assert discovery["device_class"] == "illuminance"
    assert discovery["unit_of_measurement"] == "lx"
    assert discovery["state_class"] == "measurement"
    assert discovery["unique_id"] == "test_node_lux"
    assert discovery["state_topic"] == STATE
    assert discovery["availability_topic"] == AVAILABILITY
    assert discovery["payload_available"] == "online"
    assert discovery["payload_not_available"] == "offline"
    assert discovery["device"]["identifiers"] == ["luxnode_test_node"]
    assert discovery["device"]["name"] == "Test lux node"
    assert discovery["device"]["model"] == "TSL2591 lux node"
    assert "expire_after" not in discovery
    for message in states:
        assert float(message.payload) == pytest.approx(250.0, rel=0.01)
    availability = [m.payload for m in rec.on(AVAILABILITY)]
    assert "online" in availability
    assert availability[-1] == "offline"  # clean stop after max_cycles
    status = json.loads(rec.on(STATUS)[-1].payload)
    assert status["error"] is None


def test_broker_restart_reconnects_and_announces_again(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Broker gone and back: the node reconnects with backoff and re-publishes."""
    settings = node_config(mosquitto.port, max_cycles=0, interval_s=0.5)
    node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [120.0]})
    with node:
        with recording(mosquitto.host, mosquitto.port, "#") as rec:
            rec.wait_for(AVAILABILITY, "online", timeout=15)
        mosquitto.stop()
        time.sleep(2.0)  # several failed attempts: backoff is exercised
        mosquitto.start()
        restarted = time.monotonic()
        with recording(mosquitto.host, mosquitto.port, "#") as rec:
            # Retained messages died with the broker: these are new.
            rec.wait_for(CONFIG, timeout=15, after=restarted)
            rec.wait_for(AVAILABILITY, "online", timeout=15, after=restarted)
            rec.wait_for(STATE, timeout=15, after=restarted)
        assert node.process is not None
        assert node.process.poll() is None
        # The node logs the connection right after its first publishes: give
        # it a moment to do so before it is stopped.
        deadline = time.monotonic() + 10
        while node.output().count("connected to") < 2:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    log = node.output()
    assert "retry in" in log
    assert log.count("connected to") >= 2


def test_last_will_marks_node_offline_when_killed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Killed without DISCONNECT: the broker publishes the will after keepalive."""
    settings = node_config(mosquitto.port, max_cycles=0, keepalive_s=2)
    node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [80.0]})
    with recording(mosquitto.host, mosquitto.port, AVAILABILITY) as rec:
        with node:
            rec.wait_for(AVAILABILITY, "online", timeout=15)
            killed = time.monotonic()
            node.kill()
        offline = rec.wait_for(AVAILABILITY, "offline", timeout=10, after=killed)
    # Keepalive 2 s: the broker gives up after 1.5 x 2 s (plus its tick).
    assert offline[0].at - killed <= 2 * 1.5 + 1.5


def test_home_assistant_birth_reannounces_discovery(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """homeassistant/status = online makes the node send discovery again."""
    settings = node_config(mosquitto.port, max_cycles=0)
    node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [300.0]})
    with recording(mosquitto.host, mosquitto.port, "#") as rec, node:
        rec.wait_for(AVAILABILITY, "online", timeout=15)
        first = len(rec.on(CONFIG))
        born = time.monotonic()
        rec.publish("homeassistant/status", "online")
        again = rec.wait_for(CONFIG, timeout=10, after=born)
        rec.wait_for(AVAILABILITY, "online", timeout=10, after=born)
    assert first == 1
    assert json.loads(again[0].payload)["unique_id"] == "test_node_lux"
    assert "Home Assistant started" in node.output()


def test_absent_sensor_reports_unavailable_and_keeps_running(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """No chip on the bus: offline + error on the status topic, no state, no crash."""
    settings = node_config(mosquitto.port, max_cycles=3)
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, {"device": "none"})
        with node:
            assert node.wait(30) == 0, node.output()
        rec.wait_for(CONFIG)
        statuses = rec.wait_for(STATUS, count=3)
    assert rec.on(STATE) == []
    assert all(m.payload == "offline" for m in rec.on(AVAILABILITY))
    error = json.loads(statuses[-1].payload)["error"]
    assert "sensor tsl2591" in error
    assert "19" in error
    assert "error: sensor tsl2591" in node.output()


def test_sensor_failing_midway_goes_unavailable_then_recovers(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A chip that drops off the bus and comes back: offline, then online again."""
    settings = node_config(mosquitto.port, max_cycles=6, samples=2, interval_s=0.4)
    # 4 transactions to open the chip, 2 per reading: two good reports, then
    # the bus fails for two reports (read, then reopen, each once per sample).
    scenario = {"device": "tsl2591", "lux": [200.0], "fail_after": 12, "fail_count": 4}
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, scenario)
        with node:
            assert node.wait(40) == 0, node.output()
        rec.wait_for(AVAILABILITY, "offline", count=2)
    availability = [m.payload for m in rec.on(AVAILABILITY)]
    assert availability == [
        "offline",
        "online",
        "online",
        "offline",
        "offline",
        "online",
        "online",
        "offline",
    ]
    errors = [json.loads(m.payload)["error"] for m in rec.on(STATUS)]
    assert any(e and "sensor tsl2591" in e for e in errors)
    assert errors[-1] is None
    for message in rec.on(STATE):
        assert float(message.payload) == pytest.approx(200.0, rel=0.01)


def test_bad_readings_never_reach_the_state_topic(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Non-numeric, NaN, infinite, negative and huge readings are dropped."""
    settings = node_config(mosquitto.port, max_cycles=3, samples=4, interval_s=0.4)
    script = f"""
import node
class Sensor:
    values = [-5.0, 150.0, "12", float("nan"),
              1e9, 151.0, None, float("inf"),
              "x", float("nan"), None, float("-inf")]
    i = 0
    def read_lux(self):
        v = Sensor.values[Sensor.i % len(Sensor.values)]
        Sensor.i += 1
        return v
import config, json
s = dict(config.DEFAULTS)
s.update(json.loads({json.dumps(settings)!r}))
node.Node(s, sensor=Sensor()).run()
"""
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        done = run_script(script, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        statuses = rec.wait_for(STATUS, count=4)
    states = [m.payload for m in rec.on(STATE)]
    assert states, "the valid readings must be reported"
    for payload in states:
        value = float(payload)
        assert math.isfinite(value)
        assert 150.0 <= value <= 151.0
    # Cycle 3 has only invalid readings: unavailable with an error.
    last = json.loads(statuses[-1].payload)
    assert last["invalid"] == 4
    assert "out of range" in last["error"]
    assert [m.payload for m in rec.on(AVAILABILITY)][-2:] == ["offline", "offline"]


def test_saturated_sensor_is_not_reported(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Light beyond the chip's range (inf from the driver) is never published."""
    settings = node_config(mosquitto.port, max_cycles=2)
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [1e7]})
        with node:
            assert node.wait(30) == 0, node.output()
        statuses = rec.wait_for(STATUS, count=2)
    assert rec.on(STATE) == []
    assert "out of range" in json.loads(statuses[-1].payload)["error"]


def test_bh1750_node(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """The same node with a BH1750 publishes its readings and model."""
    settings = node_config(mosquitto.port, max_cycles=2, sensor="bh1750")
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, {"device": "bh1750", "lux": [4200.0]})
        with node:
            assert node.wait(30) == 0, node.output()
        states = rec.wait_for(STATE, count=2)
        config_msg = rec.wait_for(CONFIG)[0]
    assert json.loads(config_msg.payload)["device"]["model"] == "BH1750 lux node"
    assert float(states[0].payload) == pytest.approx(4200.0, rel=0.01)


def test_deep_sleep_publishes_once_and_sleeps(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Battery mode: discovery with expire_after, one state, then deepsleep."""
    settings = node_config(mosquitto.port, deep_sleep=True, interval_s=300)
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [42.0]})
        with node:
            assert node.wait(30) == 0, node.output()
        states = rec.wait_for(STATE)
        config_msg = rec.wait_for(CONFIG)[0]
    assert float(states[0].payload) == pytest.approx(42.0, rel=0.01)
    assert json.loads(config_msg.payload)["expire_after"] == 300 * 3 + 60
    assert "machine: deepsleep 300000" in node.output()
    assert [m.payload for m in rec.on(AVAILABILITY)][-1] == "online"


def test_broker_absent_at_start_then_appears(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Started with no broker, the node keeps measuring and connects later."""
    mosquitto.stop()
    settings = node_config(mosquitto.port, max_cycles=0)
    node = LuxNode(tmp_path, settings, {"device": "tsl2591", "lux": [90.0]})
    with node:
        time.sleep(1.5)
        assert node.process is not None
        assert node.process.poll() is None
        mosquitto.start()
        with recording(mosquitto.host, mosquitto.port, "#") as rec:
            rec.wait_for(STATE, timeout=15)
    assert "retry in" in node.output()


def test_bad_config_file_falls_back_to_defaults(tmp_path: Path) -> None:
    """Broken JSON and wrong types are reported, the defaults are kept."""
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "types.json").write_text(
        json.dumps({"interval_s": "often", "samples": 7, "colour": "red"})
    )
    done = run_script(
        "import config\n"
        f"a = config.load({str(tmp_path / 'bad.json')!r})\n"
        f"b = config.load({str(tmp_path / 'types.json')!r})\n"
        f"c = config.load({str(tmp_path / 'missing.json')!r})\n"
        "print('RESULT', a == config.DEFAULTS, b['interval_s'], b['samples'],"
        " c == config.DEFAULTS)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "RESULT True 60 7 True" in done.stdout
    assert "bad JSON" in done.stdout
    assert "bad value for interval_s" in done.stdout
    assert "unknown key colour" in done.stdout


def test_mpy_build_runs_in_32k_heap(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """The .mpy build (with .mpy fakes) works with a 32 KiB heap: it publishes."""
    run = tmp_path / "run"
    code = build_firmware(run / "lib", "host")
    fakes = compile_fakes(run / "fakes")
    settings = node_config(mosquitto.port, max_cycles=3)
    with recording(mosquitto.host, mosquitto.port, "#") as rec:
        node = LuxNode(
            run,
            settings,
            {"device": "tsl2591", "lux": [250.0]},
            code_dir=code,
            fakes_dir=fakes,
            heapsize="32k",
        )
        with node:
            assert node.wait(30) == 0, node.output()
        states = rec.wait_for(STATE, count=3)
        rec.wait_for(CONFIG)
    assert float(states[-1].payload) == pytest.approx(250.0, rel=0.01)
