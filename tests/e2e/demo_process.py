"""The demo command run as a subprocess, as a user runs it, for the e2e check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Printed by the demo once Home Assistant runs and the rooms are trained.
READY_LINE = "Lighting Replay demo: http://127.0.0.1:"


@dataclass
class DemoProcess:
    """`python -m scripts.demo` with its own folder and port."""

    config_dir: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the demo's address."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the demo headless (this interpreter, so this Home Assistant)."""
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.demo",
                "--no-browser",
                "--port",
                str(self.port),
                "--config-dir",
                str(self.config_dir),
            ],
            cwd=PROJECT_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        """Return what the demo (and Home Assistant) printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float) -> None:
        """Wait for the demo's banner; fail early if the demo ends."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if READY_LINE in self.output():
                return
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the demo exited with {self.process.returncode}:\n"
                    + self.output()[-4000:]
                )
            time.sleep(1)
        raise AssertionError(
            f"the demo was not ready within {timeout_s:.0f} s:\n"
            + self.output()[-4000:]
        )

    def interrupt(self, timeout_s: float) -> int:
        """Send Ctrl-C (SIGINT) and return the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        """Make sure nothing is left running (after a failed test too)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
