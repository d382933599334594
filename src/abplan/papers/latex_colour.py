"""xcolor colours as RGB: named colours, every colour model, mixing expressions and user aliases."""

from __future__ import annotations

import colorsys
import re

RGB = tuple[float, float, float]

# xcolor's base names, plus the dvips/svg/x11 names that are (near) white and so can hide text.
NAMED: dict[str, RGB] = {
    "white": (1, 1, 1),
    "black": (0, 0, 0),
    "red": (1, 0, 0),
    "green": (0, 1, 0),
    "blue": (0, 0, 1),
    "cyan": (0, 1, 1),
    "magenta": (1, 0, 1),
    "yellow": (1, 1, 0),
    "gray": (0.5, 0.5, 0.5),
    "grey": (0.5, 0.5, 0.5),
    "darkgray": (0.25, 0.25, 0.25),
    "lightgray": (0.75, 0.75, 0.75),
    "brown": (0.75, 0.5, 0.25),
    "lime": (0.75, 1, 0),
    "olive": (0.5, 0.5, 0),
    "orange": (1, 0.5, 0),
    "pink": (1, 0.75, 0.75),
    "purple": (0.75, 0, 0.25),
    "teal": (0, 0.5, 0.5),
    "violet": (0.5, 0, 0.5),
    "snow": (1, 0.98, 0.98),
    "ghostwhite": (0.97, 0.97, 1),
    "whitesmoke": (0.96, 0.96, 0.96),
    "floralwhite": (1, 0.98, 0.94),
    "ivory": (1, 1, 0.94),
    "azure": (0.94, 1, 1),
    "mintcream": (0.96, 1, 0.98),
    "honeydew": (0.94, 1, 0.94),
    "aliceblue": (0.94, 0.97, 1),
    "seashell": (1, 0.96, 0.93),
    "lavenderblush": (1, 0.94, 0.96),
    "oldlace": (0.99, 0.96, 0.9),
    "linen": (0.98, 0.94, 0.9),
    "cornsilk": (1, 0.97, 0.86),
    "lightyellow": (1, 1, 0.88),
    "lightcyan": (0.88, 1, 1),
    "gainsboro": (0.86, 0.86, 0.86),
}


def _floats(spec: str) -> list[float]:
    return [float(x) for x in re.split(r"[\s,]+", spec.strip()) if x]


def from_model(model: str, spec: str) -> RGB | None:
    """The colour `spec` in xcolor model `model` ("rgb", "RGB", "HTML", "gray", "cmyk", "hsb", ...)."""
    model = model.strip()
    try:
        if model == "HTML":
            h = spec.strip().lstrip("#")
            return (
                (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255) if len(h) == 6 else None
            )
        v = _floats(spec)
        if model == "rgb" and len(v) == 3:
            return (v[0], v[1], v[2])
        if model == "RGB" and len(v) == 3:
            return (v[0] / 255, v[1] / 255, v[2] / 255)
        if model == "gray" and len(v) == 1:
            return (v[0], v[0], v[0])
        if model == "Gray" and len(v) == 1:
            return (v[0] / 15, v[0] / 15, v[0] / 15)
        if model == "cmyk" and len(v) == 4:
            return tuple(max(0.0, 1 - min(1.0, x + v[3])) for x in v[:3])  # type: ignore[return-value]
        if model == "cmy" and len(v) == 3:
            return (1 - v[0], 1 - v[1], 1 - v[2])
        if model in ("hsb", "Hsb", "HSB") and len(v) == 3:
            scale = {"hsb": (1, 1, 1), "Hsb": (360, 1, 1), "HSB": (240, 240, 240)}[model]
            return colorsys.hsv_to_rgb(v[0] / scale[0], v[1] / scale[1], v[2] / scale[2])
        if model == "named":
            return NAMED.get(spec.strip().lower())
    except (ValueError, IndexError):
        return None
    return None


def _mix(a: RGB, b: RGB, pct: float) -> RGB:
    p = max(0.0, min(100.0, pct)) / 100
    return (a[0] * p + b[0] * (1 - p), a[1] * p + b[1] * (1 - p), a[2] * p + b[2] * (1 - p))


def resolve(expr: str, aliases: dict[str, RGB]) -> RGB | None:
    """An xcolor expression: `name`, `-name` (complement), `name!pct!name2!pct2...` (mixes, default white)."""
    expr = expr.strip()
    neg = expr.startswith("-")
    parts = [p.strip() for p in expr.lstrip("-").split("!")]

    def named(name: str) -> RGB | None:
        if name in aliases:
            return aliases[name]
        return NAMED.get(name.lower())

    cur = named(parts[0])
    if cur is None:
        return None
    i = 1
    while i < len(parts):
        try:
            pct = float(parts[i])
        except ValueError:
            return None
        other = named(parts[i + 1]) if i + 1 < len(parts) and parts[i + 1] else (1.0, 1.0, 1.0)
        if other is None:
            return None
        cur = _mix(cur, other, pct)
        i += 2
    return (1 - cur[0], 1 - cur[1], 1 - cur[2]) if neg else cur


def colour_of(model: str | None, spec: str, aliases: dict[str, RGB]) -> RGB | None:
    """`\\color[model]{spec}` or `\\color{expr}` as RGB (None when unknown)."""
    return from_model(model, spec) if model else resolve(spec, aliases)


def close(a: RGB, b: RGB, tol: float = 0.08) -> bool:
    """Indistinguishable to a reader (per channel within `tol`)."""
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))
