"""Replies written by hand (`<name>.response.txt`, beside each prompt file) back into the cache.

Every reply is read and checked before any is cached, and each is then cached in a transaction of its
own, so a bad file never leaves a partial entry. Replies are cached as written: one that the pipeline
cannot read goes through its own repair step on the rerun, exactly as a live model's reply would.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from abplan.errors import InputError
from abplan.limits import MAX_IMPORT_LINE_BYTES, MAX_RESPONSE_FILE_BYTES, MIB
from abplan.lm.cache import ResponseCache
from abplan.lm.context import estimate_tokens
from abplan.lm.prompt_files import INDEX, PROMPT_SUFFIX, RESPONSE_SUFFIX
from abplan.lm.types import LMRequest, LMResponse

_NAME = re.compile(r"r\d{4,}-[0-9a-f]{10}")
_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class IndexRow:
    name: str
    key: str
    reply: str  # the response file, relative to the export folder


@dataclass
class PromptImportSummary:
    imported: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, why): not cached
    not_json: list[str] = field(default_factory=list)  # structured replies cached as written

    def lines(self) -> list[str]:
        n = len(self.imported)
        out = [f"imported {n} repl{'ies' if n != 1 else 'y'} (tokens estimated as characters / 4, cost 0)"]
        if self.already:
            out.append(f"{len(self.already)} already cached: {', '.join(self.already)}")
        if self.missing:
            out.append(f"{len(self.missing)} without a reply (left pending): {', '.join(self.missing)}")
        for name in self.not_json:
            out.append(
                f"{name}: not one JSON object as its format asks; cached as written, the rerun repairs it"
            )
        for name, why in self.rejected:
            out.append(f"{name}: {why}: not imported")
        return out


def _index_row(n: int, line: str) -> IndexRow:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{INDEX} line {n}: not valid JSON ({e.msg})") from e
    if not isinstance(rec, dict):
        raise InputError(f"{INDEX} line {n}: not a JSON object")
    name, key, path = rec.get("name"), rec.get("key"), rec.get("path")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(f"{INDEX} line {n}: no valid name")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InputError(f"{INDEX} line {n}: no valid cache key")
    p = PurePosixPath(path) if isinstance(path, str) else None
    if p is None or p.is_absolute() or ".." in p.parts or p.name != name + PROMPT_SUFFIX or len(p.parts) > 2:
        raise InputError(f"{INDEX} line {n}: the path of {name} is not a prompt file in the export")
    return IndexRow(name, key, str(p.with_name(name + RESPONSE_SUFFIX)))


def read_index(folder: Path) -> list[IndexRow]:
    path = folder / INDEX
    if not path.is_file():
        raise InputError(
            f"{folder}: no {INDEX} (not a folder written by 'abplan lm export --format prompts')"
        )
    rows: list[IndexRow] = []
    with path.open("rb") as fh:
        for n, raw in enumerate(iter(lambda: fh.readline(MAX_IMPORT_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_IMPORT_LINE_BYTES and not raw.endswith(b"\n"):
                raise InputError(f"{INDEX} line {n}: longer than {MAX_IMPORT_LINE_BYTES // MIB} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{INDEX} line {n}: not UTF-8 text") from e
            if line.strip():
                rows.append(_index_row(n, line))
    if len({r.name for r in rows}) != len(rows):
        raise InputError(f"{INDEX}: a name appears twice")
    return rows


class Rejected(Exception):
    """A reply file that cannot be imported; the message says why."""


def read_reply(path: Path) -> str:
    """The reply text: UTF-8, not binary, not empty, at most MAX_RESPONSE_FILE_BYTES."""
    cap = MAX_RESPONSE_FILE_BYTES
    if not path.is_file():
        raise Rejected("not a regular file")
    if path.stat().st_size > cap:
        raise Rejected(f"larger than {cap // MIB} MiB")
    with path.open("rb") as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise Rejected(f"larger than {cap // MIB} MiB")
    if b"\x00" in data:
        raise Rejected("binary (NUL bytes), not a text reply")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Rejected(f"not UTF-8 text (byte {e.start})") from e
    if not text.strip():
        raise Rejected("empty reply")
    return text


def json_problem(text: str, schema: dict[str, Any]) -> str | None:
    """Why a structured reply is not one JSON object with the schema's required keys, or None."""
    try:
        obj = json.loads(text)
    except ValueError:
        return "not JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    required = schema.get("required")
    if isinstance(required, list) and any(k not in obj for k in required if isinstance(k, str)):
        return "lacks required keys"
    return None


def _stray_replies(folder: Path, expected: set[str]) -> list[str]:
    """Reply files that no index entry asks for."""
    found = [*folder.glob("*" + RESPONSE_SUFFIX), *folder.glob("shard-*/*" + RESPONSE_SUFFIX)]
    rel = sorted(p.relative_to(folder).as_posix() for p in found)
    return [r for r in rel if r not in expected]


def import_prompts(cache: ResponseCache, folder: Path, answered_by: str = "hand") -> PromptImportSummary:
    """Check every reply in an export folder, then cache the good ones; report the rest by name."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    rows = read_index(folder)
    summary = PromptImportSummary()
    home = {PurePosixPath(r.reply).name: r.reply for r in rows}
    for stray in _stray_replies(folder, set(home.values())):
        right = home.get(PurePosixPath(stray).name)
        why = f"belongs at {right}, beside its prompt" if right else f"no request of that name in {INDEX}"
        summary.rejected.append((stray, why))
    ready: list[tuple[str, dict[str, Any], LMResponse]] = []
    for row in rows:
        path = folder / row.reply
        if not path.exists():
            summary.missing.append(row.name)
            continue
        try:
            text = read_reply(path)
        except Rejected as e:
            summary.rejected.append((row.reply, str(e)))
            continue
        request = cache.pending_request(row.key)
        if request is None:
            if cache.get(row.key) is not None:
                summary.already.append(row.name)
            else:
                summary.rejected.append((row.reply, "its request is not pending in this cache"))
            continue
        req = LMRequest.from_json(request)
        if req.json_schema is not None and json_problem(text, req.json_schema) is not None:
            summary.not_json.append(row.name)
        tokens_in = estimate_tokens("".join(c for _, c in req.messages))
        resp = LMResponse(
            text=text, input_tokens=tokens_in, output_tokens=estimate_tokens(text), model=answered_by
        )
        ready.append((row.key, request, resp))
        summary.imported.append(row.name)
    for key, request, resp in ready:
        cache.put_raw(key, request, resp)
    return summary
