"""Secrets never leave abplan: every message and file it writes passes through `redact`.

Configured key values are replaced wherever they occur, and so are strings shaped like keys
(`Bearer …`, `sk-…`, `x-api-key: …`), whatever a provider echoes back.
"""

from __future__ import annotations

import os
import re

_KEY_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET")
_SHAPES = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(sk-[A-Za-z0-9_-]{8,})"
    r"|((?:x-api-key|api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"
)
_extra: set[str] = set()

MASK = "[redacted]"


def register_secret(value: str | None) -> None:
    """Remember a key that did not come from the environment (a config file's `[keys]`, a flag)."""
    if value and len(value) >= 6:
        _extra.add(value)


def _secrets() -> list[str]:
    found = set(_extra)
    for name, value in os.environ.items():
        if name.endswith(_KEY_ENV_SUFFIXES) and value and len(value) >= 6:
            found.add(value)
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)

    def _mask(m: re.Match[str]) -> str:
        prefix = m.group(1) or m.group(3) or ""
        return prefix + MASK

    return _SHAPES.sub(_mask, text)
