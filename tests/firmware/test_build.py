"""Every firmware file compiles with mpy-cross for the boards and the host."""

from __future__ import annotations

from pathlib import Path
import subprocess

from lux_node import FIRMWARE, build_firmware, require_tool
import pytest

BOARD_FILES = sorted(p for p in FIRMWARE.rglob("*.py") if p.name != "build.py")


def test_firmware_files_found() -> None:
    """The list below is not empty by accident."""
    names = {p.relative_to(FIRMWARE).as_posix() for p in BOARD_FILES}
    assert {
        "main.py",
        "node.py",
        "mqtt.py",
        "discovery.py",
        "filters.py",
        "config.py",
        "drivers/tsl2591.py",
        "drivers/bh1750.py",
    } <= names


@pytest.mark.parametrize("arch", ["xtensa", "xtensawin"])
@pytest.mark.parametrize(
    "source", BOARD_FILES, ids=[p.relative_to(FIRMWARE).as_posix() for p in BOARD_FILES]
)
def test_mpy_cross_compiles(source: Path, arch: str, tmp_path: Path) -> None:
    """mpy-cross accepts the file for the ESP8266 (xtensa) and ESP32 (xtensawin)."""
    out = tmp_path / "out.mpy"
    result = subprocess.run(
        [require_tool("mpy-cross"), f"-march={arch}", "-o", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    header = out.read_bytes()[:4]
    assert header[0] == ord("M")  # .mpy magic


@pytest.mark.parametrize("arch", ["xtensa", "xtensawin", "host"])
def test_build_script(arch: str, tmp_path: Path) -> None:
    """firmware/build.py writes main.py as source and every other module as .mpy."""
    out = build_firmware(tmp_path / arch, arch)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "main.py" in files
    assert {
        "node.mpy",
        "mqtt.mpy",
        "drivers/tsl2591.mpy",
        "drivers/bh1750.mpy",
    } <= files
    assert not any(f.endswith(".py") and f != "main.py" for f in files)
