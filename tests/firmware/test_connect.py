"""The node's connection and sensor errors on MicroPython's unix port."""

from __future__ import annotations

import json

from lux_node import node_config, run_script
from mqtt_broker import Mosquitto

# Counts the node's DNS lookups: the MQTT client looks the broker up through
# its module's `socket`, which the script swaps for a counting stand-in.
COUNTING_SOCKET = """
import socket as real_socket
import mqtt

class CountingSocket:
    lookups = 0
    socket = real_socket.socket

    @staticmethod
    def getaddrinfo(host, port):
        CountingSocket.lookups += 1
        return real_socket.getaddrinfo(host, port)

mqtt.socket = CountingSocket
"""


def test_broker_address_is_looked_up_once(mosquitto: Mosquitto) -> None:
    """Reconnecting to a reachable broker needs no new DNS lookup."""
    script = (
        COUNTING_SOCKET
        + f"""
client = mqtt.MQTTClient("lookup_test", "127.0.0.1", {mosquitto.port})
for _ in range(3):
    client.connect()
    client.disconnect()
print("LOOKUPS", CountingSocket.lookups)
"""
    )
    done = run_script(script, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOOKUPS 1" in done.stdout, done.stdout


def test_broker_address_is_looked_up_again_after_many_failures(
    mosquitto: Mosquitto,
) -> None:
    """A broker that refuses every connect may have moved: look it up anew."""
    mosquitto.stop()  # nothing listens on its port now
    port = mosquitto.port
    script = (
        COUNTING_SOCKET
        + f"""
client = mqtt.MQTTClient("lookup_test", "127.0.0.1", {port}, timeout=1)
failures = 0
# The client looks the broker up again after 10 failed connects.
for _ in range(11):
    try:
        client.connect()
    except OSError:
        failures += 1
print("FAILURES", failures, "LOOKUPS", CountingSocket.lookups)
"""
    )
    done = run_script(script, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAILURES 11 LOOKUPS 2" in done.stdout, done.stdout


def test_a_failing_sensor_raises() -> None:
    """`read_sensor` raises OSError instead of returning it."""
    settings = node_config(1883)
    script = f"""
import config, json, node

class Broken:
    def read_lux(self):
        raise OSError(19)

s = dict(config.DEFAULTS)
s.update(json.loads({json.dumps(settings)!r}))
n = node.Node(s, sensor=Broken())
try:
    value = n.read_sensor()
except OSError as err:
    print("RAISED", err)
else:
    print("RETURNED", repr(value))
"""
    done = run_script(script, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RAISED sensor tsl2591" in done.stdout, done.stdout
