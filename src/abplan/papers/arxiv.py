"""arXiv ids and URLs: download the e-print (tarball, gzipped .tex or PDF), fall back to the PDF; cache on disk.

Downloads are streamed to a temporary file beside the cache entry with a size cap and a wall-clock
deadline (`abplan.limits`), so neither a huge body nor a trickling server holds a run; a gzipped e-print is
decompressed as a stream with a cap too. Nothing over a cap is kept, and a cache entry appears only whole.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from abplan import limits
from abplan.errors import ConfigError, InputError

ARXIV = "https://arxiv.org"  # ABPLAN_ARXIV_URL overrides it (a mirror, or a local server in tests)
_NEW = r"\d{4}\.\d{4,5}(?:v\d+)?"
_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
_ID = re.compile(rf"^(?:arxiv:)?({_NEW}|{_OLD})$", re.IGNORECASE)
_URL = re.compile(
    rf"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|e-print|html)/({_NEW}|{_OLD})(?:\.pdf)?/?$",
    re.IGNORECASE,
)
_CHUNK = 1 << 16
SNIFF_BYTES = 200_000  # how much of a file `sniff` looks at (and decompresses, at most)


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


def _gunzip_head(data: bytes) -> bytes | None:
    """At most `SNIFF_BYTES` of what a gzip stream starting with `data` expands to; None if it is not gzip."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, SNIFF_BYTES)
    except zlib.error:
        return None


def sniff(data: bytes) -> str:
    """'tar', 'gzip-tar', 'gzip-tex', 'gzip-pdf', 'pdf', 'tex' or 'unknown', from the first bytes of a file
    (never decompressing more than `SNIFF_BYTES`)."""
    data = data[:SNIFF_BYTES]
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:2] == b"\x1f\x8b":
        inner = _gunzip_head(data)
        if not inner:
            return "unknown"
        if len(inner) > 262 and inner[257:262] == b"ustar":
            return "gzip-tar"
        if inner[:5] == b"%PDF-":
            return "gzip-pdf"
        return "gzip-tex"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    if b"\\documentclass" in data or b"\\begin{document}" in data:
        return "tex"
    return "unknown"


@contextmanager
def _temp_in(folder: Path) -> Iterator[Path]:
    """A temporary file in `folder`, removed on the way out unless it was renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".download.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _fetch(client: httpx.Client, url: str, dest: Path, aid: str, deadline: float, cap: int) -> int:
    """GET `url` into `dest` within the size cap and the deadline; the HTTP status (the body only on 200)."""
    remaining = deadline - time.monotonic()
    timeout = max(0.1, min(client.timeout.read or remaining, remaining))  # no wait outlives the deadline
    try:
        with client.stream("GET", url, timeout=timeout) as r:
            if r.status_code != 200:
                return r.status_code
            size = 0
            with dest.open("wb") as out:
                for chunk in r.iter_bytes():  # as it arrives (a chunk size would wait to fill it)
                    size += len(chunk)
                    if size > cap:
                        raise InputError(f"arXiv {aid}: download larger than {cap // limits.MIB} MiB")
                    if time.monotonic() > deadline:
                        raise _too_slow(aid)
                    out.write(chunk)
            return 200
    except httpx.TimeoutException as e:
        if time.monotonic() >= deadline - 0.1:
            raise _too_slow(aid) from e
        raise InputError(f"arXiv {aid}: download timed out ({type(e).__name__})") from e
    except httpx.HTTPError as e:
        raise InputError(f"arXiv {aid}: download failed ({type(e).__name__})") from e


def _too_slow(aid: str) -> InputError:
    return InputError(f"arXiv {aid}: download did not finish within {limits.DOWNLOAD_DEADLINE_S:.0f}s")


def _gunzip(src: Path, dest: Path, aid: str, cap: int) -> None:
    """Decompress `src` into `dest` as a stream, stopping as soon as the output passes `cap`."""
    size = 0
    try:
        with gzip.open(src, "rb") as inp, dest.open("wb") as out:
            while chunk := inp.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise InputError(f"arXiv {aid}: the e-print expands past {cap // limits.MIB} MiB")
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(f"arXiv {aid}: corrupt gzip e-print ({type(e).__name__})") from e


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SNIFF_BYTES)


def _store_eprint(tmp: Path, folder: Path, safe: str, aid: str) -> Path | None:
    """Move a downloaded e-print into the cache under the name its kind calls for; None if unusable."""
    kind = sniff(_head(tmp))
    plain = {"gzip-tar": ".tar.gz", "tar": ".tar", "pdf": ".pdf", "tex": ".tex"}.get(kind)
    if plain:
        os.replace(tmp, folder / f"{safe}{plain}")
        return folder / f"{safe}{plain}"
    if kind in ("gzip-tex", "gzip-pdf"):
        is_pdf = kind == "gzip-pdf"
        cap = min(
            limits.MAX_DECOMPRESSED_BYTES, limits.MAX_PDF_BYTES if is_pdf else limits.MAX_TEXT_INPUT_BYTES
        )
        target = folder / f"{safe}{'.pdf' if is_pdf else '.tex'}"
        with _temp_in(folder) as inner:
            _gunzip(tmp, inner, aid, cap)
            os.replace(inner, target)
        return target
    return None


def download(
    aid: str, cache_dir: Path, transport: httpx.BaseTransport | None = None, timeout: float = 60.0
) -> Path:
    """Return a local file for the paper: `<id>.tar.gz`, `<id>.tex` or `<id>.pdf` in the download cache."""
    safe = aid.replace("/", "_")
    folder = cache_dir / "arxiv" / safe
    for name in (f"{safe}.tar.gz", f"{safe}.tar", f"{safe}.tex", f"{safe}.pdf"):
        if (folder / name).is_file():
            return folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as e:
        raise ConfigError(f"cache folder {cache_dir} is not a folder (set ABPLAN_CACHE_DIR)") from e
    base = os.environ.get("ABPLAN_ARXIV_URL", ARXIV).rstrip("/")
    headers = {"User-Agent": "abplan (https://pypi.org/project/abplan)"}
    deadline = time.monotonic() + limits.DOWNLOAD_DEADLINE_S
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True, headers=headers) as client:
        with _temp_in(folder) as tmp:
            status = _fetch(client, f"{base}/e-print/{aid}", tmp, aid, deadline, limits.MAX_DOWNLOAD_BYTES)
            if status == 404:
                raise InputError(f"arXiv {aid}: no such paper (404)")
            if status == 200:
                got = _store_eprint(tmp, folder, safe, aid)
                if got is not None:
                    return got
        with _temp_in(folder) as tmp:
            cap = min(limits.MAX_DOWNLOAD_BYTES, limits.MAX_PDF_BYTES)
            status = _fetch(client, f"{base}/pdf/{aid}", tmp, aid, deadline, cap)
            if status == 404:
                raise InputError(f"arXiv {aid}: no such paper (404)")
            if status != 200 or sniff(_head(tmp)) != "pdf":
                raise InputError(f"arXiv {aid}: neither source nor PDF could be downloaded (HTTP {status})")
            os.replace(tmp, folder / f"{safe}.pdf")
            return folder / f"{safe}.pdf"
