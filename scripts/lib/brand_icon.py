"""Draw the integration's brand icon: a lit table lamp under a crescent moon.

Run with the project's Python (numpy is needed):
    .venv/bin/python scripts/lib/brand_icon.py custom_components/lighting_replay/brand
It writes icon.png (256 px) and icon@2x.png (512 px) into that folder.
"""

from __future__ import annotations

from pathlib import Path
import struct
import sys
import zlib

import numpy as np
from numpy.typing import NDArray

type Mask = NDArray[np.float64]

NIGHT = (0x1B, 0x26, 0x45)
NIGHT_EDGE = (0x2C, 0x3E, 0x6E)
MOON = (0xF4, 0xF1, 0xDE)
SHADE = (0xFF, 0xC8, 0x4A)
SHADE_DARK = (0xE8, 0x9A, 0x1E)
BASE = (0xD9, 0xDE, 0xEA)
GLOW = (0xFF, 0xD8, 0x70)
SUPERSAMPLE = 4


def _grid(size: int) -> tuple[Mask, Mask]:
    """Return pixel-centre coordinates in units of the icon (0..1), supersampled."""
    n = size * SUPERSAMPLE
    axis = (np.arange(n, dtype=np.float64) + 0.5) / n
    x, y = np.meshgrid(axis, axis)
    return x.astype(np.float64), y.astype(np.float64)


def _rounded_square(x: Mask, y: Mask, margin: float, radius: float) -> Mask:
    """Return a 0/1 mask of a square with rounded corners."""
    qx = np.abs(x - 0.5) - (0.5 - margin - radius)
    qy = np.abs(y - 0.5) - (0.5 - margin - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    inside = np.minimum(np.maximum(qx, qy), 0)
    mask: Mask = ((outside + inside) <= radius).astype(np.float64)
    return mask


def _disc(x: Mask, y: Mask, cx: float, cy: float, r: float) -> Mask:
    """Return a 0/1 mask of a disc."""
    return (np.hypot(x - cx, y - cy) <= r).astype(np.float64)


def _trapezoid(
    x: Mask, y: Mask, top: float, bottom: float, half_top: float, half_bottom: float
) -> Mask:
    """Return a 0/1 mask of a trapezoid centred on x = 0.5 (a lamp shade)."""
    t = np.clip((y - top) / (bottom - top), 0, 1)
    half = half_top + (half_bottom - half_top) * t
    inside = (y >= top) & (y <= bottom) & (np.abs(x - 0.5) <= half)
    return inside.astype(np.float64)


def _rect(x: Mask, y: Mask, x0: float, x1: float, y0: float, y1: float) -> Mask:
    """Return a 0/1 mask of an axis-aligned rectangle."""
    return ((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)).astype(np.float64)


def _paint(rgba: NDArray[np.float64], mask: Mask, colour: tuple[int, int, int]) -> None:
    """Paint colour over rgba where mask is set (mask may be fractional)."""
    c = np.asarray(colour, dtype=np.float64) / 255
    a = mask[..., None]
    rgba[..., :3] = rgba[..., :3] * (1 - a) + c * a
    rgba[..., 3] = np.maximum(rgba[..., 3], mask)


def draw(size: int) -> NDArray[np.uint8]:
    """Return the icon as an RGBA array of size x size pixels."""
    x, y = _grid(size)
    rgba = np.zeros((*x.shape, 4), dtype=np.float64)

    tile = _rounded_square(x, y, margin=0.02, radius=0.2)
    # Night sky: a soft vertical gradient between two blues.
    t = np.clip(y, 0, 1)[..., None]
    sky = (np.asarray(NIGHT_EDGE) * (1 - t) + np.asarray(NIGHT) * t) / 255
    rgba[..., :3] = sky * tile[..., None]
    rgba[..., 3] = tile

    # Warm glow around the shade, fading with distance.
    glow = np.exp(-(((x - 0.5) / 0.3) ** 2 + ((y - 0.52) / 0.26) ** 2)) * 0.55
    _paint(rgba, glow * tile, GLOW)

    moon = _disc(x, y, 0.74, 0.25, 0.13) * (1 - _disc(x, y, 0.80, 0.2, 0.11))
    _paint(rgba, moon * tile, MOON)

    shade = _trapezoid(x, y, top=0.3, bottom=0.55, half_top=0.12, half_bottom=0.24)
    _paint(rgba, shade, SHADE)
    # Darker rim along the shade's lower edge gives it depth.
    _paint(rgba, shade * _rect(x, y, 0, 1, 0.52, 0.55), SHADE_DARK)
    _paint(rgba, _rect(x, y, 0.475, 0.525, 0.55, 0.76), BASE)
    _paint(rgba, _trapezoid(x, y, 0.76, 0.82, 0.1, 0.16), BASE)

    # Average the supersampled pixels down to the target size.
    small = rgba.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE, 4).mean(axis=(1, 3))
    # Colour channels were blended over black where transparent: un-premultiply.
    alpha = small[..., 3:4]
    small[..., :3] = np.where(alpha > 0, small[..., :3] / np.maximum(alpha, 1e-9), 0)
    pixels: NDArray[np.uint8] = np.clip(np.round(small * 255), 0, 255).astype(np.uint8)
    return pixels


def png_bytes(rgba: NDArray[np.uint8]) -> bytes:
    """Encode an RGBA array as a PNG file."""
    height, width, _ = rgba.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = np.concatenate(
        [np.zeros((height, 1), dtype=np.uint8), rgba.reshape(height, width * 4)],
        axis=1,
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def main(argv: list[str]) -> int:
    """Write icon.png and icon@2x.png into the folder given as argument."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    folder = Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        (folder / name).write_bytes(png_bytes(draw(size)))
        print(f"wrote {folder / name} ({size}x{size})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
