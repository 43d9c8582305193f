"""A small client of Home Assistant's HTTP API (the demo, its test, screenshots).

Standard library only: it logs in through the login flow a browser uses
(``/auth/login_flow`` then ``/auth/token``) and calls the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import json
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request


class ApiError(RuntimeError):
    """The API answered with an error status."""

    def __init__(self, status: int, url: str, body: str) -> None:
        """Keep the status for callers that expect some errors."""
        super().__init__(f"{status} from {url}: {body[:300]}")
        self.status = status


def _request(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Any:
    request = urllib.request.Request(  # noqa: S310 (http to 127.0.0.1)
        url, data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read().decode()
    except urllib.error.HTTPError as err:
        raise ApiError(err.code, url, err.read().decode(errors="replace")) from err
    return json.loads(body) if body else None


@dataclass
class HomeAssistantClient:
    """REST API of one Home Assistant, logged in as one user."""

    base_url: str
    token: str = ""
    #: The token endpoint's full answer (refresh token, lifetime) after login.
    tokens: dict[str, Any] | None = None

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> HomeAssistantClient:
        """Log in like the frontend: login flow, then the token endpoint.

        The client id is the address itself, as the frontend served from it
        uses, so its tokens can be handed to a browser.
        """
        client_id = f"{base_url}/"
        flow = _request(
            f"{base_url}/auth/login_flow",
            method="POST",
            data=json.dumps(
                {
                    "client_id": client_id,
                    "handler": ["homeassistant", None],
                    "redirect_uri": client_id,
                }
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        result = _request(
            f"{base_url}/auth/login_flow/{flow['flow_id']}",
            method="POST",
            data=json.dumps(
                {"client_id": client_id, "username": username, "password": password}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        if result.get("type") != "create_entry":
            raise ApiError(400, "login_flow", json.dumps(result))
        tokens = _request(
            f"{base_url}/auth/token",
            method="POST",
            data=urllib.parse.urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": result["result"],
                    "client_id": client_id,
                }
            ).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return cls(base_url, tokens["access_token"], tokens)

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
        }

    def get(self, path: str, **params: str) -> Any:
        """GET an API path (``/api/...``) with query parameters."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return _request(f"{self.base_url}{path}{query}", headers=self._headers())

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST JSON to an API path."""
        return _request(
            f"{self.base_url}{path}",
            method="POST",
            data=json.dumps(payload or {}).encode(),
            headers=self._headers(),
        )

    def states(self) -> dict[str, dict[str, Any]]:
        """Return every state, by entity_id."""
        return {state["entity_id"]: state for state in self.get("/api/states")}

    def state(self, entity_id: str) -> dict[str, Any]:
        """Return one entity's state."""
        result: dict[str, Any] = self.get(f"/api/states/{entity_id}")
        return result

    def call(self, domain: str, service: str, **data: Any) -> Any:
        """Call an action (service)."""
        return self.post(f"/api/services/{domain}/{service}", data)

    def calendar_events(
        self, entity_id: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Return a calendar's events between two aware datetimes."""
        result: list[dict[str, Any]] = self.get(
            f"/api/calendars/{entity_id}",
            start=start.isoformat(),
            end=end.isoformat(),
        )
        return result


def wait_for(
    check: Any, *, timeout_s: float, interval_s: float = 1.0, what: str = "condition"
) -> Any:
    """Call `check` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except (OSError, ApiError) as err:
            last_error = err
        time.sleep(interval_s)
    raise TimeoutError(
        f"{what} not reached within {timeout_s:.0f} s"
        + (f" (last error: {last_error})" if last_error else "")
    )
