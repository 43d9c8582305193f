"""The demo command: prepare the demo home if needed, run Home Assistant on it."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any
import webbrowser

from .api import ApiError, HomeAssistantClient, wait_for
from .dashboard import dashboard
from .hass import HassExited, start, stop, wait_until_up
from .home import CITIES, ROOMS, City, choose_city, configuration_yaml, evening_score
from .profile import use_server_time_zone
from .recorder_db import write_history
from .storage import (
    add_user,
    write_config_entries,
    write_dashboard,
    write_onboarding_done,
    write_web_server_settings,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = ROOT / ".demo"
DEFAULT_PORT = 8124
DEFAULT_DAYS = 28
#: The recorder keeps 35 days (configuration.yaml); older history would go.
MAX_DAYS = 35
#: Written last when a folder is prepared: its presence marks a demo folder.
MARKER = "demo.json"
USERNAME = "demo"
PASSWORD = "demo"  # noqa: S105 (a local demo's published login)
#: Home Assistant's exit code when it asks to be started again.
RESTART_EXIT_CODE = 100


def _print(text: str = "") -> None:
    print(text, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Run a Home Assistant demo home with three simulated rooms, "
            "Lighting Replay configured and weeks of lux history."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the web interface (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="listen on every network interface, not only 127.0.0.1",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        help="the demo's Home Assistant folder (default .demo/ in the project)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete the demo folder and make a new one (new place, new history)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=DEFAULT_DAYS,
        help=(
            f"days of simulated history for a new folder (default {DEFAULT_DAYS}, "
            f"4 to {MAX_DAYS})"
        ),
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser (one is opened only on a desktop)",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="prepare the folder and exit without starting Home Assistant",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error("--port must be between 1 and 65535")
    if not 4 <= args.days <= MAX_DAYS:
        parser.error(
            f"--days must be between 4 (training needs 3 days) and {MAX_DAYS} "
            "(what the demo's recorder keeps)"
        )
    return args


def prepare(config_dir: Path, days: int) -> dict[str, Any]:
    """Make a new demo folder; returns what was chosen (also in demo.json).

    Everything is written into a neighbouring temporary folder that is
    renamed at the end, so an interrupted preparation leaves no half home.
    """
    work = config_dir.with_name(config_dir.name + ".new")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    began = time.monotonic()
    now = datetime.now(UTC)
    city = choose_city(now)
    country = _known_country(city.country)
    # Never committed, wherever the folder is.
    (work / ".gitignore").write_text("*\n")
    add_user(work, USERNAME, PASSWORD)
    (work / "configuration.yaml").write_text(configuration_yaml(city, country))
    summary = write_history(work, city, days=days, now=now)
    entry = write_config_entries(work, "Demo home")
    write_onboarding_done(work)
    write_dashboard(work, dashboard())
    info: dict[str, Any] = {
        "created_at": now.isoformat(),
        "city": asdict(city),
        "history_days": days,
        "history_rows": summary.rows,
        "username": USERNAME,
        "password": PASSWORD,
        "entry_id": entry["entry_id"],
        "rooms": {sub["title"]: sub["subentry_id"] for sub in entry["subentries"]},
    }
    (work / MARKER).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    work.rename(config_dir)
    rows = sum(summary.rows.values())
    _print(
        f"Prepared {config_dir} in {time.monotonic() - began:.1f} s: "
        f"{days} days of history ({rows} recorded states), home in {city.name}"
    )
    return info


def _known_country(code: str) -> str | None:
    """Return `code` if this Home Assistant knows the country, else None."""
    try:
        from homeassistant.generated.countries import COUNTRIES  # noqa: PLC0415
    except ImportError:
        return None
    return code if code in COUNTRIES else None


def link_integration(config_dir: Path) -> None:
    """Point the folder's custom_components at the project's integration."""
    folder = config_dir / "custom_components"
    folder.mkdir(exist_ok=True)
    link = folder / "lighting_replay"
    target = ROOT / "custom_components" / "lighting_replay"
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == target.resolve():
            return
        if link.is_symlink():
            link.unlink()
        else:
            shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


def port_free(port: int, *, lan: bool) -> bool:
    """Return whether the web server's port can be bound now."""
    host = "" if lan else "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _lan_address() -> str | None:
    """Return this machine's address on its network (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))  # a documentation address
            address: str = sock.getsockname()[0]
            return address
    except OSError:
        return None


def _city_of(info: dict[str, Any]) -> City:
    data = info["city"]
    for city in CITIES:
        if city.name == data["name"]:
            return city
    return City(**data)


def banner(info: dict[str, Any], port: int, *, lan: bool) -> str:
    """Return what the demo prints once Home Assistant answers."""
    city = _city_of(info)
    now = datetime.now(UTC)
    clock = f"local time {now.astimezone(city.location.tzinfo):%H:%M}"
    lines = [
        "",
        "=" * 72,
        f"  Lighting Replay demo: http://127.0.0.1:{port}",
    ]
    if lan and (address := _lan_address()) is not None:
        lines.append(f"  on your network:      http://{address}:{port}")
    lines += [
        f"  login:                {info['username']} / {info['password']}",
        f"  demo home:            {city.name} ({city.time_zone}), {clock}",
        "  Turn on 'Vacation replay' on the dashboard: the lamps follow the",
        "  schedules the calendars show. Switch a lamp by hand while replay",
        "  runs: 'Unexpected activity' turns on. Stop with Ctrl-C.",
    ]
    too_early, distance = evening_score(city, now)
    if too_early or distance > 150:
        lines += [
            "  It is not evening at the demo home now, so replay may wait a",
            "  while; `scripts/develop --fresh` makes a new home where it is.",
        ]
    if lan:
        lines.append("  Anyone on your network can log in with the login above.")
    lines.append("=" * 72)
    return "\n".join(lines)


def wait_until_ready(url: str, info: dict[str, Any]) -> None:
    """Wait until Home Assistant runs and every room's model is trained.

    The rooms learn once Home Assistant has started; until then their model
    status is ``learning``. Only reports when waiting takes too long.
    """
    try:
        client = HomeAssistantClient.login(url, info["username"], info["password"])
        asyncio.run(use_server_time_zone(url, client.token))
        wait_for(
            lambda: client.get("/api/config").get("state") == "RUNNING",
            timeout_s=600,
            what="Home Assistant running",
        )
        _print("Home Assistant runs; the rooms are learning from their history ...")
        statuses = [f"sensor.{room.key}_model_status" for room in ROOMS]
        wait_for(
            lambda: all(client.state(e)["state"] != "learning" for e in statuses),
            timeout_s=300,
            what="the rooms' models",
        )
    except (ApiError, OSError, TimeoutError, RuntimeError) as err:
        _print(f"note: {err}; the demo goes on, see the log above")


class Stop(Exception):
    """Ctrl-C or a termination signal asked the demo to stop."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _open_browser(url: str) -> None:
    """Open `url` on a desktop; never a text browser in the terminal."""
    if (
        sys.platform == "darwin"
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        webbrowser.open(url)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    args = parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    marker = config_dir / MARKER
    if config_dir.exists() and not marker.exists():
        _print(
            f"error: {config_dir} exists but is not a demo folder (no {MARKER}); "
            "choose another --config-dir or remove it"
        )
        return 2
    if args.fresh and config_dir.exists():
        shutil.rmtree(config_dir)
    info = (
        prepare(config_dir, args.days)
        if not marker.exists()
        else json.loads(marker.read_text())
    )
    write_web_server_settings(config_dir, args.port, lan=args.lan)
    link_integration(config_dir)
    if args.prepare_only:
        return 0

    if not port_free(args.port, lan=args.lan):
        # Home Assistant would fall back to another port by itself.
        _print(f"error: port {args.port} is in use; choose another with --port")
        return 2
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    url = f"http://127.0.0.1:{args.port}"
    _print(f"Starting Home Assistant on {config_dir} (the first start takes longest)")
    process = start(config_dir)
    try:
        wait_until_up(process, url)
        wait_until_ready(url, info)
        _print(banner(info, args.port, lan=args.lan))
        if not args.no_browser:
            _open_browser(url)
        # Restarting from the frontend ends Home Assistant with this code and
        # leaves starting it again to whoever started it.
        while process.wait() == RESTART_EXIT_CODE:
            _print("Home Assistant asked for a restart: starting it again")
            process = start(config_dir)
            wait_until_up(process, url)
    except Stop:
        # Stopping takes a few seconds; a second Ctrl-C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _print("\nStopping Home Assistant ...")
        code = stop(process)
        _print(f"Home Assistant stopped (exit code {code})")
        return 0 if code == 0 else code
    except (HassExited, TimeoutError) as err:
        _print(f"error: {err}")
        stop(process)
        return 1
    _print(f"Home Assistant exited with code {process.returncode}")
    return process.returncode or 0
