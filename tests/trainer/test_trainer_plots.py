"""plot: PNG figures of every room, with and without a model."""

from __future__ import annotations

from pathlib import Path
import struct
import zlib

from matplotlib import image
import numpy as np
import pytest
from workbench_data import LOCATION_ARGS

from lighting_replay_trainer.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOMS = ("bedroom", "kitchen", "living_room")


def png_size(path: Path) -> tuple[int, int]:
    """Check the PNG structure (signature, IHDR and its CRC); return its size."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert length == 13
    header = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + header) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", header[:8])
    return width, height


def check_picture(path: Path) -> None:
    width, height = png_size(path)
    assert width >= 600
    assert height >= 200
    pixels = image.imread(path)
    assert pixels.shape[:2] == (height, width)
    # Something is drawn: many different colours, not a blank canvas.
    rgba = np.round(pixels * 255).astype(np.uint32)
    packed = (rgba[..., 0] << 16) | (rgba[..., 1] << 8) | rgba[..., 2]
    assert len(np.unique(packed)) > 20


def test_figures_with_a_model(
    simulated_csv: Path,
    simulated_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "figures"
    argv = ["plot", "--csv", str(simulated_csv), "--model", str(simulated_model),
            "--start", "2024-03-07", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    listed = capsys.readouterr().out.split()
    expected = {
        f"{room}-{kind}.png"
        for room in ROOMS
        for kind in ("lux", "levels", "on-off", "predicted-week")
    }
    assert {p.name for p in out.iterdir()} == expected
    assert {Path(p).name for p in listed} == expected
    for path in out.iterdir():
        check_picture(path)


def test_figures_without_a_model_need_the_location(
    simulated_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures"
    assert main(["plot", "--csv", str(simulated_csv), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--latitude, --longitude and --timezone" in err[0]
    argv = ["plot", "--csv", str(simulated_csv), *LOCATION_ARGS, "--levels", "3",
            "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{room}-{kind}.png" for room in ROOMS for kind in ("lux", "levels", "on-off")
    )
    for path in out.iterdir():
        check_picture(path)
