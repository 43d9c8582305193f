"""The lux node: read the light sensor, filter, publish to Home Assistant.

One loop, no asyncio: each report takes ``samples`` readings spread over
``interval_s``; between readings the MQTT connection is serviced (Home
Assistant's birth message, keepalive pings, reconnects with exponential
backoff) and the watchdog is fed. A missing or failing sensor marks the node
unavailable and puts the error on the status topic; the loop keeps going and
retries the sensor. Kept compact: on an ESP8266 each function costs RAM.
"""

import gc
import json
import sys
import time

from filters import MedianFilter, valid
import machine
from micropython import const
from mqtt import MQTTClient
import network

VERSION = "1.0.0"
# Longest a single blocking step may take before the watchdog resets the board.
_WATCHDOG_MS = const(30000)


def log(*args):
    """One log line on the console (the REPL over USB on a board)."""
    print("luxnode:", *args)


class Node:
    """The node's state and its loop."""

    def __init__(self, settings, sensor=None, i2c=None):
        """Prepare everything; nothing touches the network yet.

        ``sensor`` (anything with ``read_lux()``) and ``i2c`` may be injected;
        otherwise the bus and driver come from the settings.
        """
        s = self.settings = settings
        node_id = s["node_id"]
        if not node_id:
            node_id = "luxnode_"
            for byte in machine.unique_id():
                node_id += "%02x" % byte
        # Home Assistant accepts letters, digits, "_" and "-" in a node id.
        clean = ""
        for ch in node_id:
            ok = ch.isalpha() or ch.isdigit() or ch in "_-"
            clean += ch if ok and ord(ch) < 128 else "_"
        self.node_id = clean
        base = s["topic_prefix"] + "/" + self.node_id
        self.availability_topic = base + "/availability"
        self.state_topic = base + "/lux"
        self.status_topic = base + "/status"
        # Home Assistant publishes "online" here when it (re)starts.
        self.birth_topic = (s["discovery_prefix"] + "/status").encode()
        self.name = s["name"]
        self.samples = max(1, int(s["samples"]))
        self.filter = MedianFilter(self.samples)
        self.sensor = sensor
        self.i2c = i2c
        self.client = MQTTClient(
            self.node_id,
            s["broker_host"],
            s["broker_port"],
            s["username"],
            s["password"],
            s["keepalive_s"],
            s["socket_timeout_s"],
            (self.availability_topic, "offline", True, 1),
        )
        self.client.callback = self.on_message
        self.wlan = None
        self.wdt = None
        self.announce = True
        self.available = False
        self.error = None
        self.invalid = 0
        self.last_value = None
        self.cycles = 0
        self.backoff_ms = 0
        self.next_attempt = time.ticks_ms()
        self.peak_heap = 0

    def start_watchdog(self):
        """Start the board's watchdog if it has one and it is wanted."""
        if self.settings["watchdog"] and hasattr(machine, "WDT"):
            try:
                self.wdt = machine.WDT(timeout=_WATCHDOG_MS)
            except (TypeError, ValueError):
                self.wdt = machine.WDT()  # ESP8266: fixed timeout, no arguments

    def read_sensor(self):
        """One reading in lux; raises OSError when the sensor is absent or fails."""
        s = self.settings
        try:
            if self.sensor is None:
                # Opening needs contiguous RAM: for the bus, then the driver.
                gc.collect()
                if self.i2c is None:
                    scl = machine.Pin(s["i2c_scl"])
                    sda = machine.Pin(s["i2c_sda"])
                    if s["i2c_id"] is None:
                        bus = getattr(machine, "SoftI2C", machine.I2C)
                        self.i2c = bus(scl=scl, sda=sda, freq=s["i2c_freq"])
                    else:
                        self.i2c = machine.I2C(
                            s["i2c_id"], scl=scl, sda=sda, freq=s["i2c_freq"]
                        )
                gc.collect()
                import drivers

                try:
                    self.sensor = drivers.open_sensor(s["sensor"], self.i2c)
                finally:
                    # The driver stays loaded; the chooser is needed only now.
                    sys.modules.pop("drivers", None)
            return self.sensor.read_lux()
        except (OSError, ValueError) as err:
            # Open it again next time: the chip may have been replugged.
            self.sensor = None
            raise OSError("sensor %s: %r" % (s["sensor"], err)) from err

    def connect(self):
        """WiFi, MQTT, subscription, then the announcements; raises OSError."""
        s = self.settings
        if self.wlan is None:
            self.wlan = network.WLAN(network.STA_IF)
            self.wlan.active(True)
        if not self.wlan.isconnected():
            self.wlan.connect(s["wifi_ssid"], s["wifi_password"])
            deadline = time.ticks_add(time.ticks_ms(), int(s["wifi_timeout_s"] * 1000))
            while not self.wlan.isconnected():
                if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                    raise OSError("no WiFi")
                if self.wdt:
                    self.wdt.feed()
                time.sleep_ms(200)
            log("wifi", self.wlan.ifconfig()[0])
        gc.collect()  # the socket and its buffers need contiguous RAM
        self.client.connect()
        self.client.subscribe(self.birth_topic)
        self.announce = True
        self.publish_state(None)
        log("connected to", s["broker_host"])

    def publish_state(self, value):
        """Announce if due, then availability, status and ``value`` (if any).

        Discovery and availability are retained so Home Assistant finds them
        whenever it starts; the status JSON carries the error and counters.
        """
        s = self.settings
        client = self.client
        if self.announce:
            # Loaded for the announcement only: its code and text are not
            # kept in RAM between (rare) announcements.
            gc.collect()  # loading it needs contiguous RAM
            import discovery

            expire = int(s["interval_s"] * 3) + 60 if s["deep_sleep"] else 0
            parts = discovery.config_parts(
                self,
                str(s["sensor"]).upper() + " lux node",
                VERSION,
                expire,
            )
            del discovery
            sys.modules.pop("discovery", None)
            topic = s["discovery_prefix"] + "/sensor/" + self.node_id + "/lux/config"
            client.publish(topic, parts, True, 1)
            parts = topic = None
            gc.collect()  # the module's code goes now, before anything else
            self.announce = False
            if value is None and self.available:
                value = self.last_value
        client.publish(
            self.availability_topic, "online" if self.available else "offline", True, 1
        )
        client.publish(
            self.status_topic,
            '{"error":%s,"rejected":%d,"invalid":%d,"free_heap":%d}'
            % (
                json.dumps(self.error),
                self.filter.rejected,
                self.invalid,
                gc.mem_free(),
            ),
            True,
            1,
        )
        if value is not None:
            client.publish(self.state_topic, "%.2f" % value, False, 1)

    def on_message(self, topic, payload):
        """Home Assistant's birth message: announce again (from the loop)."""
        if payload == b"online" and topic == self.birth_topic:
            log("Home Assistant started")
            self.announce = True

    def drop_connection(self, err):
        """Close the socket and schedule the next attempt with backoff."""
        self.client.close()
        s = self.settings
        self.backoff_ms = min(
            int(s["backoff_max_s"] * 1000),
            max(int(s["backoff_min_s"] * 1000), self.backoff_ms * 2),
        )
        self.next_attempt = time.ticks_add(time.ticks_ms(), self.backoff_ms)
        log("offline (%r), retry in %d ms" % (err, self.backoff_ms))

    def service(self, until):
        """Keep MQTT going (reconnect, messages, pings) until ``until`` ticks."""
        client = self.client
        while True:
            if self.wdt:
                self.wdt.feed()
            if self.settings["debug"]:
                self.peak_heap = max(self.peak_heap, gc.mem_alloc())
            now = time.ticks_ms()
            left = time.ticks_diff(until, now)
            try:
                if client.sock is None:
                    wait = time.ticks_diff(self.next_attempt, now)
                    if wait <= 0:
                        self.connect()
                        self.backoff_ms = 0
                        continue
                    if left <= 0:
                        return
                    time.sleep_ms(min(left, wait, 1000))
                    continue
                if self.announce:
                    self.publish_state(None)
                client.check_msg(min(max(left, 0), 1000))
            except OSError as err:
                self.drop_connection(err)
                continue
            if time.ticks_diff(until, time.ticks_ms()) <= 0:
                return

    def measure(self, spacing_ms):
        """Take the readings of one report; return the filtered lux or None."""
        flt = self.filter
        flt.clear()
        self.invalid = 0
        failure = None
        start = time.ticks_ms()
        for i in range(self.samples):
            try:
                value = self.read_sensor()
            except OSError as err:
                failure = err
            else:
                if valid(value, self.settings["max_lux"]):
                    flt.add(value)
                else:
                    self.invalid += 1
            self.service(time.ticks_add(start, (i + 1) * spacing_ms))
        error = None
        if not flt.count:
            error = (
                str(failure) if failure else "%d readings out of range" % self.invalid
            )
            if error != self.error:
                log("error:", error)
        self.error = error
        return flt.value()

    def report(self, value):
        """Publish the value (or unavailability) of one cycle."""
        self.available = value is not None
        if self.available:
            self.last_value = value
        if self.client.sock is not None:
            try:
                self.publish_state(value)
            except OSError as err:
                self.drop_connection(err)

    def run(self):
        """Report forever (or ``max_cycles`` times), then go offline cleanly."""
        s = self.settings
        self.start_watchdog()
        spacing = int(s["interval_s"] * 1000) // self.samples
        try:
            self.service(time.ticks_ms())
            while not s["max_cycles"] or self.cycles < s["max_cycles"]:
                self.report(self.measure(spacing))
                self.cycles += 1
                if s["debug"]:
                    self.peak_heap = max(self.peak_heap, gc.mem_alloc())
                gc.collect()
                if s["debug"]:
                    log(
                        "cycle",
                        self.cycles,
                        "heap",
                        gc.mem_alloc(),
                        "peak",
                        self.peak_heap,
                    )
        finally:
            if self.client.sock is not None:
                try:  # noqa: SIM105 - MicroPython has no contextlib.suppress
                    self.client.publish(self.availability_topic, "offline", True, 1)
                except OSError:
                    pass
                self.client.disconnect()


def main(path="config.json"):
    """Load the settings and run; an unexpected error resets the board."""
    import config

    settings = config.load(path)
    # The loader and its defaults are not needed again: give their RAM back.
    del config
    sys.modules.pop("config", None)
    gc.collect()
    # Load the driver's code now, before sockets and messages cut up the heap
    # (the sensor itself is opened at the first reading, which reports an
    # unknown kind).
    try:  # noqa: SIM105 - MicroPython has no contextlib.suppress
        __import__("drivers." + settings["sensor"])
    except ImportError:
        pass
    sys.modules.pop("drivers", None)
    gc.collect()
    try:
        node = Node(settings)
        if settings["deep_sleep"]:
            import deepsleep

            deepsleep.run(node)
        else:
            node.run()
    except KeyboardInterrupt:
        raise
    except Exception as err:
        log("fatal:", repr(err))
        time.sleep_ms(5000)
        machine.reset()
