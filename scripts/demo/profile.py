"""The demo user's profile: show times in the demo home's time zone.

The frontend shows times in the browser's time zone unless the user's
profile says otherwise. The demo home sits in another time zone (where it
is evening), so the demo user's profile is set to the server's time zone:
the calendars then read "19:40", as the home's clock does. The setting is
the frontend's own per-user data (``frontend/set_user_data``, key
``language``), written over the WebSocket API with aiohttp, which Home
Assistant's environment has.
"""

from __future__ import annotations

from typing import Any

import aiohttp

LOCALE_KEY = "language"
SERVER_LOCALE: dict[str, str] = {
    "language": "en",
    "number_format": "language",
    "time_format": "language",
    "date_format": "language",
    "time_zone": "server",
    "first_weekday": "language",
}


async def _command(ws: aiohttp.ClientWebSocketResponse, msg: dict[str, Any]) -> Any:
    """Send one command and return its result (raises on an error)."""
    await ws.send_json(msg)
    while True:
        answer = await ws.receive_json(timeout=30)
        if answer.get("id") == msg["id"] and answer.get("type") == "result":
            if not answer.get("success"):
                raise RuntimeError(f"{msg['type']} failed: {answer.get('error')}")
            return answer.get("result")


async def use_server_time_zone(base_url: str, token: str) -> bool:
    """Set the user's profile to the server's time zone, unless already chosen.

    Returns whether anything was changed; a failure raises `RuntimeError`.
    """
    try:
        return await _use_server_time_zone(base_url, token)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        raise RuntimeError(f"setting the profile's time zone failed: {err}") from err


async def _use_server_time_zone(base_url: str, token: str) -> bool:
    url = base_url.replace("http", "ws", 1) + "/api/websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.receive_json(timeout=30)  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json(timeout=30)).get("type") != "auth_ok":
            raise RuntimeError("the WebSocket API refused the login")
        current = await _command(
            ws, {"id": 1, "type": "frontend/get_user_data", "key": LOCALE_KEY}
        )
        if current and current.get("value"):
            # The user chose their own settings; keep them.
            return False
        await _command(
            ws,
            {
                "id": 2,
                "type": "frontend/set_user_data",
                "key": LOCALE_KEY,
                "value": SERVER_LOCALE,
            },
        )
        return True
