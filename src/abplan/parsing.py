"""Tolerant parsing of LM replies into plans (and of judge replies into rows of JSON).

Real replies are messy: code fences, missing or doubled tags, a JSON array instead of JSON lines,
trailing commas, lower-case or misspelt actions, a string or dict `replacement`, missing metrics,
duplicate names. The parser keeps every valid item and records a warning for each repair or loss.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from abplan.schema import Ablation, Action, Evidence

_KEY_SEP = re.compile(r"[\s\-]+")
_TAG = r"<\s*{0}\s*>(.*?)(?:<\s*/\s*{0}\s*>|(?=<\s*{0}\s*>)|$)"
_ACTION_ALIASES: dict[str, Action] = {
    "REMOVE": "REMOVE",
    "REMOVAL": "REMOVE",
    "DELETE": "REMOVE",
    "DROP": "REMOVE",
    "DISABLE": "REMOVE",
    "ABLATE": "REMOVE",
    "EXCLUDE": "REMOVE",
    "WITHOUT": "REMOVE",
    "REPLACE": "REPLACE",
    "REPLACEMENT": "REPLACE",
    "SUBSTITUTE": "REPLACE",
    "SWAP": "REPLACE",
    "MODIFY": "REPLACE",
    "CHANGE": "REPLACE",
    "VARY": "REPLACE",
    "ALTER": "REPLACE",
    "SWEEP": "REPLACE",
    "TUNE": "REPLACE",
    "ADD": "ADD",
    "ADDITION": "ADD",
    "INSERT": "ADD",
    "INCLUDE": "ADD",
    "APPEND": "ADD",
}
_KEY_ALIASES = {
    "name": "name",
    "title": "name",
    "ablation": "name",
    "ablation_name": "name",
    "ablated_part": "ablated_part",
    "ablatedpart": "ablated_part",
    "part": "ablated_part",
    "component": "ablated_part",
    "ablated_component": "ablated_part",
    "target": "ablated_part",
    "action": "action",
    "type": "action",
    "operation": "action",
    "replacement": "replacement",
    "replacements": "replacement",
    "alternatives": "replacement",
    "options": "replacement",
    "metrics": "metrics",
    "metric": "metrics",
    "evaluation_metrics": "metrics",
    "rationale": "rationale",
    "reason": "rationale",
    "justification": "rationale",
    "evidence": "evidence",
    "quote": "evidence",
}


@dataclass
class ParsedReply:
    discussion: str
    items: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedPlan:
    reasoning: str
    ablations: list[Ablation]
    warnings: list[str] = field(default_factory=list)


@functools.cache
def _tag_rx(tag: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The opening and the closing tag of `_TAG`."""
    return re.compile(rf"<\s*{tag}\s*>", re.S | re.I), re.compile(rf"<\s*/\s*{tag}\s*>", re.S | re.I)


def _tag_blocks(text: str, tag: str) -> list[str]:
    """What `re.finditer(_TAG.format(tag), text, re.S | re.I)` captures: each block runs from its
    opening tag to the first closing tag (consumed), next opening tag (not consumed) or `$` (the end,
    or just before a final newline). Found with one search per tag instead of a lazy match that tries
    both tags at every character of the reply."""
    opening, closing = _tag_rx(tag)
    n = len(text)
    dollar = n - 1 if text.endswith("\n") else n
    out: list[str] = []
    close: re.Match[str] | None = None
    searched = -1  # `close` is the first closing tag at or after `searched` (None: there is none)
    m = opening.search(text)
    while m is not None:
        start = m.end()
        if searched == -1 or (close is not None and close.start() < start):
            close, searched = closing.search(text, start), start
        nxt = opening.search(text, start)
        end = min(
            close.start() if close is not None else n,
            nxt.start() if nxt is not None else n,
            dollar if dollar >= start else n,
        )
        out.append(text[start:end])
        pos = close.end() if close is not None and close.start() == end else end
        m = nxt if nxt is not None and nxt.start() >= pos else opening.search(text, pos)
    return out


_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?|```|~~~[a-zA-Z]*")


def _strip_fences(s: str) -> str:
    return _FENCE.sub("\n", s)


def _repair_json(s: str) -> str:
    s = s.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    s = re.sub(r",\s*([}\]])", r"\1", s)
    return s


_DECODER = json.JSONDecoder(strict=False)  # what `json.loads(..., strict=False)` uses


def json_objects(block: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every top-level JSON object in `block`, whether JSON lines, an array, or pretty-printed."""
    out: list[dict[str, Any]] = []
    bad: list[str] = []
    s = _strip_fences(block)
    i, n = 0, len(s)
    while i < n:
        start = s.find("{", i)
        if start == -1:
            break
        try:  # a valid object, the usual case: read at C speed; it ends where the scan below would end it
            obj, end = _DECODER.raw_decode(s, start)
        except json.JSONDecodeError:
            pass
        else:
            out.append(obj)
            i = end
            continue
        depth, j, in_str, esc = 0, start, False, False
        while j < n:
            c = s[j]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        chunk = s[start : j + 1]
        if depth != 0:
            bad.append(chunk[:120])
            break
        obj = _loads(chunk)
        if isinstance(obj, dict):
            out.append(obj)
        else:
            bad.append(chunk[:120])
        i = j + 1
    return out, bad


def _loads(chunk: str) -> Any:
    for attempt in (chunk, _repair_json(chunk)):
        try:
            return json.loads(attempt, strict=False)
        except json.JSONDecodeError:
            continue
    # Python-style dicts: single quotes, None/True/False.
    py = re.sub(r"\bNone\b", "null", re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", chunk)))
    py = re.sub(r"(?<![\w])'([^'\\]*(?:\\.[^'\\]*)*)'", lambda m: json.dumps(m.group(1)), py)
    try:
        return json.loads(_repair_json(py), strict=False)
    except json.JSONDecodeError:
        return None


_THINK = re.compile(r"<\s*(think|thinking|reasoning)\s*>.*?(?:<\s*/\s*\1\s*>|$)", re.S | re.I)


def strip_thinking(text: str) -> str:
    """Drop the <think> blocks that local reasoning models (qwen3, DeepSeek-R1) put in their replies."""
    return _THINK.sub("", text) if "<" in text else text


def split_reply(text: str, list_tag: str = "predictions") -> ParsedReply:
    """Find the discussion and the JSON items of a reply."""
    text = strip_thinking(text)
    warnings: list[str] = []
    discussions = [d.strip() for d in _tag_blocks(text, "discussion") if d.strip()]
    blocks = [b for b in _tag_blocks(text, list_tag) if b.strip()]
    if len(discussions) > 1:
        warnings.append("several <discussion> blocks: joined")
    if not blocks:
        if re.search(rf"<\s*{list_tag}\s*>", text, re.I):
            warnings.append(f"empty <{list_tag}> block")
        else:
            warnings.append(f"no <{list_tag}> block: read JSON from the whole reply")
        rest = re.sub(_TAG.format("discussion"), "", text, flags=re.S | re.I)
        blocks = [rest]
    items: list[dict[str, Any]] = []
    for b in blocks:
        objs, bad = json_objects(b)
        for chunk in bad:
            warnings.append(f"unreadable JSON skipped: {chunk[:60]!r}")
        items.extend(objs)
    if len(blocks) > 1 and items:
        warnings.append(f"several <{list_tag}> blocks: items of all kept")
    discussion = "\n\n".join(discussions)
    if not discussion:
        cut = re.split(rf"<\s*{list_tag}\s*>|```|\n\s*[\[{{]", text, maxsplit=1)[0]
        discussion = re.sub(r"</?\s*discussion\s*>", "", cut).strip()
        if discussion:
            warnings.append("no <discussion> block: used the text before the plan")
    return ParsedReply(discussion=discussion, items=items, warnings=warnings)


def normalize_action(value: Any) -> Action | None:
    if not isinstance(value, str):
        return None
    if value in _ACTION_ALIASES:  # already upper-case letters only: what the regex below would leave
        return _ACTION_ALIASES[value]
    v = re.sub(r"[^A-Za-z]", "", value).upper()
    if v in _ACTION_ALIASES:
        return _ACTION_ALIASES[v]
    close = difflib.get_close_matches(v, list(_ACTION_ALIASES), n=1, cutoff=0.75)
    return _ACTION_ALIASES[close[0]] if close else None


_COMMA = re.compile(r",(?![^()\[\]]*[)\]])")  # a comma outside brackets


def _as_list(value: Any, *, split_commas: bool = False) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip()
        if not v or v.lower() in ("none", "null", "n/a", "-"):
            return None
        if split_commas:
            return [p.strip() for p in _COMMA.split(v) if p.strip()]
        return [v]
    if isinstance(value, dict):
        return [f"{k}: {v}" if not isinstance(v, bool) else str(k) for k, v in value.items()] or None
    if isinstance(value, (list, tuple)):
        out = []
        for x in value:
            if x is None:
                continue
            out.append(x if isinstance(x, str) else json.dumps(x) if isinstance(x, (dict, list)) else str(x))
        return [o.strip() for o in out if o.strip()] or None
    return [str(value)]


def to_ablation(raw: dict[str, Any], index: int) -> tuple[Ablation | None, list[str]]:
    """One item to an `Ablation`, with a warning for each repair; None when it cannot be saved."""
    notes: list[str] = []
    d: dict[str, Any] = {}
    for k, v in raw.items():
        key = _KEY_ALIASES.get(k) if isinstance(k, str) else None  # the usual spelling, without a regex
        if key is None:
            key = _KEY_ALIASES.get(_KEY_SEP.sub("_", str(k).strip().lower()))
        if key and key not in d:
            d[key] = v
    label = f"item {index + 1}"
    part = d.get("ablated_part")
    if isinstance(part, list):
        part = ", ".join(map(str, part))
    part = str(part).strip() if part is not None else ""
    name = str(d.get("name") or "").strip()
    if not part and not name:
        return None, [f"{label}: no name or ablated_part: dropped"]
    if not part:
        part = name
        notes.append(f"{label}: no ablated_part: used the name")
    if not name:
        name = f"{part[:60]} ablation"
        notes.append(f"{label}: no name: made one from the ablated part")
    action = normalize_action(d.get("action"))
    if action is None:
        return None, [f"{label} ({name}): action {d.get('action')!r} is not REMOVE, REPLACE or ADD: dropped"]
    if str(d.get("action")) != action:
        notes.append(f"{label} ({name}): action {d.get('action')!r} read as {action}")
    replacement = _as_list(d.get("replacement"))
    if not isinstance(d.get("replacement"), (list, type(None))):
        notes.append(
            f"{label} ({name}): replacement given as {type(d.get('replacement')).__name__}: made a list"
        )
    if action in ("REPLACE", "ADD") and not replacement:
        notes.append(f"{label} ({name}): {action} without replacement options")
    metrics = _as_list(d.get("metrics"), split_commas=True) or []
    if "metrics" not in d:
        notes.append(f"{label} ({name}): no metrics")
    rationale = d.get("rationale")
    evidence = _evidence(d.get("evidence"))
    ab = Ablation(
        name=name,
        ablated_part=part,
        action=action,
        replacement=replacement,
        metrics=metrics,
        rationale=str(rationale) if rationale else None,
        evidence=evidence,
    )
    return ab, notes


def _evidence(value: Any) -> list[Evidence]:
    items = value if isinstance(value, list) else [value] if value else []
    out = []
    for it in items:
        if isinstance(it, str) and it.strip():
            out.append(Evidence(quote=it.strip()))
        elif isinstance(it, dict) and str(it.get("quote") or "").strip():
            sec = it.get("section")
            out.append(Evidence(quote=str(it["quote"]).strip(), section=str(sec) if sec else None))
    return out


def dedupe_names(ablations: list[Ablation]) -> tuple[list[Ablation], list[str]]:
    seen: dict[str, int] = {}
    out: list[Ablation] = []
    notes: list[str] = []
    for a in ablations:
        key = a.name.strip().lower()
        if key in seen:
            seen[key] += 1
            new = f"{a.name} ({seen[key]})"
            notes.append(f"duplicate name {a.name!r} renamed {new!r}")
            a = a.model_copy(update={"name": new})
        else:
            seen[key] = 1
        out.append(a)
    return out, notes


def parse_plan(text: str) -> ParsedPlan:
    reply = split_reply(text)
    warnings = list(reply.warnings)
    ablations: list[Ablation] = []
    for i, item in enumerate(reply.items):
        ab, notes = to_ablation(item, i)
        warnings.extend(notes)
        if ab is not None:
            ablations.append(ab)
    ablations, notes = dedupe_names(ablations)
    warnings.extend(notes)
    return ParsedPlan(reasoning=reply.discussion, ablations=ablations, warnings=warnings)


def read_jsonl_plan(text: str) -> list[Ablation]:
    """Read an AblationBench-style plan file (tolerantly, like any LM reply)."""
    return parse_plan("<predictions>\n" + text + "\n</predictions>").ablations
