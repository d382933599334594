"""Verbatim evidence: a quote counts only if it occurs in the source, up to white space."""

from __future__ import annotations

import re


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quote_in(quote: str, text: str) -> bool:
    q = squash(quote)
    return bool(q) and q in squash(text)
