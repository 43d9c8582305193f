"""Record the lux nodes' MQTT readings into capture CSV files.

The nodes announce themselves with Home Assistant MQTT discovery; the capture
reads those announcements to learn each illuminance sensor's state topic (and
how to read its payload), and can also listen to topics given by hand. Every
reading is appended to `<sensor>.csv` in the capture format
`timestamp,datetime,sensor_id,value` and flushed at once, so a capture that is
stopped loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
import math
from pathlib import Path
import re
import threading
import time
from typing import IO, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .sources import CSV_COLUMNS

_LOGGER = logging.getLogger(__name__)

DISCOVERY_PREFIX = "homeassistant"
"""Home Assistant's default discovery prefix."""

_JSON_KEY = re.compile(
    r"value_json(?:\.(?P<attr>[A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"](?P<item>[^'\"]+)['\"]\s*\])"
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_ABBREVIATIONS = {
    "stat_t": "state_topic",
    "val_tpl": "value_template",
    "uniq_id": "unique_id",
    "obj_id": "object_id",
    "dev_cla": "device_class",
    "unit_of_meas": "unit_of_measurement",
    "dev": "device",
    "p": "platform",
}


class CaptureError(Exception):
    """The capture cannot run (broker unreachable, bad option)."""


@dataclass(frozen=True, slots=True)
class StateSource:
    """A state topic to record, and how to read its payload."""

    topic: str
    sensor_id: str
    json_key: str | None = None


def _expand(config: Mapping[str, Any]) -> dict[str, Any]:
    """Expand discovery abbreviations and the `~` base topic."""
    full = {_ABBREVIATIONS.get(key, key): value for key, value in config.items()}
    base = full.get("~")
    if isinstance(base, str):
        for key, value in list(full.items()):
            if key.endswith("topic") and isinstance(value, str):
                if value.startswith("~"):
                    full[key] = base + value[1:]
                elif value.endswith("~"):
                    full[key] = value[:-1] + base
    return full


def _is_illuminance(config: Mapping[str, Any]) -> bool:
    """Tell whether a discovered sensor measures light."""
    return (
        config.get("device_class") == "illuminance"
        or config.get("unit_of_measurement") == "lx"
    )


def _json_key(config: Mapping[str, Any]) -> str | None:
    """Return the JSON key the value template reads, if it reads one."""
    template = config.get("value_template")
    if not isinstance(template, str):
        return None
    match = _JSON_KEY.search(template)
    if match is None:
        return None
    return match.group("attr") or match.group("item")


def sources_from_discovery(
    topic: str, payload: bytes, prefix: str = DISCOVERY_PREFIX
) -> list[StateSource]:
    """Return the illuminance state topics a discovery message announces.

    Handles per-entity discovery (`<prefix>/sensor/[<node>/]<object>/config`)
    and device discovery (`<prefix>/device/<node>/config` with components).
    The sensor id is the node id of the topic, else the object id.
    """
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != prefix or parts[-1] != "config":
        return []
    try:
        config = json.loads(payload) if payload else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        _LOGGER.warning("ignoring discovery on %s: not JSON", topic)
        return []
    if not isinstance(config, dict):
        return []  # an empty payload removes a sensor: keep its file
    node = parts[2] if len(parts) == 5 else None
    if parts[1] == "sensor":
        entries = [(parts[-2], _expand(config))]
    elif parts[1] == "device":
        shared = _expand({k: v for k, v in config.items() if k != "cmps"})
        entries = []
        components = config.get("cmps", config.get("components", {}))
        if isinstance(components, dict):
            for object_id, component in components.items():
                if isinstance(component, dict):
                    merged = {**shared, **_expand(component)}
                    if merged.get("platform") == "sensor":
                        entries.append((str(object_id), merged))
        node = parts[2]
    else:
        return []
    found: list[StateSource] = []
    for object_id, entry in entries:
        state_topic = entry.get("state_topic")
        if not isinstance(state_topic, str) or not _is_illuminance(entry):
            continue
        sensor = node or str(entry.get("object_id") or object_id)
        if node is not None and len(entries) > 1:
            sensor = f"{node}-{object_id}"
        found.append(StateSource(state_topic, sensor, _json_key(entry)))
    return found


def reading_of(payload: bytes, json_key: str | None) -> float | None:
    """Return the lux value of a state payload, or None when it has none."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    value: Any = text
    if json_key is not None or text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(data, dict):
            keys = [json_key] if json_key else ["lux", "illuminance", "value"]
            value = next((data[k] for k in keys if k in data), None)
        else:
            value = data
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class CaptureWriter:
    """Appends readings to one capture CSV file per sensor."""

    def __init__(self, folder: Path) -> None:
        """Write into `folder` (created when missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._files: dict[str, tuple[IO[str], Any]] = {}

    def path_of(self, sensor_id: str) -> Path:
        """Return the file a sensor's readings go to."""
        name = _SAFE_NAME.sub("_", sensor_id).strip("._") or "sensor"
        return self.folder / f"{name}.csv"

    def write(self, sensor_id: str, value: float, timestamp: float) -> None:
        """Append one reading and flush it to disk."""
        if sensor_id not in self._files:
            path = self.path_of(sensor_id)
            new = not path.exists() or path.stat().st_size == 0
            opened = path.open("a", newline="", encoding="utf-8")
            started = csv.writer(opened, lineterminator="\n")
            if new:
                started.writerow(CSV_COLUMNS)
            self._files[sensor_id] = (opened, started)
        handle, writer = self._files[sensor_id]
        stamp = datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)
        writer.writerow([repr(timestamp), stamp.isoformat(), sensor_id, repr(value)])
        handle.flush()

    def close(self) -> None:
        """Close every file."""
        for handle, _ in self._files.values():
            handle.close()
        self._files.clear()


@dataclass
class Capture:
    """Subscribes to discovery and state topics and records readings."""

    writer: CaptureWriter
    topics: Mapping[str, str] = field(default_factory=dict)
    rooms: Mapping[str, str] = field(default_factory=dict)
    discovery_prefix: str = DISCOVERY_PREFIX
    discover: bool = True
    clock: Callable[[], float] = time.time
    log: Callable[[str], None] = print
    sources: dict[str, StateSource] = field(default_factory=dict)
    received: int = 0
    skipped: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        """Add the topics given by hand."""
        for topic, sensor in self.topics.items():
            self.sources[topic] = StateSource(topic, sensor)

    def subscriptions(self) -> list[str]:
        """Return the topic filters to subscribe to."""
        filters = list(self.sources)
        if self.discover:
            prefix = self.discovery_prefix
            filters += [
                f"{prefix}/sensor/+/config",
                f"{prefix}/sensor/+/+/config",
                f"{prefix}/device/+/config",
            ]
        return filters

    def handle(self, client: mqtt.Client | None, topic: str, payload: bytes) -> None:
        """Handle one MQTT message (a discovery config or a state)."""
        if self.discover and topic.startswith(self.discovery_prefix + "/"):
            for source in sources_from_discovery(topic, payload, self.discovery_prefix):
                if self.sources.get(source.topic) != source:
                    self.sources[source.topic] = source
                    self.log(f"found {source.sensor_id} on {source.topic}")
                    if client is not None:
                        client.subscribe(source.topic)
            return
        state = self.sources.get(topic)
        if state is None:
            return
        value = reading_of(payload, state.json_key)
        if value is None:
            self.skipped += 1
            _LOGGER.warning("skipping non-numeric payload on %s: %r", topic, payload)
            return
        sensor = self.rooms.get(state.sensor_id, state.sensor_id)
        self.writer.write(sensor, value, self.clock())
        with self.changed:
            self.received += 1
            self.changed.notify_all()


def parse_topics(pairs: Iterable[str]) -> dict[str, str]:
    """Parse `--topic TOPIC[=SENSOR]`; the sensor defaults to a topic level.

    Without a name, the sensor id is the topic's second level (the node id
    in `lighting_replay/<node>/...`), or the whole topic when it has one level.
    """
    topics: dict[str, str] = {}
    for pair in pairs:
        topic, sep, sensor = pair.partition("=")
        topic = topic.strip()
        if not topic or any(c in topic for c in "+#"):
            raise CaptureError(f"--topic {pair!r}: expected a topic without wildcards")
        if not sep:
            levels = topic.split("/")
            sensor = levels[1] if len(levels) > 1 else topic
        if not sensor.strip():
            raise CaptureError(f"--topic {pair!r}: empty sensor name")
        topics[topic] = sensor.strip()
    return topics


def run_capture(
    capture: Capture,
    host: str,
    port: int = 1883,
    *,
    username: str | None = None,
    password: str | None = None,
    duration: float | None = None,
    count: int | None = None,
    connect_timeout: float = 10.0,
) -> int:
    """Record until Ctrl-C, `duration` seconds, or `count` readings.

    Returns the number of readings written.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if username is not None:
        client.username_pw_set(username, password)
    connected = threading.Event()

    def on_connect(
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason_code: Any,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            capture.log(f"broker refused the connection: {reason_code}")
            return
        # Subscribing here also subscribes again after a reconnect.
        for topic_filter in capture.subscriptions():
            client.subscribe(topic_filter)
        connected.set()

    def on_message(client: mqtt.Client, userdata: Any, message: Any) -> None:
        try:
            capture.handle(client, message.topic, message.payload)
        except OSError as err:
            capture.log(f"cannot write reading: {err}")

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=60)
    except (OSError, ValueError) as err:
        raise CaptureError(f"broker {host}:{port}: cannot connect ({err})") from err
    client.loop_start()
    try:
        if not connected.wait(connect_timeout):
            raise CaptureError(f"broker {host}:{port}: no answer to connect")
        capture.log(f"capturing from {host}:{port} into {capture.writer.folder}")
        deadline = None if duration is None else time.monotonic() + duration
        with capture.changed:
            while count is None or capture.received < count:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                capture.changed.wait(timeout=1.0 if left is None else min(left, 1.0))
    finally:
        client.loop_stop()
        client.disconnect()
        capture.writer.close()
    return capture.received
