"""The demo's files under ``.storage``, and its user.

Written in Home Assistant's storage format (``version``, ``minor_version``,
``key``, ``data``) before it first starts:

- ``core.config_entries``: the Lighting Replay entry with one ``room``
  subentry per demo room (storage version 1.5, the same from Home
  Assistant 2025.4 to 2026.10);
- ``onboarding``: every step done, so the frontend goes straight to login;
- ``lovelace``: the dashboard (see ``dashboard.py``);
- ``http`` (at every start, on Home Assistant versions that keep the web
  server settings in storage rather than YAML): port and address.

The user is made with Home Assistant's own ``auth`` script; the first login
turns the credentials into an administrator.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import subprocess
import sys
from typing import Any

from homeassistant.util.ulid import ulid_now

from custom_components.lighting_replay.const import (
    CONF_ARCHIVE_DAYS,
    CONF_LEARN_FROM,
    CONF_LIGHTS,
    CONF_LUX_SENSOR,
    CONF_N_LEVELS,
    DEFAULT_N_LEVELS,
    DOMAIN,
    MIN_ARCHIVE_DAYS,
    SUBENTRY_TYPE_ROOM,
)

from .home import ROOMS, DemoRoom, http_package_yaml, server_host

CONFIG_ENTRIES_VERSION = (1, 5)
ONBOARDING_VERSION = 4
ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")
LOVELACE_VERSION = 1


def write_store(
    config_dir: Path,
    key: str,
    data: dict[str, Any],
    *,
    version: int,
    minor_version: int = 1,
) -> Path:
    """Write one storage file the way Home Assistant's ``Store`` does."""
    folder = config_dir / ".storage"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key
    content = {
        "version": version,
        "minor_version": minor_version,
        "key": key,
        "data": data,
    }
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    return path


def room_subentry(room: DemoRoom) -> dict[str, Any]:
    """Return a room's subentry as the config flow would have stored it.

    The flow stores entity registry ids where it can; before the first start
    the template entities have no registry entry yet, so plain entity_ids
    are stored, which the integration accepts as well.
    """
    return {
        "data": {
            CONF_LUX_SENSOR: room.lux_entity if room.has_lux else None,
            CONF_LIGHTS: [room.light_entity],
            CONF_LEARN_FROM: room.learn_from,
        },
        "subentry_id": ulid_now(),
        "subentry_type": SUBENTRY_TYPE_ROOM,
        "title": room.name,
        "unique_id": None,
    }


def config_entry(title: str, rooms: tuple[DemoRoom, ...] = ROOMS) -> dict[str, Any]:
    """Return the Lighting Replay config entry with its room subentries."""
    now = datetime.now(UTC).isoformat()
    return {
        "created_at": now,
        "data": {
            # The smallest archive allowed: the demo's history is four weeks.
            CONF_ARCHIVE_DAYS: MIN_ARCHIVE_DAYS,
            CONF_N_LEVELS: DEFAULT_N_LEVELS,
        },
        "discovery_keys": {},
        "disabled_by": None,
        "domain": DOMAIN,
        "entry_id": ulid_now(),
        "minor_version": 1,
        "modified_at": now,
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [room_subentry(room) for room in rooms],
        "title": title,
        "unique_id": None,
        "version": 2,
    }


def write_config_entries(config_dir: Path, title: str) -> dict[str, Any]:
    """Write ``core.config_entries`` with the Lighting Replay entry."""
    entry = config_entry(title)
    major, minor = CONFIG_ENTRIES_VERSION
    write_store(
        config_dir,
        "core.config_entries",
        {"entries": [entry]},
        version=major,
        minor_version=minor,
    )
    return entry


def write_onboarding_done(config_dir: Path) -> None:
    """Mark every onboarding step done."""
    write_store(
        config_dir,
        "onboarding",
        {"done": list(ONBOARDING_STEPS)},
        version=ONBOARDING_VERSION,
    )


def write_dashboard(config_dir: Path, dashboard: dict[str, Any]) -> None:
    """Make `dashboard` the default dashboard."""
    write_store(config_dir, "lovelace", {"config": dashboard}, version=LOVELACE_VERSION)


def add_user(config_dir: Path, username: str, password: str) -> None:
    """Add a login with Home Assistant's ``auth`` script (same interpreter)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "homeassistant",
            "--script",
            "auth",
            "-c",
            str(config_dir),
            "add",
            username,
            password,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"adding the demo user failed ({result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )


def write_web_server_settings(config_dir: Path, port: int, *, lan: bool) -> None:
    """Set the port and address of the web server for the next start.

    Newer Home Assistant versions keep these settings in ``.storage/http``
    (YAML is read once, then staged as a trial that reverts itself unless
    confirmed in the frontend), older ones read them from YAML: the settings
    go to the place this version reads, as a confirmed (stable) setting.
    """
    package = config_dir / "packages" / "http.yaml"
    package.parent.mkdir(exist_ok=True)
    try:
        from homeassistant.components.http import config as http_config  # noqa: PLC0415
    except ImportError:
        package.write_text(http_package_yaml(port, lan=lan))
        return
    package.unlink(missing_ok=True)
    stable = dict(
        http_config.HTTP_STORAGE_SCHEMA(
            {"server_port": port, "server_host": [server_host(lan=lan)]}
        )
    )
    stable |= {
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    write_store(
        config_dir,
        http_config.STORAGE_KEY,
        {"stable": stable, "pending": None, "yaml_migration_done": True},
        version=http_config.STORAGE_VERSION,
        minor_version=http_config.STORAGE_MINOR_VERSION,
    )
