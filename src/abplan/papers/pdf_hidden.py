"""Text in a PDF that a human reader would not see, found in the same pass that reads the page's text.

One `get_text("dict")` per page, without image data but with vector blocks, gives each span's colour,
opacity, size, box and render mode (char flags) and the filled rectangles in paint order. Only pages
that place images add a `get_bboxlog()` (boxes in paint order, no pixels) to see text an image covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abplan.papers.hidden import excerpt as _excerpt
from abplan.schema import Finding

Box = tuple[float, float, float, float]

_FILLED, _STROKED = 16, 32  # MuPDF's FZ_STEXT_FILLED / FZ_STEXT_STROKED char flags
MIN_ALPHA = 13  # of 255: at or below ~5% opacity text is invisible
COVER = 0.9  # share of a span's box that a shape must cover to hide it
NEAR = 24  # per-channel difference (of 255) under which two colours look the same
MIN_REPORT = 4  # hidden text shorter than this is removed but not reported
_RENDER_CHECKED = ("covered-by-rect", "background-colour")

WHY = {
    "render-mode-3": "invisible text (render mode 3)",
    "zero-opacity": "text at zero or near-zero opacity",
    "outside-page": "text outside the page",
    "tiny-text": "text under 2 pt",
    "covered-by-rect": "text covered by an opaque filled rectangle drawn after it",
    "covered-by-image": "text covered by an image drawn after it",
    "white-text": "white or near-white text on a white background",
    "background-colour": "text in the colour of the background behind it",
}


@dataclass
class PageScan:
    """One page: the text a reader sees, the whole text, the findings and the first line sizes."""

    text: str
    full_text: str
    findings: list[Finding] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    # (largest font size, top y, text) of each visible line: for the title guess on page 1.
    lines: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class _Fill:
    order: int
    box: Box
    rgb: tuple[int, int, int]


def _rgb(color: int) -> tuple[int, int, int]:
    return (color >> 16) & 255, (color >> 8) & 255, color & 255


def _covered(span: Box, shape: Box) -> bool:
    """Whether `shape` covers at least COVER of the span's box."""
    w, h = span[2] - span[0], span[3] - span[1]
    if w <= 0 or h <= 0:
        return False
    iw = min(span[2], shape[2]) - max(span[0], shape[0])
    ih = min(span[3], shape[3]) - max(span[1], shape[1])
    return iw > 0 and ih > 0 and iw * ih >= COVER * w * h


def _same(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= NEAR


def _why(span: dict[str, Any], order: int, page: Box, fills: list[_Fill], imaged: set[int]) -> str | None:
    """The technique that hides this span, or None if a reader sees it."""
    flags = span.get("char_flags")
    if flags is not None and not flags & (_FILLED | _STROKED):
        return "render-mode-3"
    if span.get("alpha", 255) <= MIN_ALPHA:
        return "zero-opacity"
    x0, y0, x1, y1 = box = tuple(span.get("bbox", (0.0, 0.0, 0.0, 0.0)))
    if x1 < page[0] or x0 > page[2] or y1 < page[1] or y0 > page[3]:
        return "outside-page"
    if span.get("size", 10.0) < 2:
        return "tiny-text"
    if id(span) in imaged:
        return "covered-by-image"
    under = None
    for f in fills:
        if _covered(box, f.box):  # type: ignore[arg-type]
            if f.order > order:
                return "covered-by-rect"
            under = f
    rgb = _rgb(int(span.get("color", 0)))
    bg = under.rgb if under is not None else (255, 255, 255)
    if min(bg) >= 235 and min(rgb) >= 235:
        return "white-text"
    return "background-colour" if _same(rgb, bg) else None


def _image_covered(page: Any, lines: list[tuple[int, dict[str, Any]]]) -> set[int]:
    """ids of spans that an image painted later covers, from the page's paint log (boxes only)."""
    import pymupdf

    log = page.get_bboxlog()
    if page.rotation:  # the log is taken unrotated; spans are in the rotated page's coordinates
        m = page.rotation_matrix
        log = [(kind, tuple(pymupdf.Rect(b) * m)) for kind, b in log]
    out: set[int] = set()
    for i, (kind, img) in enumerate(log):
        if kind != "fill-image":
            continue
        x0, y0, x1, y1 = img
        spans = [
            s
            for _, line in lines
            if line["bbox"][0] < x1 and line["bbox"][2] > x0 and line["bbox"][1] < y1 and line["bbox"][3] > y0
            for s in line["spans"]
            if _covered(s["bbox"], img)
        ]
        if not spans:
            continue
        # Text painted over this image's area, in paint order: the last paint at a place is what shows.
        texts = [
            (j, b)
            for j, (k, b) in enumerate(log)
            if k.endswith("-text") and b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0
        ]
        for span in spans:
            bx0, by0, bx1, by1 = span["bbox"]
            cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
            last = max((j for j, b in texts if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]), default=None)
            if last is not None and last < i:
                out.add(id(span))
    return out


def text_flags() -> int:
    """Plain-text flags, plus the filled shapes in paint order where PyMuPDF can collect them without
    splitting text lines (1.27+). The clip flag stays: it cuts shape boxes to their clip paths (a
    figure's white background box is larger than the figure); with an infinite text-page rectangle
    (see scan_page) text off the page is still seen, and reported."""
    import pymupdf

    flags = int(pymupdf.TEXTFLAGS_TEXT)
    lazy = getattr(pymupdf, "TEXT_LAZY_VECTORS", 0)
    return flags | lazy | pymupdf.TEXT_COLLECT_VECTORS if lazy else flags


def _plain(span: dict[str, Any], page: Box) -> bool:
    """The common case, decided fast: filled, opaque, 2 pt or more, on the page, not near-white."""
    x0, y0, x1, y1 = span["bbox"]
    c = span["color"]
    return bool(
        span["char_flags"] & 48  # filled or stroked
        and span["alpha"] > MIN_ALPHA
        and span["size"] >= 2
        and x1 >= page[0]
        and x0 <= page[2]
        and y1 >= page[1]
        and y0 <= page[3]
        and (c < 0xEB0000 or (c >> 8) & 255 < 235 or c & 255 < 235)
    )


def scan_page(page: Any, pno: int) -> PageScan:
    """Read one PyMuPDF page: visible text, whole text and hidden-text findings, in one text pass."""
    import pymupdf

    blocks = page.get_text("dict", flags=text_flags(), clip=pymupdf.INFINITE_RECT()).get("blocks", [])
    fills: list[_Fill] = []
    lines: list[tuple[int, dict[str, Any]]] = []
    for order, block in enumerate(blocks):
        kind = block.get("type")
        if kind == 0:
            lines.extend((order, line) for line in block.get("lines", []))
        elif (
            kind == 3 and block.get("isrect") and not block.get("stroked") and block.get("alpha", 255) >= 250
        ):
            x0, y0, x1, y1 = block["bbox"]
            if x1 - x0 >= 3 and y1 - y0 >= 3:  # rules and dots hide nothing
                fills.append(_Fill(order, (x0, y0, x1, y1), _rgb(int(block.get("color", 0)))))
    r = page.rect
    box: Box = (r.x0, r.y0, r.x1, r.y1)
    imaged: set[int] = set()
    if page.get_images(full=True):
        imaged = _image_covered(page, lines)
    whys: dict[int, str] = {}
    for order, line in lines:
        lx0, ly0, lx1, ly1 = line["bbox"]
        near = (
            [f for f in fills if f.box[0] < lx1 and f.box[2] > lx0 and f.box[1] < ly1 and f.box[3] > ly0]
            if fills
            else fills
        )
        for s in line["spans"]:
            if (not near and id(s) not in imaged and _plain(s, box)) or not s["text"].strip():
                continue
            why = _why(s, order, box, near, imaged)
            if why is not None:
                whys[id(s)] = why
    if any(w in _RENDER_CHECKED for w in whys.values()):
        _confirm_by_rendering(page, [s for _, line in lines for s in line.get("spans", ())], whys)
    return _assemble(pno, lines, whys)


def _confirm_by_rendering(page: Any, spans: list[dict[str, Any]], whys: dict[int, str]) -> None:
    """Keep a rectangle or background finding only where the page renders flat over the span.

    Shape boxes ignore clipping (a figure's clipped white background box spans the text above it), and
    the paint order of a text line that continues past a shape is the line's start; so these candidates,
    rare on real pages, are checked against a grey rendering, at 72 dpi, of the area they span."""
    import pymupdf

    todo = [s for s in spans if whys.get(id(s)) in _RENDER_CHECKED]
    area = pymupdf.Rect(todo[0]["bbox"])
    for s in todo[1:]:
        area |= s["bbox"]
    area &= page.rect
    if area.is_empty:
        return
    pix = page.get_pixmap(colorspace=pymupdf.csGRAY, alpha=False, clip=area)
    buf, stride, w, h = pix.samples, pix.stride, pix.width, pix.height
    ox, oy = pix.x, pix.y  # the pixmap's origin in page pixels (72 dpi: one pixel per point)
    for s in todo:
        x0, y0, x1, y1 = s["bbox"]
        a, b = max(0, int(x0) + 1 - ox), min(w, int(x1) - ox)
        rows = range(max(0, int(y0) + 1 - oy), min(h, int(y1) - oy))
        values = b"".join(buf[y * stride + a : y * stride + b] for y in rows) if a < b else b""
        if values and max(values) - min(values) > NEAR:
            del whys[id(s)]  # something is drawn there that a reader sees


def _assemble(pno: int, lines: list[tuple[int, dict[str, Any]]], whys: dict[int, str]) -> PageScan:
    out = PageScan(text="", full_text="")
    full = ["".join(s["text"] for s in line.get("spans", ())) + "\n" for _, line in lines]
    out.full_text = "".join(full)
    seen = full
    if whys:
        seen = []
        for (_, line), text in zip(lines, full, strict=True):
            spans = line.get("spans", ())
            if not any(id(s) in whys for s in spans):
                seen.append(text)
                continue
            kept = "".join(s["text"] for s in spans if id(s) not in whys)
            seen.append(kept + "\n" if kept.strip() else "")
            gone: dict[str, list[str]] = {}
            for s in spans:
                if id(s) in whys:
                    gone.setdefault(whys[id(s)], []).append(s["text"])
            for why, parts in gone.items():
                hidden = "".join(parts).strip()
                out.hidden.append(hidden)
                if len(hidden) >= MIN_REPORT:
                    out.findings.append(_finding(pno, why, hidden))
    out.text = "".join(seen)
    if pno == 0:  # visible line sizes, for the title guess
        for (_, line), text in zip(lines, seen, strict=True):
            if text.strip():
                size = max((s.get("size", 0.0) for s in line.get("spans", ())), default=0.0)
                out.lines.append((size, line["bbox"][1], text.strip()))
    return out


def _finding(pno: int, technique: str, text: str) -> Finding:
    return Finding(
        kind="hidden-text",
        detail=f"page {pno + 1}: {WHY[technique]}",
        excerpt=_excerpt(text),
        removed=True,
        technique=technique,
        page=pno + 1,
    )


def pdf_hidden_spans(doc: Any, max_pages: int = 400) -> tuple[list[Finding], list[str]]:
    """Hidden-text findings (marked removed) and the hidden texts of an open PyMuPDF document."""
    findings: list[Finding] = []
    chunks: list[str] = []
    for pno, page in enumerate(doc):
        if pno >= max_pages:
            break
        scan = scan_page(page, pno)
        findings.extend(scan.findings)
        chunks.extend(scan.hidden)
    return findings[:50], chunks
