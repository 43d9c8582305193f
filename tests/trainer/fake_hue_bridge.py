"""A local stand-in for a Philips Hue bridge, speaking the v1 API phue uses.

It serves `POST /api` (registration), `GET /api/<user>/lights[/<id>]` and
`PUT /api/<user>/lights/<id>/state` on 127.0.0.1, keeps each light's state
and records every state change with the time a given clock tells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import re
import threading
from typing import Any

USERNAME = "replay-test-user"


@dataclass(frozen=True)
class Switch:
    """One state change a client asked for."""

    at: datetime
    light: str
    state: dict[str, Any]


@dataclass
class FakeBridge:
    """The bridge's lights, by id, and what was done to them."""

    names: dict[str, str]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    switches: list[Switch] = field(default_factory=list)
    registrations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    address: str = ""
    states: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.states = {
            light_id: {"on": False, "bri": 254, "reachable": True}
            for light_id in self.names
        }

    def light(self, light_id: str) -> dict[str, Any]:
        return {
            "name": self.names[light_id],
            "type": "Dimmable light",
            "state": dict(self.states[light_id]),
        }

    def of(self, name: str) -> list[Switch]:
        with self.lock:
            return [s for s in self.switches if s.light == name]


def _handler(bridge: FakeBridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def _answer(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"null")

        def _unauthorized(self, user: str) -> bool:
            if user == USERNAME:
                return False
            self._answer(
                [
                    {
                        "error": {
                            "type": 1,
                            "address": "/",
                            "description": "unauthorized user",
                        }
                    }
                ]
            )
            return True

        def do_POST(self) -> None:
            if self.path.rstrip("/") == "/api":
                self._body()
                with bridge.lock:
                    bridge.registrations += 1
                self._answer([{"success": {"username": USERNAME}}])
            else:
                self._answer([{"error": {"type": 3, "description": "not found"}}], 404)

        def do_GET(self) -> None:
            match = re.fullmatch(r"/api/([^/]+)/lights(?:/(\w+))?/?", self.path)
            if match is None:
                self._answer([{"error": {"type": 3, "description": "not found"}}], 404)
                return
            if self._unauthorized(match.group(1)):
                return
            with bridge.lock:
                if match.group(2) is None:
                    self._answer({i: bridge.light(i) for i in bridge.names})
                elif match.group(2) in bridge.names:
                    self._answer(bridge.light(match.group(2)))
                else:
                    self._answer([{"error": {"type": 3, "description": "no light"}}])

        def do_PUT(self) -> None:
            match = re.fullmatch(r"/api/([^/]+)/lights/(\w+)/state", self.path)
            if match is None or match.group(2) not in bridge.names:
                self._answer([{"error": {"type": 3, "description": "not found"}}], 404)
                return
            if self._unauthorized(match.group(1)):
                return
            body = self._body()
            light_id = match.group(2)
            with bridge.lock:
                bridge.states[light_id].update(body)
                bridge.switches.append(
                    Switch(bridge.clock(), bridge.names[light_id], dict(body))
                )
            self._answer(
                [
                    {"success": {f"/lights/{light_id}/state/{key}": value}}
                    for key, value in body.items()
                ]
            )

    return Handler


@contextmanager
def running_bridge(
    names: dict[str, str], clock: Callable[[], datetime] | None = None
) -> Iterator[FakeBridge]:
    """Serve a fake bridge on 127.0.0.1; `bridge.address` is `ip:port`."""
    bridge = FakeBridge(names) if clock is None else FakeBridge(names, clock)
    # Request threads are joined on close, so none outlives the test.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bridge))
    server.daemon_threads = False
    bridge.address = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-hue-bridge")
    thread.start()
    try:
        yield bridge
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
