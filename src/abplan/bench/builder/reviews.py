"""Official reviews from OpenReview's notes export or PeerRead's reviews/<n>.json.

OpenReview: a JSON list of notes, `{"notes": [...]}` (the API's reply) or JSON lines; API v1 notes
carry `invitation` and string `content` values, v2 notes `invitations` and `{"value": ...}`. The official
reviews are the notes invited as `.../Official_Review` (else those with a `review` or `rating` field),
each written as its text fields in order. PeerRead: `{"title": ..., "reviews": [{"comments": ...}]}`; the
official reviews are those with a RECOMMENDATION (a reviewer's follow-up comments have none), else
those by an AnonReviewer; meta reviews and empty or repeated comments are left out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abplan.errors import InputError
from abplan.limits import MAX_TEXT_INPUT_BYTES

META_KEYS = frozenset(
    """title rating confidence soundness presentation contribution recommendation flag_for_ethics_review code_of_conduct first_time_reviewer experience_assessment review_assessment:_checking_correctness_of_experiments review_assessment:_thoroughness_in_paper_reading review_assessment:_checking_correctness_of_derivations_and_theory details_of_ethics_concerns ethics_concerns code_of_ethics correctness technical_novelty_and_significance empirical_novelty_and_significance""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Reviews:
    title: str
    texts: list[str]
    format: str  # "openreview" or "peerread"


def _value(v: Any) -> Any:
    return v.get("value") if isinstance(v, dict) and "value" in v else v


def _note_text(content: dict[str, Any]) -> str:
    fields = []
    for k, v in content.items():
        v = _value(v)
        if not isinstance(v, str) or k.lower() in META_KEYS or not v.strip():
            continue
        if re.fullmatch(r"\s*\d+\s*(:.*)?", v) and len(v) < 200:  # a score such as "6: marginally above"
            continue
        fields.append((k, v.strip()))
    if len(fields) == 1:
        return fields[0][1]
    return "\n\n".join(f"{k.replace('_', ' ').capitalize()}: {v}" for k, v in fields)


def _invitations(note: dict[str, Any]) -> list[str]:
    inv = note.get("invitations") or [note.get("invitation") or ""]
    return [str(x) for x in inv] if isinstance(inv, list) else [str(inv)]


def openreview_reviews(notes: list[Any], where: str) -> Reviews:
    notes = [n for n in notes if isinstance(n, dict) and isinstance(n.get("content"), dict)]
    official = [n for n in notes if any(i.endswith("Official_Review") for i in _invitations(n))]
    if not official:
        official = [
            n
            for n in notes
            if ({"review", "rating"} & set(n["content"]))
            and not any("Decision" in i for i in _invitations(n))
        ]
    title = next(
        (str(_value(n["content"]["title"])) for n in notes if {"title", "abstract"} <= set(n["content"])), ""
    )
    texts = _dedupe([_note_text(n["content"]) for n in official])
    if not texts:
        raise InputError(
            f"{where}: no official review in these OpenReview notes (none invited as Official_Review)"
        )
    return Reviews(title, texts, "openreview")


def peerread_reviews(data: dict[str, Any], where: str) -> Reviews:
    revs = [r for r in data.get("reviews") or [] if isinstance(r, dict)]
    usable = [r for r in revs if str(r.get("comments") or "").strip() and not r.get("IS_META_REVIEW")]
    scored = [r for r in usable if r.get("RECOMMENDATION") is not None]
    by_reviewer = [r for r in usable if "AnonReviewer" in str(r.get("OTHER_KEYS", ""))]
    texts = _dedupe([str(r["comments"]).strip() for r in (scored or by_reviewer or usable)])
    if not texts:
        raise InputError(f"{where}: no review with comments in this PeerRead file")
    return Reviews(str(data.get("title") or ""), texts, "peerread")


def _dedupe(texts: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        key = re.sub(r"\s+", " ", t).strip()
        if key and key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size > MAX_TEXT_INPUT_BYTES:
        raise InputError(f"{path}: larger than {MAX_TEXT_INPUT_BYTES // (1024 * 1024)} MB")
    raw = path.read_text("utf-8", "replace")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        try:
            return [json.loads(ln) for ln in lines]
        except json.JSONDecodeError:
            raise InputError(f"{path}: not JSON or JSON lines ({e.msg} at line {e.lineno})") from e


def read_reviews(path: Path) -> Reviews:
    data = _load_json(path)
    where = str(path)
    if isinstance(data, dict) and isinstance(data.get("reviews"), list):
        return peerread_reviews(data, where)
    if isinstance(data, dict) and isinstance(data.get("notes"), list):
        return openreview_reviews(data["notes"], where)
    if isinstance(data, list):
        return openreview_reviews(data, where)
    raise InputError(
        f"{where}: not an OpenReview notes export (a list of notes or {{'notes': [...]}}) "
        "nor a PeerRead reviews file ({'reviews': [{'comments': ...}]})"
    )
