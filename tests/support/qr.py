"""Reads a QR code off a page as a phone's camera would: the page's inline SVG (segno's path of dark modules) drawn
into a bitmap, then decoded by zxing-cpp, a decoder independent of the encoder that drew it."""

from __future__ import annotations

import re

import zxingcpp

PIXELS_PER_MODULE = 4


def _modules(svg: str) -> list[list[bool]]:
    """The dark modules of segno's inline SVG: the scaled path of its dark lines, moves (M, m) and horizontal runs
    (h); the light background is another path."""
    size = re.search(r'<svg width="(\d+)" height="(\d+)"', svg)
    scale = re.search(r'transform="scale\(([\d.]+)\)"', svg)
    path = re.search(r'<path class="qrline"[^>]* d="([^"]+)"', svg)
    if size is None or scale is None or path is None:
        raise AssertionError(f"not segno's inline SVG: {svg[:200]}")
    factor = float(scale.group(1))
    width, height = (round(int(size.group(i)) / factor) for i in (1, 2))
    grid = [[False] * width for _ in range(height)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            run = float(a)
            for column in range(int(x), int(x + run)):
                grid[int(y)][column] = True
            x += run
    return grid


def read_svg(svg: str) -> list[str]:
    """The texts of every QR code zxing-cpp finds in the drawn SVG."""
    grid = _modules(svg)
    rows = bytearray()
    for line in grid:
        row = bytes(0 if dark else 255 for dark in line for _ in range(PIXELS_PER_MODULE))
        rows += row * PIXELS_PER_MODULE
    height, width = len(grid) * PIXELS_PER_MODULE, len(grid[0]) * PIXELS_PER_MODULE
    image = memoryview(rows).cast("B", (height, width))
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode) if found.valid]


def read_page(page: str) -> list[str]:
    """The texts of the QR codes of a page's inline SVGs."""
    return [text for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.S) for text in read_svg(svg)]
