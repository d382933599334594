"""Text in a PDF that a human reader would not see: found on an open PyMuPDF document."""

from __future__ import annotations

from typing import Any

from abplan.papers.hidden import excerpt as _excerpt
from abplan.schema import Finding


def pdf_hidden_spans(doc: Any, max_pages: int = 400) -> tuple[list[Finding], list[str]]:
    """Spans of an open PyMuPDF document that are white or near-white, under 2 pt, or outside the page box:
    the findings (marked removed) and the texts to remove."""
    import pymupdf

    findings: list[Finding] = []
    chunks: list[str] = []
    for pno, page in enumerate(doc):
        if pno >= max_pages:
            break
        rect = page.rect
        # Without the media-box clip, so that text placed outside the page is seen (and reported).
        flags = pymupdf.TEXTFLAGS_DICT & ~pymupdf.TEXT_MEDIABOX_CLIP
        for block in page.get_text("dict", flags=flags, clip=pymupdf.INFINITE_RECT()).get("blocks", []):
            for line in block.get("lines", []):
                for span in line.get("spans", []):
                    text = span.get("text", "").strip()
                    if len(text) < 4:
                        continue
                    color = int(span.get("color", 0))
                    r, g, b = (color >> 16) & 255, (color >> 8) & 255, color & 255
                    x0, y0, x1, y1 = span.get("bbox", (0, 0, 0, 0))
                    why = None
                    if min(r, g, b) >= 235:
                        why = "white or near-white text"
                    elif span.get("size", 10) < 2:
                        why = "text under 2 pt"
                    elif x1 < rect.x0 or x0 > rect.x1 or y1 < rect.y0 or y0 > rect.y1:
                        why = "text outside the page"
                    if why:
                        findings.append(
                            Finding(
                                kind="hidden-text",
                                detail=f"page {pno + 1}: {why}",
                                excerpt=_excerpt(text),
                                removed=True,
                            )
                        )
                        chunks.append(text)
    return findings[:50], chunks
