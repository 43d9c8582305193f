"""A real Mosquitto broker for tests, and a small recording MQTT client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
import shutil
import socket
import subprocess
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

HOST = "127.0.0.1"


def find_mosquitto() -> str | None:
    """The mosquitto binary from PATH or Debian's /usr/sbin, else None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    debian = Path("/usr/sbin/mosquitto")
    return str(debian) if debian.exists() else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


class Mosquitto:
    """One Mosquitto process on 127.0.0.1, stoppable and restartable.

    The port stays the same across restarts so clients can reconnect.
    """

    def __init__(self, binary: str, workdir: Path, port: int | None = None) -> None:
        """Write the broker's config file into ``workdir``; nothing starts yet."""
        self.binary = binary
        self.host = HOST
        self.port = port or free_port()
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.config.write_text(
            f"listener {self.port} {HOST}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type all\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.process is not None:
            return
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.process.returncode}: "
                    + self.log.read_text(errors="replace")[-2000:]
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto did not listen on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the broker (clients see their connection drop)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@dataclass
class Message:
    """One message as received."""

    topic: str
    payload: str
    retain: bool
    at: float = field(default_factory=time.monotonic)


class Recorder:
    """A paho client that subscribes to topics and keeps every message."""

    def __init__(self, host: str, port: int) -> None:
        """Create the client; call ``start()`` to connect."""
        self.host = host
        self.port = port
        self.messages: list[Message] = []
        self._lock = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message

    def _on_message(self, _client: paho.Client, _userdata: object, msg: object) -> None:
        message = Message(
            msg.topic,  # type: ignore[attr-defined]
            msg.payload.decode(errors="replace"),  # type: ignore[attr-defined]
            bool(msg.retain),  # type: ignore[attr-defined]
        )
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()

    def start(self, *topics: str) -> None:
        """Connect, subscribe to ``topics`` and run the network thread."""
        self.client.connect(self.host, self.port, keepalive=30)
        for topic in topics or ("#",):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and join the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish and wait until it left."""
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def on(self, topic: str) -> list[Message]:
        """Messages received so far on ``topic``."""
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(
        self,
        topic: str,
        payload: str | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
        after: float = 0.0,
    ) -> list[Message]:
        """Wait until ``count`` messages (matching ``payload``) arrived on ``topic``.

        Only messages received after the monotonic time ``after`` count.
        Raises ``TimeoutError`` listing what did arrive.
        """
        deadline = time.monotonic() + timeout

        def matching() -> list[Message]:
            return [
                m
                for m in self.messages
                if m.topic == topic
                and m.at >= after
                and (payload is None or m.payload == payload)
            ]

        with self._lock:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.topic, m.payload[:60]) for m in self.messages[-20:]]
                    raise TimeoutError(
                        f"{count} message(s) on {topic!r} (payload {payload!r}) "
                        f"not received in {timeout} s; last seen: {seen}"
                    )
                self._lock.wait(left)
            return found


@contextmanager
def recording(host: str, port: int, *topics: str) -> Iterator[Recorder]:
    """A started ``Recorder`` that is stopped on exit."""
    recorder = Recorder(host, port)
    recorder.start(*topics)
    try:
        yield recorder
    finally:
        recorder.stop()
