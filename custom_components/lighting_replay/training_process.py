"""Training rooms in a worker process, beside Home Assistant.

Training is CPU work in numpy (a second or two per room-year); in Home
Assistant's process it would hold the interpreter lock against the event
loop and the recorder's reading of the next room. `TrainingProcess` runs it
in the engine's `training_worker` instead: a Python process started with
the same interpreter, which imports only the engine. It starts when rooms
are to be trained (`async_start`, while the first reads its history) and
ends when nothing was trained for a while, so it costs no memory between
learnings.

Where the worker cannot start or dies, the room is trained in Home
Assistant's executor as before (a warning says so once); a failure of the
training itself is the room's, as it would be in the executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import json
import logging
import os
from pathlib import Path
import sys

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .engine.model import RoomModel
from .engine.sources import RoomSources
from .engine.training import TrainingOptions, train_sources
from .engine.training_worker import (
    PROTOCOL,
    WorkerError,
    decode_result,
    encode_request,
    length_prefix,
    message_length,
)
from .engine.zones import Location

_LOGGER = logging.getLogger(__name__)

#: The worker ends after this long without a room to train.
IDLE_SECONDS = 30.0
#: How long the worker may take to start (numpy's import on a slow board).
START_TIMEOUT = 60.0
#: How long the worker may take to end once asked.
STOP_TIMEOUT = 5.0
# The folder holding the engine package (the worker's import path).
_INTEGRATION_FOLDER = Path(__file__).resolve().parent


class _WorkerLost(Exception):
    """The worker could not be started, or stopped answering."""


class TrainingProcess:
    """Trains rooms in a worker process; in the executor where it cannot."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare; nothing starts until the first room is trained."""
        self.hass = hass
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._stop_later: CALLBACK_TYPE | None = None
        # Workers killed while they trained, their end not yet awaited.
        self._killed: list[asyncio.subprocess.Process] = []
        # The worker could not start: train in the executor from now on.
        self._unavailable = False
        #: CPU seconds the worker spent on the rooms it trained.
        self.cpu_seconds = 0.0

    async def async_start(self) -> None:
        """Start the worker now (while the first room reads its history)."""
        async with self._turn():
            if self._unavailable:
                return
            try:
                await self._async_started()
            except _WorkerLost as err:
                _LOGGER.warning(
                    "The rooms are trained in Home Assistant's own process: %s", err
                )
                await self._async_stop()

    async def async_train(
        self,
        room: str,
        sources: RoomSources,
        location: Location,
        options: TrainingOptions,
    ) -> RoomModel:
        """Return the room's model (what `train_sources` returns or raises)."""
        async with self._turn():
            if not self._unavailable:
                request = await self.hass.async_add_executor_job(
                    encode_request, room, sources, location, options
                )
                try:
                    return await self._async_train_in_worker(request)
                except _WorkerLost as err:
                    _LOGGER.warning(
                        "Room %s is trained in Home Assistant's own process: %s",
                        room,
                        err,
                    )
                    await self._async_stop()
            return await self.hass.async_add_executor_job(
                train_sources, room, sources, location, options
            )

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Use the worker alone; it ends once idle for `IDLE_SECONDS` after."""
        async with self._lock:
            self._cancel_stop()
            try:
                yield
            finally:
                self._stop_later = async_call_later(
                    self.hass, IDLE_SECONDS, self._async_stop_when_idle
                )

    async def _async_train_in_worker(self, request: bytes) -> RoomModel:
        """Send a training request to the worker; return its model."""
        try:
            process = await self._async_started()
            await self._async_send(process, request)
            answer = await self._async_receive(process)
        except (OSError, asyncio.IncompleteReadError, WorkerError) as err:
            raise _WorkerLost(f"the training process stopped ({err!r})") from err
        except asyncio.CancelledError:
            # Its answer would reach the next request: this worker goes.
            self._abandon()
            raise
        model, cpu_seconds = await self.hass.async_add_executor_job(
            decode_result, answer
        )
        self.cpu_seconds += cpu_seconds
        return model

    async def _async_started(self) -> asyncio.subprocess.Process:
        """Return the running worker, started if it is not."""
        if self._process is not None and self._process.returncode is None:
            return self._process
        env = os.environ.copy()
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, (str(_INTEGRATION_FOLDER), env.get("PYTHONPATH")))
        )
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "engine.training_worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                cwd=_INTEGRATION_FOLDER,
            )
        except (OSError, ValueError) as err:
            self._unavailable = True
            raise _WorkerLost(f"the training process cannot start ({err})") from err
        self._process = process
        try:
            async with asyncio.timeout(START_TIMEOUT):
                ready = json.loads(await self._async_receive(process))
        except (TimeoutError, ValueError, OSError, asyncio.IncompleteReadError) as err:
            self._unavailable = True
            raise _WorkerLost(f"the training process did not start ({err!r})") from err
        if ready != {"ready": PROTOCOL}:
            self._unavailable = True
            raise _WorkerLost(f"the training process answered {ready!r}")
        return process

    @staticmethod
    async def _async_send(process: asyncio.subprocess.Process, payload: bytes) -> None:
        stdin = process.stdin
        if stdin is None:
            raise WorkerError("no input stream")
        stdin.write(length_prefix(payload))
        stdin.write(payload)
        await stdin.drain()

    @staticmethod
    async def _async_receive(process: asyncio.subprocess.Process) -> bytes:
        stdout = process.stdout
        if stdout is None:
            raise WorkerError("no output stream")
        head = await stdout.readexactly(8)
        return await stdout.readexactly(message_length(head))

    @callback
    def _cancel_stop(self) -> None:
        if self._stop_later is not None:
            self._stop_later()
            self._stop_later = None

    async def _async_stop_when_idle(self, _now: object) -> None:
        self._stop_later = None
        async with self._lock:
            await self._async_stop()

    @callback
    def _abandon(self) -> None:
        """Kill the worker at once (its end is awaited by `_async_stop`)."""
        if (process := self._process) is None:
            return
        self._process = None
        if process.returncode is None:
            process.kill()
        self._killed.append(process)

    async def _async_stop(self) -> None:
        """End the worker: its input closed, killed if it does not end."""
        for killed in self._killed:
            await killed.wait()
        self._killed.clear()
        if (process := self._process) is None:
            return
        self._process = None
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()

    async def async_shutdown(self) -> None:
        """End the worker now (the entry unloads)."""
        self._cancel_stop()
        async with self._lock:
            await self._async_stop()
