"""Debian's chromium driven through its own command line (no Python dependency), and a PNG reader
that tells a blank screenshot from a real one."""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import zlib
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, f"chromium failed ({res.returncode}): {res.stderr[-2000:]}"
    return res


def dump_dom(url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran, serialised."""
    dom = _run(["--dump-dom", url], profile).stdout
    assert "<html" in dom, f"chromium gave no DOM for {url}"
    return dom


def screenshot(url: str, png: Path, profile: Path, size: str = "1280,900") -> Path:
    png.unlink(missing_ok=True)
    _run([f"--screenshot={png}", f"--window-size={size}", url], profile)
    assert png.is_file(), f"chromium wrote no screenshot of {url}"
    return png


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB or RGBA PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, head = 8, b"", (0, 0, 0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            head = (w, h, depth, colour)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour = head
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format: depth {depth}, colour type {colour}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            add = (0, a, b, (a + b) // 2, _paeth(a, b, c))[f]
            line[x] = (line[x] + add) & 0xFF
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def distinct_colours(path: Path, step: int = 4, *, pure: bool = False) -> int:
    """How many different pixel values a grid of every `step`-th pixel holds (1 = blank). PyMuPDF
    decodes the PNG when it is installed (fast); else the reader above (a few seconds a screenshot)."""
    if not pure and importlib.util.find_spec("pymupdf") is not None:
        import pymupdf

        pix = pymupdf.Pixmap(str(path))
        samples, n, w = pix.samples, pix.n, pix.width
        return len(
            {
                samples[(y * w + x) * n : (y * w + x) * n + 3]
                for y in range(0, pix.height, step)
                for x in range(0, w, step)
            }
        )
    w, _, rows = png_pixels(path)
    bpp = len(rows[0]) // w
    seen = {row[x * bpp : x * bpp + 3] for row in rows[::step] for x in range(0, w, step)}
    return len(seen)
