"""A small PNG writer (RGBA, 8 bits per channel) and Fika's coffee-cup icon, in pure Python.

The Teams app package needs two icons; drawing them here keeps binary files out of the
repository and lets the accent colour follow the manifest. The format is PNG's own (RFC 2083):
signature, IHDR, one zlib-compressed IDAT of filtered scanlines, IEND, each chunk with its CRC.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_rgba(width: int, height: int, pixels: bytes) -> bytes:
    """A PNG of ``width`` x ``height`` from ``pixels``: rows of RGBA bytes, top row first."""
    if width <= 0 or height <= 0 or len(pixels) != width * height * 4:
        need = width * height * 4
        raise ValueError(f"{width}x{height} RGBA needs {need} bytes, got {len(pixels)}")
    stride = width * 4
    # Filter type 0 (none) before each scanline; zlib does the rest well enough for icons.
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _in_cup(x: float, y: float) -> bool:
    """Whether (x, y) in the unit square (y downwards) is on the cup, its handle or saucer."""
    # The cup: a bowl whose sides curve in towards the bottom.
    if 0.40 <= y <= 0.76:
        depth = (y - 0.40) / 0.36
        half = 0.22 - 0.07 * depth**2
        if abs(x - 0.43) <= half:
            return True
    # The handle: a ring on the cup's right side.
    ring = math.hypot(x - 0.66, y - 0.54)
    if x > 0.62 and 0.065 <= ring <= 0.125:
        return True
    # The saucer: a flat ellipse under the cup.
    if ((x - 0.46) / 0.34) ** 2 + ((y - 0.82) / 0.045) ** 2 <= 1.0:
        return True
    # Two wisps of steam.
    for left in (0.35, 0.49):
        if 0.15 <= y <= 0.33 and abs(x - (left + 0.025 * math.sin((y - 0.15) * 30))) <= 0.022:
            return True
    return False


def _coverage(size: int, inside: Callable[[float, float], bool], samples: int = 3) -> list[float]:
    """For each pixel, the share of ``samples`` x ``samples`` points inside the shape."""
    step = 1.0 / (size * samples)
    offsets = [(i + 0.5) * step for i in range(samples)]
    total = samples * samples
    result = []
    for row in range(size):
        for col in range(size):
            x0, y0 = col / size, row / size
            hits = sum(inside(x0 + dx, y0 + dy) for dy in offsets for dx in offsets)
            result.append(hits / total)
    return result


def cup_icon(size: int, background: tuple[int, int, int] | None) -> bytes:
    """A white coffee cup as a PNG: on ``background``, or on transparency when it is None."""
    pixels = bytearray()
    for share in _coverage(size, _in_cup):
        if background is None:
            pixels += bytes((255, 255, 255, round(255 * share)))
        else:
            pixels += bytes(round(c + (255 - c) * share) for c in background) + b"\xff"
    return png_rgba(size, size, bytes(pixels))
