"""arXiv ids and URLs: download the e-print (tarball, gzipped .tex or PDF), fall back to the PDF; cache on disk."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import httpx

from abplan.errors import InputError
from abplan.fsutil import atomic_write_bytes

ARXIV = "https://arxiv.org"  # ABPLAN_ARXIV_URL overrides it (a mirror, or a local server in tests)
_NEW = r"\d{4}\.\d{4,5}(?:v\d+)?"
_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
_ID = re.compile(rf"^(?:arxiv:)?({_NEW}|{_OLD})$", re.IGNORECASE)
_URL = re.compile(
    rf"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|e-print|html)/({_NEW}|{_OLD})(?:\.pdf)?/?$",
    re.IGNORECASE,
)


def parse_arxiv_id(source: str) -> str | None:
    s = source.strip()
    m = _ID.match(s) or _URL.match(s)
    if not m:
        return None
    aid = m.group(1)
    if "/" in aid:
        return aid
    yymm, num = aid.split(".")[0], aid.split(".")[1].split("v")[0]
    if (len(num) == 5) != (yymm >= "1501"):  # 4-digit numbers until 2014, 5 digits since 2015
        return None
    return aid.lower()


def sniff(data: bytes) -> str:
    """'tar', 'gzip-tar', 'gzip-tex', 'pdf', 'tex' or 'unknown'."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError):
            return "unknown"
        if len(inner) > 262 and inner[257:262] == b"ustar":
            return "gzip-tar"
        if inner[:5] == b"%PDF-":
            return "gzip-pdf"
        return "gzip-tex"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    if b"\\documentclass" in data[:200_000] or b"\\begin{document}" in data:
        return "tex"
    return "unknown"


def download(
    aid: str, cache_dir: Path, transport: httpx.BaseTransport | None = None, timeout: float = 60.0
) -> Path:
    """Return a local file for the paper: `<id>.tar.gz`, `<id>.tex` or `<id>.pdf` in the download cache."""
    safe = aid.replace("/", "_")
    folder = cache_dir / "arxiv" / safe
    for name in (f"{safe}.tar.gz", f"{safe}.tar", f"{safe}.tex", f"{safe}.pdf"):
        if (folder / name).is_file():
            return folder / name
    base = os.environ.get("ABPLAN_ARXIV_URL", ARXIV).rstrip("/")
    headers = {"User-Agent": "abplan (https://pypi.org/project/abplan)"}
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True, headers=headers) as client:
        try:
            r = client.get(f"{base}/e-print/{aid}")
        except httpx.HTTPError as e:
            raise InputError(f"arXiv {aid}: download failed ({type(e).__name__})") from e
        if r.status_code == 404:
            raise InputError(f"arXiv {aid}: no such paper (404)")
        if r.status_code == 200:
            kind = sniff(r.content)
            target = {
                "gzip-tar": f"{safe}.tar.gz",
                "tar": f"{safe}.tar",
                "pdf": f"{safe}.pdf",
            }.get(kind)
            if target:
                atomic_write_bytes(folder / target, r.content)
                return folder / target
            if kind in ("gzip-tex", "gzip-pdf"):
                inner = gzip.decompress(r.content)
                target = f"{safe}.pdf" if kind == "gzip-pdf" else f"{safe}.tex"
                atomic_write_bytes(folder / target, inner)
                return folder / target
            if kind == "tex":
                atomic_write_bytes(folder / f"{safe}.tex", r.content)
                return folder / f"{safe}.tex"
        try:
            r = client.get(f"{base}/pdf/{aid}")
        except httpx.HTTPError as e:
            raise InputError(f"arXiv {aid}: download failed ({type(e).__name__})") from e
        if r.status_code == 404:
            raise InputError(f"arXiv {aid}: no such paper (404)")
        if r.status_code != 200 or sniff(r.content) != "pdf":
            raise InputError(
                f"arXiv {aid}: neither source nor PDF could be downloaded (HTTP {r.status_code})"
            )
        atomic_write_bytes(folder / f"{safe}.pdf", r.content)
        return folder / f"{safe}.pdf"
