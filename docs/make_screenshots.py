# ruff: noqa: INP001, T201
"""Take the README's screenshots from a running demo with headless Chromium.

Start the demo (``scripts/develop``) in one terminal, then in another::

    LR_SETUP_BROWSER=1 scripts/setup --only latest   # Debian's chromium
    uv venv /tmp/shots && uv pip install --python /tmp/shots/bin/python playwright
    /tmp/shots/bin/python docs/make_screenshots.py

Playwright only drives the system's Chromium (``/usr/bin/chromium``); it
downloads no browser. The script logs in through the API, hands the tokens
to the page, turns vacation replay on (and back off afterwards if it was
off) and writes ``docs/images/dashboard.png`` and ``docs/images/calendar.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Standard library only: this runs in the browser tool's environment.
from scripts.demo.api import HomeAssistantClient  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1000}
#: Height of the calendar shot: a week of evenings in the list view.
WEEK_HEIGHT = 1500
#: Time the frontend needs to draw cards after the page loaded.
SETTLE_S = 6.0


def _tokens_script(client: HomeAssistantClient) -> str:
    """Return a script that stores the login the way the frontend keeps it."""
    tokens: dict[str, Any] = dict(client.tokens or {})
    stored = {
        "access_token": client.token,
        "token_type": "Bearer",
        "expires_in": tokens.get("expires_in", 1800),
        "refresh_token": tokens.get("refresh_token"),
        "hassUrl": client.base_url,
        "clientId": f"{client.base_url}/",
        "expires": int(time.time() * 1000) + 1000 * int(tokens.get("expires_in", 1800)),
    }
    return (
        f"window.localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))});"
    )


def _shoot(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    time.sleep(SETTLE_S)
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def _click_first(page: Page, selectors: list[str]) -> bool:
    """Click the first visible element of the first selector that finds one."""
    for selector in selectors:
        found = page.locator(selector)
        for index in range(found.count()):
            if found.nth(index).is_visible():
                found.nth(index).click()
                time.sleep(1.5)
                return True
    return False


def _calendar_week(page: Page, url: str, path: Path) -> None:
    """Shoot the calendar panel's list of the week, rooms only."""
    # Tall enough for the whole predicted week.
    page.set_viewport_size({"width": VIEWPORT["width"], "height": WEEK_HEIGHT})
    page.goto(url)
    page.wait_for_load_state("load")
    time.sleep(SETTLE_S)
    # The home's calendar repeats every room's events: leave it out.
    _click_first(page, ["text=Replay schedule"])
    if not _click_first(
        page,
        ["ha-button[value=listWeek]", "[title='List (7 days)']"],
    ):
        print("note: the list view button was not found; month view shown")
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    print(f"wrote {path}")


def main() -> int:
    """Take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8124")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()

    client = HomeAssistantClient.login(args.url, args.username, args.password)
    switch = next(
        entity_id
        for entity_id in client.states()
        if entity_id.startswith("switch.") and entity_id.endswith("_vacation_replay")
    )
    was_on = client.state(switch)["state"] == "on"
    if not was_on:
        client.call("switch", "turn_on", entity_id=switch)
    args.output.mkdir(parents=True, exist_ok=True)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="lr-chromium-") as profile,
            sync_playwright() as playwright,
        ):
            # A new profile each time: no state from an earlier run.
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=args.chromium,
                args=CHROMIUM_ARGS,
                viewport=VIEWPORT,
                device_scale_factor=1,
            )
            context.add_init_script(_tokens_script(client))
            page = context.new_page()
            _shoot(page, f"{args.url}/lovelace/home", args.output / "dashboard.png")
            _calendar_week(page, f"{args.url}/calendar", args.output / "calendar.png")
            context.close()
    finally:
        if not was_on:
            client.call("switch", "turn_off", entity_id=switch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
