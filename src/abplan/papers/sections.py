"""Section splitting for plain text (PDF extractions, .txt files) and shared text helpers."""

from __future__ import annotations

import re

from abplan.errors import InputError
from abplan.schema import Section

KNOWN_HEADINGS = (
    "abstract|introduction|related work|background|preliminaries|method|methods|methodology|approach|"
    "model|our approach|proposed method|experiments|experimental setup|experimental results|results|"
    "evaluation|analysis|discussion|ablation study|ablation studies|ablations|limitations|conclusion|"
    "conclusions|conclusion and future work|future work|references|bibliography|acknowledgements|"
    "acknowledgments|appendix|supplementary material"
)
# "3 Method", "3.2. Loss", "IV. EXPERIMENTS", "A Appendix" or a known heading alone on its line.
_NUMBERED = re.compile(
    r"^(?P<num>(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H](?:\.\d{1,2})*\.?))\s+"
    r"(?P<title>[A-Z][^\n]{1,90})$"
)
_KNOWN = re.compile(rf"^(?:\d{{1,2}}\.?\s+)?(?P<title>(?:{KNOWN_HEADINGS}))\s*[.:]?$", re.IGNORECASE)


_STRONG = re.compile(
    r"(?i)^(abstract|references|bibliography|acknowledge?ments?|appendix|appendices|supplementary material)$"
)
_SPACED = re.compile(r"^(?:[A-Z] ){3,}[A-Z]$")


def _heading(line: str, numbered_doc: bool) -> tuple[str, int] | None:
    s = line.strip()
    if _SPACED.match(s):
        s = s.replace(" ", "")
    if not 2 < len(s) <= 100:
        return None
    m = _KNOWN.match(s)
    if m and (not numbered_doc or _STRONG.match(m.group("title"))):
        return s, 1
    m = _NUMBERED.match(s)
    if not m:
        return None
    title = m.group("title")
    # Reject sentences and table rows: headings are short, have few digits and no final period.
    words = title.split()
    if len(words) > 12 or title.endswith((".", ",", ";")) or sum(c.isdigit() for c in title) > 3:
        return None
    if re.search(r"\.\s+\S", title):  # "D. Meshcnn: a network with an edge. ACM Trans..." is a reference
        return None
    if sum(w[:1].isupper() for w in words) < max(1, len(words) // 3):
        return None
    level = m.group("num").rstrip(".").count(".") + 1
    return s, level


_ROMAN = {"I": 1, "V": 5, "X": 10}


def _roman(num: str) -> int | None:
    """The value of a Roman section number like 'IV.', or None if it is not one."""
    digits = num.rstrip(".")
    if not digits or any(c not in _ROMAN for c in digits):
        return None
    vals = [_ROMAN[c] for c in digits]
    return sum(-v if i + 1 < len(vals) and v < vals[i + 1] else v for i, v in enumerate(vals))


def _in_sequence(heading: str, prev: str, romans: set[int]) -> bool:
    """A numbered heading does not continue a sentence or a list ('Tong,' then 'X. Pfcnn: ...' is an
    author list in a reference), and a Roman number follows the one before it (I., II., III. ...; one may be lost)."""
    if prev.endswith((",", ";", "-", "–", "&")) or prev.lower().endswith((" and", " of", " in", " the")):
        return False
    m = _NUMBERED.match(heading)
    value = _roman(m.group("num")) if m else None
    if value is None:
        return True
    last = max(romans, default=0)
    if last < value <= last + 2:  # one heading may have been lost in extraction, not more
        romans.add(value)
        return True
    return False


def split_plain_sections(text: str) -> list[Section]:
    """Split text into sections at heading-like lines. Text before the first heading is '[front matter]'."""
    sections: list[Section] = []
    heading, level = "[front matter]", 1
    buf: list[str] = []
    lines = text.splitlines()
    numbered_doc = sum(1 for ln in lines if _NUMBERED.match(ln.strip())) >= 3
    seen: set[str] = set()
    romans: set[int] = set()
    prev = ""
    for line in lines:
        h = _heading(line, numbered_doc)
        if h is not None and _NUMBERED.match(h[0]) and not _in_sequence(h[0], prev, romans):
            h = None
        if line.strip():
            prev = line.strip()
        if h is not None and not _NUMBERED.match(h[0]):
            key = h[0].lower()
            h = None if key in seen else h
            seen.add(key)
        if h is not None:
            body = "\n".join(buf).strip()
            if body or heading != "[front matter]":
                sections.append(Section(heading=heading, text=body, level=level))
            heading, level = h
            buf = []
        else:
            buf.append(line)
    body = "\n".join(buf).strip()
    if body or heading != "[front matter]":
        sections.append(Section(heading=heading, text=body, level=level))
    return sections


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # below U+0020 but tab, newline, form feed, CR


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file; refuse binary data with a clear error."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    sample = data[:65536]
    if b"\x00" in sample:
        raise InputError(f"{name}: binary data, not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    controls = len(_CONTROLS.findall(text, 0, 65536))
    if controls > 0.05 * min(len(text), 65536):
        raise InputError(f"{name}: binary data, not a text file")
    return text


def first_paragraph(text: str, limit: int = 3000) -> str:
    for para in re.split(r"\n\s*\n", text):
        p = para.strip()
        if len(p) > 40:
            return p[:limit]
    return text.strip()[:limit]


def dehyphenate(text: str) -> str:
    return re.sub(r"(\w)-\n(\w)", r"\1\2", text)
