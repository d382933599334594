"""Build small PDFs for tests (PyMuPDF when present; pypdf for blank and encrypted ones)."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfWriter


def blank_pdf(path: Path, pages: int = 1) -> Path:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(612, 792)
    with path.open("wb") as fh:
        w.write(fh)
    return path


def text_pdf(path: Path, pages: list[list[tuple[str, dict[str, object]]]]) -> Path:
    """pages: per page, a list of (text, options) with options fontsize, color, y."""
    import pymupdf

    doc = pymupdf.open()
    for items in pages:
        page = doc.new_page()
        y = 72.0
        for text, opts in items:
            page.insert_text(
                (72, float(opts.get("y", y))),
                text,
                fontsize=float(opts.get("fontsize", 11)),
                color=opts.get("color", (0, 0, 0)),
            )  # type: ignore[arg-type]
            y += 16
    doc.save(str(path))
    doc.close()
    return path


def encrypt(src: Path, dest: Path, password: str = "secret") -> Path:
    from pypdf import PdfReader

    r = PdfReader(str(src))
    w = PdfWriter()
    for p in r.pages:
        w.add_page(p)
    w.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    dest.write_bytes(buf.getvalue())
    return dest


BODY = "We propose a gated widget network that improves accuracy on many benchmarks. "

# technique -> (page number, payload) in tricks_pdf; every payload must vanish from the planner's text.
TRICKS = {
    "render-mode-3": (1, "INVISIBLE RENDER MODE PAYLOAD"),
    "zero-opacity": (2, "ZERO OPACITY PAYLOAD TEXT"),
    "background-colour": (3, "SAME COLOUR AS THE BOX PAYLOAD"),
    "covered-by-rect": (4, "COVERED BY A BLACK RECTANGLE PAYLOAD"),
    "covered-by-image": (5, "COVERED BY AN IMAGE PAYLOAD"),
    "white-text": (6, "WHITE ON WHITE PAYLOAD TEXT"),
    "tiny-text": (6, "TINY ONE POINT PAYLOAD TEXT"),
    "outside-page": (6, "OFF THE PAGE PAYLOAD TEXT"),
}
# Text a reader does see although it sits on or under shapes: none of it may be reported.
VISIBLE_ON_SHAPES = ("WHITE TITLE ON A DARK BANNER", "TEXT IN A LIGHT GREY BOX", "UNDERLINED BY A RULE")


def tricks_pdf(path: Path) -> Path:
    """One page per hiding technique (PyMuPDF writes `3 Tr`, `/ca 0` ExtGStates, `re f` and images)."""
    import pymupdf

    doc = pymupdf.open()
    for _ in range(7):
        doc.new_page()
    pages = list(doc)
    for i, page in enumerate(pages):
        if i == 0:
            page.insert_text((72, 60), "Gated Widget Networks", fontsize=22)
            page.insert_text((72, 90), "Abstract", fontsize=11)
        for k in range(3):
            page.insert_text((72, 110 + 16 * k), BODY, fontsize=9)
    p = {t: (pages[n - 1], text) for t, (n, text) in TRICKS.items()}
    page, text = p["render-mode-3"]
    page.insert_text((72, 200), text, fontsize=11, render_mode=3)
    page, text = p["zero-opacity"]
    page.insert_text((72, 200), text, fontsize=11, fill_opacity=0)
    page, text = p["background-colour"]
    page.draw_rect(pymupdf.Rect(60, 185, 420, 210), color=None, fill=(0.2, 0.4, 0.8))
    page.insert_text((72, 200), text, fontsize=11, color=(0.2, 0.4, 0.8))
    page, text = p["covered-by-rect"]
    page.insert_text((72, 200), text, fontsize=11)
    page.draw_rect(pymupdf.Rect(60, 185, 420, 210), color=None, fill=(0, 0, 0))
    page, text = p["covered-by-image"]
    page.insert_text((72, 200), text, fontsize=11)
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 16, 16), False)
    pix.set_rect(pix.irect, (200, 60, 40))
    page.insert_image(pymupdf.Rect(60, 185, 420, 210), pixmap=pix, keep_proportion=False)
    page = pages[5]
    page.insert_text((72, 200), TRICKS["white-text"][1], fontsize=11, color=(1, 1, 1))
    page.insert_text((72, 220), TRICKS["tiny-text"][1], fontsize=1)
    page.insert_text((72, 900), TRICKS["outside-page"][1], fontsize=11)
    page = pages[6]
    page.draw_rect(pymupdf.Rect(60, 185, 420, 210), color=None, fill=(0.1, 0.1, 0.3))
    page.insert_text((72, 200), VISIBLE_ON_SHAPES[0], fontsize=11, color=(1, 1, 1))
    page.draw_rect(pymupdf.Rect(60, 225, 420, 250), color=None, fill=(0.9, 0.9, 0.9))
    page.insert_text((72, 240), VISIBLE_ON_SHAPES[1], fontsize=11)
    page.insert_text((72, 280), VISIBLE_ON_SHAPES[2], fontsize=11)
    page.draw_rect(pymupdf.Rect(72, 282, 300, 283), color=None, fill=(0, 0, 0))
    doc.save(str(path))
    doc.close()
    return path


def raw_pdf(path: Path, objects: list[bytes], count: int | None = None) -> Path:
    """A PDF written byte by byte: object i+1 is objects[i]; object 1 is the catalog. `count`, if given,
    replaces the page count that the page tree claims."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        if count is not None:
            body = body.replace(b"/Count 1", b"/Count %d" % count)
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def content_pdf(path: Path, content: bytes, count: int | None = None, kids: bytes = b"[3 0 R]") -> Path:
    """One Letter page with a Helvetica font F1, an ExtGState GS0 at zero fill opacity, and `content`."""
    lines = b"".join(b"BT /F1 10 Tf 72 %d Td (%s) Tj ET\n" % (700 - 14 * i, BODY.encode()) for i in range(6))
    return raw_pdf(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids " + kids + b" /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources"
            b" << /Font << /F1 5 0 R >> /ExtGState << /GS0 6 0 R >> >> >>",
            stream(lines + content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /ExtGState /ca 0 >>",
        ],
        count=count,
    )
