"""Files of Lighting Replay: where archives and models live, and how.

Everything sits in ``.storage/lighting_replay``: per room its lux archive
(``<room>.archive``), one archive per light (``<room>.light-<hash>.archive``)
and its model (``<room>.model.json``); for the home the fallback model and
the presence archive. Models are written through a temporary file and a
rename, so a crash leaves the old file or the new one. Files of rooms, and
lights of rooms, no longer configured are removed at setup.

Every function and method here blocks (run it in an executor) except
`storage_path`, `RoomFiles`'s paths and `async_remove_storage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import hashlib
import logging
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from . import archive
from .const import (
    ARCHIVE_SUFFIX,
    DOMAIN,
    FALLBACK_MODEL_FILE,
    LIGHT_ARCHIVE_INFIX,
    MODEL_SUFFIX,
    PRESENCE_ARCHIVE_FILE,
    STORAGE_DIR,
    STORAGE_VERSION,
)
from .engine.model import HomeModel, NotAModel
from .engine.series import MinuteSeries

_LOGGER = logging.getLogger(__name__)

#: A model file larger than this is not read (a trainer's model of a large
#: home is well under 1 MB).
MAX_MODEL_BYTES = 5 * 1024 * 1024


def storage_path(hass: HomeAssistant) -> Path:
    """Return the folder of the archives and models."""
    return Path(hass.config.path(".storage", STORAGE_DIR))


def meta_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    """Return the store of what each room's model came from and was trained with."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.rooms")


async def async_remove_storage(hass: HomeAssistant) -> None:
    """Delete all archives and models (the integration was removed)."""
    await hass.async_add_executor_job(
        shutil.rmtree,
        storage_path(hass),
        True,  # ignore_errors
    )
    await meta_store(hass).async_remove()


class RoomFiles:
    """The files of one home's rooms in its storage folder."""

    def __init__(self, folder: Path) -> None:
        """Use `folder` (created when a file is first written)."""
        self.folder = folder

    def archive_path(self, subentry_id: str) -> Path:
        """Return the lux archive file of a room."""
        return self.folder / f"{subentry_id}{ARCHIVE_SUFFIX}"

    def model_path(self, subentry_id: str) -> Path:
        """Return the model file of a room."""
        return self.folder / f"{subentry_id}{MODEL_SUFFIX}"

    def light_archive_path(self, subentry_id: str, light: str) -> Path:
        """Return the archive file of one of a room's lights (by its stored id)."""
        key = hashlib.sha256(light.encode()).hexdigest()[:16]
        return self.folder / f"{subentry_id}{LIGHT_ARCHIVE_INFIX}{key}{ARCHIVE_SUFFIX}"

    @property
    def presence_path(self) -> Path:
        """Return the presence entity's archive file."""
        return self.folder / PRESENCE_ARCHIVE_FILE

    @property
    def fallback_path(self) -> Path:
        """Return the home's fallback model file."""
        return self.folder / FALLBACK_MODEL_FILE

    def remove_orphans(self, rooms: Mapping[str, Iterable[str]]) -> None:
        """Delete the files of rooms, and lights of rooms, not in `rooms`.

        `rooms` maps each room (subentry id) to its lights (stored ids). The
        home's own files (the fallback model, the presence archive) are no
        room's.
        """
        if not self.folder.is_dir():
            return
        lights = {
            self.light_archive_path(subentry_id, light).name
            for subentry_id, room_lights in rooms.items()
            for light in room_lights
        }
        for path in self.folder.iterdir():
            name = path.name
            if name in (FALLBACK_MODEL_FILE, PRESENCE_ARCHIVE_FILE) or not (
                name.endswith((ARCHIVE_SUFFIX, MODEL_SUFFIX))
            ):
                continue
            if name.split(".")[0] not in rooms:
                _LOGGER.info("Removing %s of a room that was removed", path)
                path.unlink(missing_ok=True)
            elif LIGHT_ARCHIVE_INFIX in name and name not in lights:
                _LOGGER.info("Removing %s of a light no longer in its room", path)
                path.unlink(missing_ok=True)

    def write_model(self, path: Path, home: HomeModel) -> None:
        """Write a model file atomically (temporary file, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        home.save(path)


def load_model_if_exists(path: Path) -> HomeModel | None:
    """Load a stored model file, None if there is none (`ModelError` if bad)."""
    if not path.exists():
        return None
    return read_model_file(path)


def read_model_file(path: Path, max_bytes: int = MAX_MODEL_BYTES) -> HomeModel:
    """Read a model file of at most `max_bytes`.

    A file that is missing, not a regular file, unreadable, too large or not
    a model raises `NotAModel` with one message, so an error tells nothing
    about a file that is not a model; a model with bad contents raises
    `ModelError` saying what is wrong.
    """
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            raise NotAModel("not a readable model file")
        with path.open("rb") as file:
            text = file.read(max_bytes + 1)
    except OSError as err:
        raise NotAModel("not a readable model file") from err
    if len(text) > max_bytes:
        raise NotAModel("not a readable model file")
    return HomeModel.loads(text)


def merge_and_save(
    path: Path, series: MinuteSeries | None, new: MinuteSeries | None, keep_days: int
) -> tuple[MinuteSeries | None, int | None]:
    """Add new readings to an archive and write it.

    Return the archive as its file holds it (so training sees the same
    values now as after a restart) and the file's size (None: nothing new,
    not written).
    """
    merged = archive.merge(series, new, keep_days=keep_days)
    if new is None or merged is None:
        return series, None
    return archive.as_stored(merged), archive.save(path, merged)
