"""Secrets never leave abplan: every message and file it writes passes through `redact`.

Configured key values are replaced wherever they occur (also JSON-escaped or URL-encoded, as an echoing
provider may quote them), and so are strings shaped like keys (`Bearer …`, `sk-…`, `x-api-key: …`,
`Authorization: …`), whatever a provider echoes back.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

_KEY_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET")
MIN_SECRET_LEN = 6  # shorter values would mask ordinary words
_VALUE = r"[^\s\"'`,;{}\[\]()<>]+"
_SHAPES = re.compile(
    # a header or field that carries a key, with its value (after an optional auth scheme)
    r"(?i)((?:x-api-key|api[_-]?key|x-goog-api-key|authorization|proxy-authorization)[\"'`]?\s*[:=]\s*"
    r"[\"'`]?(?:(?:bearer|basic|token)\s+)?+)" + _VALUE + r"|"
    # an auth scheme followed by a credential, anywhere
    r"(\bbearer\s+)" + _VALUE + r"|"
    # OpenAI / Anthropic / OpenRouter key shapes: sk-..., sk-proj-..., sk-ant-..., sk-or-v1-...
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{8,}"
)
_extra: set[str] = set()
# `_secrets()` runs for every redacted text, thousands of times in a benchmark run, so its list is kept
# until the registered values or the environment change. `os.environ._data` is the mapping os.environ
# writes through (assignment, `del`, `update`, pytest's monkeypatch): comparing it with a copy is one
# C-level dict comparison, where decoding and checking every variable costs ~0.1 ms.
_env: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)
_cached: tuple[dict[bytes, bytes], frozenset[str], list[str]] | None = None

MASK = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a key that did not come from the environment (a config file's `[keys]`, a flag)."""
    if value:
        value = value.strip()
        if len(value) >= MIN_SECRET_LEN:
            _extra.add(value)


def _variants(secret: str) -> set[str]:
    """The forms a key takes when quoted back: as is, JSON-escaped, URL-encoded."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote(secret)}


def _secrets() -> list[str]:
    """Every configured secret in every form it may take, longest first (cached, see `_cached`)."""
    global _cached
    if _env is None:  # not CPython's os.environ: no cheap check, scan every time
        return _scan()
    extra, cached = frozenset(_extra), _cached
    if cached is not None and cached[1] == extra and cached[0] == _env:
        return cached[2]
    env = dict(_env)  # copied before the scan: a change during it is seen on the next call
    found = _scan()
    _cached = (env, extra, found)
    return found


def _scan() -> list[str]:
    found: set[str] = set()
    for value in _extra:
        found |= _variants(value)
    for name, value in os.environ.items():
        value = value.strip()
        if name.upper().endswith(_KEY_ENV_SUFFIXES) and len(value) >= MIN_SECRET_LEN:
            found |= _variants(value)
    return sorted(found, key=len, reverse=True)


def _mask(m: re.Match[str]) -> str:
    return (m.group(1) or m.group(2) or "") + MASK


def redact(text: str) -> str:
    """`text` with every configured key and every key-shaped string replaced by `[redacted]`."""
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    return _SHAPES.sub(_mask, text)
