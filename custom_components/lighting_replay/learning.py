"""Learning: recorder history -> room archive -> training -> room model.

`Learning` owns every room's archive and model files and is the only writer
of `RoomState`. Nothing blocking runs on the event loop: database reads go to
the recorder's executor, file I/O and training to Home Assistant's executor.

When learning runs:
- at setup, once Home Assistant has started: rooms without a model of their
  own, with one older than 20 hours, or whose levels or on/off threshold
  settings changed since are trained; the others only bring their archive
  up to date;
- every hour: archives are brought up to date and data quality is checked;
- every night at 03:17 local time: every room is trained again (a room
  with an imported model only once its archive holds as many days);
- on the action ``lighting_replay.train``.

Never losing learned data: a new model replaces the old one only after it
was trained and written; when training fails or finds too little data, the
room keeps the model it has. A room that never had enough data replays the
*fallback* model, labelled as such (``source: fallback``): it is learned from
the engine's household simulator for this home's location, so its lights
follow a plausible evening pattern (on after dusk, off around bedtime)
until the room's own data is enough.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
import logging
import math
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import numpy as np

from . import archive
from .const import (
    ARCHIVE_SUFFIX,
    DOMAIN,
    FALLBACK_DAYS,
    FALLBACK_MODEL_FILE,
    LONG_GAP,
    MODEL_SUFFIX,
    QUALITY_WINDOW,
    STORAGE_DIR,
    STORAGE_VERSION,
    STUCK_AFTER,
    TRAIN_HOUR,
    TRAIN_MINUTE,
    DataProblem,
    ModelSource,
    ModelStatus,
)
from .data import HomeSettings, LightingReplayConfigEntry, RoomState
from .engine.model import HomeModel, ModelError, RoomModel
from .engine.series import MinuteSeries
from .engine.simulate import DEFAULT_ROOMS, simulate_household
from .engine.training import NotEnoughData, TrainingOptions, prepare_room, train_room
from .engine.zones import Location
from .history import read_minute_series
from .repairs import async_clear_not_enough_data, async_report_not_enough_data

_LOGGER = logging.getLogger(__name__)

ARCHIVE_UPDATE_INTERVAL = timedelta(hours=1)
# A model younger than this is not retrained at setup (a restart is no reason).
RETRAIN_AFTER = timedelta(hours=20)
MINUTES_PER_DAY = 1440


class TrainingFailed(HomeAssistantError):
    """Training a room failed; the room keeps the model it had."""


def storage_path(hass: HomeAssistant) -> Path:
    """Return the folder of the archives and models."""
    return Path(hass.config.path(".storage", STORAGE_DIR))


async def async_remove_storage(hass: HomeAssistant) -> None:
    """Delete all archives and models (the integration was removed)."""
    await hass.async_add_executor_job(
        shutil.rmtree,
        storage_path(hass),
        True,  # ignore_errors
    )
    await Store[dict[str, Any]](hass, STORAGE_VERSION, f"{DOMAIN}.rooms").async_remove()


def data_problems(
    series: MinuteSeries | None, now_minute: int, *, sensor_present: bool
) -> frozenset[DataProblem]:
    """Find the data-quality problems of a room from its archive.

    - sensor missing: the lux sensor entity no longer exists;
    - sensor stuck: in the last `STUCK_AFTER` of the archive, readings are
      (almost) all there and (almost, 98 %) all the same value, which a lux
      sensor in a room with a window never shows;
    - long gaps: within the last `QUALITY_WINDOW`, readings are missing for
      longer than `LONG_GAP` at a stretch (the time since the last reading
      counts too).
    """
    problems: set[DataProblem] = set()
    if not sensor_present:
        problems.add(DataProblem.SENSOR_MISSING)
    if series is None or len(series) == 0:
        return frozenset(problems)
    stuck_minutes = int(STUCK_AFTER.total_seconds() // 60)
    tail = series.lux[-stuck_minutes:]
    valid_tail = tail[np.isfinite(tail)]
    if tail.size == stuck_minutes and valid_tail.size >= 0.9 * stuck_minutes:
        _values, counts = np.unique(valid_tail, return_counts=True)
        if counts.max() >= 0.98 * valid_tail.size:
            problems.add(DataProblem.SENSOR_STUCK)
    window_start = max(
        series.start_minute,
        now_minute - int(QUALITY_WINDOW.total_seconds() // 60),
    )
    end = max(now_minute, series.end_minute)
    missing = np.ones(end - window_start, dtype=bool)
    lo = window_start - series.start_minute
    if lo < len(series):
        part = series.lux[lo:]
        missing[: part.size] = ~np.isfinite(part)
    if missing.any():
        # Longest run of True.
        padded = np.concatenate(([False], missing, [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        longest = int((edges[1::2] - edges[0::2]).max())
        if longest > LONG_GAP.total_seconds() // 60:
            problems.add(DataProblem.LONG_GAPS)
    return frozenset(problems)


def merge_and_save(
    path: Path, series: MinuteSeries | None, new: MinuteSeries | None, keep_days: int
) -> tuple[MinuteSeries | None, int | None]:
    """Add new readings to an archive and write it (blocking).

    Return the archive and the file's size (None: nothing new, not written).
    """
    merged = archive.merge(series, new, keep_days=keep_days)
    if new is None or merged is None:
        return series, None
    return merged, archive.save(path, merged)


def days_in(series: MinuteSeries | None) -> float:
    """Return the days of readings in a series (valid minutes / 1440)."""
    return 0.0 if series is None else round(series.n_valid / MINUTES_PER_DAY, 2)


def train_blocking(
    name: str,
    series: MinuteSeries,
    location: Location,
    options: TrainingOptions,
    on_lux: float | None,
) -> RoomModel:
    """Train a room from its archive (blocking: run in an executor).

    A lux threshold override picks the first level whose centre reaches it
    as the "on" level: the levels are fitted first (their centres do not
    depend on the threshold), then the room is trained once, with that level
    where it differs from the one found automatically.
    """
    valid = series.valid
    timestamps_s = series.minutes[valid].astype(np.float64) * 60.0
    lux = series.lux[valid]
    if on_lux is not None:
        levels = prepare_room(timestamps_s, lux, location, options).levels
        level = int(np.searchsorted(levels.centres, on_lux, side="left"))
        level = min(max(level, 1), levels.n_levels - 1)
        if level != levels.on_level:
            options = replace(options, on_level=level)
    return train_room(name, timestamps_s, lux, location, options)


def fallback_blocking(
    location: Location, today: date, options: TrainingOptions
) -> RoomModel:
    """Learn the fallback model from simulated history (blocking)."""
    start = today - timedelta(days=FALLBACK_DAYS)
    # The simulator's first room is a living room lit in the evening.
    household = simulate_household(
        location, start, FALLBACK_DAYS, rooms=DEFAULT_ROOMS[:1], seed=0
    )
    timestamps_s, lux = next(iter(household.values()))
    return train_room("fallback", timestamps_s, lux, location, options)


class Learning:
    """Archives, training and models of the rooms of one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: LightingReplayConfigEntry,
        *,
        location: Location,
        rooms: dict[str, RoomState],
        settings: HomeSettings,
    ) -> None:
        """Prepare learning for `rooms`; nothing is read until `async_load`."""
        self.hass = hass
        self.entry = entry
        self.location = location
        self.rooms = rooms
        self.settings = settings
        self.folder = storage_path(hass)
        self._meta: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.rooms"
        )
        self._meta_data: dict[str, Any] = {}
        # One training at a time: the machine may have few cores.
        self._train_lock = asyncio.Lock()
        self._room_locks = {subentry_id: asyncio.Lock() for subentry_id in rooms}
        # Counts the models imported per room: a training that began before
        # an import does not replace the imported model when it ends.
        self._imports = dict.fromkeys(rooms, 0)
        self._fallback: RoomModel | None = None
        self._warned_units: set[tuple[str, str]] = set()
        self.archive_info: dict[str, dict[str, Any]] = {}

    # Paths -------------------------------------------------------------

    def archive_path(self, subentry_id: str) -> Path:
        """Return the archive file of a room."""
        return self.folder / f"{subentry_id}{ARCHIVE_SUFFIX}"

    def model_path(self, subentry_id: str) -> Path:
        """Return the model file of a room."""
        return self.folder / f"{subentry_id}{MODEL_SUFFIX}"

    @property
    def training_options(self) -> TrainingOptions:
        """Return the engine's training options for this home."""
        return TrainingOptions(n_levels=self.settings.n_levels)

    # Setup -------------------------------------------------------------

    async def async_load(self) -> None:
        """Load saved models and forget files of rooms that were removed."""
        self._meta_data = await self._meta.async_load() or {}
        sources: dict[str, str] = self._meta_data.setdefault("sources", {})
        trained_with: dict[str, Any] = self._meta_data.setdefault("trained_with", {})
        for subentry_id in [s for s in sources if s not in self.rooms]:
            sources.pop(subentry_id)
            trained_with.pop(subentry_id, None)
        await self.hass.async_add_executor_job(self._remove_orphans)
        for subentry_id, room in self.rooms.items():
            await self._async_read_archive(subentry_id)
            model = await self._async_load_model(subentry_id)
            if model is None:
                continue
            room.model = model
            room.source = ModelSource(sources.get(subentry_id, ModelSource.LEARNED))
            room.status = ModelStatus.TRAINED
            room.last_trained = model.trained_at

    def _remove_orphans(self) -> None:
        """Delete the archive and model files of rooms no longer configured."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            for suffix in (ARCHIVE_SUFFIX, MODEL_SUFFIX):
                if path.name.endswith(suffix):
                    subentry_id = path.name.removesuffix(suffix)
                    if subentry_id not in self.rooms:
                        _LOGGER.info("Removing %s of a room that was removed", path)
                        path.unlink(missing_ok=True)

    async def _async_load_model(self, subentry_id: str) -> RoomModel | None:
        """Load a room's model; a bad file is set aside and None returned."""
        path = self.model_path(subentry_id)
        try:
            home = await self.hass.async_add_executor_job(_load_if_exists, path)
        except ModelError as err:
            moved = await self.hass.async_add_executor_job(archive.set_aside, path)
            _LOGGER.error(
                "The model of room %s cannot be read (%s); it was moved to %s "
                "and the room is learned again",
                self.rooms[subentry_id].config.name,
                err,
                moved,
            )
            return None
        if home is None or not home.rooms:
            return None
        return next(iter(home.rooms.values()))

    @callback
    def async_start(self) -> None:
        """Start learning once Home Assistant runs, then hourly and nightly."""
        self.entry.async_on_unload(async_at_started(self.hass, self._async_started))
        self.entry.async_on_unload(
            async_track_time_interval(
                self.hass, self._async_hourly, ARCHIVE_UPDATE_INTERVAL
            )
        )
        self.entry.async_on_unload(
            async_track_time_change(
                self.hass,
                self._async_nightly,
                hour=TRAIN_HOUR,
                minute=TRAIN_MINUTE,
                second=0,
            )
        )

    async def async_shutdown(self) -> None:
        """Stop learning (background tasks end with the entry)."""
        await self._meta.async_save(self._meta_data)

    async def _async_started(self, _hass: HomeAssistant) -> None:
        self.entry.async_create_background_task(
            self.hass, self._async_initial(), f"{DOMAIN} initial learning"
        )

    async def _async_initial(self) -> None:
        """Train rooms that need it, bring the other archives up to date."""
        now = dt_util.utcnow()
        for subentry_id, room in self.rooms.items():
            if (
                room.model is None
                or room.source is ModelSource.FALLBACK
                or (
                    room.source is ModelSource.LEARNED
                    and (
                        now - room.model.trained_at > RETRAIN_AFTER
                        or self._trained_with(subentry_id)
                        != self._training_settings(subentry_id)
                    )
                )
            ):
                await self.async_train_room(subentry_id)
            else:
                await self._async_update_archive_logged(subentry_id)

    @callback
    def _async_hourly(self, _now: datetime) -> None:
        self.entry.async_create_background_task(
            self.hass, self.async_update_archives(), f"{DOMAIN} archive update"
        )

    @callback
    def _async_nightly(self, _now: datetime) -> None:
        self.entry.async_create_background_task(
            self.hass, self._async_nightly_training(), f"{DOMAIN} nightly training"
        )

    async def _async_nightly_training(self) -> None:
        """Train every room; an imported model stays until there is more data.

        An imported model was usually learned from a longer history than the
        room's archive holds yet: it is only replaced once the archive has
        as many days. (The train action always trains.)
        """
        for subentry_id, room in self.rooms.items():
            if (
                room.source is ModelSource.IMPORTED
                and room.model is not None
                and room.days_of_data < room.model.days_of_data
            ):
                await self._async_update_archive_logged(subentry_id)
            else:
                await self.async_train_room(subentry_id)

    # Archive -----------------------------------------------------------

    async def async_update_archives(self) -> None:
        """Bring every room's archive up to date."""
        for subentry_id in self.rooms:
            await self._async_update_archive_logged(subentry_id)

    async def _async_update_archive_logged(self, subentry_id: str) -> None:
        """Update an archive in the background: a failure is logged, not raised."""
        try:
            await self.async_update_archive(subentry_id)
        except Exception:
            _LOGGER.exception(
                "Updating the archive of room %s failed",
                self.rooms[subentry_id].config.name,
            )

    async def _async_read_archive(self, subentry_id: str) -> MinuteSeries | None:
        """Read a room's archive; a bad file is set aside (None returned)."""
        path = self.archive_path(subentry_id)
        try:
            series = await self.hass.async_add_executor_job(archive.load, path)
        except archive.ArchiveError as err:
            moved = await self.hass.async_add_executor_job(archive.set_aside, path)
            _LOGGER.error(
                "The archive of room %s is damaged (%s); it was moved to %s "
                "and is rebuilt from the recorder",
                self.rooms[subentry_id].config.name,
                err,
                moved,
            )
            return None
        self._note_archive(subentry_id, series)
        return series

    def _note_archive(self, subentry_id: str, series: MinuteSeries | None) -> None:
        """Remember an archive's extent (diagnostics) and its days of data."""
        info = self.archive_info.setdefault(subentry_id, {})
        if series is not None:
            info.update(
                start=dt_util.utc_from_timestamp(series.start_minute * 60).isoformat(),
                end=dt_util.utc_from_timestamp(series.end_minute * 60).isoformat(),
                minutes=len(series),
                valid_minutes=series.n_valid,
            )
        self.rooms[subentry_id].days_of_data = days_in(series)

    async def async_update_archive(self, subentry_id: str) -> MinuteSeries | None:
        """Add the recorder's newer readings to a room's archive; return it.

        Only what is newer than the archive is read. A bad archive file is
        set aside and the archive rebuilt from what the recorder still has.
        """
        room = self.rooms[subentry_id]
        async with self._room_locks[subentry_id]:
            path = self.archive_path(subentry_id)
            series = await self._async_read_archive(subentry_id)
            now = dt_util.utcnow()
            now_minute = math.floor(now.timestamp() / 60)
            entity_id = room.config.lux_entity_id(self.hass)
            present = entity_id is not None and (
                self.hass.states.get(entity_id) is not None
            )
            if entity_id is not None:
                oldest = now - timedelta(days=self.settings.archive_days)
                start = oldest
                if series is not None:
                    start = max(
                        oldest, dt_util.utc_from_timestamp(series.end_minute * 60)
                    )
                new, report = await get_instance(self.hass).async_add_executor_job(
                    read_minute_series, self.hass, entity_id, start, now
                )
                for unit, count in report.other_units.items():
                    if (subentry_id, unit) not in self._warned_units:
                        self._warned_units.add((subentry_id, unit))
                        _LOGGER.warning(
                            "%s reported %d readings in %r, which is not an "
                            "illuminance unit; they are skipped",
                            entity_id,
                            count,
                            unit,
                        )
                series, size = await self.hass.async_add_executor_job(
                    merge_and_save, path, series, new, self.settings.archive_days
                )
                if size is not None:
                    self.archive_info[subentry_id] = {"bytes": size}
            self._note_archive(subentry_id, series)
            room.problems = await self.hass.async_add_executor_job(
                partial(data_problems, series, now_minute, sensor_present=present)
            )
            room.async_update_listeners()
            return series

    # Training ----------------------------------------------------------

    async def async_train_room(
        self, subentry_id: str, *, raise_errors: bool = False
    ) -> None:
        """Train a room from its archive, in an executor.

        Keeps the room's model when training fails; a room without a model
        of its own gets the fallback. With `raise_errors`, a failure raises
        `TrainingFailed` after the room state is updated.
        """
        room = self.rooms[subentry_id]
        name = room.config.name
        options = self.training_options
        if room.config.on_level is not None:
            options = replace(options, on_level=room.config.on_level)
        imports = self._imports[subentry_id]
        try:
            model = await self._async_learn(subentry_id, options)
            if self._imports[subentry_id] != imports:
                _LOGGER.info(
                    "Room %s: a model was imported while it trained; the"
                    " imported model is kept",
                    name,
                )
                return
            await self._async_save_model(subentry_id, model, ModelSource.LEARNED)
        except NotEnoughData as err:
            _LOGGER.info("Room %s: not enough data yet (%s)", name, err)
            await self._async_not_enough_data(room, err)
        except Exception as err:
            _LOGGER.exception("Training room %s failed", name)
            await self._async_failed(room, err)
            if raise_errors:
                raise TrainingFailed(
                    translation_domain=DOMAIN,
                    translation_key="training_failed",
                    translation_placeholders={"room": name, "error": str(err)},
                ) from err
        else:
            self._async_use_model(room, model, ModelSource.LEARNED)

    async def _async_learn(
        self, subentry_id: str, options: TrainingOptions
    ) -> RoomModel:
        """Update the archive and train on it; `NotEnoughData` if it is empty."""
        room = self.rooms[subentry_id]
        series = await self.async_update_archive(subentry_id)
        if series is None:
            raise NotEnoughData(0.0, options.min_days)
        async with self._train_lock:
            return await self.hass.async_add_executor_job(
                train_blocking,
                room.config.name,
                series,
                self.location,
                options,
                room.config.on_lux,
            )

    async def _async_save_model(
        self, subentry_id: str, model: RoomModel, source: ModelSource
    ) -> None:
        """Write a room's model file, then remember where it came from."""
        room = self.rooms[subentry_id]
        home = HomeModel(self.location, {room.config.name: model})
        await self.hass.async_add_executor_job(
            self._write_model, self.model_path(subentry_id), home
        )
        self._meta_data.setdefault("sources", {})[subentry_id] = source.value
        self._meta_data.setdefault("trained_with", {})[subentry_id] = (
            self._training_settings(subentry_id)
        )
        await self._meta.async_save(self._meta_data)

    def _training_settings(self, subentry_id: str) -> dict[str, Any]:
        """Return the settings that shape a room's model (a change retrains)."""
        room = self.rooms[subentry_id].config
        return {
            "n_levels": self.settings.n_levels,
            "on_level": room.on_level,
            "on_lux": room.on_lux,
        }

    def _trained_with(self, subentry_id: str) -> dict[str, Any] | None:
        """Return the settings the room's saved model was trained with."""
        trained_with: dict[str, Any] | None = self._meta_data.get(
            "trained_with", {}
        ).get(subentry_id)
        return trained_with

    def _write_model(self, path: Path, home: HomeModel) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        home.save(path)

    @callback
    def _async_use_model(
        self, room: RoomState, model: RoomModel, source: ModelSource
    ) -> None:
        """Make a learned or imported model the room's model."""
        room.model = model
        room.source = source
        room.status = ModelStatus.TRAINED
        room.last_trained = model.trained_at
        room.days_needed = None
        room.error = None
        async_clear_not_enough_data(self.hass, room.subentry_id)
        room.async_update_listeners()

    async def _async_not_enough_data(self, room: RoomState, err: NotEnoughData) -> None:
        room.days_needed = err.days_needed
        room.error = None
        if room.source in (ModelSource.LEARNED, ModelSource.IMPORTED):
            # Keep what was learned before; the data may come back.
            room.async_update_listeners()
            return
        room.status = ModelStatus.NOT_ENOUGH_DATA
        await self._async_use_fallback(room)
        async_report_not_enough_data(
            self.hass,
            room.subentry_id,
            room.config.name,
            err.days_available,
            err.days_needed,
        )
        room.async_update_listeners()

    async def _async_failed(self, room: RoomState, err: Exception) -> None:
        room.error = f"{type(err).__name__}: {err}"
        if room.source not in (ModelSource.LEARNED, ModelSource.IMPORTED):
            room.status = ModelStatus.ERROR
            await self._async_use_fallback(room)
        room.async_update_listeners()

    async def _async_use_fallback(self, room: RoomState) -> None:
        """Give a room without a model of its own the labelled fallback."""
        try:
            fallback = await self._async_fallback_model()
        except Exception:
            _LOGGER.exception("The fallback model could not be made")
            return
        room.model = fallback
        room.source = ModelSource.FALLBACK
        room.last_trained = None

    async def _async_fallback_model(self) -> RoomModel:
        """Return the home's fallback model, made once and kept in storage."""
        if self._fallback is not None:
            return self._fallback
        path = self.folder / FALLBACK_MODEL_FILE
        try:
            home = await self.hass.async_add_executor_job(_load_if_exists, path)
        except ModelError as err:
            _LOGGER.warning("The fallback model is unreadable (%s); made again", err)
            home = None
        if (
            home is not None
            and home.rooms
            and home.location == self.location
            and (model := next(iter(home.rooms.values()))).levels.n_levels
            == self.settings.n_levels
        ):
            self._fallback = model
            return model
        async with self._train_lock:
            model = await self.hass.async_add_executor_job(
                fallback_blocking,
                self.location,
                dt_util.now().date(),
                self.training_options,
            )
        await self.hass.async_add_executor_job(
            self._write_model, path, HomeModel(self.location, {"fallback": model})
        )
        self._fallback = model
        return model

    # Import ------------------------------------------------------------

    async def async_import_model(
        self, subentry_id: str, path: Path, room_name: str | None
    ) -> RoomModel:
        """Use a room of a model file (trainer format) for a room.

        Raises `ModelError` for a bad file and `KeyError` (with the names in
        the file) when the room cannot be chosen.
        """
        room = self.rooms[subentry_id]
        home = await self.hass.async_add_executor_job(HomeModel.load, path)
        model = pick_room(home, room_name, room.config.name)
        self._imports[subentry_id] += 1
        await self._async_save_model(subentry_id, model, ModelSource.IMPORTED)
        self._async_use_model(room, model, ModelSource.IMPORTED)
        return model


def pick_room(home: HomeModel, room_name: str | None, default_name: str) -> RoomModel:
    """Choose the room of a model file: by name, the only one, or same name."""
    if room_name is not None:
        if room_name in home.rooms:
            return home.rooms[room_name]
        raise KeyError(room_name)
    if len(home.rooms) == 1:
        return next(iter(home.rooms.values()))
    for name, model in home.rooms.items():
        if name.casefold() == default_name.casefold():
            return model
    raise KeyError(default_name)


def _load_if_exists(path: Path) -> HomeModel | None:
    """Load a model file, None if there is none (`ModelError` if bad)."""
    if not path.exists():
        return None
    return HomeModel.load(path)
