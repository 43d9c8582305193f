"""Battery mode: wake, report once, sleep ``interval_s`` (``deep_sleep`` on).

Loaded only in this mode so that always-on nodes do not spend RAM on it.
On an ESP8266, GPIO16 must be wired to RST for the timer to wake the chip.
"""

import time

import machine
from micropython import const

# Pause between readings while awake (the node is awake only briefly).
_AWAKE_SPACING_MS = const(100)


def run(node):
    """Connect, report one filtered value, then ``machine.deepsleep``."""
    node.start_watchdog()
    # A few quick attempts; if the broker is away, report next time.
    for _ in range(3):
        try:
            node.connect()
            break
        except OSError as err:
            node.drop_connection(err)
            time.sleep_ms(node.backoff_ms)
    node.report(node.measure(_AWAKE_SPACING_MS))
    try:  # noqa: SIM105 - MicroPython has no contextlib.suppress
        node.sensor.power_off()
    except (AttributeError, OSError):
        pass
    # Stay "online" while asleep: expire_after marks a node that stopped.
    node.client.disconnect()
    interval = node.settings["interval_s"]
    print("luxnode: deep sleep", interval, "s")
    machine.deepsleep(int(interval * 1000))
