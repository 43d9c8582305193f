"""Learning: recorder history -> room archive -> training -> room model.

`Learning` owns every room's archive and model files and is the only writer
of `RoomState`. Nothing blocking runs on the event loop: database reads go to
the recorder's executor, file I/O to Home Assistant's executor, training to
the training process (`training_process`; its executor where it cannot run),
the next room reading its history while one trains.

When learning runs:
- at setup, once Home Assistant has started: rooms without a model of their
  own, with one older than 20 hours, or whose levels or on/off threshold
  settings changed since are trained; the others only bring their archive
  up to date;
- every hour: archives are brought up to date and data quality is checked;
- every night at 03:17 local time: every room is trained again (a room
  with an imported model only once its archive holds as many days);
- on the action ``lighting_replay.train``.

What a room learns from (see the engine's `sources`): the lux archive, the
archive of each of its lights, or both, as the room says (`learn_from`).
Never learned from: every minute replay was on (the `Replay` keeps those
periods), the time the presence entity says nobody was home and, without
one, the days no room had any light on (the engine's `absence`).

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
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
import logging
import math
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util
import numpy as np

from . import archive
from .const import (
    DOMAIN,
    FALLBACK_DAYS,
    LONG_GAP,
    QUALITY_WINDOW,
    STUCK_AFTER,
    TRAIN_HOUR,
    TRAIN_MINUTE,
    DataProblem,
    ModelSource,
    ModelStatus,
)
from .data import HomeSettings, LightingReplayConfigEntry, RoomConfig, RoomState
from .engine.absence import absent_days, away_ranges
from .engine.levels import Levels, on_level_for_lux
from .engine.model import HomeModel, ModelError, RoomModel
from .engine.quality import lux_quality
from .engine.series import MinuteSeries, to_minute_series
from .engine.simulate import DEFAULT_ROOMS, simulate_household
from .engine.sources import RoomSources
from .engine.training import NotEnoughData, TrainingOptions, prepare_sources, train_room
from .engine.training_worker import TrainingError
from .engine.zones import MINUTES_PER_DAY, Location
from .history import ReadingStopped, StateKind, read_minute_series
from .memory import release_freed_memory
from .repairs import async_clear_not_enough_data, async_report_not_enough_data
from .storage import (
    RoomFiles,
    # Re-exported: the integration's setup removes the storage through here.
    async_remove_storage as async_remove_storage,  # noqa: PLC0414
    load_model_if_exists,
    merge_and_save,
    meta_store,
    read_model_file,
    storage_path,
)
from .training_process import TrainingProcess

_LOGGER = logging.getLogger(__name__)

ARCHIVE_UPDATE_INTERVAL = timedelta(hours=1)
# A model younger than this is not retrained at setup (a restart is no reason).
RETRAIN_AFTER = timedelta(hours=20)
# Absent days found from every room's lights are reused this long.
ABSENCE_TTL = timedelta(hours=1)
# Rooms whose histories are held at once while rooms learn together: one
# trains, the next is made ready for it, the one after reads.
ROOMS_HELD = 3
type Ranges = tuple[tuple[int, int], ...]


class TrainingFailed(HomeAssistantError):
    """Training a room failed; the room keeps the model it had."""


class _RoomRemoved(Exception):
    """The room was removed while it waited for its turn to learn."""


def days_in(series: MinuteSeries | None) -> float:
    """Return the days of readings in a series (valid minutes / 1440)."""
    return 0.0 if series is None else round(series.n_valid / MINUTES_PER_DAY, 2)


def days_in_sources(sources: RoomSources) -> float:
    """Return the days of the best-covered source of a room."""
    return max(
        (days_in(series) for series in (sources.lux, *sources.lights.values())),
        default=0.0,
    )


def lux_from_archive(series: MinuteSeries, options: TrainingOptions) -> MinuteSeries:
    """Return a lux archive as training reads it: short silences held.

    The archive keeps the minutes the sensor reported; training holds a
    reading through silences up to `options.max_gap_minutes`, as for raw
    readings.
    """
    valid = series.valid
    return to_minute_series(
        series.minutes[valid].astype(np.float64) * 60.0,
        series.lux[valid],
        max_gap_minutes=options.max_gap_minutes,
    )


def data_problems(
    series: MinuteSeries | None, now_minute: int, *, sensor_present: bool
) -> frozenset[DataProblem]:
    """Return a room's data problems: its sensor missing, the engine's findings."""
    quality = lux_quality(
        series,
        now_minute,
        stuck_minutes=int(STUCK_AFTER.total_seconds() // 60),
        long_gap_minutes=int(LONG_GAP.total_seconds() // 60),
        window_minutes=int(QUALITY_WINDOW.total_seconds() // 60),
    )
    problems = {
        problem
        for problem, found in (
            (DataProblem.SENSOR_MISSING, not sensor_present),
            (DataProblem.SENSOR_STUCK, quality.stuck),
            (DataProblem.LONG_GAPS, quality.long_gaps),
        )
        if found
    }
    return frozenset(problems)


def absent_blocking(
    rooms: list[RoomSources], location: Location, options: TrainingOptions
) -> Ranges:
    """Return the home's absent days from every room's on/off (blocking)."""
    on_off: list[MinuteSeries] = []
    for sources in rooms:
        try:
            prepared = prepare_sources(sources, location, options)
        except (NotEnoughData, ValueError):
            continue
        state = prepared.on_off.astype(np.float64)
        state[state < 0] = np.nan
        on_off.append(MinuteSeries(prepared.series.start_minute, state))
    return absent_days(on_off, location)


def with_room_threshold(
    model: RoomModel, on_level: int | None, on_lux: float | None
) -> RoomModel:
    """Return the fallback model with a room's own "on" threshold, if it has one.

    The room's "On level" (or lux threshold) is what its status shows and
    what the levels of its replayed "on" intervals start from, on the
    fallback as on a model of its own.
    """
    centres = model.levels.centres
    if on_level is not None:
        level = min(max(on_level, 1), centres.size - 1)
    elif on_lux is not None:
        level = on_level_for_lux(centres, on_lux)
    else:
        return model
    if level == model.levels.on_level:
        return model
    return replace(model, levels=Levels(centres, level))


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
        self.files = RoomFiles(self.folder)
        self._meta = meta_store(hass)
        self._meta_data: dict[str, Any] = {}
        # One training at a time: the machine may have few cores.
        self._train_lock = asyncio.Lock()
        # One room reads its history at a time, and at most `ROOMS_HELD`
        # rooms are between their reading and the end of their training
        # (see `_async_learn`).
        self._read_lock = asyncio.Lock()
        self._held = asyncio.Semaphore(ROOMS_HELD)
        # Rooms made ready together work out the absent days once.
        self._absence_lock = asyncio.Lock()
        self.training = TrainingProcess(hass)
        self._room_locks = {subentry_id: asyncio.Lock() for subentry_id in rooms}
        # Counts the models imported per room: a training that began before
        # an import does not replace the imported model when it ends.
        self._imports = dict.fromkeys(rooms, 0)
        self._fallback: RoomModel | None = None
        # When the absent days were found, and which they are.
        self._absence: tuple[datetime, Ranges] | None = None
        self._warned_units: set[tuple[str, str]] = set()
        # Home Assistant runs and the first learning has begun.
        self._started = False
        self.archive_info: dict[str, dict[str, Any]] = {}
        # Size of each archive file written since setup (diagnostics).
        self.archive_bytes: dict[str, int] = {}

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
        await self._async_remove_orphans()
        for subentry_id, room in self.rooms.items():
            await self._async_read_archive(subentry_id)
            model = await self._async_load_model(subentry_id)
            if model is None:
                continue
            room.model = model
            room.source = ModelSource(sources.get(subentry_id, ModelSource.LEARNED))
            room.status = ModelStatus.TRAINED
            room.last_trained = model.trained_at

    async def _async_load_model(self, subentry_id: str) -> RoomModel | None:
        """Load a room's model; a bad file is set aside and None returned."""
        path = self.files.model_path(subentry_id)
        try:
            home = await self.hass.async_add_executor_job(load_model_if_exists, path)
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
        await self.training.async_shutdown()
        await self._meta.async_save(self._meta_data)

    async def _async_started(self, _hass: HomeAssistant) -> None:
        self._started = True
        self.entry.async_create_background_task(
            self.hass, self._async_initial(), f"{DOMAIN} initial learning"
        )

    async def _async_initial(self) -> None:
        """Train rooms that need it, bring the other archives up to date."""
        now = dt_util.utcnow()
        to_train = [
            subentry_id
            for subentry_id, room in self.rooms.items()
            if room.model is None
            or room.source is ModelSource.FALLBACK
            or (
                room.source is ModelSource.LEARNED
                and (
                    now - room.model.trained_at > RETRAIN_AFTER
                    or self._trained_with(subentry_id)
                    != self._training_settings(room.config)
                )
            )
        ]
        await self.async_train_rooms(to_train)
        for subentry_id in [s for s in self.rooms if s not in to_train]:
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
        waiting = [
            subentry_id
            for subentry_id, room in self.rooms.items()
            if room.source is ModelSource.IMPORTED
            and room.model is not None
            and room.days_of_data < room.model.days_of_data
        ]
        await self.async_train_rooms([s for s in self.rooms if s not in waiting])
        for subentry_id in waiting:
            await self._async_update_archive_logged(subentry_id)

    # Archive -----------------------------------------------------------

    async def async_update_archives(self) -> None:
        """Bring every room's archives and the presence archive up to date."""
        for subentry_id in self.rooms:
            await self._async_update_archive_logged(subentry_id)
        await self.async_update_presence()
        await self.hass.async_add_executor_job(release_freed_memory)

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
        """Read a room's lux archive; a bad file is set aside (None returned)."""
        series = await self._async_read_file(
            self.files.archive_path(subentry_id),
            f"room {self.rooms[subentry_id].config.name}",
        )
        self._note_archive(subentry_id, series)
        return series

    async def _async_read_file(self, path: Path, owner: str) -> MinuteSeries | None:
        """Read an archive file; a bad one is set aside (None returned)."""
        try:
            return await self.hass.async_add_executor_job(archive.load, path)
        except archive.ArchiveError as err:
            moved = await self.hass.async_add_executor_job(archive.set_aside, path)
            _LOGGER.error(
                "The archive of %s is damaged (%s); it was moved to %s "
                "and is rebuilt from the recorder",
                owner,
                err,
                moved,
            )
            return None

    async def _async_update_file(
        self,
        path: Path,
        owner: str,
        entity_id: str,
        kind: StateKind,
    ) -> MinuteSeries | None:
        """Add an entity's newer recorder history to its archive file.

        `owner` names the archive in messages ("room Kitchen").
        """
        series = await self._async_read_file(path, owner)
        now = dt_util.utcnow()
        oldest = now - timedelta(days=self.settings.archive_days)
        start = oldest
        if series is not None:
            start = max(oldest, dt_util.utc_from_timestamp(series.end_minute * 60))
        try:
            new, report = await get_instance(self.hass).async_add_executor_job(
                read_minute_series, self.hass, entity_id, start, now, kind
            )
        except ReadingStopped:
            _LOGGER.debug("Home Assistant stops: %s is not read now", entity_id)
            return series
        for unit, count in report.other_units.items():
            if (owner, unit) not in self._warned_units:
                self._warned_units.add((owner, unit))
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
            self.archive_bytes[path.name] = size
        return series

    async def _async_light_series(
        self, subentry_id: str, room: RoomConfig, *, update: bool
    ) -> dict[str, MinuteSeries]:
        """Return the archives of a room's lights (brought up to date first)."""
        out: dict[str, MinuteSeries] = {}
        for light in room.lights:
            path = self.files.light_archive_path(subentry_id, light)
            entity_id = room.light_entity_id(self.hass, light)
            owner = f"{entity_id or light} of room {room.name}"
            if update and entity_id is not None:
                series = await self._async_update_file(
                    path, owner, entity_id, StateKind.LIGHT
                )
            else:
                series = await self._async_read_file(path, owner)
            if series is not None:
                out[light] = series
        return out

    async def async_update_presence(self) -> MinuteSeries | None:
        """Bring the presence entity's archive up to date; return it."""
        entity_id = self.settings.presence_entity_id(self.hass)
        if entity_id is None:
            return None
        try:
            return await self._async_update_file(
                self.files.presence_path, "the home", entity_id, StateKind.PRESENCE
            )
        except Exception:
            _LOGGER.exception("Reading the history of %s failed", entity_id)
            return None

    def _note_archive(self, subentry_id: str, series: MinuteSeries | None) -> None:
        """Remember an archive's extent (diagnostics) and its days of data."""
        info = self.archive_info.setdefault(subentry_id, {})
        if (
            size := self.archive_bytes.get(self.files.archive_path(subentry_id).name)
        ) is not None:
            info["bytes"] = size
        if series is not None:
            info.update(
                start=dt_util.utc_from_timestamp(series.start_minute * 60).isoformat(),
                end=dt_util.utc_from_timestamp(series.end_minute * 60).isoformat(),
                minutes=len(series),
                valid_minutes=series.n_valid,
            )
        if self.rooms[subentry_id].config.learn_from.uses_lux:
            self.rooms[subentry_id].days_of_data = days_in(series)

    async def async_update_archive(self, subentry_id: str) -> RoomSources:
        """Add the recorder's newer history to a room's archives; return them.

        Only what is newer than an archive is read: the lux sensor's, when
        the room has one, and each light's, when the room learns from its
        lights. A bad archive file is set aside and rebuilt from what the
        recorder still has. The sources returned are what the room learns
        from, nothing excluded yet.
        """
        room = self.rooms[subentry_id]
        config = room.config
        async with self._room_locks[subentry_id]:
            path = self.files.archive_path(subentry_id)
            now_minute = math.floor(dt_util.utcnow().timestamp() / 60)
            entity_id = config.lux_entity_id(self.hass)
            present = entity_id is not None and (
                self.hass.states.get(entity_id) is not None
            )
            if entity_id is not None:
                series = await self._async_update_file(
                    path, f"room {config.name}", entity_id, StateKind.LUX
                )
            else:
                series = await self._async_read_archive(subentry_id)
            self._note_archive(subentry_id, series)
            lights = (
                await self._async_light_series(subentry_id, config, update=True)
                if config.learn_from.uses_lights
                else {}
            )
            sources = RoomSources(
                lux=series if config.learn_from.uses_lux else None, lights=lights
            )
            room.days_of_data = days_in_sources(sources)
            if config.lux_sensor is not None:
                room.problems = await self.hass.async_add_executor_job(
                    partial(data_problems, series, now_minute, sensor_present=present)
                )
            room.async_update_listeners()
            return sources

    # Training ----------------------------------------------------------

    async def async_train_rooms(
        self, subentry_ids: Iterable[str], *, raise_errors: bool = False
    ) -> None:
        """Train rooms in this order, each while the next reads its history.

        Every room is trained even when one fails; with `raise_errors`, the
        first failure (`TrainingFailed`) is raised once all have ended.
        """
        trainings = [
            self.async_train_room(subentry_id, raise_errors=raise_errors)
            for subentry_id in subentry_ids
        ]
        if not trainings:
            return
        results = await asyncio.gather(
            # The training process starts while the first room reads.
            self.training.async_start(),
            *trainings,
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def async_train_room(
        self, subentry_id: str, *, raise_errors: bool = False
    ) -> None:
        """Train a room from its archive, in an executor.

        Keeps the room's model when training fails; a room without a model
        of its own gets the fallback. With `raise_errors`, a failure raises
        `TrainingFailed` after the room state is updated.
        """
        if (room := self.rooms.get(subentry_id)) is None:
            return  # removed meanwhile
        name = room.config.name
        options = replace(
            self.training_options,
            on_level=room.config.on_level,
            on_lux=room.config.on_lux,
        )
        imports = self._imports[subentry_id]
        try:
            model = await self._async_learn(subentry_id, options)
            if self.rooms.get(subentry_id) is not room:
                return  # removed while it trained
            if self._imports[subentry_id] != imports:
                _LOGGER.info(
                    "Room %s: a model was imported while it trained; the"
                    " imported model is kept",
                    name,
                )
                return
            await self._async_save_model(subentry_id, model, ModelSource.LEARNED)
        except _RoomRemoved:
            return
        except NotEnoughData as err:
            _LOGGER.info("Room %s: not enough data yet (%s)", name, err)
            await self._async_not_enough_data(room, err)
        except Exception as err:
            if isinstance(err, TrainingError):
                # Raised in the training process: its traceback came as text.
                _LOGGER.error("Training room %s failed\n%s", name, err.details)
            else:
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
        """Update the archives and train on them; `NotEnoughData` if empty.

        Rooms trained together overlap: while one trains (in the training
        process) and the next is made ready for it, the one after reads its
        history, so the recorder's executor never waits for the training.
        No more than `ROOMS_HELD` rooms' histories are in memory at once.
        """
        room = self.rooms[subentry_id]
        async with self._held:
            async with self._read_lock:
                if self.rooms.get(subentry_id) is not room:
                    raise _RoomRemoved
                sources = await self.async_update_archive(subentry_id)
            if sources.lux is None and not sources.lights:
                raise NotEnoughData(0.0, options.min_days)
            excluded = await self.async_excluded()
            learned = (await self._async_for_training(sources, options)).with_excluded(
                excluded
            )
            del sources
            try:
                async with self._train_lock:
                    if self.rooms.get(subentry_id) is not room:
                        raise _RoomRemoved
                    return await self.training.async_train(
                        room.config.name, learned, self.location, options
                    )
            finally:
                del learned
                await self.hass.async_add_executor_job(release_freed_memory)

    async def _async_for_training(
        self, sources: RoomSources, options: TrainingOptions
    ) -> RoomSources:
        """Return archives as training reads them (lux silences held)."""
        if sources.lux is None:
            return sources
        lux = await self.hass.async_add_executor_job(
            lux_from_archive, sources.lux, options
        )
        return RoomSources(lux, sources.lights, sources.excluded)

    async def async_excluded(self) -> Ranges:
        """Return the minutes no room learns from: replay, nobody home.

        Replay's own periods always; then the time the presence entity says
        nobody was home, or, without one, the days no room had a light on.
        """
        replay: Ranges = self.entry.runtime_data.replay.learning_exclusions()
        if self.settings.presence is not None:
            presence = await self.async_update_presence()
            return replay + away_ranges(presence)
        async with self._absence_lock:
            now = dt_util.utcnow()
            if self._absence is None or now - self._absence[0] >= ABSENCE_TTL:
                self._absence = (now, await self._async_absent_days(replay))
            return replay + self._absence[1]

    async def _async_absent_days(self, replay: Ranges) -> Ranges:
        """Return the days no room had a light on (nobody home)."""
        options = self.training_options
        rooms: list[RoomSources] = []
        # (A copy: rooms may be removed while their archives are read.)
        for subentry_id, room in list(self.rooms.items()):
            config = room.config
            lux = (
                await self._async_read_file(
                    self.files.archive_path(subentry_id), f"room {config.name}"
                )
                if config.learn_from.uses_lux
                else None
            )
            lights = (
                await self._async_light_series(subentry_id, config, update=False)
                if config.learn_from.uses_lights
                else {}
            )
            if lux is None and not lights:
                continue
            sources = await self._async_for_training(
                RoomSources(lux=lux, lights=lights, excluded=replay), options
            )
            rooms.append(sources)
        absent: Ranges = await self.hass.async_add_executor_job(
            absent_blocking, rooms, self.location, options
        )
        if absent:
            _LOGGER.info(
                "%d days without any light in any room are not learned from"
                " (nobody home)",
                len(absent),
            )
        return absent

    async def _async_save_model(
        self, subentry_id: str, model: RoomModel, source: ModelSource
    ) -> None:
        """Write a room's model file, then remember where it came from."""
        room = self.rooms[subentry_id]
        home = HomeModel(self.location, {room.config.name: model})
        await self.hass.async_add_executor_job(
            self.files.write_model, self.files.model_path(subentry_id), home
        )
        self._meta_data.setdefault("sources", {})[subentry_id] = source.value
        self._meta_data.setdefault("trained_with", {})[subentry_id] = (
            self._training_settings(self.rooms[subentry_id].config)
        )
        await self._meta.async_save(self._meta_data)

    def _training_settings(self, room: RoomConfig) -> dict[str, Any]:
        """Return the settings that shape a room's model (a change retrains)."""
        return {
            "n_levels": self.settings.n_levels,
            "on_level": room.on_level,
            "on_lux": room.on_lux,
            "learn_from": room.learn_from.value,
        }

    def _trained_with(self, subentry_id: str) -> dict[str, Any] | None:
        """Return the settings the room's saved model was trained with."""
        trained_with: dict[str, Any] | None = self._meta_data.get(
            "trained_with", {}
        ).get(subentry_id)
        if trained_with is not None:
            # Models saved before rooms chose their sources learned from lux.
            trained_with = {"learn_from": "lux"} | trained_with
        return trained_with

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
        kind = err.kind if isinstance(err, TrainingError) else type(err).__name__
        room.error = f"{kind}: {err}"
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
        room.model = with_room_threshold(
            fallback, room.config.on_level, room.config.on_lux
        )
        room.source = ModelSource.FALLBACK
        room.last_trained = None

    async def _async_fallback_model(self) -> RoomModel:
        """Return the home's fallback model, made once and kept in storage."""
        if self._fallback is not None:
            return self._fallback
        path = self.files.fallback_path
        try:
            home = await self.hass.async_add_executor_job(load_model_if_exists, path)
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
            self.files.write_model, path, HomeModel(self.location, {"fallback": model})
        )
        self._fallback = model
        return model

    # Rooms -------------------------------------------------------------

    @callback
    def async_add_room(self, subentry_id: str) -> None:
        """Take in a room added while the entry runs, and learn it at once."""
        self._room_locks[subentry_id] = asyncio.Lock()
        self._imports[subentry_id] = 0
        self._absence = None
        self._async_learn_soon(subentry_id)

    async def async_update_room(self, subentry_id: str, old: RoomConfig) -> None:
        """Follow a changed room: if what shapes its model changed, it learns again.

        A new name changes nothing learned; archives of lights the room no
        longer has are deleted.
        """
        config = self.rooms[subentry_id].config
        self._absence = None
        await self._async_remove_orphans()
        if self._what_shapes(config) != self._what_shapes(old):
            self._async_learn_soon(subentry_id)

    def _what_shapes(self, config: RoomConfig) -> tuple[Any, ...]:
        """Return what a room's model is learned from and with (its settings).

        Entities are compared as they are now, however they are stored (a
        registry id or an entity_id name the same light).
        """
        return (
            config.lux_entity_id(self.hass),
            tuple(config.light_entity_ids(self.hass)),
            self._training_settings(config),
        )

    async def async_remove_room(self, subentry_id: str) -> None:
        """Forget a removed room: its archives, model and what was noted of it."""
        self._imports.pop(subentry_id, None)
        self._absence = None
        self.archive_info.pop(subentry_id, None)
        self.archive_bytes = {
            name: size
            for name, size in self.archive_bytes.items()
            if not name.startswith(f"{subentry_id}.")
        }
        self._meta_data.get("sources", {}).pop(subentry_id, None)
        self._meta_data.get("trained_with", {}).pop(subentry_id, None)
        await self._meta.async_save(self._meta_data)
        lock = self._room_locks.pop(subentry_id, None) or asyncio.Lock()
        # After an archive update that is under way has written its file.
        async with lock:
            await self._async_remove_orphans()

    async def _async_remove_orphans(self) -> None:
        """Delete the files of rooms, and of rooms' lights, that are gone."""
        await self.hass.async_add_executor_job(
            self.files.remove_orphans,
            {sid: room.config.lights for sid, room in self.rooms.items()},
        )

    @callback
    def _async_learn_soon(self, subentry_id: str) -> None:
        """Train a room in the background (before the start, the first learning does)."""
        if not self._started:
            return
        self.entry.async_create_background_task(
            self.hass,
            self.async_train_room(subentry_id),
            f"{DOMAIN} learning {self.rooms[subentry_id].config.name}",
        )

    # Import ------------------------------------------------------------

    async def async_import_model(
        self, subentry_id: str, path: Path, room_name: str | None
    ) -> RoomModel:
        """Use a room of a model file (trainer format) for a room.

        Raises `ModelError` for a bad file (`NotAModel` for one that is
        missing, too large or not a model at all) and `KeyError` (with the names in
        the file) when the room cannot be chosen.
        """
        room = self.rooms[subentry_id]
        home = await self.hass.async_add_executor_job(read_model_file, path)
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
