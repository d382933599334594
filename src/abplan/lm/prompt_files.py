"""Pending requests as readable prompt files, for answering by hand, and sharding them over answerers.

A request is exported as `<name>.prompt.txt`; its answer comes back as `<name>.response.txt` beside it
(`prompt_import.py` reads them). With several answerers (shards), requests that must be answered
independently always go to different shards:

- samples of one prompt: the same system and first user message, differing in seed, temperature or
  model (the staged planner's proposals; a repair of a sample still belongs to the sample's prompt);
- judge runs of one task: the judge's system message and the task's title and abstract; the rest of
  the user message (the shuffled sides, reviews and plan) differs between the majority judge's runs.

These are a request's *group*. Its *family* is its paper ("Paper title: ..."): the shards spread a
family too where they can (a reviewer-mode task has two judge questions per run), as a preference only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import textwrap
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from abplan import prompts
from abplan.errors import InputError
from abplan.fsutil import atomic_write_text
from abplan.lm.cache import ResponseCache
from abplan.lm.types import LMRequest

INDEX = "index.jsonl"
README = "README.txt"
PROMPT_SUFFIX = ".prompt.txt"
RESPONSE_SUFFIX = ".response.txt"
# Where the shuffled part of a judge's user message begins (see the judge_*_user templates).
_SHUFFLED_FROM = ("\n\nList A:", "\n\nOfficial reviews:", "\n\nProposed ablations:")
_TITLE = re.compile(r"^Paper title: (.*)$", re.M)


@dataclass(frozen=True)
class Entry:
    """One exported request, as the index records it."""

    name: str
    key: str
    model: str
    shard: int  # 1-based; 1 when not sharded
    kind: str
    group: str
    family: str
    path: str  # the prompt file, relative to the export folder
    structured: bool
    size: int  # characters of the request's messages and schema

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def _judge_systems() -> dict[str, str]:
    return {
        prompts.render("judge_author_system"): "judge-author",
        prompts.render("judge_reviewer_system"): "judge-reviewer",
    }


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:12]


def describe(req: LMRequest) -> tuple[str, str, str]:
    """(kind, group, family) of a request; see the module docstring."""
    system = next((c for r, c in req.messages if r == "system"), "")
    users = [c for r, c in req.messages if r == "user"]
    user = users[0] if users else ""
    judge = _judge_systems().get(system)
    if judge is not None:
        cut = min((user.find(m) for m in _SHUFFLED_FROM if m in user), default=len(user))
        kind, ident = judge, user[:cut]
    else:
        kind = "structured" if req.json_schema is not None else "sample" if req.seed is not None else "chat"
        ident = user
    if len(users) > 1:
        kind += "-repair"
    group = _short_hash(system, ident)
    title = _TITLE.search(user)
    family = _short_hash("paper", title.group(1).strip()) if title else group
    return kind, group, family


def request_size(req: LMRequest) -> int:
    schema = json.dumps(req.json_schema) if req.json_schema is not None else ""
    return sum(len(c) for _, c in req.messages) + len(schema)


def names_for(keys: list[str]) -> list[str]:
    """Short, stable, sortable names: r0001-<first 10 hex of the key>, in pending order."""
    width = max(4, len(str(len(keys))))
    return [f"r{i:0{width}d}-{k[:10]}" for i, k in enumerate(keys, 1)]


def largest_group(groups: list[str]) -> tuple[str, int]:
    if not groups:
        return "", 0
    return Counter(groups).most_common(1)[0]


def assign_shards(groups: list[str], families: list[str], sizes: list[int], n: int) -> list[int]:
    """A 0-based shard per request: members of a group on different shards, families spread where
    possible, loads balanced by size (largest first onto the least loaded allowed shard)."""
    if n < 1:
        raise InputError("--shards must be at least 1")
    if n == 1:
        return [0] * len(groups)
    _, biggest = largest_group(groups)
    if biggest > n:
        raise InputError(f"a group of {biggest} requests cannot go to {n} different shards")
    load = [0] * n
    used: dict[str, set[int]] = defaultdict(set)
    fam: dict[str, Counter[int]] = defaultdict(Counter)
    out = [0] * len(groups)
    for i in sorted(range(len(groups)), key=lambda i: (-sizes[i], i)):
        free = [s for s in range(n) if s not in used[groups[i]]]
        s = min(free, key=lambda s: (fam[families[i]][s], load[s], s))
        out[i] = s
        used[groups[i]].add(s)
        fam[families[i]][s] += 1
        load[s] += sizes[i]
    return out


WRAP = 160  # longer lines are wrapped for reading: many viewers cut lines of a few thousand characters


def wrap_for_reading(text: str, width: int = WRAP) -> str:
    """Break lines longer than `width` at spaces (never inside a word). Only the readable file changes:
    the request, its cache key and the reply are untouched."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [line])
    return "\n".join(out)


def render_prompt(name: str, req: LMRequest) -> str:
    """The readable request: instructions, then each message under a header that names the request
    (a message cannot contain that header: the name comes from a hash of the messages)."""

    def head(title: str) -> str:
        return f"\n======== {title} [{name}] ========\n"

    turns = [r for r, _ in req.messages if r != "system"]
    lines = [
        f"abplan LM request {name}",
        "Answer it as a plain language model behind a chat-completions API would. Write your reply, and",
        f"nothing else, to {name}{RESPONSE_SUFFIX} beside this file.",
    ]
    if req.temperature is None:
        lines.append("Sampling temperature: the model's default (answer as one natural sample).")
    elif req.temperature:
        lines.append(
            f"Sampling temperature: {req.temperature:g} (answer as one natural sample at this temperature)."
        )
    else:
        lines.append("Sampling temperature: 0 (the single most likely answer).")
    lines.append(f"Length limit of the reply: {req.max_tokens} tokens.")
    lines.append(
        f"Lines longer than {WRAP} characters are wrapped for reading; those breaks are not in the request."
    )
    if len(turns) > 1:
        lines.append("This is a conversation: answer its last user message.")
    if req.json_schema is not None:
        lines.append("The reply must follow the OUTPUT FORMAT section at the end.")
    parts = ["\n".join(lines) + "\n"]
    last_user = max((i for i, (r, _) in enumerate(req.messages) if r == "user"), default=-1)
    for i, (role, content) in enumerate(req.messages):
        title = {"system": "SYSTEM MESSAGE", "assistant": "ASSISTANT MESSAGE (the earlier reply)"}.get(
            role, "USER MESSAGE"
        )
        if role == "user" and len(turns) > 1:
            title = "USER MESSAGE (answer this one)" if i == last_user else "USER MESSAGE"
        parts.append(head(title) + wrap_for_reading(content) + "\n")
    if req.json_schema is not None:
        parts.append(
            head("OUTPUT FORMAT")
            + "Your reply must be one JSON object valid against this JSON schema: no prose before or after\n"
            + "it, no code fence, nothing but the object.\n\n"
            + json.dumps(req.json_schema, indent=2, ensure_ascii=False)
            + "\n"
        )
    parts.append(head("END OF REQUEST"))
    return "".join(parts)


def shard_list(shard: int) -> str:
    return f"shard-{shard:02d}.txt"


def readme_text(entries: list[Entry], shards: int, folder: str) -> str:
    """How to answer and import, for whoever runs the export (answerers get only their prompt files)."""
    counts = Counter(e.shard for e in entries)
    lines = [
        f"abplan: {len(entries)} LM request{'s' if len(entries) != 1 else ''} to answer by hand.",
        "",
        "Each request is a file <name>.prompt.txt. Answer it as a plain language model would and write",
        "only the reply text to <name>.response.txt beside it. Requests with an OUTPUT FORMAT section",
        "need a single JSON object valid against the schema given there: no prose, no code fence.",
        "Never edit, filter or re-ask an answer: abplan repairs unreadable replies itself.",
        "",
    ]
    if shards > 1:
        lines += [
            f"The requests are split over {shards} answerers, one folder each: give every answerer, with a",
            "fresh context, only its own folder. Samples of one prompt and judge runs of one task are",
            "always in different folders, so their answers stay independent.",
            "",
        ]
        lines += [
            f"  shard-{s:02d}/  {counts.get(s, 0)} requests, listed in {shard_list(s)}"
            for s in range(1, shards + 1)
        ]
        lines.append("")
    else:
        lines += [f"{shard_list(1)} lists the prompt files, one a line.", ""]
    lines += [
        "Then import the answers (with the same --cache-dir, if the run used one) and rerun the command",
        "that stopped with 'LM requests pending':",
        "",
        f"  abplan lm import {folder}",
        "",
        f"{INDEX} maps each name to its cache key, model, shard, kind and group.",
    ]
    return "\n".join(lines) + "\n"


def plan_export(pending: list[tuple[str, dict[str, Any]]], shards: int) -> list[tuple[Entry, LMRequest]]:
    """The entries (names, kinds, groups, shards, paths) for the pending requests; pure."""
    reqs = [LMRequest.from_json(raw) for _, raw in pending]
    keys = [k for k, _ in pending]
    described = [describe(r) for r in reqs]
    sizes = [request_size(r) for r in reqs]
    groups = [d[1] for d in described]
    names = names_for(keys)
    group, biggest = largest_group(groups)
    if shards > 1 and biggest > shards:
        members = [n for n, g in zip(names, groups, strict=True) if g == group]
        kind = described[groups.index(group)][0]
        what = "judge runs of one task" if kind.startswith("judge") else "samples of one prompt"
        raise InputError(
            f"{biggest} requests are {what} ({', '.join(members[:4])}{', ...' if len(members) > 4 else ''})"
            f" and must go to {biggest} different answerers, but --shards is {shards}:"
            f" use --shards {biggest} or more"
        )
    where = assign_shards(groups, [d[2] for d in described], sizes, max(1, shards))
    out = []
    for i, req in enumerate(reqs):
        shard = where[i] + 1
        path = f"shard-{shard:02d}/{names[i]}{PROMPT_SUFFIX}" if shards > 1 else f"{names[i]}{PROMPT_SUFFIX}"
        kind, grp, family = described[i]
        out.append(
            (
                Entry(
                    names[i],
                    keys[i],
                    req.model,
                    shard,
                    kind,
                    grp,
                    family,
                    path,
                    req.json_schema is not None,
                    sizes[i],
                ),
                req,
            )
        )
    return out


def export_prompts(cache: ResponseCache, out: Path, shards: int = 1) -> list[Entry]:
    """Write the pending requests into `out` (a new folder, or one without an earlier export)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: not a folder")
    if (out / INDEX).exists():
        raise InputError(f"{out} already holds an export ({INDEX}): export each round into a new folder")
    planned = plan_export(cache.pending(), shards)
    if not planned:
        return []
    for entry, req in planned:
        atomic_write_text(out / entry.path, render_prompt(entry.name, req))
    entries = [e for e, _ in planned]
    root = out.resolve()
    for s in range(1, max(1, shards) + 1):  # what to hand each answerer: its files, one a line
        mine = sorted(str(root / e.path) for e in entries if e.shard == s)
        atomic_write_text(out / shard_list(s), "".join(x + "\n" for x in mine))
    atomic_write_text(out / README, readme_text(entries, shards, str(out)))
    # The index last: a folder with an index is a complete export.
    atomic_write_text(out / INDEX, "".join(json.dumps(e.to_json()) + "\n" for e in entries))
    return entries
